using System.Buffers.Text;
using System.Security.Cryptography;

namespace Herald.Cluster.Directory;

/// <summary>
/// A short, non-secret fingerprint of an account's current password credential: the first 8 bytes of
/// SHA-256(hash ‖ salt), base64url (11 characters). Setting a password again (a new salt each time) changes it; an
/// unrelated account change (roles, SCRAM keys, the profile) does not. Bearer tokens carry it, so a password change ends
/// the tokens issued before it; the live-credential registry uses its 64-bit form as the password stamp. It reveals
/// nothing usable about the password (a truncated hash of a PBKDF2 output).
/// </summary>
public static class PasswordFingerprint
{
    /// <summary>The fingerprint of an account without a password (never a valid base64url fingerprint: 4 characters).</summary>
    public const string None = "none";

    /// <summary>The fingerprint of <paramref name="password"/>, or <see cref="None"/> without one.</summary>
    public static string Of(PasswordCredential? password)
    {
        if (password is null)
        {
            return None;
        }
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        using (var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
        {
            sha.AppendData(password.Hash);
            sha.AppendData(password.Salt);
            sha.GetHashAndReset(digest);
        }
        return Base64Url.EncodeToString(digest[..8]);
    }

    /// <summary>
    /// The 64-bit password stamp of <paramref name="fingerprint"/> (never 0, which means "not tied to a password"): odd
    /// for a password, 2 for <see cref="None"/> or anything that is not a fingerprint.
    /// </summary>
    public static long Stamp(string? fingerprint)
    {
        Span<byte> bytes = stackalloc byte[8];
        if (fingerprint is null || fingerprint.Length != 11 || !Base64Url.TryDecodeFromChars(fingerprint, bytes, out var written) || written != 8)
        {
            return 2;
        }
        return BitConverter.ToInt64(bytes) | 1;
    }
}
