using System.Collections.Concurrent;
using System.Security.Claims;
using Herald.Server.Auth;
using Herald.Server.Hosting;
using Microsoft.Extensions.Options;

namespace Herald.Server.Live;

/// <summary>
/// Per-principal token buckets for writes made over a live connection (the hub's <c>SetStatus</c>, the WebSocket's
/// <c>status</c>): the size of the REST limit (<c>Herald:RateLimits:PerPrincipalPerSecond</c> tokens per second,
/// <c>PerPrincipalBurst</c> at most), a separate bucket. A live call never passes the HTTP rate-limiting middleware, so
/// without this a live client could write without limit.
/// </summary>
/// <remarks>
/// Buckets refill lazily when used (no timer: <c>PartitionedRateLimiter</c>'s heartbeat walked every partition ten
/// times a second, ≈ 1.7 % of a core with 5,000 connected people). A bucket that has refilled completely is the same as
/// a new one, so a sweep at most once a minute removes those; memory follows the people who wrote in the last minute.
/// </remarks>
public sealed class LiveRateLimiter
{
    private static readonly TimeSpan SweepEvery = TimeSpan.FromMinutes(1);
    private readonly ConcurrentDictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly double _perSecond;
    private readonly double _burst;
    private long _nextSweep;

    /// <summary>Creates the limiter from the configured limits.</summary>
    public LiveRateLimiter(IOptions<HeraldOptions> options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        _time = time;
        _perSecond = options.Value.RateLimits.PerPrincipalPerSecond;
        _burst = options.Value.RateLimits.PerPrincipalBurst;
        _nextSweep = time.GetTimestamp() + Ticks(SweepEvery);
    }

    /// <summary>Buckets held (people who wrote over a live connection within about the last minute).</summary>
    public int Count => _buckets.Count;

    /// <summary>Takes one token of <paramref name="user"/>'s bucket; false (with the wait advised) when it is empty.</summary>
    public bool TryAcquire(ClaimsPrincipal user, out TimeSpan retryAfter)
    {
        ArgumentNullException.ThrowIfNull(user);
        var now = _time.GetTimestamp();
        var bucket = _buckets.GetOrAdd(user.RateKey(), static (_, s) => new Bucket(s.Burst, s.Now), (Burst: _burst, Now: now));
        bool acquired;
        lock (bucket)
        {
            bucket.Refill(now, _perSecond, _burst, _time);
            acquired = bucket.Tokens >= 1;
            if (acquired)
            {
                bucket.Tokens -= 1;
            }
            retryAfter = acquired ? TimeSpan.Zero : TimeSpan.FromSeconds((1 - bucket.Tokens) / _perSecond);
        }
        if (now >= Interlocked.Read(ref _nextSweep))
        {
            Sweep(now);
        }
        return acquired;
    }

    private void Sweep(long now)
    {
        var next = Interlocked.Read(ref _nextSweep);
        if (now < next || Interlocked.CompareExchange(ref _nextSweep, now + Ticks(SweepEvery), next) != next)
        {
            return; // another caller sweeps
        }
        foreach (var kv in _buckets)
        {
            lock (kv.Value)
            {
                kv.Value.Refill(now, _perSecond, _burst, _time);
                if (kv.Value.Tokens < _burst)
                {
                    continue;
                }
            }
            _buckets.TryRemove(kv); // only if it is still this bucket
        }
    }

    private long Ticks(TimeSpan span) => (long)(span.TotalSeconds * _time.TimestampFrequency);

    private sealed class Bucket(double tokens, long stamp)
    {
        public double Tokens { get; set; } = tokens;

        private long Stamp { get; set; } = stamp;

        public void Refill(long now, double perSecond, double burst, TimeProvider time)
        {
            if (now > Stamp)
            {
                Tokens = Math.Min(burst, Tokens + time.GetElapsedTime(Stamp, now).TotalSeconds * perSecond);
                Stamp = now;
            }
        }
    }
}
