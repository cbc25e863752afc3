using System.Text.Json;
using Herald.Cluster.Directory;
using Herald.Core.Model;
using StackExchange.Redis;

namespace Herald.Cluster.Redis;

/// <summary>
/// An <see cref="IDirectoryStore"/> in Redis: hash <c>people</c> (id → whole profile as JSON), hash
/// <c>people:team</c> (id → team) with one set <c>team:{team}</c> per team, and hash <c>teams</c> (id → JSON).
/// Multi-person writes are one Lua script, so they are atomic like the SQLite transaction. Search reads the
/// candidates (all people, or one team's members) and filters in the process: fine for the directory sizes Herald
/// targets (tens of thousands); documented in operations.md.
/// </summary>
public sealed class RedisDirectoryStore(HeraldRedis redis) : IDirectoryStore
{
    private const char SearchSeparator = '\u001f';

    // KEYS[1]=people KEYS[2]=people:team; ARGV = prefix, then (id, json, team) triples. Returns created count.
    private const string UpsertPeopleScript = """
        local created = 0
        local prefix = ARGV[1]
        for i = 2, #ARGV, 3 do
          local id, json, team = ARGV[i], ARGV[i + 1], ARGV[i + 2]
          local old = redis.call('HGET', KEYS[2], id)
          if old then redis.call('SREM', prefix .. 'team:' .. old, id) end
          created = created + redis.call('HSET', KEYS[1], id, json)
          if team ~= '' then
            redis.call('HSET', KEYS[2], id, team)
            redis.call('SADD', prefix .. 'team:' .. team, id)
          else
            redis.call('HDEL', KEYS[2], id)
          end
        end
        return created
        """;

    private const string DeletePersonScript = """
        local old = redis.call('HGET', KEYS[2], ARGV[2])
        if old then redis.call('SREM', ARGV[1] .. 'team:' .. old, ARGV[2]) end
        redis.call('HDEL', KEYS[2], ARGV[2])
        return redis.call('HDEL', KEYS[1], ARGV[2])
        """;

    private const string UpsertTeamsScript = """
        local created = 0
        for i = 1, #ARGV, 2 do created = created + redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
        return created
        """;

    private readonly HeraldRedis _redis = redis ?? throw new ArgumentNullException(nameof(redis));

    private RedisKey People => _redis.Key("people");

    private RedisKey PeopleTeam => _redis.Key("people:team");

    private RedisKey Teams => _redis.Key("teams");

