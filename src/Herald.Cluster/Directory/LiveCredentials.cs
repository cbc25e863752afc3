using Microsoft.Extensions.Logging;

namespace Herald.Cluster.Directory;

/// <summary>Why a live connection's credential stopped being valid.</summary>
public enum CredentialEnd
{
    /// <summary>The bearer token the connection was opened with expired.</summary>
    TokenExpired = 1,
    /// <summary>The API key the connection was opened with was revoked (or its owner deleted).</summary>
    KeyRevoked = 2,
    /// <summary>The person's account was deleted.</summary>
    AccountDeleted = 3,
    /// <summary>
    /// The password the connection authenticated with was changed (XMPP sessions), or the password under which its
    /// bearer token was issued.
    /// </summary>
    PasswordChanged = 4,
}

/// <summary>
/// A live connection whose credential <see cref="LiveCredentials"/> keeps checking. The bookkeeping lives in the
/// connection object itself (no extra object, no timer per connection): two list links, the expiry and a password
/// stamp, ≈ 48 bytes.
/// </summary>
public abstract class LiveCredential
{
    // Guarded by the registry's lock.
    internal string? ChainKey; // the user id (person) or key id (API key) while registered; null otherwise
    internal bool ByKey;
    internal LiveCredential? Prev;
    internal LiveCredential? Next;
    internal long ExpiresTicks; // UTC ticks; 0 = no expiry
    internal long Stamp; // password stamp (XMPP, bearer tokens); 0 = none
    private int _end;

    /// <summary>Why the credential ended, or null while it is valid.</summary>
    public CredentialEnd? CredentialEnded
    {
        get
        {
            var end = Volatile.Read(ref _end);
            return end == 0 ? null : (CredentialEnd)end;
        }
    }

    /// <summary>True while the credential is valid: a connection delivers nothing once this is false.</summary>
    public bool CredentialValid => Volatile.Read(ref _end) == 0;

    internal bool TryEnd(CredentialEnd reason) => Interlocked.CompareExchange(ref _end, (int)reason, 0) == 0;

    /// <summary>
    /// Called once, when the credential is found invalid (on the thread that found it: a timer, a revoking request, the
    /// sweep). <see cref="CredentialValid"/> is already false. Must not block: it starts the channel's close.
    /// </summary>
    protected internal abstract void OnCredentialEnded(CredentialEnd reason);
}

/// <summary>
/// The per-node registry of open live connections by credential: people (user id, with the bearer token's expiry or
/// a password stamp) and API keys (key id). A connection ends
/// <list type="bullet">
/// <item>at its token's expiry: one timer for the whole node, armed for the earliest expiry (a heap of expiries);</item>
/// <item>at once when this node revokes a key, deletes an account or changes a password (<see cref="EndUser"/>,
/// <see cref="EndKey"/>, <see cref="RecheckUser"/>), and when another node says so through the cluster's
/// invalidation messages;</item>
/// <item>at the latest one <see cref="RecheckInterval"/> after a change made elsewhere: a sweep re-reads, once per
/// interval, the account of every connected person and every connected key (one store read each).</item>
/// </list>
/// </summary>
public sealed partial class LiveCredentials : IDisposable
{
    private const int CompactAbove = 1024;
    private static readonly long MaxTimerTicks = TimeSpan.FromDays(30).Ticks;

    private readonly IAccountStore _accounts;
    private readonly IApiKeyStore _keys;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, LiveCredential> _people = new(StringComparer.Ordinal);
    private readonly Dictionary<string, LiveCredential> _byKey = new(StringComparer.Ordinal);
    private readonly PriorityQueue<LiveCredential, long> _expiries = new();
    private readonly ITimer _expiryTimer;
    private readonly ITimer? _sweepTimer;
    private long _armedFor = long.MaxValue;
    private int _deadInHeap;
    private int _count;
    private int _sweeping;

