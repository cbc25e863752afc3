using Herald.Core.Model;
using Herald.Core.Privacy;
using Herald.Core.Reachability;
using Orleans.Concurrency;

namespace Herald.Cluster.Presence;

/// <summary>A person's request to set their own status (see <c>PUT /api/v1/me/status</c>).</summary>
[GenerateSerializer, Immutable, Alias("herald.SetStatus")]
public sealed record SetStatus(
    [property: Id(0)] Availability? Availability,
    [property: Id(1)] Activity? Activity,
    [property: Id(2)] string? Note,
    [property: Id(3)] DateTimeOffset? Until);

/// <summary>
/// A person's own status as they set it (see <c>GET /api/v1/me/status</c>): the preferred status and its end, the
/// note and its end; nulls for what is not set or has expired.
/// </summary>
[GenerateSerializer, Immutable, Alias("herald.OwnStatus")]
public sealed record OwnStatus(
    [property: Id(0)] Availability? Availability,
    [property: Id(1)] Activity? Activity,
    [property: Id(2)] DateTimeOffset? Until,
    [property: Id(3)] string? Note,
    [property: Id(4)] DateTimeOffset? NoteUntil);

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

/// <summary>
/// One view of a person for every watcher with <see cref="Key"/>. A value, not an object: every change of every person
/// makes one per disclosure in use.
/// </summary>
[GenerateSerializer, Immutable, Alias("herald.KeyedView")]
public readonly record struct KeyedView([property: Id(0)] DisclosureKey Key, [property: Id(1)] PresenceView View);

/// <summary>
/// What a person's grain sends to each silo that has watchers: the views that changed, one per distinct
/// disclosure in use, never one per watcher.
/// </summary>
[GenerateSerializer, Immutable, Alias("herald.PresenceBroadcast")]
public sealed record PresenceBroadcast(
    [property: Id(0)] string UserId,
    [property: Id(1)] long Sequence,
    [property: Id(2)] IReadOnlyList<KeyedView> Views)
{
    /// <summary>Watchers of the receiving silo whose disclosure changed (policy, context, grants), with their new views.</summary>
    [Id(3)] public IReadOnlyList<WatchGrant>? Rekeys { get; init; }
}

/// <summary>What an integration does with an activity lease.</summary>
public enum ActivityAction
{
    /// <summary>Start (or restart) the activity.</summary>
    Start,
    /// <summary>Extend a running activity's lease.</summary>
    Renew,
    /// <summary>End the activity now.</summary>
    End,
}

/// <summary>The outcome of an activity publication.</summary>
public enum PublishOutcome
{
    /// <summary>Applied.</summary>
    Applied,
    /// <summary>Renew or end of an activity that is not running.</summary>
    NotRunning,
    /// <summary>The person revoked this integration's consent.</summary>
    Revoked,
}

/// <summary>An integration that publishes (or published) for a person.</summary>
[GenerateSerializer, Immutable, Alias("herald.IntegrationInfo")]
public sealed record IntegrationInfo(
    [property: Id(0)] string IntegrationId,
    [property: Id(1)] string Name,
    [property: Id(2)] IReadOnlyList<ActivityLease> Activities,
    [property: Id(3)] bool Revoked);

/// <summary>A reach answer: the asker's view of the person and the plan.</summary>
[GenerateSerializer, Immutable, Alias("herald.ReachAnswer")]
public sealed record ReachAnswer([property: Id(0)] PresenceView View, [property: Id(1)] ReachPlan Plan);

/// <summary>What a watcher is told about a subscription request.</summary>
public enum SubscriptionAnswer
{
    /// <summary>Watching now (also what a polite-blocked watcher is told).</summary>
    Approved,
    /// <summary>Waiting for the person's approval.</summary>
    Pending,
    /// <summary>Refused.</summary>
    Refused,
}

/// <summary>A watcher as the person sees them.</summary>
[GenerateSerializer, Immutable, Alias("herald.WatcherInfo")]
public sealed record WatcherInfo(
    [property: Id(0)] string WatcherId,
    [property: Id(1)] SubscriptionStatus Status,
    [property: Id(2)] RelationshipTier Tier,
    [property: Id(3)] DateTimeOffset Since,
    [property: Id(4)] DateTimeOffset UpdatedAt,
    [property: Id(5)] bool Live);

