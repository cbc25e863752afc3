using Herald.Cluster.Directory;
using Herald.Core.Model;
using Microsoft.Extensions.Time.Testing;

namespace Herald.Cluster.Tests.Directory;

/// <summary>The node's directory profile cache: hits, invalidation on every write, time to live, the bound, and races.</summary>
public sealed class CachedDirectoryStoreTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 2, 9, 0, 0, TimeSpan.Zero));
    private readonly CountingStore _inner = new();

    private static PersonProfile P(string id, string? team = null) => PersonProfile.Minimal(id) with { Team = team };

    private CachedDirectoryStore Cache(int capacity = 100) => new(_inner, _time, capacity, TimeSpan.FromSeconds(30));

    [Fact]
    public async Task A_profile_read_once_is_served_from_the_cache_and_only_the_missing_ones_are_asked()
    {
        _inner.Put(P("a"), P("b"), P("c"));
        var cache = Cache();
        Assert.Equal("a", (await cache.GetPerson("a"))!.Id);
        Assert.Equal("a", (await cache.GetPerson("a"))!.Id);
        Assert.Equal(1, _inner.PersonReads);

        var people = await cache.GetPeople(["a", "b", "b", "nobody"]);
        Assert.Equal(["a", "b"], people.Select(p => p.Id).Order(StringComparer.Ordinal));
        Assert.Equal(["b", "nobody"], _inner.LastPeopleAsked);
        Assert.Equal(["a", "b", "c"], (await cache.GetPeople(["c", "a", "b"])).Select(p => p.Id).Order(StringComparer.Ordinal));
        Assert.Equal(["c"], _inner.LastPeopleAsked);
        Assert.Equal(2, _inner.PeopleReads);
    }

    [Fact]
    public async Task Unknown_people_are_never_cached()
    {
        var cache = Cache();
        Assert.Null(await cache.GetPerson("x"));
        _inner.Put(P("x")); // created elsewhere
        Assert.Equal("x", (await cache.GetPerson("x"))!.Id);
    }

    [Fact]
    public async Task Every_write_through_the_cache_is_seen_by_the_next_read()
    {
        _inner.Put(P("a", "ops"), P("b", "ops"));
        var cache = Cache();
        await cache.GetPeople(["a", "b"]);

        await cache.UpsertPerson(P("a", "eng"));
        Assert.Equal("eng", (await cache.GetPerson("a"))!.Team);

        await cache.UpsertPeople([P("a", "hr"), P("b", "hr")]);
        Assert.All(await cache.GetPeople(["a", "b"]), p => Assert.Equal("hr", p.Team));

        Assert.True(await cache.DeletePerson("b"));
        Assert.Null(await cache.GetPerson("b"));
        Assert.Equal(["a"], (await cache.GetPeople(["a", "b"])).Select(p => p.Id));
    }

    [Fact]
    public async Task Invalidate_forgets_a_profile_changed_behind_the_caches_back()
    {
        _inner.Put(P("a", "ops"));
        var cache = Cache();
        await cache.GetPerson("a");
        _inner.Put(P("a", "eng"));
        Assert.Equal("ops", (await cache.GetPerson("a"))!.Team);
        cache.Invalidate("a");
        Assert.Equal("eng", (await cache.GetPerson("a"))!.Team);
    }

    [Fact]
    public async Task An_entry_is_used_for_at_most_the_time_to_live()
    {
        _inner.Put(P("a", "ops"));
        var cache = Cache();
        await cache.GetPerson("a");
        _inner.Put(P("a", "eng"));
        _time.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal("ops", (await cache.GetPerson("a"))!.Team);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal("eng", (await cache.GetPerson("a"))!.Team);
    }

    [Fact]
    public async Task The_bound_is_respected_and_the_oldest_entry_goes_first()
    {
        var ids = Enumerable.Range(0, 50).Select(i => $"p{i}").ToArray();
        _inner.Put([.. ids.Select(id => P(id))]);
        var cache = Cache(capacity: 8);
        foreach (var id in ids)
        {
            await cache.GetPerson(id);
            Assert.True(cache.Count <= 8);
        }
        await cache.GetPeople(ids);
        Assert.True(cache.Count <= 8);
        for (var round = 0; round < 40; round++)
        {
            // Invalidations and re-reads leave no unbounded bookkeeping behind.
            cache.Invalidate(ids[round % 8]);
            await cache.GetPerson(ids[round % 8]);
            Assert.True(cache.Count <= 8);
        }

        var fresh = Cache(capacity: 2);
        await fresh.GetPerson("p0");
        await fresh.GetPerson("p1");
        await fresh.GetPerson("p2"); // evicts p0
        var before = _inner.PersonReads;
        await fresh.GetPerson("p2");
        await fresh.GetPerson("p1");
        Assert.Equal(before, _inner.PersonReads);
        await fresh.GetPerson("p0");
        Assert.Equal(before + 1, _inner.PersonReads);
    }

    [Fact]
    public async Task A_read_that_raced_a_write_never_leaves_the_old_profile_in_the_cache()
    {
        _inner.Put(P("a", "ops"));
        var cache = Cache();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _inner.Gate = gate.Task;
        var slowRead = cache.GetPerson("a"); // reads the old profile, then waits
        await _inner.Entered.Task.WaitAsync(TimeSpan.FromSeconds(10));
        _inner.Gate = null;
        await cache.UpsertPerson(P("a", "eng")); // completes while the old read is still in flight
        gate.SetResult();
        Assert.Equal("ops", (await slowRead.WaitAsync(TimeSpan.FromSeconds(10)))!.Team);
        Assert.Equal("eng", (await cache.GetPerson("a"))!.Team);
    }

    [Fact]
    public void Bad_settings_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new CachedDirectoryStore(_inner, _time, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CachedDirectoryStore(_inner, _time, 10, TimeSpan.Zero));
    }

    /// <summary>An in-memory directory that counts reads and can hold a person read (with the old value) at a gate.</summary>
    private sealed class CountingStore : IDirectoryStore
    {
        private readonly Dictionary<string, PersonProfile> _people = new(StringComparer.Ordinal);
        private readonly Lock _lock = new();

        public int PersonReads { get; private set; }

        public int PeopleReads { get; private set; }

        public IReadOnlyList<string> LastPeopleAsked { get; private set; } = [];

        public Task? Gate { get; set; }

        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Put(params PersonProfile[] people)
        {
            lock (_lock)
            {
                foreach (var p in people)
                {
                    _people[p.Id] = p;
                }
            }
        }

        public async Task<PersonProfile?> GetPerson(string id, CancellationToken ct = default)
        {
            PersonProfile? found;
            lock (_lock)
            {
                PersonReads++;
                found = _people.GetValueOrDefault(id);
            }
            if (Gate is { } gate)
            {
                Entered.TrySetResult();
                await gate;
            }
            return found;
        }

        public Task<IReadOnlyList<PersonProfile>> GetPeople(IReadOnlyCollection<string> ids, CancellationToken ct = default)
        {
            lock (_lock)
            {
                PeopleReads++;
                LastPeopleAsked = [.. ids];
                return Task.FromResult<IReadOnlyList<PersonProfile>>([.. ids.Distinct(StringComparer.Ordinal).Where(_people.ContainsKey).Select(id => _people[id])]);
            }
        }

        public Task<bool> UpsertPerson(PersonProfile person, CancellationToken ct = default)
        {
            lock (_lock)
            {
                var created = !_people.ContainsKey(person.Id);
                _people[person.Id] = person;
                return Task.FromResult(created);
            }
        }

        public async Task<int> UpsertPeople(IReadOnlyList<PersonProfile> people, CancellationToken ct = default)
        {
            var created = 0;
            foreach (var p in people)
            {
                created += await UpsertPerson(p, ct) ? 1 : 0;
            }
            return created;
        }

        public Task<bool> DeletePerson(string id, CancellationToken ct = default)
        {
            lock (_lock)
            {
                return Task.FromResult(_people.Remove(id));
            }
        }

        public Task<IReadOnlyList<PersonProfile>> SearchPeople(string? query, string? team, int limit, CancellationToken ct = default) =>
            throw new NotSupportedException();

        public Task<int> CountPeople(CancellationToken ct = default) => Task.FromResult(_people.Count);

        public Task<Team?> GetTeam(string id, CancellationToken ct = default) => Task.FromResult<Team?>(null);

        public Task<IReadOnlyList<Team>> ListTeams(CancellationToken ct = default) => Task.FromResult<IReadOnlyList<Team>>([]);

        public Task<bool> UpsertTeam(Team team, CancellationToken ct = default) => Task.FromResult(true);

        public Task<int> UpsertTeams(IReadOnlyList<Team> teams, CancellationToken ct = default) => Task.FromResult(teams.Count);

        public Task<bool> DeleteTeam(string id, CancellationToken ct = default) => Task.FromResult(false);
    }
}
