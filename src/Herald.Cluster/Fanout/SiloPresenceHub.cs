using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Herald.Cluster.Huddles;
using Herald.Cluster.Presence;
using Herald.Core.Privacy;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace Herald.Cluster.Fanout;

/// <summary>A local receiver of presence views: a SignalR connection, an SSE stream, an XMPP session, a webhook.</summary>
public interface IPresenceSink
{
    /// <summary>The person on whose behalf this sink watches (decides the disclosure).</summary>
    string WatcherId { get; }

    /// <summary>
    /// Takes a view. Called from the fan-out path: must not block; implementations queue (coalescing per person)
    /// and write in batches from their own loop. Views of one person may repeat; a sink drops any whose
    /// sequence is not above the last it delivered for that person.
    /// </summary>
    void Deliver(PresenceView view);

    /// <summary>
    /// Takes an event for <see cref="WatcherId"/> (e.g. a huddle invitation), for sinks attached with
    /// <see cref="SiloPresenceHub.Attach"/>. Must not block; events are never coalesced away. The default drops it.
    /// </summary>
    void DeliverEvent(UserEvent e)
    {
    }
}

/// <summary>
/// The per-silo fan-out point. Each silo holds one instance: it registers once per watched person (with the
/// watcher ids it serves) with that person's grain, receives one broadcast per change, and delivers in process to
/// every local sink, picking each sink's view by its watcher's disclosure key. Registrations are leases renewed
/// every <see cref="PresenceOptions.SiloWatchRenewal"/>, which also re-creates them when a person's grain
/// reactivated elsewhere after a node loss, and catches up any change missed meanwhile.
/// It is also the silo's end of the user-event channel: attached sinks are indexed by watcher, the people with
/// connections here are registered (as leases, renewed on the same period) with the <see cref="IUserLocatorGrain"/>,
/// and <see cref="OnUserEvent"/> hands an event to every local sink of its person.
/// <para>
/// A watcher whose last sink of a person leaves keeps its registration for <see cref="PresenceOptions.WatcherLinger"/>
/// (at most <see cref="PresenceOptions.MaxLingeringWatchers"/> at once): it gets nothing meanwhile (it has no sink),
/// the person's grain is not called, and a return within the linger is answered from this hub, again without a call.
/// Re-keys still reach the lingering entry, so a returning watcher gets the view of its current disclosure (soon after
/// a membership change, when the grain may have lost this silo's registration, a return asks the grain). Who has a
/// sink (<see cref="ConnectedWatchers"/>) is known here only: the grain asks the hubs when it reports who watches now.
/// The linger ends in the renewal's sweep (<see cref="ExpireLingering"/>); see docs/architecture.md, "Watcher linger".
/// </para>
/// </summary>
public sealed partial class SiloPresenceHub : ISiloPresenceObserver, IDisposable
{
    private static readonly Meter Meter = new("Herald.Presence");
    private static readonly Counter<long> DeliveriesCounter = Meter.CreateCounter<long>("herald.presence.deliveries", description: "Views handed to local sinks");
    private static readonly Counter<long> BroadcastsCounter = Meter.CreateCounter<long>("herald.presence.broadcasts", description: "Broadcasts received by this silo");

    private readonly IGrainFactory _grains;
    private readonly ILocalSiloDetails _silo;
    private readonly ILogger<SiloPresenceHub> _logger;
    private readonly ConcurrentDictionary<string, Watched> _watched = new(StringComparer.Ordinal);
    private readonly Lock _refLock = new();
    private ISiloPresenceObserver? _selfRef;
    private long _deliveries;
    private readonly Lock _connectedLock = new();
    private readonly Dictionary<string, List<IPresenceSink>> _connected = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _locatorGate = new(1, 1);
    private bool _registeredAny;
    private readonly TimeProvider _time;
    private readonly MembershipChanges _changes;

    /// <summary>Departures in the order they happened (the linger is the same for all, so also in expiry order).</summary>
    private readonly ConcurrentQueue<Departure> _departures = new();

    /// <summary>Entries in <see cref="_departures"/> (stale ones included): the bound of <see cref="PresenceOptions.MaxLingeringWatchers"/>.</summary>
    private int _departureCount;

    private readonly Lock _sweepLock = new();

