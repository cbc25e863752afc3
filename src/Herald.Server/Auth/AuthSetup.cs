using System.Threading.RateLimiting;
using Herald.Cluster.Directory;
using Herald.Server.Hosting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.RateLimiting;

namespace Herald.Server.Auth;

/// <summary>Authorization policy names.</summary>
public static class HeraldPolicies
{
    /// <summary>A signed-in person (bearer token).</summary>
    public const string Person = "person";
    /// <summary>A person with the admin role.</summary>
    public const string Admin = "admin";
    /// <summary>A person with the auditor (or admin) role.</summary>
    public const string Auditor = "auditor";
    /// <summary>Any authenticated caller: person or API key.</summary>
    public const string Any = "any";
    /// <summary>The rate-limit policy for login attempts.</summary>
    public const string LoginRate = "login";
}

/// <summary>Registration of authentication, authorization and rate limiting.</summary>
public static class AuthSetup
{
    /// <summary>Adds the Herald scheme, token service and policies.</summary>
    public static IServiceCollection AddHeraldAuth(this IServiceCollection services)
    {
        services.AddMemoryCache();
        // The credential cache expires on the application's clock, not the system's: the bound on how long a change
        // made elsewhere goes unseen is measured in the same time as tokens and presence.
        services.AddOptions<Microsoft.Extensions.Caching.Memory.MemoryCacheOptions>()
            .Configure<TimeProvider>((o, time) => o.Clock = new TimeProviderClock(time));
        services.AddSingleton<TokenService>();
        services.AddAuthentication(HeraldAuthHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, HeraldAuthHandler>(HeraldAuthHandler.SchemeName, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(HeraldPolicies.Any, p => p.RequireAuthenticatedUser())
            .AddPolicy(HeraldPolicies.Person, p => p.RequireAuthenticatedUser().RequireClaim(HeraldClaims.Method, "token"))
            .AddPolicy(HeraldPolicies.Admin, p => p.RequireAuthenticatedUser().RequireClaim(HeraldClaims.Method, "token")
                .RequireClaim(HeraldClaims.Role, Roles.Admin))
            .AddPolicy(HeraldPolicies.Auditor, p => p.RequireAuthenticatedUser().RequireClaim(HeraldClaims.Method, "token")
                .RequireClaim(HeraldClaims.Role, Roles.Auditor, Roles.Admin));
        return services;
    }

    /// <summary>
    /// Adds per-principal token buckets (every authenticated request) and a per-address limit on logins; a
    /// rejected request gets 429 with <c>Retry-After</c> and a problem-details body.
    /// </summary>
    public static IServiceCollection AddHeraldRateLimits(this IServiceCollection services, RateLimitOptions limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        services.AddRateLimiter(o =>
        {
            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(ctx =>
            {
                if (ctx.User.Identity?.IsAuthenticated != true)
                {
                    return RateLimitPartition.GetNoLimiter("anonymous");
                }
                return RateLimitPartition.GetTokenBucketLimiter(ctx.User.RateKey(), _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = limits.PerPrincipalBurst,
                    TokensPerPeriod = limits.PerPrincipalPerSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                });
            });
            o.AddPolicy(HeraldPolicies.LoginRate, ctx => RateLimitPartition.GetFixedWindowLimiter(
                ctx.Connection.RemoteIpAddress?.ToString() ?? "unknown",
                _ => new FixedWindowRateLimiterOptions { PermitLimit = limits.LoginsPerMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 }));
            o.OnRejected = async (ctx, ct) =>
            {
                var retry = ctx.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromSeconds(1);
                var seconds = Math.Max(1, (int)Math.Ceiling(retry.TotalSeconds));
                ctx.HttpContext.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                ctx.HttpContext.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                var problems = ctx.HttpContext.RequestServices.GetRequiredService<IProblemDetailsService>();
                await problems.WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = ctx.HttpContext,
                    ProblemDetails =
                    {
                        Status = 429, Type = "https://www.rfc-editor.org/rfc/rfc6585#section-4", Title = "Too many requests",
                        Detail = $"Rate limit exceeded; retry after {seconds} s.",
                    },
                });
            };
        });
        return services;
    }
}
