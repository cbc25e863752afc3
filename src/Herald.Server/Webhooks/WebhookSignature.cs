using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Herald.Server.Webhooks;

/// <summary>
/// The <c>Herald-Signature</c> header: <c>t=&lt;unix seconds&gt;,v1=&lt;hex HMAC-SHA256&gt;</c> over
/// <c>"&lt;t&gt;.&lt;body&gt;"</c>, keyed by the UTF-8 bytes of the webhook's secret.
/// </summary>
public static class WebhookSignature
{
    /// <summary>The header carrying the signature.</summary>
    public const string Header = "Herald-Signature";

    /// <summary>The header carrying the event id.</summary>
    public const string EventIdHeader = "Herald-Event-Id";

    /// <summary>Creates a new secret (shown once to its owner).</summary>
    public static string NewSecret() => "whsec_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    /// <summary>The hex HMAC of <c>"&lt;t&gt;.&lt;body&gt;"</c>.</summary>
    public static string Compute(string secret, long unixSeconds, string body)
    {
        var payload = Encoding.UTF8.GetBytes(unixSeconds.ToString(CultureInfo.InvariantCulture) + "." + body);
        return Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), payload));
    }

    /// <summary>The header value.</summary>
    public static string HeaderValue(string secret, long unixSeconds, string body) =>
        $"t={unixSeconds.ToString(CultureInfo.InvariantCulture)},v1={Compute(secret, unixSeconds, body)}";

    /// <summary>Checks a header value against <paramref name="body"/> (constant-time comparison).</summary>
    public static bool Verify(string secret, string? header, string body, out long unixSeconds)
    {
        unixSeconds = 0;
        string? t = null;
        var signatures = new List<string>();
        foreach (var part in (header ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var i = part.IndexOf('=', StringComparison.Ordinal);
            if (i <= 0)
            {
                continue;
            }
            var (k, v) = (part[..i], part[(i + 1)..]);
            if (k == "t")
            {
                t = v;
            }
            else if (k == "v1")
            {
                signatures.Add(v);
            }
        }
        if (t is null || !long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out unixSeconds))
        {
            return false;
        }
        var expected = Encoding.ASCII.GetBytes(Compute(secret, unixSeconds, body));
        return signatures.Any(s => CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(s)));
    }
}
