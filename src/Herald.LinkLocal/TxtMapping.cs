using System.Globalization;
using System.Net;
using System.Text;
using Herald.Core.Model;
using Herald.Core.Privacy;
using Herald.LinkLocal.Dns;

namespace Herald.LinkLocal;

/// <summary>A peer seen on the link.</summary>
/// <param name="Instance">The service instance label, e.g. "alice@laptop" (XEP-0174 §3).</param>
/// <param name="Nick">The nick, else the instance.</param>
/// <param name="First">Given name, if announced.</param>
/// <param name="Last">Family name, if announced.</param>
/// <param name="Availability">Herald availability (from <c>herald.avail</c>, else mapped from <c>status</c>).</param>
/// <param name="Status">The XEP-0174 status value as announced (avail, away, dnd), or null.</param>
/// <param name="Note">The <c>msg</c> field, if announced.</param>
/// <param name="Back">When the peer says its status ends (<c>herald.back</c>), if announced.</param>
/// <param name="Host">The SRV target host.</param>
/// <param name="Port">The SRV port (the direct XMPP stream).</param>
/// <param name="Address">The host's IPv4 address, once known.</param>
/// <param name="IsHerald">True when the peer announces Herald's fields.</param>
public sealed record LinkPeer(
    string Instance, string Nick, string? First, string? Last, Availability Availability, string? Status, string? Note,
    DateTimeOffset? Back, string? Host, int Port, IPAddress? Address, bool IsHerald);

/// <summary>XEP-0174 TXT record fields (registry of link-local TXT parameters) to and from Herald presence.</summary>
public static class TxtMapping
{
    /// <summary>Largest byte length of one TXT key=value string (RFC 6763 §6.1).</summary>
    public const int MaxStringBytes = 255;

    /// <summary>Most TXT strings read from one record.</summary>
    public const int MaxStrings = 64;

    /// <summary>The XEP-0174 status for a Herald availability; null when not disclosed.</summary>
    public static string? StatusOf(Availability a) => a switch
    {
        Availability.Available => "avail",
        Availability.Busy or Availability.DoNotDisturb => "dnd",
        Availability.Unknown => null,
        _ => "away", // Away, BeRightBack, OffWork, Offline
    };

    /// <summary>The Herald availability for a XEP-0174 status (absent = avail, as XEP-0174 readers assume).</summary>
    public static Availability AvailabilityOf(string? status) => status?.ToLowerInvariant() switch
    {
        null or "avail" => Availability.Available,
        "dnd" => Availability.DoNotDisturb,
        "away" => Availability.Away,
        _ => Availability.Unknown,
    };

    /// <summary>
    /// The TXT strings for the link audience's <paramref name="view"/> (see <see cref="LinkDisclosure.View"/>):
    /// txtvers, port.p2pj, nick, status and herald.avail (only when availability is disclosed), msg and herald.back
    /// (only when the note is disclosed). Nothing else about the user is announced.
    /// </summary>
    public static TxtData ToTxt(PresenceView view, string nick, int port)
    {
        ArgumentNullException.ThrowIfNull(view);
        var pairs = new List<(string, string)> { ("txtvers", "1"), ("port.p2pj", port.ToString(CultureInfo.InvariantCulture)), ("nick", nick) };
        if (StatusOf(view.Availability) is { } s)
        {
            pairs.Add(("status", s));
            pairs.Add(("herald.avail", view.Availability.ToString()));
        }
        if (!string.IsNullOrEmpty(view.Note))
        {
            pairs.Add(("msg", view.Note));
            if (view.NoteUntil is { } b)
            {
                pairs.Add(("herald.back", b.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)));
            }
        }
        return new TxtData(pairs.Select(p => Pair(p.Item1, p.Item2)).ToList());
    }

    /// <summary>key=value as UTF-8, the value cut at a character boundary to fit 255 bytes.</summary>
    public static byte[] Pair(string key, string value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        var s = key + "=" + value;
        while (Encoding.UTF8.GetByteCount(s) > MaxStringBytes)
        {
            s = s[..^(char.IsLowSurrogate(s[^1]) ? 2 : 1)];
        }
        return Encoding.UTF8.GetBytes(s);
    }

    /// <summary>
    /// The key/value pairs of a TXT record: keys case-insensitive, the first occurrence wins, a key without '='
    /// maps to "" (RFC 6763 §6.4–6.5); at most <see cref="MaxStrings"/> strings are read; invalid UTF-8 is replaced.
    /// </summary>
    public static Dictionary<string, string> Parse(TxtData txt)
    {
        ArgumentNullException.ThrowIfNull(txt);
        var d = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var raw in txt.Strings.Take(MaxStrings))
        {
            if (raw.Length == 0 || raw[0] == (byte)'=')
            {
                continue;
            }
            var s = Encoding.UTF8.GetString(raw);
            var eq = s.IndexOf('=', StringComparison.Ordinal);
            var (k, v) = eq < 0 ? (s, "") : (s[..eq], s[(eq + 1)..]);
            d.TryAdd(k, v);
        }
        return d;
    }

    /// <summary>A peer from its instance label, TXT fields and SRV/A data.</summary>
    public static LinkPeer PeerOf(string instance, IReadOnlyDictionary<string, string> txt, SrvData? srv, IPAddress? address)
    {
        ArgumentNullException.ThrowIfNull(txt);
        var status = txt.TryGetValue("status", out var st) ? st : null;
        var heraldAvail = txt.TryGetValue("herald.avail", out var ha) && Enum.TryParse<Availability>(ha, true, out var parsed)
            && Enum.IsDefined(parsed) && !int.TryParse(ha, out _) ? parsed : (Availability?)null;
        var back = txt.TryGetValue("herald.back", out var hb)
            && DateTimeOffset.TryParse(hb, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var b) ? b : (DateTimeOffset?)null;
        string? Get(string k) => txt.TryGetValue(k, out var v) && v.Length > 0 ? v : null;
        var port = srv?.Port ?? (int.TryParse(Get("port.p2pj"), NumberStyles.None, CultureInfo.InvariantCulture, out var p) ? p : 0);
        return new LinkPeer(instance, Get("nick") ?? instance, Get("1st"), Get("last"), heraldAvail ?? AvailabilityOf(status),
            status, Get("msg"), back, srv?.Target, port, address, heraldAvail is not null);
    }
}
