using System.Diagnostics;
using Herald.Cluster.Presence;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace Herald.Cluster.Huddles;

/// <summary>The silo (its fan-out observer) where some of the asked-for people have live connections.</summary>
[GenerateSerializer, Immutable, Alias("herald.UserRoute")]
public sealed record UserRoute(
    [property: Id(0)] SiloAddress Silo,
    [property: Id(1)] ISiloPresenceObserver Observer,
    [property: Id(2)] IReadOnlyList<string> UserIds);

/// <summary>
/// Where people are connected: userId → the silos holding live connections (SignalR, SSE) of that person, so that
/// events for specific people (<see cref="ISiloPresenceObserver.OnUserEvent"/>) reach them on any silo. One
/// activation (key 0).
/// </summary>
/// <remarks>
/// Entries are leases: each silo re-registers its connected people every
/// <see cref="PresenceOptions.SiloWatchRenewal"/> (replacing its set), so the map rebuilds itself within one round
/// after this grain moves or restarts; silos that stop renewing (three periods) or that the membership declares
/// dead are dropped. This single registry grain is a scaling limit (every silo's connect churn and every event
/// lookup go through one activation) to revisit in cluster mode, e.g. by partitioning it by user id hash.
/// </remarks>
[Alias("herald.IUserLocatorGrain")]
public interface IUserLocatorGrain : IGrainWithIntegerKey
{
    /// <summary>
    /// Registers (or renews) people connected on <paramref name="silo"/>. With <paramref name="replace"/> the silo's set
    /// becomes exactly <paramref name="userIds"/>; otherwise they are added.
    /// </summary>
    [Alias("Register")]
    Task Register(SiloAddress silo, ISiloPresenceObserver observer, IReadOnlyList<string> userIds, bool replace);

    /// <summary>The live silos where any of <paramref name="userIds"/> are connected, each with the ones it holds.</summary>
    [Alias("Locate")]
    Task<IReadOnlyList<UserRoute>> Locate(IReadOnlyList<string> userIds);
}

/// <summary>The single registry of connected people (see <see cref="IUserLocatorGrain"/>).</summary>
public sealed class UserLocatorGrain(IClusterMembershipService membership, IOptions<PresenceOptions> options) : Grain, IUserLocatorGrain
{
    /// <summary>The key of the one activation.</summary>
    public const long Key = 0;

    private readonly Dictionary<SiloAddress, SiloEntry> _silos = [];
    private readonly Dictionary<string, HashSet<SiloAddress>> _byUser = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public Task Register(SiloAddress silo, ISiloPresenceObserver observer, IReadOnlyList<string> userIds, bool replace)
    {
        ArgumentNullException.ThrowIfNull(silo);
        ArgumentNullException.ThrowIfNull(userIds);
        if (!_silos.TryGetValue(silo, out var entry))
        {
            entry = new SiloEntry(observer);
            _silos[silo] = entry;
        }
        entry.Observer = observer;
        entry.RenewedAt = Stopwatch.GetTimestamp();
        if (replace)
        {
            var keep = new HashSet<string>(userIds, StringComparer.Ordinal);
            foreach (var gone in entry.Users.Where(u => !keep.Contains(u)).ToList())
            {
                entry.Users.Remove(gone);
                Unindex(gone, silo);
            }
        }
        foreach (var userId in userIds)
        {
            if (entry.Users.Add(userId))
            {
                if (!_byUser.TryGetValue(userId, out var silos))
                {
                    _byUser[userId] = silos = [];
                }
                silos.Add(silo);
            }
        }
        if (entry.Users.Count == 0)
        {
            _silos.Remove(silo);
        }
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<UserRoute>> Locate(IReadOnlyList<string> userIds)
    {
        ArgumentNullException.ThrowIfNull(userIds);
        PruneDead();
        var bySilo = new Dictionary<SiloAddress, List<string>>();
        foreach (var userId in userIds.Distinct(StringComparer.Ordinal))
        {
            if (!_byUser.TryGetValue(userId, out var silos))
            {
                continue;
            }
            foreach (var silo in silos)
            {
                if (!bySilo.TryGetValue(silo, out var list))
                {
                    bySilo[silo] = list = [];
                }
                list.Add(userId);
            }
        }
        IReadOnlyList<UserRoute> routes = [.. bySilo.Select(kv => new UserRoute(kv.Key, _silos[kv.Key].Observer, kv.Value))];
        return Task.FromResult(routes);
    }

    /// <summary>Drops silos whose lease lapsed (three renewal periods) or that the membership declares dead.</summary>
    private void PruneDead()
    {
        var expiry = Stopwatch.GetTimestamp() - (long)(options.Value.SiloWatchRenewal.TotalSeconds * 3 * Stopwatch.Frequency);
        var snapshot = membership.CurrentSnapshot;
        foreach (var (silo, entry) in _silos.ToList())
        {
            if (entry.RenewedAt >= expiry && snapshot.GetSiloStatus(silo) != SiloStatus.Dead)
            {
                continue;
            }
            foreach (var userId in entry.Users)
            {
                Unindex(userId, silo);
            }
            _silos.Remove(silo);
        }
    }

    private void Unindex(string userId, SiloAddress silo)
    {
        if (_byUser.TryGetValue(userId, out var silos) && silos.Remove(silo) && silos.Count == 0)
        {
            _byUser.Remove(userId);
        }
    }

    private sealed class SiloEntry(ISiloPresenceObserver observer)
    {
        public ISiloPresenceObserver Observer { get; set; } = observer;

        public HashSet<string> Users { get; } = new(StringComparer.Ordinal);

        public long RenewedAt { get; set; }
    }
}
