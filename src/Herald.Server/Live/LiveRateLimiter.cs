using System.Security.Claims;
using System.Threading.RateLimiting;
using Herald.Server.Auth;
using Herald.Server.Hosting;
using Microsoft.Extensions.Options;

namespace Herald.Server.Live;

/// <summary>
/// Per-principal token buckets for writes made over a live connection (the hub's <c>SetStatus</c>): the same size as the
/// REST limit (<c>Herald:RateLimits:PerPrincipalPerSecond</c> / <c>PerPrincipalBurst</c>), a separate bucket. A hub call
/// never passes the HTTP rate-limiting middleware, so without this a live client could write without limit.
/// </summary>
public sealed class LiveRateLimiter : IDisposable
{
    private readonly PartitionedRateLimiter<string> _limiter;

    /// <summary>Creates the limiter from the configured limits.</summary>
    public LiveRateLimiter(IOptions<HeraldOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var limits = options.Value.RateLimits;
        _limiter = PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.GetTokenBucketLimiter(key, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = limits.PerPrincipalBurst,
            TokensPerPeriod = limits.PerPrincipalPerSecond,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        }), StringComparer.Ordinal);
    }

    /// <summary>Takes one permit of <paramref name="user"/>'s bucket; false (with the wait advised) when it is empty.</summary>
    public bool TryAcquire(ClaimsPrincipal user, out TimeSpan retryAfter)
    {
        ArgumentNullException.ThrowIfNull(user);
        using var lease = _limiter.AttemptAcquire(user.RateKey());
        retryAfter = lease.IsAcquired ? TimeSpan.Zero
            : lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromSeconds(1);
        return lease.IsAcquired;
    }

    /// <inheritdoc />
    public void Dispose() => _limiter.Dispose();
}
