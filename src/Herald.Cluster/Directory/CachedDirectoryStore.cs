using Herald.Core.Model;

namespace Herald.Cluster.Directory;

/// <summary>Forgets cached directory profiles (after a change made elsewhere, e.g. a profile handed to a person's grain).</summary>
public interface IProfileCache
{
    /// <summary>Forgets the cached profile of <paramref name="personId"/>.</summary>
    void Invalidate(string personId);
}

/// <summary>
/// A bounded, invalidated cache of <see cref="PersonProfile"/>s in front of an <see cref="IDirectoryStore"/>, shared by
/// everything on the node (the person grains' own profile at activation and their watchers' tiers, the live and REST
/// existence checks). Without it a login costs about 25 directory queries, most of them for profiles read a moment
/// earlier by another grain.
/// <list type="bullet">
/// <item>Bound: at most <see cref="Capacity"/> profiles; a full cache evicts the oldest-inserted one.</item>
/// <item>Time to live: an entry is used for at most <see cref="Ttl"/> after it was read.</item>
/// <item>Invalidation: every person written or deleted through this store is forgotten once the write completed, and
/// <see cref="Invalidate"/> forgets one (a person's grain calls it when handed a changed profile). A read that started
/// before an invalidation never inserts what it read, so a concurrent write can never leave an old profile behind.</item>
/// <item>Only existing people are cached (an unknown id is always asked again), and only profiles; teams, search and
/// counts go to the store.</item>
/// </list>
/// Used only where this node makes every directory write (the embedded SQLite mode), so that invalidation is exact.
/// </summary>
public sealed class CachedDirectoryStore : IDirectoryStore, IProfileCache
{
    /// <summary>Default bound.</summary>
    public const int DefaultCapacity = 50_000;

    /// <summary>Default time to live.</summary>
    public static readonly TimeSpan DefaultTtl = TimeSpan.FromSeconds(30);

    private readonly IDirectoryStore _inner;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly Queue<(string Id, long Stamp)> _order = new();
    private long _generation;
    private long _stamp;
    private long _hits;
    private long _misses;

