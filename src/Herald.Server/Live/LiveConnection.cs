using System.Diagnostics.Metrics;
using System.Security.Claims;
using Herald.Cluster.Directory;
using Herald.Cluster.Fanout;
using Herald.Cluster.Presence;
using Herald.Core.Presence;
using Herald.Core.Privacy;
using Herald.Server.Auth;

namespace Herald.Server.Live;

/// <summary>
/// One live connection (SignalR or SSE): a coalescing outbox (newest view per person, never out of order), an
/// event queue for its watcher's own events (huddles; never coalesced, bounded at <see cref="MaxPendingEvents"/>
/// with the oldest dropped and counted), and the set of people it watches. The fan-out path only offers views and
/// events; the connection's own loop writes them in batches, so a slow client never blocks anyone else. Once its
/// credential ends (<see cref="LiveCredentials"/>) it takes and hands out nothing more, and wakes its loop, which closes
/// the channel with the reason.
/// </summary>
public sealed class LiveConnection : LiveCredential, IPresenceSink
{
    private readonly LatestStateMailbox<PresenceView> _outbox = new(v => v.UserId, v => v.Sequence);
    private readonly WakeSignal _signal = new();
    private CancellationTokenRegistration _wakeOnCancel;
    private CancellationToken _wakeToken;
    private static readonly Counter<long> DroppedEventsCounter = new Meter("Herald.Presence")
        .CreateCounter<long>("herald.live.events.dropped", description: "Events dropped from connections that did not keep up");
    private readonly Queue<UserEvent> _events = new();
    private long _droppedEvents;

    /// <summary>Most events kept for a connection that does not keep up; older ones are dropped.</summary>
    public const int MaxPendingEvents = 1000;

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

    // The people watched (locked on itself). A plain set sized to what the connection watches, not a concurrent
    // dictionary grown by doubling: 20 watched people cost ≈ 0.6 KB instead of ≈ 1.3 KB (docs/benchmarks.md, "Memory per
    // connected user").
    private readonly HashSet<string> _watching = new(StringComparer.Ordinal);

    /// <summary>Number of people watched.</summary>
    public int WatchingCount
    {
        get
        {
            lock (_watching)
            {
                return _watching.Count;
            }
        }
    }

    /// <summary>True when <paramref name="userId"/> is watched.</summary>
    public bool IsWatching(string userId)
    {
        lock (_watching)
        {
            return _watching.Contains(userId);
        }
    }

    /// <summary>The people watched, as a copy.</summary>
    public string[] WatchingNow()
    {
        lock (_watching)
        {
            return [.. _watching];
        }
    }

    /// <summary>
    /// Marks <paramref name="userIds"/> as watched; returns for each whether it was watched already. The set and the
    /// outbox's per-person memory grow to fit exactly the people added, not to the next doubling.
    /// </summary>
    internal bool[] StartWatching(IReadOnlyCollection<string> userIds)
    {
        var already = new bool[userIds.Count];
        lock (_watching)
        {
            var fresh = 0;
            foreach (var id in userIds)
            {
                if (!_watching.Contains(id))
                {
                    fresh++;
                }
            }
            _watching.EnsureCapacity(_watching.Count + fresh);
            var i = 0;
            foreach (var id in userIds)
            {
                already[i++] = !_watching.Add(id);
            }
            _outbox.EnsureCapacity(_watching.Count);
        }
        return already;
    }

    /// <summary>Unmarks <paramref name="userId"/>; false when it was not watched.</summary>
    internal bool StopWatching(string userId)
    {
        lock (_watching)
        {
            return _watching.Remove(userId);
        }
    }

    /// <inheritdoc />
    public void Deliver(PresenceView view)
    {
        if (!CredentialValid)
        {
            return; // nothing is delivered once the credential was found invalid
        }
        // A transport that can write at once takes a lone view directly: it never enters the outbox (whose maps, old
        // objects, would each be marked for the next collection by holding a new view; see docs/benchmarks.md,
        // "Session 10"). Anything else goes through the outbox as before.
        if (_inline?.TryWriteNow(view) == true)
        {
            return;
        }
        if (_outbox.Offer(view) && _inline?.TryFlushNow() != true)
        {
            Signal();
        }
    }

