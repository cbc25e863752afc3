namespace Herald.Core.Model;

/// <summary>Device kinds.</summary>
public enum DeviceKind
{
    /// <summary>Desktop application.</summary>
    Desktop,
    /// <summary>Mobile application.</summary>
    Mobile,
    /// <summary>Web page.</summary>
    Web,
    /// <summary>Desk phone.</summary>
    DeskPhone,
    /// <summary>Meeting-room system.</summary>
    RoomSystem,
    /// <summary>Anything else.</summary>
    Other,
}

/// <summary>
/// The status a person chose themselves ("Do not disturb until 15:00", "Appear offline").
/// <see cref="Availability"/> <see cref="Model.Availability.Offline"/> means appear offline.
/// </summary>
[GenerateSerializer, Immutable, Alias("herald.PreferredStatus")]
public sealed record PreferredStatus(
    [property: Id(0)] Availability? Availability,
    [property: Id(1)] Activity? Activity,
    [property: Id(2)] DateTimeOffset SetAt,
    [property: Id(3)] DateTimeOffset Until)
{
    /// <summary>The availability this status shows: the explicit one, else the activity's implied one.</summary>
    public Availability Effective =>
        Availability ?? (Activity is { } a ? Activities.Implied(a) : Model.Availability.Available);

    /// <summary>
    /// For appear offline: the last-seen time at the moment the person chose it (the moment itself if a device was
    /// live then). Watchers are shown this and nothing later, exactly as after a real disconnect.
    /// </summary>
    [Id(4)] public DateTimeOffset? LastSeenAtSet { get; init; }

    /// <summary>True for appear offline.</summary>
    public bool IsAppearOffline => Availability == Model.Availability.Offline;

    /// <summary>Default lifetime when the person gives no end: one day for Busy/DoNotDisturb, seven days otherwise.</summary>
    public static TimeSpan DefaultLifetime(Availability effective) =>
        effective is Model.Availability.Busy or Model.Availability.DoNotDisturb ? TimeSpan.FromDays(1) : TimeSpan.FromDays(7);
}

/// <summary>A short free-text status message with an optional expiry.</summary>
[GenerateSerializer, Immutable, Alias("herald.StatusNote")]
public sealed record StatusNote(
    [property: Id(0)] string Text,
    [property: Id(1)] DateTimeOffset SetAt,
    [property: Id(2)] DateTimeOffset? Until);

/// <summary>A device session: a lease renewed by heartbeats.</summary>
[GenerateSerializer, Immutable, Alias("herald.DeviceSession")]
public sealed record DeviceSession(
    [property: Id(0)] string DeviceId,
    [property: Id(1)] DeviceKind Kind,
    [property: Id(2)] Availability? Availability,
    [property: Id(3)] Activity? Activity,
    [property: Id(4)] DateTimeOffset? IdleSince,
    [property: Id(5)] IReadOnlyList<string> Capabilities,
    [property: Id(6)] Location? Location,
    [property: Id(7)] TimeSpan Ttl,
    [property: Id(8)] DateTimeOffset StartedAt,
    [property: Id(9)] DateTimeOffset LastHeartbeat,
    [property: Id(10)] DateTimeOffset ExpiresAt,
    [property: Id(11)] DateTimeOffset StateSince)
{
    /// <summary>What the device says about its person: explicit availability, else its activity's, else Available.</summary>
    public Availability Reported =>
        Availability ?? (Activity is { } a ? Activities.Implied(a) : Model.Availability.Available);

    /// <summary>True while the lease (plus the grace window) holds.</summary>
    public bool IsLive(DateTimeOffset now, TimeSpan grace) => now < ExpiresAt + grace;

    /// <summary>True when the device has been idle at least <paramref name="threshold"/>.</summary>
    public bool IsIdle(DateTimeOffset now, TimeSpan threshold) => IdleSince is { } s && now - s >= threshold;
}

/// <summary>An activity published by an integration (phone system, conferencing): a lease.</summary>
[GenerateSerializer, Immutable, Alias("herald.ActivityLease")]
public sealed record ActivityLease(
    [property: Id(0)] string IntegrationId,
    [property: Id(1)] string IntegrationName,
    [property: Id(2)] Activity Activity,
    [property: Id(3)] DateTimeOffset StartedAt,
    [property: Id(4)] DateTimeOffset ExpiresAt)
{
    /// <summary>The key of this lease among a person's leases.</summary>
    public string Key => $"{IntegrationId}/{Activity}";

    /// <summary>True while the lease holds.</summary>
    public bool IsLive(DateTimeOffset now) => now < ExpiresAt;
}

/// <summary>
/// One busy interval from a person's calendar: [<see cref="Start"/>, <see cref="End"/>), with the activity it
/// implies (<see cref="Model.Activity.InAMeeting"/> or <see cref="Model.Activity.OutOfOffice"/>). The subject is kept
/// for the person themselves; it is never put into presence views.
/// </summary>
[GenerateSerializer, Immutable, Alias("herald.CalendarBusy")]
public sealed record CalendarBusy(
    [property: Id(0)] DateTimeOffset Start,
    [property: Id(1)] DateTimeOffset End,
    [property: Id(2)] Activity Activity,
    [property: Id(3)] string? Subject)
{
    /// <summary>True when <paramref name="now"/> lies in [Start, End).</summary>
    public bool Contains(DateTimeOffset now) => Start <= now && now < End;
}

/// <summary>Everything a person's presence is computed from.</summary>
[GenerateSerializer, Immutable, Alias("herald.PresenceSources")]
public sealed record PresenceSources(
    [property: Id(0)] PreferredStatus? Preferred,
    [property: Id(1)] StatusNote? Note,
    [property: Id(2)] IReadOnlyDictionary<string, DeviceSession> Devices,
    [property: Id(3)] IReadOnlyDictionary<string, ActivityLease> Activities,
    [property: Id(4)] DateTimeOffset? LastSeen)
{
    /// <summary>
    /// Busy intervals from the person's calendar (already filtered: only busy and out-of-office entries), or null
    /// for none. Ranks below integration activities and above devices.
    /// </summary>
    [Id(5)] public IReadOnlyList<CalendarBusy>? Calendar { get; init; }

    /// <summary>No sources at all.</summary>
    public static PresenceSources Empty { get; } =
        new(null, null, new Dictionary<string, DeviceSession>(), new Dictionary<string, ActivityLease>(), null);
}

/// <summary>Per-person settings for aggregation.</summary>
/// <param name="GraceWindow">How long a lapsed device lease still counts (absorbs quick reconnects).</param>
/// <param name="IdleThreshold">How long a device may be idle before it counts as Away.</param>
/// <param name="WorkHours">The weekly schedule, or null for none.</param>
/// <param name="TimeZone">The person's time zone.</param>
public sealed record AggregationSettings(TimeSpan GraceWindow, TimeSpan IdleThreshold, WorkHours? WorkHours, TimeZoneInfo TimeZone)
{
    /// <summary>Defaults: 15 s grace, 5 min idle threshold, no schedule, UTC.</summary>
    public static AggregationSettings Default { get; } = new(TimeSpan.FromSeconds(15), TimeSpan.FromMinutes(5), null, TimeZoneInfo.Utc);
}
