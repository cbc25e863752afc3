using System.Globalization;
using System.Xml.Linq;
using Herald.Core.Model;
using Herald.Core.Privacy;

namespace Herald.Xmpp;

/// <summary>XML namespaces the gateway uses.</summary>
public static class Ns
{
    /// <summary>jabber:client.</summary>
    public static readonly XNamespace Client = StreamParser.ClientNs;
    /// <summary>Streams.</summary>
    public static readonly XNamespace Streams = StreamParser.StreamsNs;
    /// <summary>XEP-0108 user activity.</summary>
    public static readonly XNamespace Activity = "http://jabber.org/protocol/activity";
    /// <summary>XEP-0080 user location.</summary>
    public static readonly XNamespace Geoloc = "http://jabber.org/protocol/geoloc";
    /// <summary>XEP-0319 last user interaction in presence.</summary>
    public static readonly XNamespace Idle = "urn:xmpp:idle:1";
    /// <summary>XEP-0115 entity capabilities.</summary>
    public static readonly XNamespace Caps = "http://jabber.org/protocol/caps";
    /// <summary>Herald's own presence extension: the exact availability and sequence.</summary>
    public static readonly XNamespace Herald = "urn:herald:presence:0";
    /// <summary>Stanza errors.</summary>
    public static readonly XNamespace Stanzas = "urn:ietf:params:xml:ns:xmpp-stanzas";
    /// <summary>Roster.</summary>
    public static readonly XNamespace Roster = "jabber:iq:roster";
    /// <summary>XEP-0060 publish-subscribe (PEP requests).</summary>
    public static readonly XNamespace PubSub = "http://jabber.org/protocol/pubsub";
    /// <summary>XEP-0060 event notifications.</summary>
    public static readonly XNamespace PubSubEvent = "http://jabber.org/protocol/pubsub#event";
    /// <summary>XEP-0060 application-specific error conditions.</summary>
    public static readonly XNamespace PubSubErrors = "http://jabber.org/protocol/pubsub#errors";
}

/// <summary>
/// Renders Herald presence views as XMPP presence stanzas. Pure: the same view always gives the same stanza, and
/// the stanza carries nothing that is not in the view (the view is already filtered for its watcher).
/// </summary>
public static class XmppRendering
{
    /// <summary>The resource under which a person's aggregated presence is shown to others.</summary>
    public const string PersonResource = "herald";

    /// <summary>
    /// The presence a watcher receives for <paramref name="view"/>: <c>unavailable</c> when the view is Offline or
    /// Unknown (a polite block or "nothing" looks exactly like that), otherwise available with <c>show</c>
    /// (Away/BeRightBack → away, OffWork → xa, Busy/DoNotDisturb → dnd), the note as <c>status</c>, idle since
    /// (XEP-0319, from the disclosed devices), and <c>&lt;herald availability= seq=/&gt;</c> with the exact
    /// availability. Activity and location are not part of presence: they go out as PEP notifications
    /// (<see cref="PepPayload"/>, <see cref="PepEvent"/>).
    /// </summary>
    public static XElement Presence(PresenceView view, string domain, string? to = null)
    {
        ArgumentNullException.ThrowIfNull(view);
        var p = new XElement(Ns.Client + "presence", new XAttribute("from", $"{view.UserId}@{domain}/{PersonResource}"));
        if (to is not null)
        {
            p.Add(new XAttribute("to", to));
        }
        var available = view.Availability is not (Availability.Offline or Availability.Unknown);
        if (!available)
        {
            p.Add(new XAttribute("type", "unavailable"));
        }
        else if (Show(view.Availability) is { } show)
        {
            p.Add(new XElement(Ns.Client + "show", show));
        }
        if (!string.IsNullOrEmpty(view.Note))
        {
            p.Add(new XElement(Ns.Client + "status", view.Note));
        }
        if (available)
        {
            var idle = view.Devices?.Where(d => d.Idle && d.IdleSince is not null).Select(d => d.IdleSince!.Value).DefaultIfEmpty().Min();
            if (idle is { } since && since != default && view.Devices!.All(d => d.Idle))
            {
                p.Add(new XElement(Ns.Idle + "idle", new XAttribute("since", Timestamp(since))));
            }
        }
        p.Add(new XElement(Ns.Herald + "herald", new XAttribute("availability", view.Availability.ToString()),
            new XAttribute("seq", view.Sequence.ToString(CultureInfo.InvariantCulture))));
        return p;
    }

