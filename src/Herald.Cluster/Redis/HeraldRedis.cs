using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using StackExchange.Redis;

namespace Herald.Cluster.Redis;

/// <summary>
/// The Redis connection Herald's own stores share (one multiplexer per process), the key prefix that separates
/// clusters sharing one Redis, and the invalidation channel that keeps per-node caches correct across nodes.
/// </summary>
/// <remarks>
/// Keys are <c>herald:{clusterId}:…</c>. Multi-key scripts touch keys they compute themselves, so Herald needs a
/// standalone Redis (or a Sentinel-managed primary), not Redis Cluster. A write is acknowledged to a caller only
/// after Redis acknowledged it; with <c>appendonly yes</c> and <c>appendfsync always</c> that means it is on disk.
/// </remarks>
public sealed class HeraldRedis : IAsyncDisposable
{
    /// <summary>The invalidation channel's suffix (<c>herald:{clusterId}:invalidate</c>).</summary>
    public const string InvalidateChannelSuffix = "invalidate";

    private readonly bool _ownsMultiplexer;

    /// <summary>Wraps an existing multiplexer.</summary>
    public HeraldRedis(IConnectionMultiplexer multiplexer, string clusterId, bool ownsMultiplexer = false)
    {
        ArgumentNullException.ThrowIfNull(multiplexer);
        ArgumentException.ThrowIfNullOrWhiteSpace(clusterId);
        Multiplexer = multiplexer;
        ClusterId = clusterId;
        Prefix = "herald:" + clusterId + ":";
        _ownsMultiplexer = ownsMultiplexer;
    }

    /// <summary>Connects to <paramref name="connectionString"/> (StackExchange.Redis syntax, e.g. <c>127.0.0.1:6379</c>).</summary>
    public static HeraldRedis Connect(string connectionString, string clusterId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var options = ConfigurationOptions.Parse(connectionString);
        options.AbortOnConnectFail = false; // keep retrying while Redis restarts; calls fail fast meanwhile
        return new HeraldRedis(ConnectionMultiplexer.Connect(options), clusterId, ownsMultiplexer: true);
    }

    /// <summary>The connection.</summary>
    public IConnectionMultiplexer Multiplexer { get; }

    /// <summary>The cluster id the keys are scoped to.</summary>
    public string ClusterId { get; }

    /// <summary><c>herald:{clusterId}:</c>.</summary>
    public string Prefix { get; }

    /// <summary>The database.</summary>
    public IDatabase Db => Multiplexer.GetDatabase();

    /// <summary>A key under the prefix.</summary>
    public RedisKey Key(string name) => Prefix + name;

    /// <summary>The invalidation channel.</summary>
    public RedisChannel InvalidateChannel => RedisChannel.Literal(Prefix + InvalidateChannelSuffix);

    /// <summary>
    /// Tells every node that something cached changed: <c>account:{id}</c>, <c>key:{id}</c>, <c>directory</c>,
    /// <c>policy:{version}</c>. Pub/sub is at-most-once; caches also expire on their own (documented per cache).
    /// </summary>
    public async Task Invalidate(string what)
    {
        try
        {
            await Db.PublishAsync(InvalidateChannel, what).ConfigureAwait(false);
        }
        catch (RedisException)
        {
            // The write itself succeeded; caches expire on their own.
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_ownsMultiplexer)
        {
            await Multiplexer.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>JSON for whole records: camelCase, enums as names. Unknown members are ignored on read, so
    /// fields added later (e.g. an optional credential on <c>Account</c>) ride along in both directions.</summary>
    public static JsonSerializerOptions Json { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>Fixed-width decimal text that sorts like the number (for sorted-set members).</summary>
    public static string Pad(long value) => value.ToString("D20", CultureInfo.InvariantCulture);

    /// <summary>An instant as a sorted-set score: microseconds since the Unix epoch (exact in a double until 2255).</summary>
    public static double Score(DateTimeOffset at) => (at.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;
}
