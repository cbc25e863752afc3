using Herald.Core.Model;

namespace Herald.Core.Presence;

/// <summary>Which kind of source decided a person's presence.</summary>
public enum SourceKind
{
    /// <summary>No live source: offline.</summary>
    None,
    /// <summary>The person's own chosen status.</summary>
    Preferred,
    /// <summary>An integration activity lease (phone, conferencing).</summary>
    Integration,
    /// <summary>A calendar event.</summary>
    Calendar,
    /// <summary>A device session.</summary>
    Device,
    /// <summary>The weekly work schedule.</summary>
    Schedule,
}

/// <summary>Why a person appears as they do.</summary>
/// <param name="Source">The kind of source that won.</param>
/// <param name="SourceId">The device id or integration id that won, when there is one.</param>
/// <param name="Since">Since when that source has said so.</param>
/// <param name="Until">Until when it holds, when known.</param>
/// <param name="Reason">A short human-readable explanation.</param>
[GenerateSerializer, Immutable, Alias("herald.Provenance")]
public sealed record Provenance(
    [property: Id(0)] SourceKind Source,
    [property: Id(1)] string? SourceId,
    [property: Id(2)] DateTimeOffset? Since,
    [property: Id(3)] DateTimeOffset? Until,
    [property: Id(4)] string Reason);

/// <summary>What one device contributes, as shown to those allowed to see devices.</summary>
[GenerateSerializer, Immutable, Alias("herald.DeviceSummary")]
public sealed record DeviceSummary(
    [property: Id(0)] string DeviceId,
    [property: Id(1)] DeviceKind Kind,
    [property: Id(2)] Availability Availability,
    [property: Id(3)] Activity? Activity,
    [property: Id(4)] bool Idle,
    [property: Id(5)] DateTimeOffset? IdleSince,
    [property: Id(6)] IReadOnlyList<string> Capabilities)
{
    /// <summary>Structural equality including the capability list.</summary>
    public bool SameAs(DeviceSummary other) =>
        DeviceId == other.DeviceId && Kind == other.Kind && Availability == other.Availability && Activity == other.Activity
        && Idle == other.Idle && IdleSince == other.IdleSince
        && Capabilities.SequenceEqual(other.Capabilities);
}

/// <summary>One person's merged presence at an instant, with its provenance.</summary>
[GenerateSerializer, Immutable, Alias("herald.AggregatedPresence")]
public sealed record AggregatedPresence(
    [property: Id(0)] Availability Availability,
    [property: Id(1)] Activity? Activity,
    [property: Id(2)] StatusNote? Note,
    [property: Id(3)] Location? Location,
    [property: Id(4)] DateTimeOffset? LastSeen,
    [property: Id(5)] Provenance Provenance,
    [property: Id(6)] IReadOnlyList<DeviceSummary> Devices,
    [property: Id(7)] bool AppearOffline,
    [property: Id(8)] bool OffHours,
    [property: Id(9)] bool DayOff,
    [property: Id(10)] DateTimeOffset? NextChangeAt)
{
    /// <summary>
    /// The last-seen time that watchers may be told: while appearing offline it stays at the moment the person
    /// went "offline", exactly as a real disconnect would leave it.
    /// </summary>
    [Id(11)] public DateTimeOffset? ApparentLastSeen { get; init; }

    /// <summary>The calendar entry running now (with its subject), whichever source decided the presence; null when none.</summary>
    [Id(12)] public CalendarBusy? Calendar { get; init; }

    /// <summary>True when nothing a watcher or the owner could see differs (ignores <see cref="NextChangeAt"/>).</summary>
    public bool SameStateAs(AggregatedPresence other) =>
        Availability == other.Availability && Activity == other.Activity && Equals(Note, other.Note)
        && Equals(Location, other.Location) && LastSeen == other.LastSeen && ApparentLastSeen == other.ApparentLastSeen
        && Equals(Provenance, other.Provenance) && Equals(Calendar, other.Calendar)
        && AppearOffline == other.AppearOffline && OffHours == other.OffHours && DayOff == other.DayOff
        && Devices.Count == other.Devices.Count && Devices.Zip(other.Devices).All(p => p.First.SameAs(p.Second));
}