    /// <summary>The PEP node of user location (XEP-0080).</summary>
    public const string GeolocNode = "http://jabber.org/protocol/geoloc";

    /// <summary>The PEP node of user activity (XEP-0108).</summary>
    public const string ActivityNode = "http://jabber.org/protocol/activity";

    /// <summary>The PEP nodes Herald serves, in the order notifications are sent.</summary>
    public static readonly IReadOnlyList<string> PepNodes = [GeolocNode, ActivityNode];

    /// <summary>The item id of the one item Herald keeps per node (the current value).</summary>
    public const string PepItemId = "current";

    /// <summary>
    /// The payload of <paramref name="node"/> for a view: the geoloc at exactly the disclosed precision, or the
    /// activity; null when the view discloses none (or the person is shown offline). Pure, like <see cref="Presence"/>.
    /// </summary>
    public static XElement? PepPayload(PresenceView view, string node)
    {
        ArgumentNullException.ThrowIfNull(view);
        if (view.Availability is Availability.Offline or Availability.Unknown)
        {
            return null;
        }
        return node switch
        {
            GeolocNode => view.Location is { } location ? Geoloc(location) : null,
            ActivityNode => view.Activity is { } activity ? ActivityElement(activity) : null,
            _ => null,
        };
    }

    /// <summary>
    /// A PEP event notification (XEP-0163 section 4.3): a headline message from the person's bare JID with the
    /// one current item of <paramref name="node"/>; a null payload gives the empty element (XEP-0080/XEP-0108:
    /// "no longer published").
    /// </summary>
    public static XElement PepEvent(string userId, string domain, string to, string node, XElement? payload)
    {
        var content = payload ?? new XElement((XNamespace)node + (node == ActivityNode ? "activity" : "geoloc"));
        return new XElement(Ns.Client + "message", new XAttribute("from", $"{userId}@{domain}"), new XAttribute("to", to), new XAttribute("type", "headline"),
            new XElement(Ns.PubSubEvent + "event",
                new XElement(Ns.PubSubEvent + "items", new XAttribute("node", node),
                    new XElement(Ns.PubSubEvent + "item", new XAttribute("id", PepItemId), content))));
    }

    /// <summary>XEP-0108 element of an activity: general/specific from the activity table, <c>text</c> = Herald's name.</summary>
    public static XElement ActivityElement(Activity activity)
    {
        var info = Activities.Info(activity);
        return new XElement(Ns.Activity + "activity",
            new XElement(Ns.Activity + info.Xep0108General, new XElement(Ns.Activity + info.Xep0108Specific)),
            new XElement(Ns.Activity + "text", activity.ToString()));
    }

    /// <summary>
    /// The Herald activity a published XEP-0108 element means: exact general/specific match (the <c>text</c>
    /// naming a Herald activity of that pair decides between equal pairs), else the general category alone
    /// (talking → InACall, working → Focusing, inactive → Inactive, traveling → Commuting). Null with
    /// <paramref name="cleared"/> for the empty element; null otherwise when nothing fits.
    /// </summary>
    public static Activity? ParseActivity(XElement activity, out bool cleared)
    {
        ArgumentNullException.ThrowIfNull(activity);
        var general = activity.Elements().FirstOrDefault(e => e.Name.Namespace == Ns.Activity && e.Name.LocalName != "text");
        cleared = general is null;
        if (general is null)
        {
            return null;
        }
        var specific = general.Elements().FirstOrDefault(e => e.Name.Namespace == Ns.Activity)?.Name.LocalName;
        var text = activity.Element(Ns.Activity + "text")?.Value.Trim();
        var all = Enum.GetValues<Activity>();
        var exact = all.Where(a => Activities.Info(a).Xep0108General == general.Name.LocalName && Activities.Info(a).Xep0108Specific == specific).ToList();
        if (exact.Count > 0)
        {
            return exact.FirstOrDefault(a => string.Equals(a.ToString(), text, StringComparison.OrdinalIgnoreCase), exact.OrderBy(a => Activities.Info(a).Strength).First());
        }
        return general.Name.LocalName switch
        {
            "talking" => Activity.InACall,
            "working" => Activity.Focusing,
            "inactive" => Activity.Inactive,
            "traveling" => Activity.Commuting,
            _ => null,
        };
    }

