using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;
using Herald.Server.Hosting;

namespace Herald.Server.Auth;

/// <summary>
/// Issues and validates bearer tokens: the user id and roles, protected (encrypted and authenticated) with ASP.NET
/// Data Protection under a time limit. Keys live in the data directory (or a shared key ring in a cluster).
/// </summary>
public sealed class TokenService(IDataProtectionProvider provider, IOptions<HeraldOptions> options, TimeProvider time)
{
    private readonly ITimeLimitedDataProtector _protector =
        provider.CreateProtector("Herald.BearerToken.v1").ToTimeLimitedDataProtector();

    /// <summary>Token lifetime.</summary>
    public TimeSpan Lifetime => options.Value.Auth.TokenLifetime;

    /// <summary>A new token for <paramref name="userId"/> with <paramref name="roles"/>.</summary>
    public string Issue(string userId, IEnumerable<string> roles) =>
        _protector.Protect($"{userId}\n{string.Join(',', roles)}", time.GetUtcNow() + Lifetime);

    /// <summary>The user id, roles and expiry of <paramref name="token"/>, or null when invalid or expired.</summary>
    public (string UserId, string[] Roles, DateTimeOffset Expires)? Validate(string token)
    {
        try
        {
            var payload = _protector.Unprotect(token, out var expiration);
            if (expiration <= time.GetUtcNow())
            {
                return null;
            }
            var parts = payload.Split('\n');
            return parts.Length == 2 ? (parts[0], parts[1].Split(',', StringSplitOptions.RemoveEmptyEntries), expiration) : null;
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
