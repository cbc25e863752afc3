using System.Globalization;
using System.Text;
using System.Xml;
using Herald.Core.Model;
using Herald.Core.Privacy;

namespace Herald.Core.Formats;

/// <summary>
/// Renders a <see cref="PresenceView"/> — already filtered by <see cref="DisclosurePolicy"/> — as a PIDF document
/// (RFC 3863) using the data model of RFC 4479 (one <c>dm:person</c>, one <c>tuple</c> per disclosed contact
/// method or a single presence tuple, one <c>dm:device</c> per disclosed device), RPID (RFC 4480) activities and
/// user input, and a GEOPRIV civic address (RFC 4119 / RFC 5139) at the disclosed precision. It writes only what the
/// view holds, so a watcher's PIDF never says more than that watcher's JSON view. Herald's own availability (which
/// PIDF cannot express exactly) is carried in an extension element <c>h:availability</c>.
/// </summary>
public static class PidfWriter
{
    /// <summary>The media type.</summary>
    public const string MediaType = "application/pidf+xml";

    /// <summary>PIDF namespace.</summary>
    public const string PidfNs = "urn:ietf:params:xml:ns:pidf";

    /// <summary>RFC 4479 data-model namespace.</summary>
    public const string DataModelNs = "urn:ietf:params:xml:ns:pidf:data-model";

    /// <summary>RPID namespace.</summary>
    public const string RpidNs = "urn:ietf:params:xml:ns:pidf:rpid";

    /// <summary>GEOPRIV namespace.</summary>
    public const string GeoprivNs = "urn:ietf:params:xml:ns:pidf:geopriv10";

    /// <summary>Civic address namespace.</summary>
    public const string CivicNs = "urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr";

    /// <summary>GML namespace (geodetic point).</summary>
    public const string GmlNs = "http://www.opengis.net/gml";

    /// <summary>Herald's extension namespace.</summary>
    public const string HeraldNs = "urn:x-herald:presence:1";

    /// <summary>True when <paramref name="availability"/> means "able to accept communication" (PIDF basic <c>open</c>).</summary>
    public static bool IsOpen(Availability availability) =>
        availability is Availability.Available or Availability.Away or Availability.BeRightBack or Availability.Busy or Availability.DoNotDisturb;

    /// <summary>The RPID activity for a view: its activity's RPID name, else one implied by the availability, else null.</summary>
    public static string? RpidActivity(Activity? activity, Availability availability) =>
        activity is { } a ? Activities.Info(a).Rpid : availability switch
        {
            Availability.Away or Availability.BeRightBack => "away",
            Availability.Busy or Availability.DoNotDisturb => "busy",
            _ => null,
        };

    /// <summary>A contact method as a URI for a PIDF <c>contact</c> element.</summary>
    public static string ContactUri(ContactMethod method)
    {
        ArgumentNullException.ThrowIfNull(method);
        var a = method.Address.Trim();
        if (a.Contains(':', StringComparison.Ordinal) && !a.StartsWith('+'))
        {
            return a; // already a URI (sip:, https:, xmpp:, …)
        }
        return method.Kind switch
        {
            ContactKind.WorkPhone or ContactKind.Mobile or ContactKind.HomePhone => "tel:" + new string([.. a.Where(c => char.IsAsciiDigit(c) || c == '+')]),
            ContactKind.Email => "mailto:" + a,
            ContactKind.Chat => "xmpp:" + a,
            ContactKind.Sip => "sip:" + a,
            _ => a,
        };
    }

