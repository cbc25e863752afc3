using Herald.Core.Model;
using Herald.Core.Privacy;
using Orleans.Concurrency;

namespace Herald.Cluster.Presence;

/// <summary>A person's request to set their own status (see <c>PUT /api/v1/me/status</c>).</summary>
[GenerateSerializer, Immutable, Alias("herald.SetStatus")]
public sealed record SetStatus(
    [property: Id(0)] Availability? Availability,
    [property: Id(1)] Activity? Activity,
    [property: Id(2)] string? Note,
    [property: Id(3)] DateTimeOffset? Until);

/// <summary>A device's report about itself (see <c>PUT /api/v1/me/devices/{id}</c>).</summary>
[GenerateSerializer, Immutable, Alias("herald.DeviceReport")]
public sealed record DeviceReport(
    [property: Id(0)] string DeviceId,
    [property: Id(1)] DeviceKind Kind,
    [property: Id(2)] Availability? Availability,
    [property: Id(3)] Activity? Activity,
    [property: Id(4)] DateTimeOffset? IdleSince,
    [property: Id(5)] IReadOnlyList<string> Capabilities,
    [property: Id(6)] Location? Location,
    [property: Id(7)] TimeSpan Ttl);

/// <summary>One view of a person for every watcher with <see cref="Key"/>.</summary>
[GenerateSerializer, Immutable, Alias("herald.KeyedView")]
public sealed record KeyedView([property: Id(0)] DisclosureKey Key, [property: Id(1)] PresenceView View);

/// <summary>
/// What a person's grain sends to each silo that has watchers: the views that changed, one per distinct
/// disclosure in use, never one per watcher.
/// </summary>
[GenerateSerializer, Immutable, Alias("herald.PresenceBroadcast")]
public sealed record PresenceBroadcast(
    [property: Id(0)] string UserId,
    [property: Id(1)] long Sequence,
    [property: Id(2)] IReadOnlyList<KeyedView> Views);

/// <summary>A watcher registered by a silo, with the disclosure it gets and its current view.</summary>
[GenerateSerializer, Immutable, Alias("herald.WatchGrant")]
public sealed record WatchGrant(
    [property: Id(0)] string WatcherId,
    [property: Id(1)] DisclosureKey Key,
    [property: Id(2)] PresenceView View);

/// <summary>The per-silo receiver of presence broadcasts (one per silo, never one per connection).</summary>
[Alias("herald.ISiloPresenceObserver")]
public interface ISiloPresenceObserver : IGrainObserver
{
    /// <summary>Delivers changed views of one person.</summary>
    [OneWay, Alias("OnPresence")]
    Task OnPresence(PresenceBroadcast broadcast);
}

/// <summary>One grain per person: holds their sources, computes the aggregate and fans it out.</summary>
[Alias("herald.IPersonGrain")]
public interface IPersonGrain : IGrainWithStringKey
{
    /// <summary>Sets (replaces) the person's preferred status and note; returns the owner's view.</summary>
    [Alias("SetStatus")]
    Task<PresenceView> SetStatus(SetStatus status);

    /// <summary>Clears the preferred status and note; returns the owner's view.</summary>
    [Alias("ClearStatus")]
    Task<PresenceView> ClearStatus();

    /// <summary>Creates or replaces a device session (a lease of <see cref="DeviceReport.Ttl"/>).</summary>
    [Alias("PutDevice")]
    Task<PresenceView> PutDevice(DeviceReport report);

    /// <summary>Renews a device lease; false when the device is unknown (it must be put again).</summary>
    [Alias("Heartbeat")]
    Task<bool> Heartbeat(string deviceId);

    /// <summary>Ends a device session at once (sign out); false when unknown.</summary>
    [Alias("RemoveDevice")]
    Task<bool> RemoveDevice(string deviceId);

    /// <summary>
    /// Hint that a device's transport closed: the device then counts only for the grace window, so a quick
    /// reconnect (a heartbeat or put) shows no flicker.
    /// </summary>
    [Alias("ConnectionLost")]
    Task ConnectionLost(string deviceId);

    /// <summary>The view of this person for <paramref name="watcher"/>.</summary>
    [Alias("GetView")]
    Task<PresenceView> GetView(WatcherRelation watcher);

    /// <summary>The view of this person for the person <paramref name="watcherId"/>, whose relationship the grain resolves.</summary>
    [Alias("GetViewFor")]
    Task<PresenceView> GetViewFor(string watcherId);

    /// <summary>The directory entry changed (contact methods, schedule, team).</summary>
    [Alias("ProfileChanged")]
    Task ProfileChanged(PersonProfile? profile);

    /// <summary>
    /// Registers (or renews) a silo's interest in this person for the given watchers, as a lease that the silo
    /// renews periodically. With <paramref name="replace"/>, the silo's watcher set becomes exactly
    /// <paramref name="watcherIds"/>; otherwise they are added. Returns each watcher's disclosure and current view.
    /// </summary>
    [Alias("WatchFromSilo")]
    Task<IReadOnlyList<WatchGrant>> WatchFromSilo(SiloAddress silo, ISiloPresenceObserver observer, IReadOnlyList<string> watcherIds, bool replace);

    /// <summary>Removes watchers of a silo; all of them when <paramref name="watcherIds"/> is null.</summary>
    [Alias("UnwatchFromSilo")]
    Task UnwatchFromSilo(SiloAddress silo, IReadOnlyList<string>? watcherIds);

    /// <summary>The person's contact list (people they watch).</summary>
    [Alias("GetContacts")]
    Task<IReadOnlyList<string>> GetContacts();

    /// <summary>Adds a contact; false when already present.</summary>
    [Alias("AddContact")]
    Task<bool> AddContact(string contactId);

    /// <summary>Removes a contact; false when absent.</summary>
    [Alias("RemoveContact")]
    Task<bool> RemoveContact(string contactId);
}
