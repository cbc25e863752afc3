using System.Security.Cryptography;
using System.Text;
using Herald.Cluster.Directory;

namespace Herald.Xmpp.Tests;

/// <summary>The SCRAM server against the published test vectors (RFC 5802 section 5, RFC 7677 section 3).</summary>
public sealed class ScramTests
{
    [Fact]
    public void Scram_sha1_matches_rfc5802_example()
    {
        var salt = Convert.FromBase64String("QSXCR+Q6sek8bf92");
        var salted = Rfc2898DeriveBytes.Pbkdf2("pencil", salt, 4096, HashAlgorithmName.SHA1, 20);
        var credential = ScramKeys.FromSaltedPassword(HashAlgorithmName.SHA1, salted, salt, 4096);
        var server = new ScramServer(HashAlgorithmName.SHA1) { FixedServerNonce = "3rfcNHYJY1ZVvWVs7j" };
        Assert.Equal("user", server.ClientFirst("n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL"));
        Assert.Equal("r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096", server.ServerFirst(credential));
        var final = server.ClientFinal("c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=");
        Assert.Equal("v=rmF9pqV8S7suAoZWja4dJRkFsKQ=", final);
    }

    [Fact]
    public void Scram_sha256_matches_rfc7677_example_from_the_stored_password_hash()
    {
        // Herald's password hash (PBKDF2-HMAC-SHA256) is SCRAM-SHA-256's SaltedPassword: no extra keys needed.
        var salt = Convert.FromBase64String("W22ZaJ0SNY7soEsUEjb6gQ==");
        var hash = Rfc2898DeriveBytes.Pbkdf2("pencil", salt, 4096, HashAlgorithmName.SHA256, 32);
        var credential = ScramKeys.FromSaltedPassword(HashAlgorithmName.SHA256, hash, salt, 4096);
        var server = new ScramServer(HashAlgorithmName.SHA256) { FixedServerNonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0" };
        server.ClientFirst("n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
        Assert.Equal("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", server.ServerFirst(credential));
        var final = server.ClientFinal("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
        Assert.Equal("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", final);
    }

    [Fact]
    public void Wrong_proof_fails_and_malformed_messages_are_refused()
    {
        var salt = RandomNumberGenerator.GetBytes(16);
        var credential = ScramKeys.FromSaltedPassword(HashAlgorithmName.SHA256, Rfc2898DeriveBytes.Pbkdf2("right", salt, 4096, HashAlgorithmName.SHA256, 32), salt, 4096);
        var server = new ScramServer(HashAlgorithmName.SHA256) { FixedServerNonce = "srv" };
        server.ClientFirst("n,,n=anna,r=abc");
        server.ServerFirst(credential);
        Assert.Null(server.ClientFinal("c=biws,r=abcsrv,p=" + Convert.ToBase64String(new byte[32])));
        Assert.Throws<FormatException>(() => new ScramServer(HashAlgorithmName.SHA256).ClientFirst("p=tls-unique,,n=anna,r=abc"));
        Assert.Throws<FormatException>(() => new ScramServer(HashAlgorithmName.SHA256).ClientFirst("n=anna,r=abc"));
        var other = new ScramServer(HashAlgorithmName.SHA256);
        other.ClientFirst("n,,n=anna,r=abc");
        other.ServerFirst(credential);
        Assert.Throws<FormatException>(() => other.ClientFinal("c=biws,r=wrongnonce,p=AAAA"));
        Assert.Equal("a,b=c", new ScramServer(HashAlgorithmName.SHA1).ClientFirst("n,,n=a=2Cb=3Dc,r=x"));
    }

    [Fact]
    public void Sha1_keys_are_derived_without_keeping_the_password()
    {
        var account = new Account("anna", ["user"], PasswordHasher.Hash("secret-pw", 4096)).WithScram("secret-pw");
        Assert.NotNull(account.ScramSha1);
        Assert.Equal(4096, account.ScramSha1!.Iterations);
        Assert.Equal(20, account.ScramSha1.StoredKey.Length);
        Assert.DoesNotContain("secret-pw", Encoding.UTF8.GetString(account.ScramSha1.StoredKey));
        var json = System.Text.Json.JsonSerializer.Serialize(account);
        var back = System.Text.Json.JsonSerializer.Deserialize<Account>(json)!;
        Assert.Equal(account.ScramSha1.StoredKey, back.ScramSha1!.StoredKey);
    }
}
