using Herald.Cluster.Directory;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;
using Herald.Server.Hosting;

namespace Herald.Server.Auth;

/// <summary>
/// Issues and validates bearer tokens: the user id, roles and the account's <see cref="PasswordFingerprint"/> at issue
/// ("userId\nroles\nfingerprint"), protected (encrypted and authenticated) with ASP.NET Data Protection under a time
/// limit. Keys live in the data directory (or a shared key ring in a cluster). The authentication handler compares the
/// fingerprint with the account's current one, so a password change ends the tokens issued before it. Tokens of the
/// older two-line format (no fingerprint) are rejected.
/// </summary>
public sealed class TokenService(IDataProtectionProvider provider, IOptions<HeraldOptions> options, TimeProvider time)
{
    private readonly ITimeLimitedDataProtector _protector =
        provider.CreateProtector("Herald.BearerToken.v1").ToTimeLimitedDataProtector();

    /// <summary>Token lifetime.</summary>
    public TimeSpan Lifetime => options.Value.Auth.TokenLifetime;

    /// <summary>
    /// A new token for <paramref name="userId"/> with <paramref name="roles"/>, tied to the account's current
    /// <paramref name="password"/> (its <see cref="PasswordFingerprint"/>; never the password itself).
    /// </summary>
    public string Issue(string userId, IEnumerable<string> roles, PasswordCredential? password) =>
        _protector.Protect($"{userId}\n{string.Join(',', roles)}\n{PasswordFingerprint.Of(password)}", time.GetUtcNow() + Lifetime);

    /// <summary>
    /// The user id, roles, password fingerprint and expiry of <paramref name="token"/>, or null when invalid, expired or
    /// of the older format without a fingerprint.
    /// </summary>
    public (string UserId, string[] Roles, string PasswordFingerprint, DateTimeOffset Expires)? Validate(string token)
    {
        try
        {
            var payload = _protector.Unprotect(token, out var expiration);
            if (expiration <= time.GetUtcNow())
            {
                return null;
            }
            var parts = payload.Split('\n');
            return parts.Length == 3 && parts[2].Length > 0
                ? (parts[0], parts[1].Split(',', StringSplitOptions.RemoveEmptyEntries), parts[2], expiration)
                : null;
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
