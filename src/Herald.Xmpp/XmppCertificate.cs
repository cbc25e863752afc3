using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Herald.Xmpp;

/// <summary>The TLS certificate of the gateway: a configured PKCS#12 file, or a self-signed one kept in the data directory.</summary>
public static class XmppCertificate
{
    /// <summary>File name of the generated certificate inside the data directory.</summary>
    public const string GeneratedFileName = "xmpp-selfsigned.pfx";

    /// <summary>Loads the configured certificate or loads/creates the self-signed one for <paramref name="domain"/>.</summary>
    public static X509Certificate2 Load(XmppOptions options, string dataDirectory, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!string.IsNullOrEmpty(options.CertificatePath))
        {
            return X509CertificateLoader.LoadPkcs12FromFile(options.CertificatePath, options.CertificatePassword);
        }
        var path = Path.Combine(dataDirectory, GeneratedFileName);
        if (File.Exists(path))
        {
            var existing = X509CertificateLoader.LoadPkcs12FromFile(path, null);
            if (existing.NotAfter > time.GetUtcNow().UtcDateTime.AddDays(7) && existing.GetNameInfo(X509NameType.DnsName, false) == options.Domain)
            {
                return existing;
            }
            existing.Dispose();
        }
        var pfx = CreateSelfSigned(options.Domain, time.GetUtcNow());
        Directory.CreateDirectory(dataDirectory);
        var tmp = path + ".tmp";
        File.WriteAllBytes(tmp, pfx);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(tmp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        File.Move(tmp, path, overwrite: true);
        return X509CertificateLoader.LoadPkcs12(pfx, null);
    }

    /// <summary>A PKCS#12 blob with a new self-signed RSA-2048 certificate for <paramref name="domain"/>, valid one year.</summary>
    public static byte[] CreateSelfSigned(string domain, DateTimeOffset now)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={domain}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(domain);
        if (domain != "localhost")
        {
            san.AddDnsName("localhost");
        }
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        using var cert = request.CreateSelfSigned(now.AddDays(-1), now.AddYears(1));
        return cert.Export(X509ContentType.Pkcs12);
    }
}
