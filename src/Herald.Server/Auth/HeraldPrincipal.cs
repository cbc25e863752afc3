using System.Security.Claims;
using Herald.Cluster.Directory;

namespace Herald.Server.Auth;

/// <summary>Claim types and accessors for Herald principals.</summary>
public static class HeraldClaims
{
    /// <summary>The user id (person id, or "admin").</summary>
    public const string UserId = "sub";
    /// <summary>A role.</summary>
    public const string Role = "role";
    /// <summary>How the caller authenticated: <c>token</c> or <c>apikey</c>.</summary>
    public const string Method = "amr";
    /// <summary>The API key id.</summary>
    public const string KeyId = "kid";
    /// <summary>An API key scope.</summary>
    public const string Scope = "scope";
    /// <summary>A person an API key may act for.</summary>
    public const string ActsFor = "acts_for";
    /// <summary>
    /// The <see cref="PasswordFingerprint"/> a bearer token was issued under (not secret; live connections end when the
    /// account's password no longer has it).
    /// </summary>
    public const string PasswordFingerprint = "pwf";

    /// <summary>The caller's user id.</summary>
    public static string UserIdOf(this ClaimsPrincipal p) => p.FindFirstValue(UserId) ?? throw new InvalidOperationException("unauthenticated");

    /// <summary>True for a bearer-token (human) caller.</summary>
    public static bool IsPerson(this ClaimsPrincipal p) => p.FindFirstValue(Method) == "token";

    /// <summary>True for an API-key caller.</summary>
    public static bool IsApiKey(this ClaimsPrincipal p) => p.FindFirstValue(Method) == "apikey";

    /// <summary>True when the caller holds <paramref name="role"/>.</summary>
    public static bool HasRole(this ClaimsPrincipal p, string role) => p.HasClaim(Role, role);

    /// <summary>
    /// True when an API key holds <paramref name="scope"/> (exactly, or through a wildcard such as
    /// <c>activities:*</c>).
    /// </summary>
    public static bool HasScope(this ClaimsPrincipal p, string scope)
    {
        foreach (var c in p.FindAll(Scope))
        {
            if (c.Value == scope || (c.Value.EndsWith(":*", StringComparison.Ordinal) && scope.StartsWith(c.Value[..^1], StringComparison.Ordinal)))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>The partition key for rate limits: the key id for API keys, else the user id.</summary>
    public static string RateKey(this ClaimsPrincipal p) =>
        p.FindFirstValue(KeyId) is { } k ? "key:" + k : "user:" + (p.FindFirstValue(UserId) ?? "?");

    /// <summary>The password stamp a bearer token's live connections are registered with (0 when unknown).</summary>
    public static long PasswordStampOf(this ClaimsPrincipal p) =>
        p.FindFirstValue(PasswordFingerprint) is { } f ? Herald.Cluster.Directory.PasswordFingerprint.Stamp(f) : 0;

    internal static ClaimsPrincipal ForPerson(string userId, IEnumerable<string> roles, string passwordFingerprint)
    {
        var claims = new List<Claim> { new(UserId, userId), new(Method, "token"), new(PasswordFingerprint, passwordFingerprint) };
        claims.AddRange(roles.Select(r => new Claim(Role, r)));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, HeraldAuthHandler.SchemeName, UserId, Role));
    }

    internal static ClaimsPrincipal ForKey(ApiKeyRecord key, IEnumerable<string> ownerRoles)
    {
        var claims = new List<Claim> { new(UserId, key.OwnerId), new(Method, "apikey"), new(KeyId, key.Id) };
        claims.AddRange(key.Scopes.Select(s => new Claim(Scope, s)));
        claims.AddRange((key.UserIds ?? []).Select(u => new Claim(ActsFor, u)));
        // The key's owner roles are kept as information only; keys never pass role-based policies.
        claims.AddRange(ownerRoles.Select(r => new Claim("owner_role", r)));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, HeraldAuthHandler.SchemeName, UserId, Role));
    }
}