    /// <summary>
    /// For a transport holding its send lock: takes <paramref name="view"/> for writing now when nothing is pending
    /// (<see cref="LatestStateMailbox{T}.TryTakeDirect"/>); a connection whose credential ended takes nothing (Stale).
    /// </summary>
    internal DirectTake TakeDirect(PresenceView view) => CredentialValid ? _outbox.TryTakeDirect(view) : DirectTake.Stale;

    /// <summary>
    /// Lets a transport write offered views at once, on the delivering thread, when it can do so without waiting
    /// (nothing else being sent on the connection); otherwise the connection's own loop is woken as before. Saves a
    /// thread hop per delivery; ordering is unchanged because both paths take views from the same outbox under the
    /// transport's send lock.
    /// </summary>
    internal void UseInlineFlush(IInlineFlush flush) => _inline = flush;

    private IInlineFlush? _inline;

    /// <inheritdoc />
    public void DeliverEvent(UserEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (!CredentialValid)
        {
            return;
        }
        lock (_events)
        {
            if (_events.Count >= MaxPendingEvents)
            {
                _events.Dequeue();
                _droppedEvents++;
                DroppedEventsCounter.Add(1);
            }
            _events.Enqueue(e);
        }
        Signal();
    }

    /// <summary>Takes all pending events, oldest first.</summary>
    public IReadOnlyList<UserEvent> TakeEvents()
    {
        lock (_events)
        {
            if (_events.Count == 0 || !CredentialValid)
            {
                return [];
            }
            var all = _events.ToArray();
            _events.Clear();
            return all;
        }
    }

    /// <summary>Events dropped because more than <see cref="MaxPendingEvents"/> were pending.</summary>
    public long DroppedEvents
    {
        get
        {
            lock (_events)
            {
                return _droppedEvents;
            }
        }
    }

    /// <summary>
    /// Waits until views or events are pending or <paramref name="timeout"/> passes; false when nothing is pending
    /// (the timeout passed). Arms a timer per call: for loops that need a keep-alive (SSE), not for the hot path.
    /// </summary>
    public async Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct)
    {
        if (HasPending)
        {
            return true;
        }
        using (new Timer(static s => ((LiveConnection)s!).Signal(), this, timeout, Timeout.InfiniteTimeSpan))
        {
            await WaitAsync(ct);
        }
        return HasPending;
    }

    /// <summary>
    /// Waits until views or events are pending (no timer, no allocation per wait). One waiter per connection, always
    /// with the same token: its cancellation wakes the waiter, which then throws <see cref="OperationCanceledException"/>.
    /// </summary>
    public async ValueTask WaitAsync(CancellationToken ct)
    {
        if (ct != _wakeToken)
        {
            _wakeOnCancel.Dispose();
            _wakeToken = ct;
            _wakeOnCancel = ct.UnsafeRegister(static s => ((LiveConnection)s!).Signal(), this);
        }
        ct.ThrowIfCancellationRequested();
        await _signal.WaitAsync();
        ct.ThrowIfCancellationRequested();
    }

    /// <summary>True when views or events are waiting to be taken.</summary>
    public bool HasPending
    {
        get
        {
            if (_outbox.Count > 0)
            {
                return true;
            }
            lock (_events)
            {
                return _events.Count > 0;
            }
        }
    }

    /// <summary>Takes all pending views.</summary>
    public IReadOnlyList<PresenceView> TakeAll() => CredentialValid ? _outbox.TakeAll() : [];

    /// <summary>Moves all pending views into <paramref name="into"/> (cleared first; no allocation when it has room).</summary>
    public int TakeAll(List<PresenceView> into)
    {
        ArgumentNullException.ThrowIfNull(into);
        if (!CredentialValid)
        {
            into.Clear();
            return 0;
        }
        return _outbox.TakeInto(into);
    }

    /// <inheritdoc />
    protected override void OnCredentialEnded(CredentialEnd reason) => Signal(); // the channel's loop sees it and closes

    /// <summary>Forgets a person the connection stopped watching.</summary>
    public void Forget(string userId) => _outbox.Forget(userId);

    /// <summary>
    /// Records that the client already has <paramref name="view"/> (the snapshot handed back by a watch or resume), so
    /// the same view arriving through the fan-out (e.g. a silo renewal re-handing current views) is not sent twice.
    /// </summary>
    public void Acknowledge(PresenceView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        _outbox.Acknowledge(view.UserId, view.Sequence);
    }

    private void Signal() => _signal.Set();
}