    /// <summary>Creates the cache.</summary>
    public CachedDirectoryStore(IDirectoryStore inner, TimeProvider time, int capacity = DefaultCapacity, TimeSpan? ttl = null)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        _inner = inner;
        _time = time;
        Capacity = capacity;
        Ttl = ttl ?? DefaultTtl;
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(Ttl, TimeSpan.Zero, nameof(ttl));
    }

    /// <summary>Most profiles held.</summary>
    public int Capacity { get; }

    /// <summary>Longest time a profile is used after it was read.</summary>
    public TimeSpan Ttl { get; }

    /// <summary>Profiles held now.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>Profiles served from the cache so far.</summary>
    public long Hits => Interlocked.Read(ref _hits);

    /// <summary>Profiles asked of the store so far.</summary>
    public long Misses => Interlocked.Read(ref _misses);

    /// <inheritdoc />
    public async Task<PersonProfile?> GetPerson(string id, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        long generation;
        lock (_lock)
        {
            if (TryGet(id, _time.GetTimestamp(), out var cached))
            {
                Interlocked.Increment(ref _hits);
                return cached;
            }
            generation = _generation;
        }
        Interlocked.Increment(ref _misses);
        var profile = await _inner.GetPerson(id, ct);
        if (profile is not null)
        {
            Insert([profile], generation);
        }
        return profile;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<PersonProfile>> GetPeople(IReadOnlyCollection<string> ids, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var found = new List<PersonProfile>(ids.Count);
        List<string>? missing = null;
        long generation;
        lock (_lock)
        {
            var now = _time.GetTimestamp();
            HashSet<string>? seen = ids.Count > 1 ? new(StringComparer.Ordinal) : null;
            foreach (var id in ids)
            {
                if (id is null || (seen is not null && !seen.Add(id)))
                {
                    continue;
                }
                if (TryGet(id, now, out var cached))
                {
                    found.Add(cached);
                }
                else
                {
                    (missing ??= []).Add(id);
                }
            }
            generation = _generation;
        }
        Interlocked.Add(ref _hits, found.Count);
        if (missing is null)
        {
            return found;
        }
        Interlocked.Add(ref _misses, missing.Count);
        var loaded = await _inner.GetPeople(missing, ct);
        Insert(loaded, generation);
        found.AddRange(loaded);
        return found;
    }

    /// <inheritdoc />
    public void Invalidate(string personId)
    {
        ArgumentNullException.ThrowIfNull(personId);
        lock (_lock)
        {
            _generation++;
            _entries.Remove(personId);
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<PersonProfile>> SearchPeople(string? query, string? team, int limit, CancellationToken ct = default) =>
        _inner.SearchPeople(query, team, limit, ct);

    /// <inheritdoc />
    public async Task<bool> UpsertPerson(PersonProfile person, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(person);
        try
        {
            return await _inner.UpsertPerson(person, ct);
        }
        finally
        {
            Invalidate(person.Id);
        }
    }

    /// <inheritdoc />
    public async Task<int> UpsertPeople(IReadOnlyList<PersonProfile> people, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(people);
        try
        {
            return await _inner.UpsertPeople(people, ct);
        }
        finally
        {
            lock (_lock)
            {
                _generation++;
                foreach (var p in people)
                {
                    _entries.Remove(p.Id);
                }
            }
        }
    }

    /// <inheritdoc />
    public async Task<bool> DeletePerson(string id, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        try
        {
            return await _inner.DeletePerson(id, ct);
        }
        finally
        {
            Invalidate(id);
        }
    }

    /// <inheritdoc />
    public Task<int> CountPeople(CancellationToken ct = default) => _inner.CountPeople(ct);

    /// <inheritdoc />
    public Task<Team?> GetTeam(string id, CancellationToken ct = default) => _inner.GetTeam(id, ct);

    /// <inheritdoc />
    public Task<IReadOnlyList<Team>> ListTeams(CancellationToken ct = default) => _inner.ListTeams(ct);

    /// <inheritdoc />
    public Task<bool> UpsertTeam(Team team, CancellationToken ct = default) => _inner.UpsertTeam(team, ct);

    /// <inheritdoc />
    public Task<int> UpsertTeams(IReadOnlyList<Team> teams, CancellationToken ct = default) => _inner.UpsertTeams(teams, ct);

    /// <inheritdoc />
    public Task<bool> DeleteTeam(string id, CancellationToken ct = default) => _inner.DeleteTeam(id, ct);

    /// <summary>Under the lock: the live entry of <paramref name="id"/>; an expired one is dropped.</summary>
    private bool TryGet(string id, long now, out PersonProfile profile)
    {
        if (_entries.TryGetValue(id, out var e))
        {
            if (_time.GetElapsedTime(e.ReadAt, now) < Ttl)
            {
                profile = e.Profile;
                return true;
            }
            _entries.Remove(id);
        }
        profile = null!;
        return false;
    }

    /// <summary>Inserts what a read returned, unless anything was invalidated since the read began.</summary>
    private void Insert(IReadOnlyList<PersonProfile> profiles, long generation)
    {
        if (profiles.Count == 0)
        {
            return;
        }
        lock (_lock)
        {
            if (_generation != generation)
            {
                return;
            }
            var now = _time.GetTimestamp();
            foreach (var p in profiles)
            {
                var stamp = ++_stamp;
                if (!_entries.ContainsKey(p.Id))
                {
                    while (_entries.Count >= Capacity && _order.TryDequeue(out var oldest))
                    {
                        if (_entries.TryGetValue(oldest.Id, out var o) && o.Stamp == oldest.Stamp)
                        {
                            _entries.Remove(oldest.Id);
                        }
                    }
                }
                _entries[p.Id] = new Entry(p, now, stamp);
                _order.Enqueue((p.Id, stamp));
            }
            // Entries dropped by expiry or invalidation leave their place in the order behind: compact it now and then so
            // it stays proportional to the bound.
            if (_order.Count > 2 * Capacity + 16)
            {
                var live = _order.Where(o => _entries.TryGetValue(o.Id, out var e) && e.Stamp == o.Stamp).ToList();
                _order.Clear();
                foreach (var o in live)
                {
                    _order.Enqueue(o);
                }
            }
        }
    }

    private sealed record Entry(PersonProfile Profile, long ReadAt, long Stamp);
}
