using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Herald.Cluster.Redis;
using StackExchange.Redis;

namespace Herald.Server.Webhooks;

/// <summary>
/// The webhook store of cluster mode, in the cluster's Redis. Every node watches every enabled webhook (so a node
/// loss loses no watcher) and every node dispatches; the scripts below make that safe:
/// <list type="bullet">
/// <item>Enqueue drops a presence event whose view sequence is not above the last one queued for (webhook, person),
/// and any other event whose (type, data) was queued in the last 10 minutes — the copies the other nodes offer.</item>
/// <item>Due claims events: they move from <c>wh:due</c> to <c>wh:claimed</c> with a lease of
/// <see cref="ClaimLease"/>; a node that dies mid-delivery leaves a claim that expires and is taken by another node
/// (at-least-once, as documented for receivers: deduplicate by the event id header).</item>
/// <item>Succeeded/Failed/Delete are one script each, atomic like the SQLite transactions.</item>
/// </list>
/// </summary>
public sealed class RedisWebhookStore(HeraldRedis redis) : IWebhookStore
{
    /// <summary>How long a claimed event is reserved for the node that claimed it.</summary>
    public static readonly TimeSpan ClaimLease = TimeSpan.FromSeconds(60);

    /// <summary>How long an event without a subject is remembered to drop copies from other nodes.</summary>
    public static readonly TimeSpan DedupWindow = TimeSpan.FromMinutes(10);

    private const string DeleteEventLua = """
        local function delete_event(p, id)
          local wid = redis.call('HGET', p .. 'wh:ev:hook', id)
          local subj = redis.call('HGET', p .. 'wh:ev:subj', id)
          if wid then
            redis.call('SREM', p .. 'wh:evs:' .. wid, id)
            if subj and subj ~= '' and redis.call('HGET', p .. 'wh:subj:' .. wid, subj) == id then
              redis.call('HDEL', p .. 'wh:subj:' .. wid, subj)
            end
          end
          redis.call('HDEL', p .. 'wh:ev', id)
          redis.call('HDEL', p .. 'wh:ev:hook', id)
          redis.call('HDEL', p .. 'wh:ev:subj', id)
          redis.call('HDEL', p .. 'wh:ev:att', id)
          redis.call('ZREM', p .. 'wh:due', id)
          redis.call('ZREM', p .. 'wh:claimed', id)
        end
        """;

    private const string CreateScript = """
        if redis.call('HSETNX', ARGV[1] .. 'wh', ARGV[2], ARGV[3]) == 0 then return 0 end
        redis.call('SADD', ARGV[1] .. 'wh:owner:' .. ARGV[4], ARGV[2])
        return 1
        """;

    private const string DeleteScript = DeleteEventLua + "\n" + """
        local p, wid = ARGV[1], ARGV[2]
        local json = redis.call('HGET', p .. 'wh', wid)
        if not json then return 0 end
        for _, id in ipairs(redis.call('SMEMBERS', p .. 'wh:evs:' .. wid)) do delete_event(p, id) end
        redis.call('DEL', p .. 'wh:evs:' .. wid, p .. 'wh:subj:' .. wid, p .. 'wh:hwm:' .. wid, p .. 'wh:log:' .. wid, p .. 'wh:state:' .. wid)
        redis.call('SREM', p .. 'wh:disabled', wid)
        redis.call('SREM', p .. 'wh:owner:' .. cjson.decode(json)['ownerId'], wid)
        redis.call('HDEL', p .. 'wh', wid)
        return 1
        """;

