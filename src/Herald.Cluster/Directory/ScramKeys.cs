using System.Security.Cryptography;

namespace Herald.Cluster.Directory;

/// <summary>Derives SCRAM verifier keys (RFC 5802 section 3) from a password or from a stored salted password.</summary>
public static class ScramKeys
{
    /// <summary>SCRAM-SHA-1 keys for <paramref name="password"/> with a fresh 16-byte salt.</summary>
    public static ScramCredential DeriveSha1(string password, int iterations)
    {
        ArgumentNullException.ThrowIfNull(password);
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, 1);
        var salt = RandomNumberGenerator.GetBytes(PasswordHasher.SaltLength);
        var salted = Rfc2898DeriveBytes.Pbkdf2(password, salt, iterations, HashAlgorithmName.SHA1, 20);
        return FromSaltedPassword(HashAlgorithmName.SHA1, salted, salt, iterations);
    }

    /// <summary>The keys for a SaltedPassword (e.g. the PBKDF2-HMAC-SHA256 password hash for SCRAM-SHA-256).</summary>
    public static ScramCredential FromSaltedPassword(HashAlgorithmName hash, byte[] saltedPassword, byte[] salt, int iterations)
    {
        ArgumentNullException.ThrowIfNull(saltedPassword);
        var clientKey = CryptographicOperations.HmacData(hash, saltedPassword, "Client Key"u8);
        var storedKey = CryptographicOperations.HashData(hash, clientKey);
        var serverKey = CryptographicOperations.HmacData(hash, saltedPassword, "Server Key"u8);
        return new ScramCredential(iterations, salt, storedKey, serverKey);
    }

    /// <summary>The account with SCRAM-SHA-1 keys for <paramref name="password"/> (used wherever a password is set).</summary>
    public static Account WithScram(this Account account, string password)
    {
        ArgumentNullException.ThrowIfNull(account);
        return account with { ScramSha1 = DeriveSha1(password, account.Password?.Iterations ?? 4096) };
    }
}