    /// <summary>Creates the registry; <paramref name="recheckInterval"/> zero disables the sweep.</summary>
    public LiveCredentials(IAccountStore accounts, IApiKeyStore keys, TimeProvider time, ILogger<LiveCredentials> logger, TimeSpan recheckInterval)
    {
        _accounts = accounts;
        _keys = keys;
        _time = time;
        _logger = logger;
        RecheckInterval = recheckInterval;
        _expiryTimer = time.CreateTimer(static s => ((LiveCredentials)s!).ExpireDue(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        if (recheckInterval > TimeSpan.Zero)
        {
            _sweepTimer = time.CreateTimer(static s => _ = ((LiveCredentials)s!).Sweep(), this, recheckInterval, recheckInterval);
        }
    }

    /// <summary>Re-reads the sweep makes before it lets other queued work run.</summary>
    public const int SweepChunk = 64;

    /// <summary>How often every connected credential is re-read from the stores (zero: never).</summary>
    public TimeSpan RecheckInterval { get; }

    /// <summary>Registered connections.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Entries in the expiry heap, including those of closed connections not yet dropped (diagnostics).</summary>
    public int HeapSize
    {
        get
        {
            lock (_lock)
            {
                return _expiries.Count;
            }
        }
    }

    /// <summary>
    /// A password stamp: the 64-bit form of the <see cref="PasswordFingerprint"/>; changes whenever the password is set
    /// again (a new salt each time); a fixed non-zero value without a password (so setting one changes it too).
    /// </summary>
    public static long StampOf(PasswordCredential? password) => PasswordFingerprint.Stamp(PasswordFingerprint.Of(password));

    /// <summary>
    /// Registers a person's connection: it ends at <paramref name="expires"/> (a bearer token's expiry; null = none), on
    /// <see cref="EndUser"/>, and when the password changes if <paramref name="passwordStamp"/> is not 0. False (and
    /// the connection ended) when already expired.
    /// </summary>
    public bool RegisterPerson(LiveCredential connection, string userId, DateTimeOffset? expires, long passwordStamp = 0)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(userId);
        connection.Stamp = passwordStamp;
        return Add(connection, userId, byKey: false, expires?.UtcTicks ?? 0);
    }

    /// <summary>Registers a connection opened with API key <paramref name="keyId"/>.</summary>
    public bool RegisterKey(LiveCredential connection, string keyId)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(keyId);
        return Add(connection, keyId, byKey: true, 0);
    }

    /// <summary>Forgets a connection that closed (idempotent).</summary>
    public void Unregister(LiveCredential connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        lock (_lock)
        {
            Remove(connection);
        }
    }

    /// <summary>Ends every connection of <paramref name="userId"/> (not those opened with keys); returns how many.</summary>
    public int EndUser(string userId, CredentialEnd reason) => End(Take(userId, byKey: false, static _ => true), reason);

    /// <summary>Ends every connection opened with API key <paramref name="keyId"/>; returns how many.</summary>
    public int EndKey(string keyId) => End(Take(keyId, byKey: true, static _ => true), CredentialEnd.KeyRevoked);