    /// <summary>Renders <paramref name="view"/> for the presentity <c>pres:{userId}@{domain}</c>.</summary>
    public static string Write(PresenceView view, string domain, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(view);
        ArgumentException.ThrowIfNullOrEmpty(domain);
        var sb = new StringBuilder(1024);
        var settings = new XmlWriterSettings { Encoding = new UTF8Encoding(false), Indent = true, OmitXmlDeclaration = false };
        using (var w = XmlWriter.Create(new StringWriterUtf8(sb), settings))
        {
            var stamp = Time(now);
            var basic = IsOpen(view.Availability) ? "open" : "closed";
            w.WriteStartDocument();
            w.WriteStartElement("presence", PidfNs);
            w.WriteAttributeString("xmlns", "dm", null, DataModelNs);
            w.WriteAttributeString("xmlns", "rpid", null, RpidNs);
            w.WriteAttributeString("xmlns", "gp", null, GeoprivNs);
            w.WriteAttributeString("xmlns", "h", null, HeraldNs);
            w.WriteAttributeString("entity", $"pres:{view.UserId}@{domain}");

            var contacts = view.ContactMethods ?? [];
            if (contacts.Count == 0)
            {
                WriteTuple(w, "t-presence", basic, null, view, stamp);
            }
            else
            {
                for (var i = 0; i < contacts.Count; i++)
                {
                    WriteTuple(w, $"t-{contacts[i].Kind.ToString().ToLowerInvariant()}-{i}", basic, contacts[i], i == 0 ? view : null, stamp);
                }
            }

            w.WriteStartElement("dm", "person", DataModelNs);
            w.WriteAttributeString("id", "p-" + IdSafe(view.UserId));
            if (RpidActivity(view.Activity, view.Availability) is { } rpid)
            {
                w.WriteStartElement("rpid", "activities", RpidNs);
                w.WriteStartElement("rpid", rpid, RpidNs);
                w.WriteEndElement();
                w.WriteEndElement();
            }
            if (view.Calendar is { } slot)
            {
                w.WriteStartElement("rpid", "activities", RpidNs);
                w.WriteAttributeString("from", Time(slot.Start));
                w.WriteAttributeString("until", Time(slot.End));
                w.WriteStartElement("rpid", Activities.Info(slot.Activity).Rpid, RpidNs);
                w.WriteEndElement();
                w.WriteEndElement();
            }
            if (view.LastSeen is { } seen)
            {
                w.WriteStartElement("rpid", "user-input", RpidNs);
                w.WriteAttributeString("last-input", Time(seen));
                w.WriteString("idle");
                w.WriteEndElement();
            }
            if (view.Note is { } note)
            {
                w.WriteElementString("dm", "note", DataModelNs, note);
            }
            w.WriteElementString("h", "availability", HeraldNs, view.Availability.ToString());
            if (view.NoteUntil is { } until && view.Note is not null)
            {
                w.WriteElementString("h", "note-until", HeraldNs, Time(until));
            }
            if (view.Calendar is { Subject: { } subject })
            {
                w.WriteElementString("h", "calendar-subject", HeraldNs, subject);
            }
            w.WriteElementString("dm", "timestamp", DataModelNs, stamp);
            w.WriteEndElement(); // person

            foreach (var d in view.Devices ?? [])
            {
                w.WriteStartElement("dm", "device", DataModelNs);
                w.WriteAttributeString("id", "d-" + IdSafe(d.DeviceId));
                w.WriteStartElement("rpid", "user-input", RpidNs);
                if (d.IdleSince is { } idleSince)
                {
                    w.WriteAttributeString("last-input", Time(idleSince));
                }
                w.WriteString(d.Idle ? "idle" : "active");
                w.WriteEndElement();
                w.WriteElementString("dm", "deviceID", DataModelNs, "urn:x-herald:device:" + Uri.EscapeDataString(d.DeviceId));
                w.WriteElementString("dm", "timestamp", DataModelNs, stamp);
                w.WriteEndElement();
            }
            w.WriteEndElement(); // presence
            w.WriteEndDocument();
        }
        return sb.ToString();
    }

    private static void WriteTuple(XmlWriter w, string id, string basic, ContactMethod? contact, PresenceView? withLocation, string stamp)
    {
        w.WriteStartElement("tuple", PidfNs);
        w.WriteAttributeString("id", id);
        w.WriteStartElement("status", PidfNs);
        w.WriteElementString("basic", PidfNs, basic);
        if (withLocation?.Location is { } location)
        {
            WriteLocation(w, location);
        }
        w.WriteEndElement();
        if (contact is not null)
        {
            w.WriteElementString("contact", PidfNs, ContactUri(contact));
            w.WriteElementString("note", PidfNs, contact.Kind.ToString());
        }
        w.WriteElementString("timestamp", PidfNs, stamp);
        w.WriteEndElement();
    }

    private static void WriteLocation(XmlWriter w, Location l)
    {
        w.WriteStartElement("gp", "geopriv", GeoprivNs);
        w.WriteStartElement("gp", "location-info", GeoprivNs);
        if (l.Country is not null || l.City is not null || l.Building is not null || l.Floor is not null || l.Room is not null || l.Text is not null)
        {
            w.WriteStartElement("ca", "civicAddress", CivicNs);
            Optional(w, "ca", "country", CivicNs, l.Country);
            Optional(w, "ca", "A3", CivicNs, l.City);
            Optional(w, "ca", "BLD", CivicNs, l.Building);
            Optional(w, "ca", "FLR", CivicNs, l.Floor);
            Optional(w, "ca", "ROOM", CivicNs, l.Room);
            Optional(w, "ca", "LOC", CivicNs, l.Text);
            w.WriteEndElement();
        }
        if (l.Latitude is { } lat && l.Longitude is { } lon)
        {
            w.WriteStartElement("gml", "Point", GmlNs);
            w.WriteAttributeString("srsName", "urn:ogc:def:crs:EPSG::4326");
            w.WriteElementString("gml", "pos", GmlNs, string.Create(CultureInfo.InvariantCulture, $"{lat:0.######} {lon:0.######}"));
            w.WriteEndElement();
        }
        w.WriteEndElement(); // location-info
        w.WriteStartElement("gp", "usage-rules", GeoprivNs);
        w.WriteElementString("gp", "retransmission-allowed", GeoprivNs, "no");
        w.WriteEndElement();
        w.WriteEndElement(); // geopriv
    }

    private static void Optional(XmlWriter w, string prefix, string name, string ns, string? value)
    {
        if (value is not null)
        {
            w.WriteElementString(prefix, name, ns, value);
        }
    }

    private static string Time(DateTimeOffset t) => t.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    // XML ids (xs:ID) must start with a letter and hold only name characters.
    private static string IdSafe(string s) => new([.. s.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' ? c : '_')]);

    private sealed class StringWriterUtf8(StringBuilder sb) : StringWriter(sb, CultureInfo.InvariantCulture)
    {
        public override Encoding Encoding => new UTF8Encoding(false);
    }
}
