using System.Collections.Concurrent;
using Herald.Cluster.Fanout;
using Herald.Core.Presence;
using Herald.Core.Privacy;

namespace Herald.Server.Live;

/// <summary>
/// One live connection (SignalR or SSE): a coalescing outbox (newest view per person, never out of order) and
/// the set of people it watches. The fan-out path only offers views; the connection's own loop writes them in
/// batches, so a slow client never blocks anyone else.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "SemaphoreSlim needs disposal only when its wait handle is used; it never is here.")]
public sealed class LiveConnection : IPresenceSink
{
    private readonly LatestStateMailbox<PresenceView> _outbox = new(v => v.UserId, v => v.Sequence);
    private readonly SemaphoreSlim _signal = new(0, 1);
    private readonly Lock _lock = new();

    /// <summary>Creates a connection for <paramref name="watcherId"/>.</summary>
    public LiveConnection(string id, string watcherId)
    {
        Id = id;
        WatcherId = watcherId;
    }

    /// <summary>Connection id.</summary>
    public string Id { get; }

    /// <inheritdoc />
    public string WatcherId { get; }

    /// <summary>The people watched.</summary>
    public ConcurrentDictionary<string, byte> Watching { get; } = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public void Deliver(PresenceView view)
    {
        if (_outbox.Offer(view))
        {
            Signal();
        }
    }

    /// <summary>Waits until views are pending or <paramref name="timeout"/> passes; false on timeout.</summary>
    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct) => _signal.WaitAsync(timeout, ct);

    /// <summary>Takes all pending views.</summary>
    public IReadOnlyList<PresenceView> TakeAll() => _outbox.TakeAll();

    /// <summary>Forgets a person the connection stopped watching.</summary>
    public void Forget(string userId) => _outbox.Forget(userId);

    private void Signal()
    {
        lock (_lock)
        {
            if (_signal.CurrentCount == 0)
            {
                _signal.Release();
            }
        }
    }
}

/// <summary>Starts and stops watching on behalf of live connections, through the silo's fan-out hub.</summary>
public sealed class LiveConnections(SiloPresenceHub hub)
{
    /// <summary>Starts watching <paramref name="userIds"/>; returns their current views.</summary>
    public async Task<IReadOnlyList<PresenceView>> Watch(LiveConnection connection, IReadOnlyCollection<string> userIds)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var views = new List<PresenceView>(userIds.Count);
        foreach (var id in userIds)
        {
            // Watching someone already watched returns their current view again (a resume asks for it).
            views.Add(connection.Watching.TryAdd(id, 0) ? await hub.Watch(connection, id) : await hub.Watch(connection, id, alreadyAttached: true));
        }
        return views;
    }

    /// <summary>Stops watching <paramref name="userIds"/>.</summary>
    public void Unwatch(LiveConnection connection, IEnumerable<string> userIds)
    {
        ArgumentNullException.ThrowIfNull(connection);
        foreach (var id in userIds)
        {
            if (connection.Watching.TryRemove(id, out _))
            {
                hub.Unwatch(connection, id);
                connection.Forget(id);
            }
        }
    }

    /// <summary>Stops watching everything (connection closed).</summary>
    public void Close(LiveConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        Unwatch(connection, [.. connection.Watching.Keys]);
    }
}