    private const string EnqueueScript = DeleteEventLua + "\n" + """
        local p, wid, ev, subj, payload, now, seq, dd, window = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6]), ARGV[7], ARGV[8], ARGV[9]
        if redis.call('HEXISTS', p .. 'wh', wid) == 0 then return 0 end
        if seq ~= '' then
          local hwm = redis.call('HGET', p .. 'wh:hwm:' .. wid, subj)
          if hwm and tonumber(hwm) >= tonumber(seq) then return 0 end
          redis.call('HSET', p .. 'wh:hwm:' .. wid, subj, seq)
        elseif dd ~= '' then
          if not redis.call('SET', p .. 'wh:dedup:' .. wid .. ':' .. dd, '1', 'NX', 'PX', window) then return 0 end
        end
        local due, att = now, 0
        if subj ~= '' then
          local old = redis.call('HGET', p .. 'wh:subj:' .. wid, subj)
          if old then
            local od = redis.call('ZSCORE', p .. 'wh:due', old)
            if od then
              due = math.max(due, tonumber(od))
              att = math.max(att, tonumber(redis.call('HGET', p .. 'wh:ev:att', old) or '0'))
              delete_event(p, old)
            end
          end
          redis.call('HSET', p .. 'wh:subj:' .. wid, subj, ev)
        end
        redis.call('HSET', p .. 'wh:ev', ev, payload)
        redis.call('HSET', p .. 'wh:ev:hook', ev, wid)
        redis.call('HSET', p .. 'wh:ev:subj', ev, subj)
        redis.call('HSET', p .. 'wh:ev:att', ev, att)
        redis.call('ZADD', p .. 'wh:due', due, ev)
        redis.call('SADD', p .. 'wh:evs:' .. wid, ev)
        return 1
        """;

    private const string DueScript = """
        local p, now, limit, lease = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
        for _, id in ipairs(redis.call('ZRANGEBYSCORE', p .. 'wh:claimed', '-inf', now, 'LIMIT', 0, 1000)) do
          redis.call('ZREM', p .. 'wh:claimed', id)
          redis.call('ZADD', p .. 'wh:due', now, id)
        end
        local out = {}
        local candidates = redis.call('ZRANGEBYSCORE', p .. 'wh:due', '-inf', now, 'WITHSCORES', 'LIMIT', 0, limit * 4)
        for i = 1, #candidates, 2 do
          local id = candidates[i]
          local wid = redis.call('HGET', p .. 'wh:ev:hook', id)
          if wid and redis.call('SISMEMBER', p .. 'wh:disabled', wid) == 0 then
            redis.call('ZREM', p .. 'wh:due', id)
            redis.call('ZADD', p .. 'wh:claimed', now + lease, id)
            table.insert(out, id)
            table.insert(out, candidates[i + 1])
            table.insert(out, redis.call('HGET', p .. 'wh:ev:att', id) or '0')
            table.insert(out, redis.call('HGET', p .. 'wh:ev', id))
            if #out >= limit * 4 then break end
          end
        end
        return out
        """;

    private const string NextDueScript = """
        local p = ARGV[1]
        local best = nil
        local candidates = redis.call('ZRANGE', p .. 'wh:due', 0, 199, 'WITHSCORES')
        for i = 1, #candidates, 2 do
          local wid = redis.call('HGET', p .. 'wh:ev:hook', candidates[i])
          if wid and redis.call('SISMEMBER', p .. 'wh:disabled', wid) == 0 then best = tonumber(candidates[i + 1]) break end
        end
        local claimed = redis.call('ZRANGE', p .. 'wh:claimed', 0, 0, 'WITHSCORES')
        if #claimed > 0 and (best == nil or tonumber(claimed[2]) < best) then best = tonumber(claimed[2]) end
        if best == nil then return false end
        return tostring(best)
        """;

    private const string SucceededScript = DeleteEventLua + "\n" + """
        local p, ev, wid, log, max = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
        delete_event(p, ev)
        if redis.call('HEXISTS', p .. 'wh', wid) == 1 then
          redis.call('HSET', p .. 'wh:state:' .. wid, 'failures', 0)
          redis.call('HDEL', p .. 'wh:state:' .. wid, 'lastError')
          redis.call('LPUSH', p .. 'wh:log:' .. wid, log)
          redis.call('LTRIM', p .. 'wh:log:' .. wid, 0, max - 1)
        end
        return 1
        """;

