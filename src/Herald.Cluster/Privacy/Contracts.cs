using Herald.Core.Privacy;

namespace Herald.Cluster.Privacy;

/// <summary>One disclosure-audit entry: who received which fields of whose presence, when, through which channel, under which rule.</summary>
/// <param name="At">When.</param>
/// <param name="PresentityId">Whose presence.</param>
/// <param name="WatcherId">Who received it (null for administrative entries).</param>
/// <param name="Kind">What happened: <c>subscription</c>, <c>snapshot</c>, <c>batch</c>, <c>search</c>, <c>live</c>, <c>policy</c>, <c>grant</c>, <c>watcher</c>.</param>
/// <param name="Channel">Channel: <c>rest</c>, <c>signalr-or-sse</c> (<c>live</c>), <c>admin</c>, …</param>
/// <param name="Fields">The fields and precisions disclosed (compact text, e.g. <c>availability,location=City</c>), or a description.</param>
/// <param name="Rule">The rule that decided (tier, context and deciding layers).</param>
public sealed record AuditEntry(DateTimeOffset At, string PresentityId, string? WatcherId, string Kind, string Channel, string Fields, string Rule)
{
    /// <summary>Store id (0 before it is stored).</summary>
    public long Id { get; init; }
}

/// <summary>The append-only disclosure audit log.</summary>
public interface IAuditLog
{
    /// <summary>Queues an entry; it is written within a short batching delay (never on the caller's path).</summary>
    void Append(AuditEntry entry);

    /// <summary>Writes every queued entry now.</summary>
    Task Flush(CancellationToken ct = default);

    /// <summary>
    /// Entries, newest first, optionally only about <paramref name="presentityId"/>, only to
    /// <paramref name="watcherId"/>, within [<paramref name="from"/>, <paramref name="to"/>), at most <paramref name="limit"/>.
    /// </summary>
    Task<IReadOnlyList<AuditEntry>> Query(string? presentityId, string? watcherId, DateTimeOffset? from, DateTimeOffset? to, int limit, CancellationToken ct = default);

    /// <summary>Deletes entries older than <paramref name="before"/>; returns how many.</summary>
    Task<int> Purge(DateTimeOffset before, CancellationToken ct = default);
}

/// <summary>Durable organization policy, with a version that grows on every change.</summary>
public interface IOrgPolicyStore
{
    /// <summary>The current policy and its version (the default policy, version 0, when none was saved).</summary>
    Task<(OrgPolicy Policy, long Version)> Get(CancellationToken ct = default);

    /// <summary>Saves a new policy; returns the new version.</summary>
    Task<long> Save(OrgPolicy policy, CancellationToken ct = default);
}
