using System.Security.Cryptography;

namespace Herald.Cluster.Directory;

/// <summary>
/// Hashes and verifies passwords with PBKDF2-HMAC-SHA256 (a 16-byte random salt and a 32-byte
/// derived key), the same derivation SCRAM-SHA-256 uses for its <c>SaltedPassword</c>.
/// </summary>
public static class PasswordHasher
{
    /// <summary>Length in bytes of the random salt.</summary>
    public const int SaltLength = 16;

    /// <summary>Length in bytes of the derived hash.</summary>
    public const int HashLength = 32;

    /// <summary>Derives a new credential for <paramref name="password"/> with a fresh random salt.</summary>
    /// <param name="password">The clear-text password (may be empty).</param>
    /// <param name="iterations">The PBKDF2 iteration count; at least 1.</param>
    /// <returns>The iteration count, salt and derived hash.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="password"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="iterations"/> is less than 1.</exception>
    public static PasswordCredential Hash(string password, int iterations)
    {
        ArgumentNullException.ThrowIfNull(password);
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, 1);

        var salt = RandomNumberGenerator.GetBytes(SaltLength);
        var hash = Rfc2898DeriveBytes.Pbkdf2(password, salt, iterations, HashAlgorithmName.SHA256, HashLength);
        return new PasswordCredential(iterations, salt, hash);
    }

    /// <summary>
    /// True when <paramref name="password"/> derives the hash stored in <paramref name="credential"/>.
    /// The comparison takes constant time; a malformed credential (no salt, no hash, or an iteration
    /// count below 1) never verifies.
    /// </summary>
    /// <param name="password">The clear-text password to check.</param>
    /// <param name="credential">The stored credential.</param>
    /// <returns>True on a match.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="password"/> or <paramref name="credential"/> is null.</exception>
    public static bool Verify(string password, PasswordCredential credential)
    {
        ArgumentNullException.ThrowIfNull(password);
        ArgumentNullException.ThrowIfNull(credential);

        if (credential.Iterations < 1 || credential.Salt is not { Length: > 0 } || credential.Hash is not { Length: > 0 })
        {
            return false;
        }

        var actual = Rfc2898DeriveBytes.Pbkdf2(
            password, credential.Salt, credential.Iterations, HashAlgorithmName.SHA256, credential.Hash.Length);
        return CryptographicOperations.FixedTimeEquals(actual, credential.Hash);
    }
}