    /// <summary>
    /// The Herald location a published XEP-0080 element means (country, locality, building, floor, room, lat, lon,
    /// text, timestamp; other fields are ignored). Null with <paramref name="cleared"/> for the empty element.
    /// Throws <see cref="FormatException"/> for a bad lat/lon/timestamp or a text longer than 200 characters.
    /// </summary>
    public static Location? ParseGeoloc(XElement geoloc, out bool cleared)
    {
        ArgumentNullException.ThrowIfNull(geoloc);
        string? Text(string name, int max = 200)
        {
            var v = geoloc.Element(Ns.Geoloc + name)?.Value.Trim();
            if (v is { Length: > 0 } && v.Length > max)
            {
                throw new FormatException($"{name} is longer than {max} characters");
            }
            return string.IsNullOrEmpty(v) ? null : v;
        }
        double? Number(string name, double limit)
        {
            var v = Text(name, 40);
            if (v is null)
            {
                return null;
            }
            if (!double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) || !double.IsFinite(d) || Math.Abs(d) > limit)
            {
                throw new FormatException($"{name} must be a decimal number within ±{limit}");
            }
            return d;
        }
        DateTimeOffset? at = null;
        if (Text("timestamp", 64) is { } ts)
        {
            at = DateTimeOffset.TryParse(ts, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t.ToUniversalTime() : throw new FormatException("timestamp must be an XEP-0082 date-time");
        }
        var location = new Location(Text("country"), Text("locality"), Text("building"), Text("floor"), Text("room"), Number("lat", 90), Number("lon", 180), Text("text"), at);
        cleared = !geoloc.HasElements;
        if (location == new Location() || location == new Location(At: at))
        {
            return null;
        }
        return location;
    }

    /// <summary>The <c>show</c> value of an availability; null for Available (no show = online).</summary>
    public static string? Show(Availability availability) => availability switch
    {
        Availability.Away or Availability.BeRightBack => "away",
        Availability.OffWork => "xa",
        Availability.Busy or Availability.DoNotDisturb => "dnd",
        _ => null,
    };

    /// <summary>The device availability a client's <c>show</c> reports (absent or <c>chat</c> = Available).</summary>
    public static Availability FromShow(string? show) => show switch
    {
        "away" => Availability.Away,
        "xa" => Availability.Away,
        "dnd" => Availability.DoNotDisturb,
        _ => Availability.Available,
    };

    /// <summary>XEP-0080 element with exactly the disclosed location fields; null when nothing is disclosed.</summary>
    public static XElement? Geoloc(Location location)
    {
        ArgumentNullException.ThrowIfNull(location);
        var g = new XElement(Ns.Geoloc + "geoloc");
        void Add(string name, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                g.Add(new XElement(Ns.Geoloc + name, value));
            }
        }
        Add("country", location.Country);
        Add("locality", location.City);
        Add("building", location.Building);
        Add("floor", location.Floor);
        Add("room", location.Room);
        Add("lat", location.Latitude?.ToString("R", CultureInfo.InvariantCulture));
        Add("lon", location.Longitude?.ToString("R", CultureInfo.InvariantCulture));
        Add("text", location.Text);
        if (location.At is { } at)
        {
            Add("timestamp", Timestamp(at));
        }
        return g.HasElements ? g : null;
    }

    /// <summary>XEP-0082 date-time in UTC.</summary>
    public static string Timestamp(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