    private const string FailedScript = DeleteEventLua + "\n" + """
        local p, ev, wid, nextdue, err, at, disableAfter, log, max = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5], ARGV[6], tonumber(ARGV[7]), ARGV[8], tonumber(ARGV[9])
        if redis.call('HEXISTS', p .. 'wh:ev', ev) == 1 then
          local subj = redis.call('HGET', p .. 'wh:ev:subj', ev)
          if subj and subj ~= '' and redis.call('HGET', p .. 'wh:subj:' .. wid, subj) ~= ev then
            delete_event(p, ev)
          else
            redis.call('HINCRBY', p .. 'wh:ev:att', ev, 1)
            redis.call('ZREM', p .. 'wh:claimed', ev)
            redis.call('ZADD', p .. 'wh:due', nextdue, ev)
          end
        end
        if redis.call('HEXISTS', p .. 'wh', wid) == 0 then return 0 end
        local state = p .. 'wh:state:' .. wid
        local failures = redis.call('HINCRBY', state, 'failures', 1)
        redis.call('HSET', state, 'lastError', err)
        redis.call('LPUSH', p .. 'wh:log:' .. wid, log)
        redis.call('LTRIM', p .. 'wh:log:' .. wid, 0, max - 1)
        if redis.call('HGET', state, 'disabled') ~= '1' and failures >= disableAfter then
          redis.call('HSET', state, 'disabled', '1', 'disabledAt', at)
          redis.call('SADD', p .. 'wh:disabled', wid)
          return 1
        end
        return 0
        """;

    private readonly HeraldRedis _redis = redis ?? throw new ArgumentNullException(nameof(redis));

    private string P => _redis.Prefix;

    /// <inheritdoc />
    public async Task Create(WebhookRecord w, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(w);
        var stored = w with { Disabled = false, ConsecutiveFailures = 0, DisabledAt = null, LastError = null, CreatedAt = w.CreatedAt.ToUniversalTime() };
        if ((int)await _redis.Db.ScriptEvaluateAsync(CreateScript, [], [P, w.Id, JsonSerializer.Serialize(stored, HeraldRedis.Json), w.OwnerId]) == 0)
        {
            throw new InvalidOperationException($"A webhook with id '{w.Id}' already exists.");
        }
    }

