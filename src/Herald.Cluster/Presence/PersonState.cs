using Herald.Core.Model;
using Herald.Core.Privacy;

namespace Herald.Cluster.Presence;

/// <summary>The durable part of a person's presence. Device and integration leases are deliberately not here.</summary>
[GenerateSerializer, Alias("herald.PersonState")]
public sealed class PersonState
{
    /// <summary>The preferred status, if any.</summary>
    [Id(0)] public PreferredStatus? Preferred { get; set; }

    /// <summary>The status note, if any.</summary>
    [Id(1)] public StatusNote? Note { get; set; }

    /// <summary>Last time any device was heard from (written on transitions and periodically, not per heartbeat).</summary>
    [Id(2)] public DateTimeOffset? LastSeen { get; set; }

    /// <summary>The people this person watches.</summary>
    [Id(3)] public List<string> Contacts { get; set; } = [];

    /// <summary>The highest sequence number issued when the state was last written.</summary>
    [Id(4)] public long SequenceHighWater { get; set; }

    /// <summary>The person's own privacy rules (null = defaults).</summary>
    [Id(5)] public UserPrivacy? Privacy { get; set; }

    /// <summary>Time-boxed grants.</summary>
    [Id(6)] public List<Grant> Grants { get; set; } = [];

    /// <summary>Subscriptions of watchers to this person.</summary>
    [Id(7)] public Dictionary<string, WatcherRecord> Watchers { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Integrations (API key ids) the person no longer lets publish for them.</summary>
    [Id(9)] public List<string> RevokedIntegrations { get; set; } = [];

    /// <summary>Busy intervals from the person's uploaded calendar (null = none).</summary>
    [Id(10)] public List<CalendarBusy>? Calendar { get; set; }

    /// <summary>Preferred contact methods with conditions (null = defaults).</summary>
    [Id(8)] public Herald.Core.Reachability.ReachPreferences? Reach { get; set; }
}

/// <summary>A watcher's subscription to a person.</summary>
/// <param name="Status">Where it stands.</param>
/// <param name="Since">When it was first requested or granted.</param>
/// <param name="UpdatedAt">When it last changed.</param>
// No reference tracking: a person's state holds one record per watcher (hundreds at most), and tracking them made the
// serializer allocate an overflow dictionary on every state write. Records are never shared within a state, and rows
// written with tracking still read (SqliteGrainStoragePayloadTests).
[GenerateSerializer, Immutable, SuppressReferenceTracking, Alias("herald.WatcherRecord")]
public sealed record WatcherRecord(
    [property: Id(0)] SubscriptionStatus Status,
    [property: Id(1)] DateTimeOffset Since,
    [property: Id(2)] DateTimeOffset UpdatedAt);

/// <summary>A request broke a documented limit (too many devices or contacts).</summary>
[GenerateSerializer, Alias("herald.PresenceLimitException")]
public sealed class PresenceLimitException : Exception
{
    /// <summary>Creates the exception.</summary>
    public PresenceLimitException(string message, string field) : base(message) => Field = field;

    /// <summary>Creates the exception.</summary>
    public PresenceLimitException() : base("limit exceeded") => Field = "";

    /// <summary>Creates the exception.</summary>
    public PresenceLimitException(string message) : base(message) => Field = "";

    /// <summary>Creates the exception.</summary>
    public PresenceLimitException(string message, Exception inner) : base(message, inner) => Field = "";

    /// <summary>The request field that broke the limit.</summary>
    [Id(0)] public string Field { get; }
}
