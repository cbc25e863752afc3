using System.Security.Cryptography;
using System.Text;

namespace Herald.Cluster.Directory;

/// <summary>
/// Creates and checks API keys of the form <c>hk_&lt;id&gt;_&lt;secret&gt;</c>, where the id is
/// <see cref="IdLength"/> lowercase hex characters (public, used to look the key up) and the secret is
/// <see cref="SecretLength"/> lowercase hex characters (32 random bytes). Neither part contains
/// <c>_</c>. Only the SHA-256 of the secret is ever stored.
/// </summary>
public static class ApiKeys
{
    /// <summary>The prefix every key starts with.</summary>
    public const string Prefix = "hk_";

    /// <summary>Number of characters in the id part.</summary>
    public const int IdLength = 12;

    /// <summary>Number of characters in the secret part.</summary>
    public const int SecretLength = 64;

    private const int SecretBytes = SecretLength / 2;
    private const int IdBytes = IdLength / 2;

    /// <summary>Generates a new key.</summary>
    /// <returns>
    /// The public id, the full key to hand to its owner once, and the SHA-256 of the secret to store.
    /// </returns>
    public static (string id, string key, byte[] secretHash) Generate()
    {
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(IdBytes));
        var secret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(SecretBytes));
        return (id, $"{Prefix}{id}_{secret}", HashSecret(secret));
    }

    /// <summary>
    /// Splits a key into its id and secret. Fails (and leaves both outputs empty) unless the key is
    /// exactly <c>hk_</c>, <see cref="IdLength"/> lowercase hex characters, <c>_</c>, and
    /// <see cref="SecretLength"/> lowercase hex characters.
    /// </summary>
    /// <param name="key">The presented key; null fails.</param>
    /// <param name="id">The id part.</param>
    /// <param name="secret">The secret part.</param>
    /// <returns>True when the key is well formed.</returns>
    public static bool TryParse(string key, out string id, out string secret)
    {
        id = string.Empty;
        secret = string.Empty;
        if (key is null || key.Length != Prefix.Length + IdLength + 1 + SecretLength
            || !key.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }

        var idPart = key.AsSpan(Prefix.Length, IdLength);
        var separator = key[Prefix.Length + IdLength];
        var secretPart = key.AsSpan(Prefix.Length + IdLength + 1);
        if (separator != '_' || !IsLowerHex(idPart) || !IsLowerHex(secretPart))
        {
            return false;
        }

        id = idPart.ToString();
        secret = secretPart.ToString();
        return true;
    }

    /// <summary>The SHA-256 of the UTF-8 bytes of <paramref name="secret"/>.</summary>
    /// <param name="secret">The secret part of a key.</param>
    /// <returns>A 32-byte hash.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="secret"/> is null.</exception>
    public static byte[] HashSecret(string secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        return SHA256.HashData(Encoding.UTF8.GetBytes(secret));
    }

    /// <summary>True when <paramref name="secret"/> hashes to <paramref name="hash"/>; compares in constant time.</summary>
    /// <param name="secret">The secret part of a presented key.</param>
    /// <param name="hash">The stored hash.</param>
    /// <returns>True on a match.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="secret"/> or <paramref name="hash"/> is null.</exception>
    public static bool Matches(string secret, byte[] hash)
    {
        ArgumentNullException.ThrowIfNull(secret);
        ArgumentNullException.ThrowIfNull(hash);
        return CryptographicOperations.FixedTimeEquals(HashSecret(secret), hash);
    }

    private static bool IsLowerHex(ReadOnlySpan<char> value)
    {
        foreach (var c in value)
        {
            if (c is not ((>= '0' and <= '9') or (>= 'a' and <= 'f')))
            {
                return false;
            }
        }
        return true;
    }
}