/// <summary>One field of a preview: its level and the layer that decided it.</summary>
[GenerateSerializer, Immutable, Alias("herald.FieldDecision")]
public sealed record FieldDecision([property: Id(0)] string Field, [property: Id(1)] string Level, [property: Id(2)] PolicyLayer DecidedBy);

/// <summary>"See me as X sees me": the view and why each field is as it is.</summary>
[GenerateSerializer, Immutable, Alias("herald.PrivacyPreview")]
public sealed record PrivacyPreview(
    [property: Id(0)] PresenceView View,
    [property: Id(1)] RelationshipTier Tier,
    [property: Id(2)] PrivacyContext Context,
    [property: Id(3)] ViewMode Mode,
    [property: Id(4)] IReadOnlyList<FieldDecision> Fields);

/// <summary>How one field would change for a tier under proposed rules.</summary>
[GenerateSerializer, Immutable, Alias("herald.FieldChange")]
public sealed record FieldChange([property: Id(0)] string Field, [property: Id(1)] string Before, [property: Id(2)] string After,
    [property: Id(3)] PolicyLayer DecidedBy);

/// <summary>What each tier would gain or lose under proposed rules (in the person's current context).</summary>
[GenerateSerializer, Immutable, Alias("herald.TierDiff")]
public sealed record TierDiff([property: Id(0)] RelationshipTier Tier, [property: Id(1)] PrivacyContext Context,
    [property: Id(2)] IReadOnlyList<FieldChange> Gained, [property: Id(3)] IReadOnlyList<FieldChange> Lost,
    [property: Id(4)] IReadOnlyList<FieldDecision> ClampedByOrganization);

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

    /// <summary>
    /// Delivers an event for one person (e.g. a huddle invitation) to their live connections on this silo. The default
    /// does nothing, for observers that only take presence.
    /// </summary>
    [OneWay, Alias("OnUserEvent")]
    Task OnUserEvent(UserEvent e) => Task.CompletedTask;

    /// <summary>
    /// The watchers of <paramref name="personId"/> with a connection on this silo now. A silo keeps a departed watcher's
    /// registration for a short linger, so being registered is not being connected; the person's grain asks this when
    /// it reports who watches now. The default: nobody.
    /// </summary>
    [Alias("GetConnectedWatchers")]
    Task<IReadOnlyList<string>> GetConnectedWatchers(string personId) => Task.FromResult<IReadOnlyList<string>>([]);
}

/// <summary>An event for one person's live connections: <see cref="Type"/> (e.g. <c>huddle.invited</c>) and a JSON object.</summary>
[GenerateSerializer, Immutable, Alias("herald.UserEvent")]
public sealed record UserEvent([property: Id(0)] string UserId, [property: Id(1)] string Type, [property: Id(2)] string Json);

/// <summary>One grain per person: holds their sources, computes the aggregate and fans it out.</summary>
[Alias("herald.IPersonGrain")]
public interface IPersonGrain : IGrainWithStringKey
{
    /// <summary>Sets (replaces) the person's preferred status and note; returns the owner's view.</summary>
    [Alias("SetStatus")]
    ValueTask<PresenceView> SetStatus(SetStatus status);

    /// <summary>The preferred status and note as the person set them (what has expired is left out).</summary>
    [Alias("GetStatus")]
    Task<OwnStatus> GetStatus();

    /// <summary>Clears the preferred status and note; returns the owner's view.</summary>
    [Alias("ClearStatus")]
    Task<PresenceView> ClearStatus();

    /// <summary>
    /// Replaces the person's calendar busy intervals (an empty list clears them); entries that ended more than a
    /// day ago are dropped. Returns the owner's view.
    /// </summary>
    [Alias("SetCalendar")]
    Task<PresenceView> SetCalendar(IReadOnlyList<CalendarBusy> entries);

    /// <summary>Creates or replaces a device session (a lease of <see cref="DeviceReport.Ttl"/>).</summary>
    [Alias("PutDevice")]
    ValueTask<PresenceView> PutDevice(DeviceReport report);

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

    /// <summary>
    /// The view of this person for the person <paramref name="watcherId"/> (the grain resolves tier, context,
    /// subscription and grants), recorded in the disclosure audit under <paramref name="channel"/>.
    /// </summary>
    [Alias("GetViewFor")]
    Task<PresenceView> GetViewFor(string watcherId, string channel);

    /// <summary>The person's privacy rules.</summary>
    [Alias("GetPrivacy")]
    Task<UserPrivacy> GetPrivacy();

