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
    /// (Away/BeRightBack → away, OffWork → xa, Busy/DoNotDisturb → dnd), the note as <c>status</c>, the activity
    /// (XEP-0108), the location at the disclosed precision (XEP-0080), idle since (XEP-0319, from the
    /// disclosed devices), and <c>&lt;herald availability= seq=/&gt;</c> with the exact availability.
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
            if (view.Activity is { } activity)
            {
                var info = Activities.Info(activity);
                p.Add(new XElement(Ns.Activity + "activity",
                    new XElement(Ns.Activity + info.Xep0108General, new XElement(Ns.Activity + info.Xep0108Specific)),
                    new XElement(Ns.Activity + "text", activity.ToString())));
            }
            if (view.Location is { } location && Geoloc(location) is { } geoloc)
            {
                p.Add(geoloc);
            }
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
