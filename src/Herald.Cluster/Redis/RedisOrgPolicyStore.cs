using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Herald.Cluster.Privacy;
using Herald.Core.Privacy;

namespace Herald.Cluster.Redis;

/// <summary>
/// An <see cref="IOrgPolicyStore"/> in Redis: hash <c>policy</c> with <c>version</c> and <c>json</c>. A save
/// increments the version and writes the policy in one script and publishes <c>policy:{version}</c> on the
/// invalidation channel, so every node reloads its <see cref="OrgPolicyCache"/>.
/// </summary>
public sealed class RedisOrgPolicyStore(HeraldRedis redis) : IOrgPolicyStore
{
    private const string SaveScript = """
        local v = redis.call('HINCRBY', KEYS[1], 'version', 1)
        redis.call('HSET', KEYS[1], 'json', ARGV[1])
        return v
        """;

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter() },
    };

    private readonly HeraldRedis _redis = redis ?? throw new ArgumentNullException(nameof(redis));

    /// <inheritdoc />
    public async Task<(OrgPolicy Policy, long Version)> Get(CancellationToken ct = default)
    {
        ct.ThrowIfCancellationRequested();
        var values = await _redis.Db.HashGetAsync(_redis.Key("policy"), ["version", "json"]);
        if (values[0].IsNull || values[1].IsNull)
        {
            return (OrgPolicy.Default, 0);
        }
        var version = long.Parse((string)values[0]!, CultureInfo.InvariantCulture);
        var policy = JsonSerializer.Deserialize<OrgPolicy>((string)values[1]!, JsonOptions)
            ?? throw new InvalidDataException($"The stored organization policy (version {version}) is null.");
        var fallback = OrgPolicy.Default;
        return (policy with
        {
            Ceiling = policy.Ceiling ?? fallback.Ceiling,
            Floor = policy.Floor ?? fallback.Floor,
            SubscriptionDefaults = policy.SubscriptionDefaults ?? fallback.SubscriptionDefaults,
            SubscriptionMinimum = policy.SubscriptionMinimum ?? fallback.SubscriptionMinimum,
            DefaultWorkHours = policy.DefaultWorkHours ?? fallback.DefaultWorkHours,
        }, version);
    }

    /// <inheritdoc />
    public async Task<long> Save(OrgPolicy policy, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(policy.Ceiling, nameof(policy));
        ArgumentNullException.ThrowIfNull(policy.Floor, nameof(policy));
        ArgumentNullException.ThrowIfNull(policy.SubscriptionDefaults, nameof(policy));
        ArgumentNullException.ThrowIfNull(policy.SubscriptionMinimum, nameof(policy));
        ArgumentNullException.ThrowIfNull(policy.DefaultWorkHours, nameof(policy));
        ct.ThrowIfCancellationRequested();
        var version = (long)await _redis.Db.ScriptEvaluateAsync(SaveScript, [_redis.Key("policy")], [JsonSerializer.Serialize(policy, JsonOptions)]);
        await _redis.Invalidate("policy:" + version.ToString(CultureInfo.InvariantCulture));
        return version;
    }
}