    /// <summary>Replaces the person's privacy rules (already validated).</summary>
    [Alias("SetPrivacy")]
    Task SetPrivacy(UserPrivacy privacy);

    /// <summary>
    /// "See me as": the view for a watcher (<paramref name="asWatcher"/>) or a tier, at <paramref name="at"/>
    /// (default now), with the deciding layer per field; with <paramref name="proposed"/>, as if those rules were saved.
    /// </summary>
    [Alias("Preview")]
    Task<PrivacyPreview> Preview(string? asWatcher, RelationshipTier? tier, DateTimeOffset? at, UserPrivacy? proposed);

    /// <summary>Dry run: what each tier would gain or lose now if <paramref name="proposed"/> were saved.</summary>
    [Alias("DryRun")]
    Task<IReadOnlyList<TierDiff>> DryRun(UserPrivacy proposed);

    /// <summary>The person's grants (active and future).</summary>
    [Alias("GetGrants")]
    Task<IReadOnlyList<Grant>> GetGrants();

    /// <summary>Adds a grant.</summary>
    [Alias("AddGrant")]
    Task AddGrant(Grant grant);

    /// <summary>Revokes a grant; false when unknown.</summary>
    [Alias("RevokeGrant")]
    Task<bool> RevokeGrant(string grantId);

    /// <summary>Watchers and pending requests.</summary>
    [Alias("GetWatchers")]
    Task<IReadOnlyList<WatcherInfo>> GetWatchers();

    /// <summary>A watcher asks to watch this person; the answer is what the watcher may be told.</summary>
    [Alias("RequestSubscription")]
    Task<SubscriptionAnswer> RequestSubscription(string watcherId);

    /// <summary>The person approves or denies a pending request; false when there is none.</summary>
    [Alias("DecideSubscription")]
    Task<bool> DecideSubscription(string watcherId, bool approve);

    /// <summary>
    /// The person approves a watcher in advance (XMPP pre-approval, RFC 6121 section 3.4): the watcher is approved now,
    /// so a later request is answered at once. False when already approved.
    /// </summary>
    [Alias("PreApprove")]
    Task<bool> PreApprove(string watcherId);

    /// <summary>The person revokes a watcher; false when unknown.</summary>
    [Alias("RevokeWatcher")]
    Task<bool> RevokeWatcher(string watcherId);

    /// <summary>An integration starts, renews or ends an activity lease for this person.</summary>
    [Alias("PublishActivity")]
    Task<PublishOutcome> PublishActivity(string integrationId, string integrationName, Activity activity, ActivityAction action, TimeSpan ttl);

    /// <summary>Integrations publishing for this person (live leases) and the ones the person revoked.</summary>
    [Alias("GetIntegrations")]
    Task<IReadOnlyList<IntegrationInfo>> GetIntegrations();

    /// <summary>The person withdraws (or, with <paramref name="allow"/>, restores) an integration's consent; revoking ends its activities.</summary>
    [Alias("SetIntegrationConsent")]
    Task SetIntegrationConsent(string integrationId, bool allow);

    /// <summary>The person's reachability preferences.</summary>
    [Alias("GetReachPreferences")]
    Task<ReachPreferences> GetReachPreferences();

    /// <summary>Replaces the person's reachability preferences (already validated).</summary>
    [Alias("SetReachPreferences")]
    Task SetReachPreferences(ReachPreferences preferences);

    /// <summary>How <paramref name="askerId"/> may reach this person now: ordered options, filtered by the policy, audited.</summary>
    [Alias("Reach")]
    Task<ReachAnswer> Reach(string askerId, Urgency urgency, string channel);

    /// <summary>
    /// A ring / forward / voicemail / busy decision for a call from <paramref name="callerId"/> (null: an unknown
    /// caller, treated as External), saying no more than the caller may know; audited.
    /// </summary>
    [Alias("Route")]
    Task<RouteDecision> Route(string? callerId, Urgency urgency);

    /// <summary>The organization policy changed: re-decide every disclosure.</summary>
    [Alias("PolicyChanged")]
    Task PolicyChanged();

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

    /// <summary>
    /// Forgets everything about the person (status, note, contacts, privacy rules, grants, watchers, reach
    /// preferences, calendar, device and activity leases) when they are deleted; watchers are told at once. Only the
    /// sequence high-water mark stays, so numbers keep growing if the id is ever used again.
    /// </summary>
    [Alias("Erase")]
    Task Erase();
}
