using System.Text.Encodings.Web;
using Herald.Cluster.Directory;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace Herald.Server.Auth;

/// <summary>
/// One scheme for every caller: <c>Authorization: Bearer &lt;token&gt;</c> for people, <c>Authorization: ApiKey
/// &lt;key&gt;</c> for devices and integrations. Browsers' EventSource and WebSocket cannot set headers, so the
/// live endpoints also take <c>?access_token=</c>.
/// </summary>
public sealed class HeraldAuthHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    TokenService tokens, IAccountStore accounts, IApiKeyStore keys, IMemoryCache cache, IProblemDetailsService problems)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    /// <summary>The scheme name.</summary>
    public const string SchemeName = "Herald";

    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(15);

    /// <summary>Why a bearer token issued under an earlier password is refused (the authentication failure).</summary>
    public const string PasswordChangedFailure = "token issued before a password change";

    /// <summary>The 401's detail for <see cref="PasswordChangedFailure"/>.</summary>
    public const string PasswordChangedDetail = "The bearer token was issued before a password change: log in again with the new password (POST /api/v1/auth/token).";

    /// <inheritdoc />
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers.Authorization;
        if (string.IsNullOrEmpty(header) && IsLivePath(Request.Path) && Request.Query["access_token"] is { Count: 1 } q)
        {
            header = "Bearer " + q[0];
        }
        if (string.IsNullOrEmpty(header))
        {
            return AuthenticateResult.NoResult();
        }
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            var claims = tokens.Validate(header["Bearer ".Length..].Trim());
            if (claims is not { } c)
            {
                return AuthenticateResult.Fail("invalid or expired token");
            }
            var account = await CachedAccount(c.UserId);
            if (account is null)
            {
                return AuthenticateResult.Fail("account no longer exists");
            }
            if (!string.Equals(c.PasswordFingerprint, account.PasswordFingerprint, StringComparison.Ordinal))
            {
                return AuthenticateResult.Fail(PasswordChangedFailure);
            }
            // On the live endpoints the expiry travels with the ticket (not as a claim): the connection ends at it
            // (LiveCredentials). Other requests end long before; they skip the cost.
            return Success(HeraldClaims.ForPerson(account.UserId, account.Roles, c.PasswordFingerprint), IsLivePath(Request.Path) ? c.Expires : null);
        }
        if (header.StartsWith("ApiKey ", StringComparison.OrdinalIgnoreCase))
        {
            if (!ApiKeys.TryParse(header["ApiKey ".Length..].Trim(), out var id, out var secret))
            {
                return AuthenticateResult.Fail("malformed API key");
            }
            var key = await cache.GetOrCreateAsync("key:" + id, e =>
            {
                e.AbsoluteExpirationRelativeToNow = CacheFor;
                return keys.Get(id, Context.RequestAborted);
            });
            if (key is null || !ApiKeys.Matches(secret, key.SecretHash))
            {
                return AuthenticateResult.Fail("unknown API key");
            }
            var owner = await CachedAccount(key.OwnerId);
            if (owner is null)
            {
                return AuthenticateResult.Fail("the key's owner no longer exists");
            }
            return Success(HeraldClaims.ForKey(key, owner.Account.Roles));
        }
        return AuthenticateResult.Fail("unsupported authorization scheme (use Bearer or ApiKey)");
    }

    /// <inheritdoc />
    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer, ApiKey";
        const string how = "Send 'Authorization: Bearer <token>' (from POST /api/v1/auth/token) or 'Authorization: ApiKey <key>'.";
        // The one failure worth naming: the client should log in again with the new password, not retry.
        var passwordChanged = (await HandleAuthenticateOnceSafeAsync()).Failure?.Message == PasswordChangedFailure;
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = { Status = 401, Title = "Authentication required", Detail = passwordChanged ? PasswordChangedDetail : how },
        });
    }

    /// <inheritdoc />
    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = { Status = 403, Title = "Forbidden", Detail = "These credentials do not allow this operation." },
        });
    }

    /// <summary>Forgets cached credentials of <paramref name="userId"/> or a key (after a change).</summary>
    public static void Evict(IMemoryCache cache, string? userId = null, string? keyId = null)
    {
        ArgumentNullException.ThrowIfNull(cache);
        if (userId is not null)
        {
            cache.Remove("account:" + userId);
        }
        if (keyId is not null)
        {
            cache.Remove("key:" + keyId);
        }
    }

    /// <summary>
    /// The account with its password's fingerprint, cached for <see cref="CacheFor"/>: the fingerprint (a SHA-256) is
    /// computed once per cache fill, not on every request.
    /// </summary>
    private Task<CachedAccountEntry?> CachedAccount(string userId) =>
        cache.GetOrCreateAsync("account:" + userId, async e =>
        {
            e.AbsoluteExpirationRelativeToNow = CacheFor;
            return await accounts.GetAccount(userId, Context.RequestAborted) is { } a
                ? new CachedAccountEntry(a, PasswordFingerprint.Of(a.Password))
                : null;
        });

    private sealed record CachedAccountEntry(Account Account, string PasswordFingerprint)
    {
        public string UserId => Account.UserId;

        public IReadOnlyList<string> Roles => Account.Roles;
    }

    private AuthenticateResult Success(System.Security.Claims.ClaimsPrincipal principal, DateTimeOffset? expires = null) =>
        AuthenticateResult.Success(new AuthenticationTicket(principal, new AuthenticationProperties { ExpiresUtc = expires }, SchemeName));

    /// <summary>
    /// When the credential of <paramref name="http"/>'s caller expires: the bearer token's expiry; null for API keys
    /// (they do not expire; revoking one ends its connections) or when unknown.
    /// </summary>
    public static DateTimeOffset? ExpiryOf(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        return http.Features.Get<Microsoft.AspNetCore.Authentication.IAuthenticateResultFeature>()?.AuthenticateResult?.Properties?.ExpiresUtc;
    }

    private static bool IsLivePath(PathString path) =>
        path.StartsWithSegments("/hubs", StringComparison.OrdinalIgnoreCase)
        || path.StartsWithSegments("/api/v1/events", StringComparison.OrdinalIgnoreCase)
        || path.StartsWithSegments("/api/v1/live", StringComparison.OrdinalIgnoreCase);
}