    /// <summary>Creates the hub.</summary>
    public SiloPresenceHub(IGrainFactory grains, ILocalSiloDetails silo, IOptions<PresenceOptions> options, TimeProvider time,
        MembershipChanges changes, ILogger<SiloPresenceHub> logger)
    {
        _grains = grains;
        _silo = silo;
        Options = options.Value;
        _time = time;
        _changes = changes;
        _logger = logger;
    }

    /// <summary>The presence options in force.</summary>
    public PresenceOptions Options { get; }

    /// <summary>Total views handed to sinks by this silo.</summary>
    public long Deliveries => Interlocked.Read(ref _deliveries);

    /// <summary>
    /// The people watched from this silo, including those whose only watchers here are lingering (their registrations
    /// are still held, so a policy change must re-decide them too).
    /// </summary>
    public IReadOnlyList<string> WatchedPersonIds() => [.. _watched.Keys];

    /// <summary>Number of distinct people watched from this silo (lingering registrations included).</summary>
    public int WatchedPeople => _watched.Count;

    /// <summary>Watcher registrations lingering after their last sink left (stale queue entries included).</summary>
    public int LingeringWatchers => Volatile.Read(ref _departureCount);

    /// <summary>The watchers of <paramref name="personId"/> with at least one sink on this silo (lingering ones are not).</summary>
    public IReadOnlyList<string> ConnectedWatchers(string personId)
    {
        if (!_watched.TryGetValue(personId, out var entry))
        {
            return [];
        }
        lock (entry.Lock)
        {
            var ids = new List<string>(entry.Watchers.Count);
            foreach (var (watcherId, w) in entry.Watchers)
            {
                if (!w.IsEmpty)
                {
                    ids.Add(watcherId);
                }
            }
            return ids;
        }
    }

    /// <inheritdoc />
    Task<IReadOnlyList<string>> ISiloPresenceObserver.GetConnectedWatchers(string personId) =>
        Task.FromResult(ConnectedWatchers(personId));

    private ISiloPresenceObserver SelfRef
    {
        get
        {
            lock (_refLock)
            {
                // Held strongly here: Orleans keeps only a weak reference to observer objects.
                return _selfRef ??= _grains.CreateObjectReference<ISiloPresenceObserver>(this);
            }
        }
    }

    /// <summary>
    /// Starts delivering views of <paramref name="userId"/> to <paramref name="sink"/>; returns the current view
    /// for the sink's watcher. With <paramref name="alreadyAttached"/> the sink is not added twice.
    /// </summary>
    public async Task<PresenceView> Watch(IPresenceSink sink, string userId, bool alreadyAttached = false)
    {
        ArgumentNullException.ThrowIfNull(sink);
        Watched entry;
        while (true)
        {
            entry = _watched.GetOrAdd(userId, static _ => new Watched());
            lock (entry.Lock)
            {
                if (entry.Removed)
                {
                    continue; // the last watcher just left and the entry left the map: take (or make) the current one
                }
                if (entry.Watchers.TryGetValue(sink.WatcherId, out var w))
                {
                    // Another sink of this watcher, or the watcher returning within its linger: no grain call. Except a
                    // return soon after a membership change: the person's grain may have reactivated elsewhere without
                    // this silo's registrations (until the renewal), so a re-key (a revocation) may not have reached
                    // the lingering entry; the grain decides afresh then.
                    var returning = w.IsEmpty;
                    if (!alreadyAttached || !w.Contains(sink))
                    {
                        w.Add(sink);
                    }
                    if (w.Key is { } key && entry.Latest.TryGetValue(key, out var cached) && !(returning && _changes.Recent))
                    {
                        return cached;
                    }
                }
                else
                {
                    entry.Watchers[sink.WatcherId] = new WatcherEntry(sink);
                }
                break;
            }
        }
        // (Re)asking the grain also returns the current view; it is idempotent for a known watcher.
        var grants = await _grains.Person(userId).WatchFromSilo(_silo.SiloAddress, SelfRef, [sink.WatcherId], replace: false);
        Apply(entry, grants, deliver: false);
        lock (entry.Lock)
        {
            var key = entry.Watchers.TryGetValue(sink.WatcherId, out var w) ? w.Key : null;
            return key is { } k && entry.Latest.TryGetValue(k, out var v) ? v : grants[0].View;
        }
    }