    /// <inheritdoc />
    public async Task<WebhookRecord?> Get(string id, CancellationToken ct)
    {
        var json = await _redis.Db.HashGetAsync(_redis.Key("wh"), id);
        return json.IsNull ? null : await WithState((string)json!);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<WebhookRecord>> List(string? ownerId, CancellationToken ct)
    {
        RedisValue[] values;
        if (ownerId is null)
        {
            values = await _redis.Db.HashValuesAsync(_redis.Key("wh"));
        }
        else
        {
            var ids = await _redis.Db.SetMembersAsync(_redis.Key("wh:owner:" + ownerId));
            values = ids.Length == 0 ? [] : await _redis.Db.HashGetAsync(_redis.Key("wh"), ids);
        }
        var list = new List<WebhookRecord>(values.Length);
        foreach (var v in values.Where(v => !v.IsNull))
        {
            list.Add(await WithState((string)v!));
        }
        return [.. list.OrderBy(w => w.CreatedAt.UtcTicks).ThenBy(w => w.Id, StringComparer.Ordinal)];
    }

    /// <inheritdoc />
    public async Task<int> Count(string ownerId, CancellationToken ct) => (int)await _redis.Db.SetLengthAsync(_redis.Key("wh:owner:" + ownerId));

    /// <inheritdoc />
    public async Task<bool> Delete(string id, CancellationToken ct) =>
        (int)await _redis.Db.ScriptEvaluateAsync(DeleteScript, [], [P, id]) == 1;

    /// <inheritdoc />
    public async Task Enqueue(string webhookId, string eventId, string type, string? subject, string body, long nowMs, CancellationToken ct)
    {
        var (sequence, dedup) = DedupKeys(type, subject, body);
        var payload = JsonSerializer.Serialize(new StoredEvent(webhookId, type, subject, body), HeraldRedis.Json);
        await _redis.Db.ScriptEvaluateAsync(EnqueueScript, [],
            [P, webhookId, eventId, subject ?? "", payload, nowMs, sequence, dedup, (long)DedupWindow.TotalMilliseconds]);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<OutboxEvent>> Due(long nowMs, int limit, CancellationToken ct)
    {
        var result = (RedisResult[])(await _redis.Db.ScriptEvaluateAsync(DueScript, [], [P, nowMs, limit, (long)ClaimLease.TotalMilliseconds]))!;
        var list = new List<OutboxEvent>(result.Length / 4);
        for (var i = 0; i + 3 < result.Length; i += 4)
        {
            var stored = JsonSerializer.Deserialize<StoredEvent>((string)result[i + 3]!, HeraldRedis.Json)!;
            list.Add(new OutboxEvent((string)result[i]!, stored.WebhookId, stored.Type, stored.Subject, stored.Body,
                (long)double.Parse((string)result[i + 1]!, CultureInfo.InvariantCulture), int.Parse((string)result[i + 2]!, CultureInfo.InvariantCulture)));
        }
        return list;
    }

    /// <inheritdoc />
    public async Task<long?> NextDue(CancellationToken ct)
    {
        var r = await _redis.Db.ScriptEvaluateAsync(NextDueScript, [], [P]);
        return r.IsNull ? null : (long)double.Parse((string)r!, CultureInfo.InvariantCulture);
    }

    /// <inheritdoc />
    public async Task Succeeded(OutboxEvent e, int statusCode, DateTimeOffset at, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(e);
        var log = JsonSerializer.Serialize(new DeliveryAttempt(e.EventId, e.Type, e.Attempts + 1, statusCode, null, true, at.ToUniversalTime()), HeraldRedis.Json);
        await _redis.Db.ScriptEvaluateAsync(SucceededScript, [], [P, e.EventId, e.WebhookId, log, WebhookStore.MaxLogEntries]);
    }

    /// <inheritdoc />
    public async Task<bool> Failed(OutboxEvent e, int? statusCode, string error, DateTimeOffset at, long nextDueMs, int disableAfter, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(e);
        var log = JsonSerializer.Serialize(new DeliveryAttempt(e.EventId, e.Type, e.Attempts + 1, statusCode, error, false, at.ToUniversalTime()), HeraldRedis.Json);
        return (int)await _redis.Db.ScriptEvaluateAsync(FailedScript, [],
            [P, e.EventId, e.WebhookId, nextDueMs, error, Iso(at), disableAfter, log, WebhookStore.MaxLogEntries]) == 1;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<DeliveryAttempt>> Deliveries(string webhookId, int limit, CancellationToken ct)
    {
        var values = await _redis.Db.ListRangeAsync(_redis.Key("wh:log:" + webhookId), 0, Math.Max(0, limit - 1));
        return [.. values.Select(v => JsonSerializer.Deserialize<DeliveryAttempt>((string)v!, HeraldRedis.Json)!)];
    }

    /// <summary>
    /// The copy-dropping keys of an event: a presence event's view sequence, or a hash of any other event's type and
    /// data (test events are queued by one node only and are never dropped).
    /// </summary>
    internal static (string Sequence, string Dedup) DedupKeys(string type, string? subject, string body)
    {
        if (type == WebhookEvents.Test)
        {
            return ("", "");
        }
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (!doc.RootElement.TryGetProperty("data", out var data))
            {
                return ("", "");
            }
            if (subject is not null && type == WebhookEvents.PresenceChanged
                && data.ValueKind == JsonValueKind.Object && data.TryGetProperty("sequence", out var seq) && seq.TryGetInt64(out var s))
            {
                return (s.ToString(CultureInfo.InvariantCulture), "");
            }
            var hash = SHA256.HashData(Encoding.UTF8.GetBytes(type + "\n" + (subject ?? "") + "\n" + data.GetRawText()));
            return ("", Convert.ToHexString(hash, 0, 16));
        }
        catch (JsonException)
        {
            return ("", "");
        }
    }

    private async Task<WebhookRecord> WithState(string json)
    {
        var w = JsonSerializer.Deserialize<WebhookRecord>(json, HeraldRedis.Json) ?? throw new InvalidDataException("A stored webhook is null.");
        var state = (await _redis.Db.HashGetAllAsync(_redis.Key("wh:state:" + w.Id))).ToDictionary(e => (string)e.Name!, e => (string?)e.Value, StringComparer.Ordinal);
        return w with
        {
            UserIds = w.UserIds ?? [],
            Teams = w.Teams ?? [],
            Events = w.Events ?? [],
            CreatedAt = w.CreatedAt.ToUniversalTime(),
            Disabled = state.GetValueOrDefault("disabled") == "1",
            ConsecutiveFailures = int.TryParse(state.GetValueOrDefault("failures"), CultureInfo.InvariantCulture, out var f) ? f : 0,
            DisabledAt = state.GetValueOrDefault("disabledAt") is { } d ? DateTimeOffset.Parse(d, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind) : null,
            LastError = state.GetValueOrDefault("lastError"),
        };
    }

    private static string Iso(DateTimeOffset t) => t.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture);

    private sealed record StoredEvent(string WebhookId, string Type, string? Subject, string Body);
}
