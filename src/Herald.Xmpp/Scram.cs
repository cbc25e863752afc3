using System.Security.Cryptography;
using System.Text;
using Herald.Cluster.Directory;

namespace Herald.Xmpp;

/// <summary>
/// The server side of one SCRAM exchange (RFC 5802; SCRAM-SHA-256 is RFC 7677), without channel binding (the
/// -PLUS variants are not offered, so a client may send <c>n</c> or <c>y</c>). Pure: the caller looks up the
/// credential between <see cref="ClientFirst"/> and <see cref="ServerFirst"/>.
/// </summary>
public sealed class ScramServer
{
    private readonly HashAlgorithmName _hash;
    private string? _clientFirstBare;
    private string? _serverFirst;
    private string? _nonce;
    private string? _gs2Header;
    private ScramCredential? _credential;

    /// <summary>Creates an exchange for SHA-1 or SHA-256.</summary>
    public ScramServer(HashAlgorithmName hash) => _hash = hash;

    /// <summary>A fixed server nonce part (test vectors only); random when null.</summary>
    internal string? FixedServerNonce { get; init; }

    /// <summary>The user name the client asked for (after <see cref="ClientFirst"/>).</summary>
    public string? UserName { get; private set; }

    /// <summary>Parses the client-first-message; returns the user name. Throws <see cref="FormatException"/> when malformed.</summary>
    public string ClientFirst(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        // gs2-header: cbind-flag "," [authzid] ","
        var first = message.IndexOf(',', StringComparison.Ordinal);
        var second = first < 0 ? -1 : message.IndexOf(',', first + 1);
        if (first < 0 || second < 0)
        {
            throw new FormatException("missing GS2 header");
        }
        var flag = message[..first];
        if (flag is not ("n" or "y"))
        {
            throw new FormatException("channel binding is not supported");
        }
        var authzid = message[(first + 1)..second];
        _gs2Header = message[..(second + 1)];
        _clientFirstBare = message[(second + 1)..];
        var attrs = Attributes(_clientFirstBare);
        if (attrs.Count < 2 || attrs[0].Key != 'n' || attrs[1].Key != 'r' || attrs[1].Value.Length == 0)
        {
            throw new FormatException("expected n=...,r=...");
        }
        if (_clientFirstBare.StartsWith("m=", StringComparison.Ordinal))
        {
            throw new FormatException("mandatory extensions are not supported");
        }
        var user = DecodeName(attrs[0].Value);
        if (authzid.Length > 0 && (!authzid.StartsWith("a=", StringComparison.Ordinal) || DecodeName(authzid[2..]) != user))
        {
            throw new FormatException("authorization identity must be empty or the user itself");
        }
        _nonce = attrs[1].Value + (FixedServerNonce ?? Convert.ToBase64String(RandomNumberGenerator.GetBytes(18)));
        UserName = user;
        return user;
    }

    /// <summary>The server-first-message for <paramref name="credential"/> (a decoy for unknown users).</summary>
    public string ServerFirst(ScramCredential credential)
    {
        ArgumentNullException.ThrowIfNull(credential);
        _credential = credential;
        _serverFirst = $"r={_nonce},s={Convert.ToBase64String(credential.Salt)},i={credential.Iterations}";
        return _serverFirst;
    }

    /// <summary>
    /// Checks the client-final-message; returns the server-final-message (<c>v=...</c>) on success, null when the
    /// proof is wrong. Throws <see cref="FormatException"/> when malformed.
    /// </summary>
    public string? ClientFinal(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (_credential is null || _serverFirst is null)
        {
            throw new FormatException("out of order");
        }
        var proofAt = message.LastIndexOf(",p=", StringComparison.Ordinal);
        if (proofAt < 0)
        {
            throw new FormatException("missing proof");
        }
        var withoutProof = message[..proofAt];
        var attrs = Attributes(withoutProof);
        if (attrs.Count < 2 || attrs[0].Key != 'c' || attrs[1].Key != 'r')
        {
            throw new FormatException("expected c=...,r=...");
        }
        if (attrs[0].Value != Convert.ToBase64String(Encoding.UTF8.GetBytes(_gs2Header!)))
        {
            throw new FormatException("channel binding data does not match");
        }
        if (attrs[1].Value != _nonce)
        {
            throw new FormatException("nonce does not match");
        }
        byte[] proof;
        try
        {
            proof = Convert.FromBase64String(message[(proofAt + 3)..]);
        }
        catch (FormatException)
        {
            throw new FormatException("bad proof encoding");
        }
        var authMessage = Encoding.UTF8.GetBytes($"{_clientFirstBare},{_serverFirst},{withoutProof}");
        var signature = CryptographicOperations.HmacData(_hash, _credential.StoredKey, authMessage);
        if (proof.Length != signature.Length)
        {
            return null;
        }
        var clientKey = new byte[proof.Length];
        for (var i = 0; i < proof.Length; i++)
        {
            clientKey[i] = (byte)(proof[i] ^ signature[i]);
        }
        if (!CryptographicOperations.FixedTimeEquals(CryptographicOperations.HashData(_hash, clientKey), _credential.StoredKey))
        {
            return null;
        }
        return "v=" + Convert.ToBase64String(CryptographicOperations.HmacData(_hash, _credential.ServerKey, authMessage));
    }

    /// <summary>A stable decoy credential for an unknown user, so the exchange looks the same as for a real one.</summary>
    public static ScramCredential Decoy(HashAlgorithmName hash, string userName, byte[] secret, int iterations)
    {
        var salt = CryptographicOperations.HmacData(HashAlgorithmName.SHA256, secret, Encoding.UTF8.GetBytes(userName))[..16];
        var size = hash == HashAlgorithmName.SHA1 ? 20 : 32;
        return new ScramCredential(iterations, salt, RandomNumberGenerator.GetBytes(size), RandomNumberGenerator.GetBytes(size));
    }

    private static List<KeyValuePair<char, string>> Attributes(string s)
    {
        var list = new List<KeyValuePair<char, string>>();
        foreach (var part in s.Split(','))
        {
            if (part.Length < 2 || part[1] != '=')
            {
                throw new FormatException("bad attribute");
            }
            list.Add(new(part[0], part[2..]));
        }
        return list;
    }

    private static string DecodeName(string s)
    {
        if (s.Contains('=', StringComparison.Ordinal))
        {
            var sb = new StringBuilder(s.Length);
            for (var i = 0; i < s.Length; i++)
            {
                if (s[i] != '=')
                {
                    sb.Append(s[i]);
                }
                else if (i + 2 < s.Length && s.Substring(i, 3) == "=2C")
                {
                    sb.Append(',');
                    i += 2;
                }
                else if (i + 2 < s.Length && s.Substring(i, 3) == "=3D")
                {
                    sb.Append('=');
                    i += 2;
                }
                else
                {
                    throw new FormatException("bad name encoding");
                }
            }
            return sb.ToString();
        }
        return s;
    }
}
