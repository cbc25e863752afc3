using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;

namespace Herald.Xmpp;

/// <summary>
/// XEP-0115 entity capabilities: the verification string (section 5.1), its check (section 5.4) and the gateway's
/// bounded cache of verified <c>ver</c> → features. A <c>ver</c> is trusted only after the disco#info answer it names
/// hashes to it, so a client cannot poison the cache for others.
/// </summary>
public static class Caps
{
    /// <summary>XEP-0030 disco#info.</summary>
    public static readonly XNamespace DiscoInfo = "http://jabber.org/protocol/disco#info";

    /// <summary>XEP-0004 data forms.</summary>
    public static readonly XNamespace DataForms = "jabber:x:data";

    /// <summary>
    /// The verification string S of a disco#info <c>query</c> (XEP-0115 section 5.1); null when the answer is
    /// ill-formed in the ways section 5.4 names (duplicate identities or features, a form without a hidden
    /// FORM_TYPE, two forms of the same FORM_TYPE).
    /// </summary>
    public static string? VerificationString(XElement query)
    {
        ArgumentNullException.ThrowIfNull(query);
        var sb = new StringBuilder();
        var identities = query.Elements(DiscoInfo + "identity")
            .Select(i => $"{(string?)i.Attribute("category")}/{(string?)i.Attribute("type")}/{(string?)i.Attribute(XNamespace.Xml + "lang")}/{(string?)i.Attribute("name")}")
            .ToList();
        var features = query.Elements(DiscoInfo + "feature").Select(f => (string?)f.Attribute("var") ?? "").ToList();
        if (identities.Count != identities.Distinct(StringComparer.Ordinal).Count() || features.Count != features.Distinct(StringComparer.Ordinal).Count())
        {
            return null;
        }
        foreach (var i in identities.Order(Octet.Instance))
        {
            sb.Append(i).Append('<');
        }
        foreach (var f in features.Order(Octet.Instance))
        {
            sb.Append(f).Append('<');
        }
        var forms = new List<(string FormType, XElement Form)>();
        foreach (var form in query.Elements(DataForms + "x"))
        {
            var formType = form.Elements(DataForms + "field").Where(f => (string?)f.Attribute("var") == "FORM_TYPE").ToList();
            if (formType.Count != 1 || (string?)formType[0].Attribute("type") != "hidden")
            {
                // Section 5.4: a form without a hidden FORM_TYPE is ignored (it does not take part in the string).
                continue;
            }
            forms.Add(((string?)formType[0].Element(DataForms + "value") ?? "", form));
        }
        if (forms.Count != forms.Select(f => f.FormType).Distinct(StringComparer.Ordinal).Count())
        {
            return null;
        }
        foreach (var (formType, form) in forms.OrderBy(f => f.FormType, Octet.Instance))
        {
            sb.Append(formType).Append('<');
            foreach (var field in form.Elements(DataForms + "field").Where(f => (string?)f.Attribute("var") is { } v && v != "FORM_TYPE")
                .OrderBy(f => (string)f.Attribute("var")!, Octet.Instance))
            {
                sb.Append((string)field.Attribute("var")!).Append('<');
                foreach (var value in field.Elements(DataForms + "value").Select(v => v.Value).Order(Octet.Instance))
                {
                    sb.Append(value).Append('<');
                }
            }
        }
        return sb.ToString();
    }

    /// <summary>The <c>ver</c> of a disco#info answer for hash <paramref name="hash"/> (<c>sha-1</c> or <c>sha-256</c>); null when unsupported or ill-formed.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA5350", Justification = "XEP-0115 names SHA-1 for the ver string; it identifies client software, it protects nothing.")]
    public static string? Ver(XElement query, string? hash)
    {
        if (VerificationString(query) is not { } s)
        {
            return null;
        }
        var bytes = Encoding.UTF8.GetBytes(s);
        return hash switch
        {
            "sha-1" => Convert.ToBase64String(SHA1.HashData(bytes)),
            "sha-256" => Convert.ToBase64String(SHA256.HashData(bytes)),
            _ => null,
        };
    }

    /// <summary>True when Herald can verify caps of this hash algorithm.</summary>
    public static bool Supported(string? hash) => hash is "sha-1" or "sha-256";

    /// <summary>"i;octet" collation (RFC 4790): compares the UTF-8 bytes.</summary>
    private sealed class Octet : IComparer<string>
    {
        public static readonly Octet Instance = new();

        public int Compare(string? x, string? y) =>
            Encoding.UTF8.GetBytes(x ?? "").AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(y ?? ""));
    }
}

/// <summary>
/// The gateway's cache of verified capabilities: (hash, ver) → the features of that client software. Bounded: at
/// most <c>capacity</c> entries; when full the oldest entry is dropped (a dropped ver is simply queried again).
/// </summary>
public sealed class CapsCache(int capacity)
{
    private readonly ConcurrentDictionary<string, IReadOnlySet<string>> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _order = new();
    private readonly Lock _lock = new();

    /// <summary>Entries held.</summary>
    public int Count => _entries.Count;

    /// <summary>Disco#info queries sent because a ver was not known (for tests and diagnostics).</summary>
    public long Queries => Interlocked.Read(ref _queries);

    private long _queries;

    internal void CountQuery() => Interlocked.Increment(ref _queries);

    /// <summary>The features of a verified ver, or null.</summary>
    public IReadOnlySet<string>? Get(string hash, string ver) => _entries.TryGetValue(hash + " " + ver, out var f) ? f : null;

    /// <summary>Adds a verified ver.</summary>
    public void Add(string hash, string ver, IReadOnlySet<string> features)
    {
        var key = hash + " " + ver;
        lock (_lock)
        {
            if (!_entries.TryAdd(key, features))
            {
                return;
            }
            _order.Enqueue(key);
            while (_entries.Count > Math.Max(1, capacity) && _order.TryDequeue(out var oldest))
            {
                _entries.TryRemove(oldest, out _);
            }
        }
    }
}
