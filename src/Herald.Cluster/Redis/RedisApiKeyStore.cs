using System.Text.Json;
using Herald.Cluster.Directory;
using StackExchange.Redis;

namespace Herald.Cluster.Redis;

/// <summary>
/// An <see cref="IApiKeyStore"/> in Redis: hash <c>apikeys</c> (id → whole record as JSON), a creation counter in
/// sorted set <c>apikeys:order</c> (the SQLite row order: ties of the creation time list the newer key first) and
/// one set <c>apikeys:owner:{id}</c> per owner. Create is one script (fails when the id exists).
/// </summary>
public sealed class RedisApiKeyStore(HeraldRedis redis) : IApiKeyStore
{
    // KEYS: apikeys, apikeys:order, apikeys:seq, owner set; ARGV: id, json
    private const string CreateScript = """
        if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
        redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[3]), ARGV[1])
        redis.call('SADD', KEYS[4], ARGV[1])
        return 1
        """;

    // KEYS: apikeys, apikeys:order; ARGV: id, owner-set prefix
    private const string DeleteScript = """
        local json = redis.call('HGET', KEYS[1], ARGV[1])
        if not json then return 0 end
        local owner = cjson.decode(json)['ownerId']
        redis.call('SREM', ARGV[2] .. owner, ARGV[1])
        redis.call('ZREM', KEYS[2], ARGV[1])
        return redis.call('HDEL', KEYS[1], ARGV[1])
        """;

    private readonly HeraldRedis _redis = redis ?? throw new ArgumentNullException(nameof(redis));

    /// <inheritdoc />
    public async Task Create(ApiKeyRecord key, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentException.ThrowIfNullOrEmpty(key.Id, nameof(key));
        ArgumentNullException.ThrowIfNull(key.OwnerId, nameof(key));
        ArgumentNullException.ThrowIfNull(key.Name, nameof(key));
        ArgumentNullException.ThrowIfNull(key.SecretHash, nameof(key));
        ct.ThrowIfCancellationRequested();
        var stored = key with { Scopes = key.Scopes ?? [], CreatedAt = key.CreatedAt.ToUniversalTime() };
        var ok = (int)await _redis.Db.ScriptEvaluateAsync(CreateScript,
            [_redis.Key("apikeys"), _redis.Key("apikeys:order"), _redis.Key("apikeys:seq"), _redis.Key("apikeys:owner:" + key.OwnerId)],
            [key.Id, JsonSerializer.Serialize(stored, HeraldRedis.Json)]);
        if (ok == 0)
        {
            throw new InvalidOperationException($"An API key with id '{key.Id}' already exists.");
        }
    }

    /// <inheritdoc />
    public async Task<ApiKeyRecord?> Get(string id, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        ct.ThrowIfCancellationRequested();
        var json = await _redis.Db.HashGetAsync(_redis.Key("apikeys"), id);
        return json.IsNull ? null : Read(json!);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<ApiKeyRecord>> List(string? ownerId, CancellationToken ct = default)
    {
        ct.ThrowIfCancellationRequested();
        var db = _redis.Db;
        var order = (await db.SortedSetRangeByRankWithScoresAsync(_redis.Key("apikeys:order")))
            .ToDictionary(e => (string)e.Element!, e => e.Score, StringComparer.Ordinal);
        RedisValue[] values;
        if (ownerId is null)
        {
            values = await db.HashValuesAsync(_redis.Key("apikeys"));
        }
        else
        {
            var ids = await db.SetMembersAsync(_redis.Key("apikeys:owner:" + ownerId));
            values = ids.Length == 0 ? [] : await db.HashGetAsync(_redis.Key("apikeys"), ids);
        }
        return [.. values.Where(v => !v.IsNull).Select(v => Read(v!))
            .OrderByDescending(k => k.CreatedAt.UtcTicks).ThenByDescending(k => order.GetValueOrDefault(k.Id))];
    }

    /// <inheritdoc />
    public async Task<bool> Delete(string id, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        ct.ThrowIfCancellationRequested();
        var deleted = (int)await _redis.Db.ScriptEvaluateAsync(DeleteScript,
            [_redis.Key("apikeys"), _redis.Key("apikeys:order")], [id, _redis.Prefix + "apikeys:owner:"]) > 0;
        await _redis.Invalidate("key:" + id);
        return deleted;
    }

    private static ApiKeyRecord Read(string json)
    {
        var key = JsonSerializer.Deserialize<ApiKeyRecord>(json, HeraldRedis.Json) ?? throw new InvalidDataException("A stored API key is null.");
        return key with { Scopes = key.Scopes ?? [], CreatedAt = key.CreatedAt.ToUniversalTime() };
    }
}