    /// <summary>Stops delivering views of <paramref name="userId"/> to <paramref name="sink"/>.</summary>
    public void Unwatch(IPresenceSink sink, string userId)
    {
        ArgumentNullException.ThrowIfNull(sink);
        if (!_watched.TryGetValue(userId, out var entry))
        {
            return;
        }
        var dropWatcher = false;
        lock (entry.Lock)
        {
            if (entry.Watchers.TryGetValue(sink.WatcherId, out var w) && w.Remove(sink) && w.IsEmpty)
            {
                if (w.Key is not null && TryTakeLingerSlot())
                {
                    // Registered and room left: keep the registration (no grain call now; a return needs none either).
                    w.Departures++;
                    _departures.Enqueue(new Departure(userId, entry, sink.WatcherId, w, w.Departures, _time.GetTimestamp()));
                }
                else
                {
                    entry.Watchers.Remove(sink.WatcherId);
                    dropWatcher = true;
                }
            }
            if (entry.Watchers.Count == 0)
            {
                entry.Removed = true;
                _watched.TryRemove(new KeyValuePair<string, Watched>(userId, entry));
            }
        }
        if (dropWatcher)
        {
            _ = UnregisterAsync(userId, [sink.WatcherId]);
        }
    }

    /// <summary>
    /// Ends the lingers that are over: each watcher still without a sink since its departure leaves this hub. A person
    /// still watched here by someone else loses the watcher's registration with its next renewal (which names exactly
    /// the watchers left), without a call of its own; a person nobody here watches any more is unregistered now (one
    /// call per person). Runs at every tick of the renewal loop; returns how many watchers left.
    /// </summary>
    public int ExpireLingering()
    {
        var linger = Options.WatcherLinger;
        List<(string PersonId, List<string> WatcherIds)>? unregister = null;
        var expired = 0;
        lock (_sweepLock)
        {
            var now = _time.GetTimestamp();
            while (_departures.TryPeek(out var d) && _time.GetElapsedTime(d.At, now) >= linger)
            {
                _departures.TryDequeue(out _);
                Interlocked.Decrement(ref _departureCount);
                lock (d.Person.Lock)
                {
                    // Stale when the watcher came back (and maybe left again: then a later departure stands for it).
                    if (!d.Person.Watchers.TryGetValue(d.WatcherId, out var w) || !ReferenceEquals(w, d.Entry) || !w.IsEmpty
                        || w.Departures != d.Generation)
                    {
                        continue;
                    }
                    d.Person.Watchers.Remove(d.WatcherId);
                    expired++;
                    if (d.Person.Watchers.Count == 0)
                    {
                        d.Person.Removed = true;
                        _watched.TryRemove(new KeyValuePair<string, Watched>(d.PersonId, d.Person));
                        unregister ??= [];
                        var last = unregister.FindIndex(u => u.PersonId == d.PersonId);
                        if (last >= 0)
                        {
                            unregister[last].WatcherIds.Add(d.WatcherId);
                        }
                        else
                        {
                            unregister.Add((d.PersonId, [d.WatcherId]));
                        }
                    }
                }
            }
        }
        if (unregister is not null)
        {
            foreach (var (personId, watcherIds) in unregister)
            {
                _ = UnregisterAsync(personId, watcherIds);
            }
        }
        return expired;
    }

    /// <summary>Takes one of the <see cref="PresenceOptions.MaxLingeringWatchers"/> slots; false when lingering is off or full.</summary>
    private bool TryTakeLingerSlot()
    {
        if (Options.WatcherLinger <= TimeSpan.Zero)
        {
            return false;
        }
        if (Interlocked.Increment(ref _departureCount) <= Options.MaxLingeringWatchers)
        {
            return true;
        }
        Interlocked.Decrement(ref _departureCount);
        return false;
    }

    /// <summary>
    /// Makes <paramref name="sink"/> receive the events of its watcher (<see cref="IPresenceSink.DeliverEvent"/>) until
    /// <see cref="Detach"/>. The first sink of a person on this silo registers the person with the locator; a failed
    /// registration is logged and retried by the renewal.
    /// </summary>
    public async Task Attach(IPresenceSink sink)
    {
        ArgumentNullException.ThrowIfNull(sink);
        bool first;
        lock (_connectedLock)
        {
            first = !_connected.TryGetValue(sink.WatcherId, out var sinks);
            if (first)
            {
                _connected[sink.WatcherId] = sinks = [];
            }
            if (!sinks!.Contains(sink))
            {
                sinks.Add(sink);
            }
        }
        if (first)
        {
            await RegisterConnected([sink.WatcherId], replace: false, CancellationToken.None);
        }
    }

