using System.Security.Claims;
using Herald.Server.Auth;
using Herald.Server.Hosting;
using Herald.Server.Live;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Herald.Server.Tests.Live;

/// <summary>The live write limiter: per-principal token buckets that refill with time and are forgotten once full.</summary>
public sealed class LiveRateLimiterTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 2, 10, 0, 0, TimeSpan.Zero));

    private LiveRateLimiter Limiter(int perSecond, int burst) =>
        new(Options.Create(new HeraldOptions { RateLimits = { PerPrincipalPerSecond = perSecond, PerPrincipalBurst = burst } }), _time);

    private static ClaimsPrincipal Person(string id) => new(new ClaimsIdentity([new Claim(HeraldClaims.UserId, id)], "test"));

    [Fact]
    public void A_burst_passes_then_calls_are_refused_with_the_wait_until_the_next_token()
    {
        var limiter = Limiter(perSecond: 2, burst: 3);
        var anna = Person("anna");

        Assert.All(Enumerable.Range(0, 3), i => Assert.True(limiter.TryAcquire(anna, out TimeSpan _), $"call {i}"));
        Assert.False(limiter.TryAcquire(anna, out var wait));
        Assert.Equal(TimeSpan.FromSeconds(0.5), wait);

        _time.Advance(TimeSpan.FromMilliseconds(500));
        Assert.True(limiter.TryAcquire(anna, out _));
        Assert.False(limiter.TryAcquire(anna, out _));
        Assert.True(limiter.TryAcquire(Person("bob"), out _)); // every principal has its own bucket
    }

    [Fact]
    public void A_bucket_never_holds_more_than_the_burst()
    {
        var limiter = Limiter(perSecond: 10, burst: 2);
        var anna = Person("anna");
        _time.Advance(TimeSpan.FromHours(1));

        Assert.True(limiter.TryAcquire(anna, out _));
        Assert.True(limiter.TryAcquire(anna, out _));
        Assert.False(limiter.TryAcquire(anna, out _));
    }

    [Fact]
    public void Full_buckets_are_forgotten_after_a_minute_and_partly_used_ones_are_kept()
    {
        var limiter = Limiter(perSecond: 1, burst: 100);
        foreach (var id in Enumerable.Range(0, 50).Select(i => $"p{i}"))
        {
            limiter.TryAcquire(Person(id), out _);
        }
        var busy = Person("busy");
        for (var i = 0; i < 100; i++)
        {
            limiter.TryAcquire(busy, out _);
        }
        Assert.Equal(51, limiter.Count);

        _time.Advance(TimeSpan.FromSeconds(61)); // p*: refilled (1 used, 61 s passed); busy: 61 of 100
        Assert.True(limiter.TryAcquire(busy, out _)); // the call that triggers the sweep

        Assert.Equal(1, limiter.Count);
        // busy's bucket kept its state: 60 tokens left, not a fresh 100.
        Assert.Equal(60, Enumerable.Range(0, 100).Count(_ => limiter.TryAcquire(busy, out TimeSpan _)));
    }
}