    /// <inheritdoc />
    public async Task<PersonProfile?> GetPerson(string id, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        ct.ThrowIfCancellationRequested();
        var json = await _redis.Db.HashGetAsync(People, id);
        return json.IsNull ? null : ReadPerson(json!);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<PersonProfile>> GetPeople(IReadOnlyCollection<string> ids, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ct.ThrowIfCancellationRequested();
        var distinct = ids.Where(id => id is not null).Distinct(StringComparer.Ordinal).ToArray();
        var people = new List<PersonProfile>(distinct.Length);
        foreach (var chunk in distinct.Chunk(500))
        {
            var values = await _redis.Db.HashGetAsync(People, [.. chunk.Select(c => (RedisValue)c)]);
            people.AddRange(values.Where(v => !v.IsNull).Select(v => ReadPerson(v!)));
        }
        return people;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<PersonProfile>> SearchPeople(string? query, string? team, int limit, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        ct.ThrowIfCancellationRequested();
        if (limit == 0)
        {
            return [];
        }
        IEnumerable<PersonProfile> candidates;
        if (team is not null)
        {
            var members = await _redis.Db.SetMembersAsync(_redis.Key("team:" + team));
            candidates = await GetPeople([.. members.Select(m => (string)m!)], ct);
        }
        else
        {
            candidates = (await _redis.Db.HashValuesAsync(People)).Select(v => ReadPerson(v!));
        }
        var needle = string.IsNullOrEmpty(query) ? null : query.ToLowerInvariant();
        return [.. candidates
            .Where(p => team is null || p.Team == team)
            .Where(p => needle is null || string.Join(SearchSeparator, p.Id, p.DisplayName, p.Email ?? "").ToLowerInvariant().Contains(needle, StringComparison.Ordinal))
            .OrderBy(p => p.DisplayName, StringComparer.OrdinalIgnoreCase)
            .ThenBy(p => p.DisplayName, StringComparer.Ordinal)
            .ThenBy(p => p.Id, StringComparer.Ordinal)
            .Take(limit)];
    }

    /// <inheritdoc />
    public async Task<bool> UpsertPerson(PersonProfile person, CancellationToken ct = default) =>
        await UpsertPeople([person], ct) == 1;

    /// <inheritdoc />
    public async Task<int> UpsertPeople(IReadOnlyList<PersonProfile> people, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(people);
        foreach (var person in people)
        {
            ArgumentNullException.ThrowIfNull(person, nameof(people));
            ArgumentException.ThrowIfNullOrEmpty(person.Id, nameof(people));
            ArgumentNullException.ThrowIfNull(person.DisplayName, nameof(people));
            ArgumentNullException.ThrowIfNull(person.TimeZone, nameof(people));
        }
        ct.ThrowIfCancellationRequested();
        if (people.Count == 0)
        {
            return 0;
        }
        var args = new List<RedisValue>(1 + (people.Count * 3)) { _redis.Prefix };
        foreach (var p in people)
        {
            var stored = p with { ContactMethods = p.ContactMethods ?? [] };
            args.Add(p.Id);
            args.Add(JsonSerializer.Serialize(stored, HeraldRedis.Json));
            args.Add(p.Team ?? "");
        }
        var created = (int)await _redis.Db.ScriptEvaluateAsync(UpsertPeopleScript, [People, PeopleTeam], [.. args]);
        await _redis.Invalidate("directory");
        return created;
    }

    /// <inheritdoc />
    public async Task<bool> DeletePerson(string id, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        ct.ThrowIfCancellationRequested();
        var deleted = (int)await _redis.Db.ScriptEvaluateAsync(DeletePersonScript, [People, PeopleTeam], [_redis.Prefix, id]) > 0;
        await _redis.Invalidate("directory");
        return deleted;
    }

    /// <inheritdoc />
    public async Task<int> CountPeople(CancellationToken ct = default)
    {
        ct.ThrowIfCancellationRequested();
        return (int)await _redis.Db.HashLengthAsync(People);
    }

    /// <inheritdoc />
    public async Task<Team?> GetTeam(string id, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        ct.ThrowIfCancellationRequested();
        var json = await _redis.Db.HashGetAsync(Teams, id);
        return json.IsNull ? null : JsonSerializer.Deserialize<Team>((string)json!, HeraldRedis.Json);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<Team>> ListTeams(CancellationToken ct = default)
    {
        ct.ThrowIfCancellationRequested();
        var all = await _redis.Db.HashValuesAsync(Teams);
        return [.. all.Select(v => JsonSerializer.Deserialize<Team>((string)v!, HeraldRedis.Json)!)
            .OrderBy(t => t.Name, StringComparer.OrdinalIgnoreCase).ThenBy(t => t.Name, StringComparer.Ordinal).ThenBy(t => t.Id, StringComparer.Ordinal)];
    }

    /// <inheritdoc />
    public async Task<bool> UpsertTeam(Team team, CancellationToken ct = default) => await UpsertTeams([team], ct) == 1;

    /// <inheritdoc />
    public async Task<int> UpsertTeams(IReadOnlyList<Team> teams, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(teams);
        foreach (var team in teams)
        {
            ArgumentNullException.ThrowIfNull(team, nameof(teams));
            ArgumentException.ThrowIfNullOrEmpty(team.Id, nameof(teams));
            ArgumentNullException.ThrowIfNull(team.Name, nameof(teams));
        }
        ct.ThrowIfCancellationRequested();
        if (teams.Count == 0)
        {
            return 0;
        }
        var args = teams.SelectMany(t => new RedisValue[] { t.Id, JsonSerializer.Serialize(t, HeraldRedis.Json) }).ToArray();
        var created = (int)await _redis.Db.ScriptEvaluateAsync(UpsertTeamsScript, [Teams], args);
        await _redis.Invalidate("directory");
        return created;
    }

    /// <inheritdoc />
    public async Task<bool> DeleteTeam(string id, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        ct.ThrowIfCancellationRequested();
        var deleted = await _redis.Db.HashDeleteAsync(Teams, id);
        await _redis.Invalidate("directory");
        return deleted;
    }

    private static PersonProfile ReadPerson(string json)
    {
        var p = JsonSerializer.Deserialize<PersonProfile>(json, HeraldRedis.Json)
            ?? throw new InvalidDataException("A stored person is null.");
        return p.ContactMethods is null ? p with { ContactMethods = [] } : p;
    }
}