    /// <summary>
    /// Stops the events of <paramref name="sink"/>. The locator forgets the person at the next renewal (an event sent
    /// here meanwhile finds no sink and is dropped).
    /// </summary>
    public void Detach(IPresenceSink sink)
    {
        ArgumentNullException.ThrowIfNull(sink);
        lock (_connectedLock)
        {
            if (_connected.TryGetValue(sink.WatcherId, out var sinks) && sinks.Remove(sink) && sinks.Count == 0)
            {
                _connected.Remove(sink.WatcherId);
            }
        }
    }

    /// <summary>Number of people with attached sinks on this silo.</summary>
    public int ConnectedPeople
    {
        get
        {
            lock (_connectedLock)
            {
                return _connected.Count;
            }
        }
    }

    /// <inheritdoc />
    public Task OnUserEvent(UserEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        IPresenceSink[] targets;
        lock (_connectedLock)
        {
            if (!_connected.TryGetValue(e.UserId, out var sinks))
            {
                return Task.CompletedTask;
            }
            targets = [.. sinks];
        }
        foreach (var sink in targets)
        {
            try
            {
                sink.DeliverEvent(e);
            }
            catch (Exception ex)
            {
                LogSinkEventFailed(ex, e.UserId);
            }
        }
        return Task.CompletedTask;
    }

    /// <summary>
    /// Renews this silo's lease with the user locator: its set of connected people becomes exactly the current one.
    /// </summary>
    public Task RenewConnected(CancellationToken ct) => RegisterConnected(null, replace: true, ct);

    /// <summary>
    /// One locator call at a time from this silo, so that a renewal (whose set is read inside the gate) can never
    /// overtake a later registration and drop a person who just connected.
    /// </summary>
    private async Task RegisterConnected(IReadOnlyList<string>? userIds, bool replace, CancellationToken ct)
    {
        await _locatorGate.WaitAsync(ct);
        try
        {
            if (userIds is null)
            {
                lock (_connectedLock)
                {
                    userIds = [.. _connected.Keys];
                }
                if (userIds.Count == 0 && !_registeredAny)
                {
                    return;
                }
            }
            await _grains.GetGrain<IUserLocatorGrain>(UserLocatorGrain.Key).Register(_silo.SiloAddress, SelfRef, userIds, replace);
            _registeredAny = replace ? userIds.Count > 0 : _registeredAny || userIds.Count > 0;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogLocatorFailed(ex);
        }
        finally
        {
            _locatorGate.Release();
        }
    }

    /// <inheritdoc />
    public Task OnPresence(PresenceBroadcast broadcast)
    {
        ArgumentNullException.ThrowIfNull(broadcast);
        BroadcastsCounter.Add(1);
        if (_watched.TryGetValue(broadcast.UserId, out var entry))
        {
            Deliver(entry, broadcast.Views);
            if (broadcast.Rekeys is { Count: > 0 } rekeys)
            {
                DeliverRekeys(entry, rekeys);
            }
        }
        return Task.CompletedTask;
    }

    /// <summary>
    /// Renews every registration of this silo (replacing the watcher sets), applying the returned views so that
    /// sinks catch up on anything missed. Bounded parallelism; failures are logged and retried next round.
    /// </summary>
    public Task RenewAll(CancellationToken ct) => RenewSlice(0, 1, ct);

