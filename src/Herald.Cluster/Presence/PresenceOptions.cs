using System.ComponentModel.DataAnnotations;
using Herald.Cluster.Hosting;

namespace Herald.Cluster.Presence;

/// <summary>Presence engine settings (configuration section <c>Herald:Presence</c>).</summary>
public sealed class PresenceOptions
{
    /// <summary>Configuration section name.</summary>
    public const string Section = "Herald:Presence";

    /// <summary>How long a lapsed or disconnected device still counts, to absorb quick reconnects.</summary>
    [TimeSpanRange("00:00:00", "00:10:00")]
    public TimeSpan GraceWindow { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long a device may be idle before it counts as Away (when the person set no threshold).</summary>
    [TimeSpanRange("00:00:30", "1.00:00:00")]
    public TimeSpan IdleThreshold { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Shortest device or activity lease accepted.</summary>
    [TimeSpanRange("00:00:01", "01:00:00")]
    public TimeSpan MinLeaseTtl { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Longest device or activity lease accepted.</summary>
    [TimeSpanRange("00:00:05", "1.00:00:00")]
    public TimeSpan MaxLeaseTtl { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// How often a silo renews its registrations with the person grains it watches (spread over the period; full rounds
    /// also follow a membership change, see <c>SiloPresenceRenewal</c>). Each renewal is a grain call per watched
    /// person: at 5,000 watched people and 30 s, measured as ≈ 8 % of a core.
    /// </summary>
    [TimeSpanRange("00:00:00.100", "00:10:00")]
    public TimeSpan SiloWatchRenewal { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// How long a silo keeps a watcher's registration with a person's grain after the watcher's last connection there
    /// left (logout, disconnect), so that a reconnect within it needs no grain call and the disconnect none either. A
    /// lingering watcher gets nothing and does not count as watching now. Zero unregisters at once.
    /// </summary>
    [TimeSpanRange("00:00:00", "00:10:00")]
    public TimeSpan WatcherLinger { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Most (person, watcher) registrations one silo keeps lingering at once (a departed user who watched 20 people
    /// holds 20); past it a departure unregisters at once. Zero turns lingering off.
    /// </summary>
    [Range(0, 10_000_000)]
    public int MaxLingeringWatchers { get; set; } = 200_000;

    /// <summary>Most devices one person may have at once.</summary>
    [Range(1, 1000)]
    public int MaxDevicesPerPerson { get; set; } = 20;

    /// <summary>Most contacts one person may have.</summary>
    [Range(1, 100_000)]
    public int MaxContacts { get; set; } = 2000;

    /// <summary>How often last-seen is persisted for a person who stays online (a write off the hot path).</summary>
    [TimeSpanRange("00:00:10", "1.00:00:00")]
    public TimeSpan LastSeenPersistInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// For how long after a cluster membership change (a node joined, died or left) every call to a person's grain
    /// first compares the grain's state with storage (one storage read per call), so that an activation left stale by
    /// a duplicate activation during the change adopts the newer state and re-broadcasts it. Zero disables the check.
    /// </summary>
    [TimeSpanRange("00:00:00", "01:00:00")]
    public TimeSpan StaleActivationWindow { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Most directory profiles the node keeps in its profile cache (embedded mode; see <c>CachedDirectoryStore</c>).
    /// Zero turns the cache off.
    /// </summary>
    [Range(0, 10_000_000)]
    public int ProfileCacheCapacity { get; set; } = 50_000;

    /// <summary>Longest time a cached directory profile is used after it was read (writes through the node invalidate at once).</summary>
    [TimeSpanRange("00:00:01", "01:00:00")]
    public TimeSpan ProfileCacheTtl { get; set; } = TimeSpan.FromSeconds(30);
}