/// <summary>A transport that can write a connection's pending views at once without waiting (see <see cref="LiveConnection.UseInlineFlush"/>).</summary>
internal interface IInlineFlush
{
    /// <summary>
    /// Writes what is pending if that needs no waiting; true when it took care of the pending views (sent, handed to an
    /// in-flight send, or the connection is gone), false when the connection's loop must be woken instead.
    /// </summary>
    bool TryFlushNow();

    /// <summary>
    /// Writes <paramref name="view"/> alone if that needs no waiting and nothing is pending; true when it took care of
    /// it (sent, handed to an in-flight send, dropped as stale, or the connection is gone), false when it must be
    /// offered to the outbox instead.
    /// </summary>
    bool TryWriteNow(PresenceView view);
}

/// <summary>
/// Starts and stops watching on behalf of live connections, through the silo's fan-out hub, and registers each open
/// connection with <see cref="LiveCredentials"/> (it ends when its credential does).
/// </summary>
public sealed class LiveConnections(SiloPresenceHub hub, LiveCredentials credentials)
{
    private int _open;

    /// <summary>Live connections open on this node (graceful shutdown waits for them to leave).</summary>
    public int OpenCount => Volatile.Read(ref _open);

    /// <summary>
    /// A connection opened by <paramref name="user"/>: it receives its watcher's events from now on, from any silo, until
    /// it closes or its credential ends (at <paramref name="expires"/>, a bearer token's expiry; when the key it was
    /// opened with is revoked; when the account is deleted; when the password the token was issued under changes). When
    /// already expired the connection is ended at once.
    /// </summary>
    public Task Open(LiveConnection connection, ClaimsPrincipal user, DateTimeOffset? expires)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(user);
        Interlocked.Increment(ref _open);
        if (user.IsApiKey() && user.FindFirstValue(HeraldClaims.KeyId) is { } keyId)
        {
            credentials.RegisterKey(connection, keyId);
        }
        else
        {
            // Tied to the password the token was issued under: a password change ends the connection (4403).
            credentials.RegisterPerson(connection, connection.WatcherId, expires, user.PasswordStampOf());
        }
        return hub.Attach(connection);
    }

    /// <summary>
    /// Starts watching <paramref name="userIds"/>; returns their current views, in the order asked. The people are
    /// registered with the hub concurrently (each person's registration is independent: the hub orders what concerns
    /// one person under that person's lock), so a login watching 20 people waits for one round trip, not 20.
    /// </summary>
    public async Task<IReadOnlyList<PresenceView>> Watch(LiveConnection connection, IReadOnlyCollection<string> userIds)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(userIds);
        var pending = new Task<PresenceView>[userIds.Count];
        var already = connection.StartWatching(userIds);
        var i = 0;
        foreach (var id in userIds)
        {
            // Watching someone already watched returns their current view again (a resume asks for it).
            pending[i] = WatchOne(connection, id, alreadyAttached: already[i]);
            i++;
        }
        return await Task.WhenAll(pending);
    }

    private async Task<PresenceView> WatchOne(LiveConnection connection, string id, bool alreadyAttached)
    {
        var view = await hub.Watch(connection, id, alreadyAttached);
        connection.Acknowledge(view); // the caller hands it to the client (or the client already has it)
        return view;
    }

    /// <summary>Stops watching <paramref name="userIds"/>.</summary>
    public void Unwatch(LiveConnection connection, IEnumerable<string> userIds)
    {
        ArgumentNullException.ThrowIfNull(connection);
        foreach (var id in userIds)
        {
            if (connection.StopWatching(id))
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
        Interlocked.Decrement(ref _open);
        credentials.Unregister(connection);
        hub.Detach(connection);
        Unwatch(connection, connection.WatchingNow());
    }
}