    /// <summary>
    /// Renews the registrations in slice <paramref name="slice"/> of <paramref name="slices"/> (people split by a hash
    /// of their id), so that a round can be spread over the renewal period instead of arriving as one burst of calls.
    /// </summary>
    public async Task RenewSlice(int slice, int slices, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(slices);
        ExpireLingering(); // first, so that this round no longer names the watchers whose linger is over
        var work = slices == 1 ? _watched.ToArray()
            : [.. _watched.Where(kv => (StringComparer.Ordinal.GetHashCode(kv.Key) & int.MaxValue) % slices == slice)];
        await Parallel.ForEachAsync(work, new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = ct },
            async (kv, _) => await Renew(kv.Key, kv.Value, ct));
    }

    /// <summary>Renews one person's registration with exactly the watchers held for it here (lingering ones included).</summary>
    private async Task Renew(string personId, Watched entry, CancellationToken ct)
    {
        string[] watcherIds;
        lock (entry.Lock)
        {
            watcherIds = [.. entry.Watchers.Keys];
            entry.TrimWatchers();
        }
        if (watcherIds.Length == 0)
        {
            return;
        }
        try
        {
            // Bounded: a call stuck on a lost node (until the membership declares it dead) must not hold back the
            // next round for everyone; it fails here and is retried next round.
            var grants = await _grains.Person(personId).WatchFromSilo(_silo.SiloAddress, SelfRef, watcherIds, replace: true)
                .WaitAsync(RenewCallTimeout, ct);
            Apply(entry, grants, deliver: true);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogRenewFailed(ex, personId);
        }
    }

    /// <summary>Longest wait for one person's renewal call (at least 5 s, at most two renewal periods).</summary>
    private TimeSpan RenewCallTimeout => Options.SiloWatchRenewal * 2 > TimeSpan.FromSeconds(5) ? Options.SiloWatchRenewal * 2 : TimeSpan.FromSeconds(5);

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_refLock)
        {
            if (_selfRef is not null)
            {
                try
                {
                    _grains.DeleteObjectReference<ISiloPresenceObserver>(_selfRef);
                }
                catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or ObjectDisposedException)
                {
                    // the runtime is already gone
                }
                _selfRef = null;
            }
        }
        _locatorGate.Dispose();
    }

    private void Apply(Watched entry, IReadOnlyList<WatchGrant> grants, bool deliver)
    {
        var views = new List<KeyedView>(grants.Count);
        lock (entry.Lock)
        {
            foreach (var g in grants)
            {
                if (entry.Watchers.TryGetValue(g.WatcherId, out var w))
                {
                    w.Key = g.Key;
                }
                views.Add(new KeyedView(g.Key, g.View));
            }
        }
        if (deliver)
        {
            // A renewal hands every watcher the current view of its own key, not only views newer than this silo's
            // latest for that key: a watcher whose key just changed, or whose sink missed a view while its
            // registration moved to another activation, would otherwise stay stale until the next change. Sinks
            // drop what is not newer than what they delivered, so a renewal with nothing new sends nothing.
            DeliverRekeys(entry, grants);
        }
        else
        {
            lock (entry.Lock)
            {
                foreach (var v in views)
                {
                    if (!entry.Latest.TryGetValue(v.Key, out var old) || old.Sequence < v.View.Sequence)
                    {
                        entry.Latest[v.Key] = v.View;
                    }
                }
            }
        }
    }

    /// <summary>
    /// One reusable target list per thread: a broadcast's targets are collected under the person's lock and handed
    /// out after it, without allocating a list per broadcast. Taken (set to null) while in use, so a sink that
    /// re-entered the hub on the same thread would get a fresh list.
    /// </summary>
    [ThreadStatic]
    private static List<(IPresenceSink Sink, PresenceView View)>? _targets;

    private void Deliver(Watched entry, IReadOnlyList<KeyedView> views)
    {
        var targets = _targets ?? [];
        _targets = null;
        lock (entry.Lock)
        {
            // An index loop: foreach over the interface would box the list's enumerator on every broadcast.
            for (var i = 0; i < views.Count; i++)
            {
                var kv = views[i];
                if (entry.Latest.TryGetValue(kv.Key, out var old) && old.Sequence >= kv.View.Sequence)
                {
                    continue; // stale or already delivered
                }
                entry.Latest[kv.Key] = kv.View;
                foreach (var w in entry.Watchers.Values)
                {
                    if (w.Key == kv.Key)
                    {
                        w.AddTargets(targets, kv.View);
                    }
                }
            }
        }
        try
        {
            foreach (var (sink, view) in targets)
            {
                try
                {
                    sink.Deliver(view);
                }
                catch (Exception ex)
                {
                    LogSinkFailed(ex, view.UserId);
                }
            }
            if (targets.Count > 0)
            {
                Interlocked.Add(ref _deliveries, targets.Count);
                DeliveriesCounter.Add(targets.Count);
            }
        }
        finally
        {
            targets.Clear();
            if (targets.Capacity <= 4096)
            {
                _targets = targets; // a huge one-off broadcast's list is not kept
            }
        }
    }

    /// <summary>Watchers whose disclosure changed: each gets its new view, and no one else is told anything.</summary>
    private void DeliverRekeys(Watched entry, IReadOnlyList<WatchGrant> rekeys)
    {
        var targets = new List<(IPresenceSink Sink, PresenceView View)>();
        lock (entry.Lock)
        {
            foreach (var g in rekeys)
            {
                if (entry.Watchers.TryGetValue(g.WatcherId, out var w))
                {
                    w.Key = g.Key;
                    w.AddTargets(targets, g.View);
                }
                if (!entry.Latest.TryGetValue(g.Key, out var old) || old.Sequence < g.View.Sequence)
                {
                    entry.Latest[g.Key] = g.View;
                }
            }
        }
        foreach (var (sink, view) in targets)
        {
            try
            {
                sink.Deliver(view);
            }
            catch (Exception ex)
            {
                LogSinkFailed(ex, view.UserId);
            }
        }
        Interlocked.Add(ref _deliveries, targets.Count);
        DeliveriesCounter.Add(targets.Count);
    }

    private async Task UnregisterAsync(string userId, IReadOnlyList<string> watcherIds)
    {
        try
        {
            await _grains.Person(userId).UnwatchFromSilo(_silo.SiloAddress, watcherIds);
            if (_watched.TryGetValue(userId, out var entry))
            {
                // Someone here started watching (or came back) while the unregistration was on its way, and it may have
                // reached the grain after their registration: renew at once rather than leave them unregistered until
                // the next round.
                lock (entry.Lock)
                {
                    if (!watcherIds.Any(entry.Watchers.ContainsKey))
                    {
                        return;
                    }
                }
                await Renew(userId, entry, CancellationToken.None);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogRenewFailed(ex, userId); // the lease expires on its own
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Renewing the silo watch of {PersonId} failed; retrying next round")]
    private partial void LogRenewFailed(Exception ex, string personId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A sink failed to take a view of {PersonId}")]
    private partial void LogSinkFailed(Exception ex, string personId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A sink failed to take an event for {PersonId}")]
    private partial void LogSinkEventFailed(Exception ex, string personId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Registering this silo's connected people with the user locator failed; retrying next round")]
    private partial void LogLocatorFailed(Exception ex);

    /// <summary>A watcher's last sink of a person left at <see cref="At"/> (a timestamp of the hub's clock).</summary>
    private readonly record struct Departure(string PersonId, Watched Person, string WatcherId, WatcherEntry Entry, int Generation, long At);

    private sealed class Watched
    {
        public Lock Lock { get; } = new();

        /// <summary>Set (under <see cref="Lock"/>) when the entry left <c>_watched</c>: a watch that found it takes a new one.</summary>
        public bool Removed { get; set; }

        public Dictionary<string, WatcherEntry> Watchers { get; } = new(StringComparer.Ordinal);

        public Dictionary<DisclosureKey, PresenceView> Latest { get; } = [];

        /// <summary>
        /// Gives back the room of a watcher map that grew by doubling while watchers arrived one at a time (20 watchers
        /// leave room for 37); called under <see cref="Lock"/> at each renewal, so it costs one rebuild per person at most
        /// once per period, and only when more than a quarter of the room is unused.
        /// </summary>
        public void TrimWatchers()
        {
            var count = Watchers.Count;
            if (count > 0 && Watchers.EnsureCapacity(0) > count + count / 4 + 3)
            {
                Watchers.TrimExcess();
            }
        }
    }

    /// <summary>
    /// One watcher of a watched person on this silo: its disclosure key and its sinks. Almost every watcher has exactly
    /// one sink (one connection), so a single sink is held directly and only a second one makes an array (copied on
    /// change; changes are rare and under the person's lock): 20 watchers per person cost 20 × 88 bytes less than a
    /// list per watcher (docs/benchmarks.md, "Memory per connected user"). Accessed under <see cref="Watched.Lock"/> only.
    /// </summary>
    private sealed class WatcherEntry(IPresenceSink first)
    {
        private object _sinks = first; // an IPresenceSink, or an IPresenceSink[] of two or more

        public DisclosureKey? Key { get; set; }

        /// <summary>How often the last sink left: tells a departure still standing from one the watcher came back from.</summary>
        public int Departures { get; set; }

        /// <summary>No sink: the watcher left and its registration lingers.</summary>
        public bool IsEmpty => _sinks is IPresenceSink[] { Length: 0 };

        public bool Contains(IPresenceSink sink) =>
            _sinks is IPresenceSink[] many ? Array.IndexOf(many, sink) >= 0 : ReferenceEquals(_sinks, sink);

        /// <summary>Adds a sink (a sink added twice is held twice, as the list held it before).</summary>
        public void Add(IPresenceSink sink)
        {
            if (_sinks is not IPresenceSink[] many)
            {
                _sinks = new[] { (IPresenceSink)_sinks, sink };
            }
            else if (many.Length == 0)
            {
                _sinks = sink;
            }
            else
            {
                IPresenceSink[] more = [.. many, sink];
                _sinks = more;
            }
        }

        /// <summary>Removes one occurrence of <paramref name="sink"/>; false when it was not there.</summary>
        public bool Remove(IPresenceSink sink)
        {
            if (_sinks is not IPresenceSink[] many)
            {
                if (!ReferenceEquals(_sinks, sink))
                {
                    return false;
                }
                _sinks = Array.Empty<IPresenceSink>();
                return true;
            }
            var at = Array.IndexOf(many, sink);
            if (at < 0)
            {
                return false;
            }
            if (many.Length == 2)
            {
                _sinks = many[1 - at];
            }
            else
            {
                IPresenceSink[] fewer = [.. many[..at], .. many[(at + 1)..]];
                _sinks = fewer;
            }
            return true;
        }

        public void AddTargets(List<(IPresenceSink Sink, PresenceView View)> targets, PresenceView view)
        {
            // An exact type test and unchecked casts: `is IPresenceSink[]` and `(IPresenceSink)` are covariance and
            // interface checks in the runtime, which showed up in the delivery profile. _sinks only ever holds an
            // IPresenceSink[] or an IPresenceSink (see Add and Remove).
            if (_sinks.GetType() == typeof(IPresenceSink[]))
            {
                foreach (var sink in Unsafe.As<IPresenceSink[]>(_sinks))
                {
                    targets.Add((sink, view));
                }
            }
            else
            {
                targets.Add((Unsafe.As<IPresenceSink>(_sinks), view));
            }
        }
    }
}

/// <summary>
/// Renews the silo's watch registrations (real time: this is infrastructure liveness): once per
/// <see cref="PresenceOptions.SiloWatchRenewal"/> in slices, and in full rounds soon after a membership change, when
/// person grains of a lost node reactivate elsewhere and need this silo's registrations again.
/// </summary>
public sealed class SiloPresenceRenewal(SiloPresenceHub hub, MembershipChanges changes) : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Two independent loops: a slow user-locator call never delays the watch renewals (and the reverse).
        await Task.WhenAll(WatchLoop(stoppingToken), Loop(hub.RenewConnected, stoppingToken));
    }

    /// <summary>
    /// Renews every watch registration once per period, spread over the period in slices of about the period / 30 (at
    /// least a second): 5,000 watched people renewed in one burst took the core for a few hundred milliseconds, a
    /// latency spike for every delivery behind it. After a membership change (another silo joined, was suspected, died
    /// or left), full rounds follow at once and then every 10 s for the first 30 s, every 30 s until the change is
    /// <see cref="PresenceOptions.StaleActivationWindow"/> old (never more often than the tick, never less often than
    /// the period), so recovery after a node loss does not wait for the period.
    /// </summary>
    private async Task WatchLoop(CancellationToken stoppingToken)
    {
        var period = hub.Options.SiloWatchRenewal;
        var slices = (int)Math.Clamp(Math.Floor(period.TotalSeconds), 1, 30);
        var tick = period / slices;
        using var timer = new PeriodicTimer(tick);
        var slice = 0;
        TimeSpan? lastFullAfterChange = null;
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                if (changes.Recent && changes.SinceLastChange is { } since)
                {
                    var every = since < TimeSpan.FromSeconds(30) ? TimeSpan.FromSeconds(10) : TimeSpan.FromSeconds(30);
                    every = every < tick ? tick : every > period ? period : every;
                    if (lastFullAfterChange is not { } last || last > since || since - last >= every)
                    {
                        await hub.RenewAll(stoppingToken);
                        lastFullAfterChange = changes.SinceLastChange;
                        continue;
                    }
                }
                else
                {
                    lastFullAfterChange = null;
                }
                await hub.RenewSlice(slice, slices, stoppingToken);
                slice = (slice + 1) % slices;
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // stopping
        }
    }

    private async Task Loop(Func<CancellationToken, Task> renew, CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(hub.Options.SiloWatchRenewal);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await renew(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // stopping
        }
    }
}