    /// <summary>
    /// Re-reads <paramref name="userId"/>'s account: without an account every connection of theirs ends; with a changed
    /// password the connections tied to the old one (XMPP sessions that authenticated with it, connections opened with a
    /// bearer token issued under it) end. Store failures are logged, not fatal.
    /// </summary>
    public async Task RecheckUser(string userId, CancellationToken ct = default)
    {
        if (!Has(userId, byKey: false))
        {
            return;
        }
        Account? account;
        try
        {
            account = await _accounts.GetAccount(userId, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogRecheckFailed(ex, "account", userId);
            return;
        }
        if (account is null)
        {
            EndUser(userId, CredentialEnd.AccountDeleted);
            return;
        }
        var stamp = StampOf(account.Password);
        End(Take(userId, byKey: false, c => c.Stamp != 0 && c.Stamp != stamp), CredentialEnd.PasswordChanged);
    }

    /// <summary>Re-reads key <paramref name="keyId"/>: when it (or its owner's account) is gone, its connections end.</summary>
    public async Task RecheckKey(string keyId, CancellationToken ct = default)
    {
        if (!Has(keyId, byKey: true))
        {
            return;
        }
        try
        {
            var key = await _keys.Get(keyId, ct).ConfigureAwait(false);
            if (key is null || await _accounts.GetAccount(key.OwnerId, ct).ConfigureAwait(false) is null)
            {
                EndKey(keyId);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogRecheckFailed(ex, "key", keyId);
        }
    }

    /// <summary>One pass of the sweep: every connected person's account and every connected key, one read each.</summary>
    public async Task Sweep()
    {
        if (Interlocked.Exchange(ref _sweeping, 1) == 1)
        {
            return; // the previous pass is still running (a slow store): skip this tick
        }
        try
        {
            string[] people, keys;
            lock (_lock)
            {
                people = [.. _people.Keys];
                keys = [.. _byKey.Keys];
            }
            // One read per connected person: on a one-core node 5,000 of them are a few hundred milliseconds of CPU. The
            // pass yields every SweepChunk reads, so deliveries queued meanwhile run in between instead of waiting for
            // the whole pass (a latency spike for every watcher once per interval).
            var done = 0;
            foreach (var userId in people)
            {
                await RecheckUser(userId).ConfigureAwait(false);
                if (++done % SweepChunk == 0)
                {
                    await Task.Yield();
                }
            }
            foreach (var keyId in keys)
            {
                await RecheckKey(keyId).ConfigureAwait(false);
                if (++done % SweepChunk == 0)
                {
                    await Task.Yield();
                }
            }
        }
        catch (Exception ex)
        {
            LogSweepFailed(ex);
        }
        finally
        {
            Volatile.Write(ref _sweeping, 0);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _expiryTimer.Dispose();
        _sweepTimer?.Dispose();
    }

    private bool Add(LiveCredential c, string chainKey, bool byKey, long expiresTicks)
    {
        if (expiresTicks != 0 && expiresTicks <= _time.GetUtcNow().UtcTicks)
        {
            End([c], CredentialEnd.TokenExpired);
            return false;
        }
        lock (_lock)
        {
            if (c.ChainKey is not null || !c.CredentialValid)
            {
                return c.CredentialValid;
            }
            var chains = byKey ? _byKey : _people;
            c.ChainKey = chainKey;
            c.ByKey = byKey;
            c.ExpiresTicks = expiresTicks;
            c.Prev = null;
            c.Next = chains.TryGetValue(chainKey, out var head) ? head : null;
            if (head is not null)
            {
                head.Prev = c;
            }
            chains[chainKey] = c;
            _count++;
            if (expiresTicks != 0)
            {
                _expiries.Enqueue(c, expiresTicks);
                if (expiresTicks < _armedFor)
                {
                    Arm(expiresTicks);
                }
            }
        }
        return true;
    }

    // Under the lock.
    private void Remove(LiveCredential c)
    {
        if (c.ChainKey is not { } key)
        {
            return;
        }
        var chains = c.ByKey ? _byKey : _people;
        if (c.Prev is { } prev)
        {
            prev.Next = c.Next;
        }
        else if (c.Next is { } next)
        {
            chains[key] = next;
        }
        else
        {
            chains.Remove(key);
        }
        if (c.Next is { } after)
        {
            after.Prev = c.Prev;
        }
        c.Prev = c.Next = null;
        c.ChainKey = null;
        _count--;
        if (c.ExpiresTicks != 0)
        {
            // Left in the heap (removal from the middle is O(n)); dropped when it surfaces or by a compaction.
            _deadInHeap++;
            if (_deadInHeap > CompactAbove && _deadInHeap > _expiries.Count / 2)
            {
                Compact();
            }
        }
    }

    // Under the lock: rebuilds the heap from the entries still registered.
    private void Compact()
    {
        var live = new List<(LiveCredential, long)>(_expiries.Count - _deadInHeap);
        foreach (var (c, at) in _expiries.UnorderedItems)
        {
            if (c.ChainKey is not null && c.ExpiresTicks == at)
            {
                live.Add((c, at));
            }
        }
        _expiries.Clear();
        _expiries.EnqueueRange(live);
        _deadInHeap = 0;
    }

    private bool Has(string chainKey, bool byKey)
    {
        lock (_lock)
        {
            return (byKey ? _byKey : _people).ContainsKey(chainKey);
        }
    }

    private List<LiveCredential> Take(string chainKey, bool byKey, Func<LiveCredential, bool> which)
    {
        var taken = new List<LiveCredential>();
        lock (_lock)
        {
            (byKey ? _byKey : _people).TryGetValue(chainKey, out var c);
            while (c is not null)
            {
                var next = c.Next;
                if (which(c))
                {
                    taken.Add(c);
                    Remove(c);
                }
                c = next;
            }
        }
        return taken;
    }

    private int End(List<LiveCredential> connections, CredentialEnd reason)
    {
        var ended = 0;
        foreach (var c in connections)
        {
            if (!c.TryEnd(reason))
            {
                continue;
            }
            ended++;
            try
            {
                c.OnCredentialEnded(reason);
            }
            catch (Exception ex)
            {
                LogEndFailed(ex, reason);
            }
        }
        return ended;
    }

    // The expiry timer: ends every connection whose token expired, then re-arms for the next expiry.
    private void ExpireDue()
    {
        var due = new List<LiveCredential>();
        lock (_lock)
        {
            var now = _time.GetUtcNow().UtcTicks;
            _armedFor = long.MaxValue;
            while (_expiries.TryPeek(out var c, out var at))
            {
                var alive = c.ChainKey is not null && c.ExpiresTicks == at;
                if (alive && at > now)
                {
                    Arm(at);
                    break;
                }
                _expiries.Dequeue();
                if (alive)
                {
                    Remove(c);
                    _deadInHeap--; // Remove counted it as left in the heap; it is out now
                    due.Add(c);
                }
                else
                {
                    _deadInHeap = Math.Max(0, _deadInHeap - 1);
                }
            }
        }
        End(due, CredentialEnd.TokenExpired);
    }

    // Under the lock.
    private void Arm(long atTicks)
    {
        _armedFor = atTicks;
        var due = Math.Clamp(atTicks - _time.GetUtcNow().UtcTicks, 0, MaxTimerTicks);
        _expiryTimer.Change(TimeSpan.FromTicks(due), Timeout.InfiniteTimeSpan);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Re-checking the {What} {Id} of live connections failed; retried at the next sweep")]
    private partial void LogRecheckFailed(Exception ex, string what, string id);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The live credential sweep failed")]
    private partial void LogSweepFailed(Exception ex);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ending a live connection ({Reason}) failed")]
    private partial void LogEndFailed(Exception ex, CredentialEnd reason);
}
