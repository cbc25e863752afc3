using Herald.Core.Model;

namespace Herald.Core.Tests.Presence;

/// <summary>Terse builders for presence sources, all pinned to fixed instants.</summary>
internal static class SourceBuilder
{
    /// <summary>Wednesday 15 January 2025, 10:00 UTC.</summary>
    public static readonly DateTimeOffset Now = new(2025, 1, 15, 10, 0, 0, TimeSpan.Zero);

    public static readonly TimeSpan Ttl = TimeSpan.FromSeconds(60);

    /// <summary>15 s grace, 5 min idle threshold, no schedule, UTC.</summary>
    public static AggregationSettings Settings => AggregationSettings.Default;

    public static DeviceSession Device(
        string id,
        Availability? availability = Availability.Available,
        Activity? activity = null,
        DateTimeOffset? idleSince = null,
        DateTimeOffset? lastHeartbeat = null,
        DateTimeOffset? expiresAt = null,
        DateTimeOffset? stateSince = null,
        DeviceKind kind = DeviceKind.Desktop,
        Location? location = null,
        IReadOnlyList<string>? capabilities = null)
    {
        var heartbeat = lastHeartbeat ?? Now.AddSeconds(-10);
        return new DeviceSession(id, kind, availability, activity, idleSince, capabilities ?? ["chat"], location, Ttl,
            heartbeat.AddHours(-1), heartbeat, expiresAt ?? heartbeat + Ttl, stateSince ?? Now.AddMinutes(-30));
    }

    public static ActivityLease Lease(string integrationId, Activity activity, DateTimeOffset startedAt,
        DateTimeOffset? expiresAt = null, string? name = null) =>
        new(integrationId, name ?? integrationId, activity, startedAt, expiresAt ?? Now.AddMinutes(5));

    public static PreferredStatus Preferred(Availability? availability, Activity? activity = null,
        DateTimeOffset? setAt = null, DateTimeOffset? until = null) =>
        new(availability, activity, setAt ?? Now.AddHours(-1), until ?? Now.AddHours(2));

    public static PresenceSources Sources(
        PreferredStatus? preferred = null,
        StatusNote? note = null,
        IEnumerable<DeviceSession>? devices = null,
        IEnumerable<ActivityLease>? leases = null,
        DateTimeOffset? lastSeen = null)
    {
        var deviceMap = new Dictionary<string, DeviceSession>(StringComparer.Ordinal);
        foreach (var d in devices ?? [])
        {
            deviceMap[d.DeviceId] = d;
        }
        var leaseMap = new Dictionary<string, ActivityLease>(StringComparer.Ordinal);
        foreach (var l in leases ?? [])
        {
            leaseMap[l.Key] = l;
        }
        return new PresenceSources(preferred, note, deviceMap, leaseMap, lastSeen);
    }
}
