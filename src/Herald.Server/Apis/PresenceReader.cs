using Herald.Cluster.Directory;
using Herald.Cluster.Presence;
using Herald.Core.Model;
using Herald.Core.Privacy;

namespace Herald.Server.Apis;

/// <summary>
/// Reads people's presence as a given watcher may see it. The person grain applies the single disclosure
/// policy; this class only adds the directory check and batching.
/// </summary>
public sealed class PresenceReader(IGrainFactory grains, IDirectoryStore directory)
{
    /// <summary>The view of <paramref name="userId"/> for <paramref name="watcherId"/>, or null when no such person.</summary>
    public async Task<PresenceView?> Get(string watcherId, string userId, CancellationToken ct)
    {
        if (watcherId != userId && await directory.GetPerson(userId, ct) is null)
        {
            return null;
        }
        return await grains.Person(userId).GetViewFor(watcherId, "snapshot");
    }

    /// <summary>Views of the existing people among <paramref name="userIds"/>, in request order; the rest are listed as unknown.</summary>
    public async Task<(IReadOnlyList<PresenceView> Views, IReadOnlyList<string> Unknown)> GetMany(
        string watcherId, IReadOnlyList<string> userIds, string channel, CancellationToken ct)
    {
        var distinct = userIds.Distinct(StringComparer.Ordinal).ToList();
        var known = (await directory.GetPeople(distinct, ct)).Select(p => p.Id).ToHashSet(StringComparer.Ordinal);
        var present = distinct.Where(known.Contains).ToList();
        var views = await Task.WhenAll(present.Select(id => grains.Person(id).GetViewFor(watcherId, channel)));
        return (views, distinct.Where(id => !known.Contains(id)).ToList());
    }

    /// <summary>Views for a set of profiles (search results), in the same order.</summary>
    public async Task<IReadOnlyList<PresenceView>> ForProfiles(string watcherId, IReadOnlyList<PersonProfile> people) =>
        await Task.WhenAll(people.Select(p => grains.Person(p.Id).GetViewFor(watcherId, "search")));
}
