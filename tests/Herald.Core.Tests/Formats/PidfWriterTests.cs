using System.Xml;
using System.Xml.Linq;
using Herald.Core.Formats;
using Herald.Core.Model;
using Herald.Core.Presence;
using Herald.Core.Privacy;
using Herald.Core.Tests.Privacy;

namespace Herald.Core.Tests.Formats;

public sealed class PidfWriterTests
{
    private static readonly XNamespace P = PidfWriter.PidfNs;
    private static readonly XNamespace Dm = PidfWriter.DataModelNs;
    private static readonly XNamespace R = PidfWriter.RpidNs;
    private static readonly XNamespace Gp = PidfWriter.GeoprivNs;
    private static readonly XNamespace Ca = PidfWriter.CivicNs;
    private static readonly XNamespace H = PidfWriter.HeraldNs;
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 10, 0, 0, TimeSpan.Zero);

    private static XDocument Parse(string xml)
    {
        // A strict reader: no DTDs, the text must be well-formed.
        using var reader = XmlReader.Create(new StringReader(xml), new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit });
        return XDocument.Load(reader);
    }

    private static PresenceView SelfView() =>
        DisclosurePolicy.Disclose(DisclosureMatrix.RichState(PrivacyContext.WorkHours), DisclosureKey.Self(PrivacyContext.WorkHours));

    [Fact]
    public void The_owner_document_holds_every_field_in_its_standard_place()
    {
        var view = SelfView();
        var doc = Parse(PidfWriter.Write(view, "example.org", Now));
        var root = doc.Root!;
        Assert.Equal(P + "presence", root.Name);
        Assert.Equal("pres:ada@example.org", root.Attribute("entity")!.Value);

        var tuples = root.Elements(P + "tuple").ToList();
        Assert.Equal(view.ContactMethods!.Count, tuples.Count);
        Assert.All(tuples, t => Assert.Equal("open", t.Element(P + "status")!.Element(P + "basic")!.Value)); // Busy is open
        Assert.Equal(["tel:+49301234100", "tel:+491705550101", "tel:+49305550202", "mailto:ada@example.org", "xmpp:ada@chat.example.org",
            "https://video.example.org/ada", "sip:ada@example.org", "https://ada.example.org"],
            tuples.Select(t => t.Element(P + "contact")!.Value));
        Assert.Equal(tuples.Select(t => t.Attribute("id")!.Value).Distinct().Count(), tuples.Count);

        var civic = tuples[0].Descendants(Ca + "civicAddress").Single();
        Assert.Equal("DE", civic.Element(Ca + "country")!.Value);
        Assert.Equal("Berlin", civic.Element(Ca + "A3")!.Value);
        Assert.Equal("3.14", civic.Element(Ca + "ROOM")!.Value);
        Assert.Equal("52.52 13.405", tuples[0].Descendants(XName.Get("pos", PidfWriter.GmlNs)).Single().Value);
        Assert.Equal("no", tuples[0].Descendants(Gp + "retransmission-allowed").Single().Value);

        var person = root.Element(Dm + "person")!;
        var activities = person.Elements(R + "activities").ToList();
        Assert.Equal("on-the-phone", activities[0].Elements().Single().Name.LocalName); // InACall
        Assert.Equal("meeting", activities[1].Elements().Single().Name.LocalName); // the calendar entry, with its times
        Assert.Equal(view.Calendar!.Start.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture), activities[1].Attribute("from")!.Value);
        Assert.Equal("quarterly review", person.Element(Dm + "note")!.Value);
        Assert.Equal("Busy", person.Element(H + "availability")!.Value);
        Assert.Equal("Acquisition of Initech", person.Element(H + "calendar-subject")!.Value);

        var devices = root.Elements(Dm + "device").ToList();
        Assert.Equal(["active", "idle"], devices.Select(d => d.Element(R + "user-input")!.Value));
        Assert.Equal("urn:x-herald:device:desk", devices[0].Element(Dm + "deviceID")!.Value);
    }

    [Fact]
    public void A_blocked_watcher_gets_a_closed_tuple_and_nothing_else()
    {
        var state = DisclosureMatrix.RichState(PrivacyContext.WorkHours);
        var view = DisclosurePolicy.Disclose(state, new DisclosureKey(false, ViewMode.Blocked, PrivacyContext.WorkHours, default));
        var xml = PidfWriter.Write(view, "example.org", Now);
        var root = Parse(xml).Root!;
        var tuple = Assert.Single(root.Elements(P + "tuple"));
        Assert.Equal("closed", tuple.Descendants(P + "basic").Single().Value);
        Assert.Null(tuple.Element(P + "contact"));
        var person = root.Element(Dm + "person")!;
        Assert.Empty(person.Elements(R + "activities"));
        Assert.Null(person.Element(Dm + "note"));
        Assert.Empty(root.Elements(Dm + "device"));
        Assert.DoesNotContain("Berlin", xml, StringComparison.Ordinal);
        Assert.DoesNotContain("Initech", xml, StringComparison.Ordinal);
        Assert.DoesNotContain("quarterly", xml, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Availability.Available, "open", null)]
    [InlineData(Availability.Away, "open", "away")]
    [InlineData(Availability.BeRightBack, "open", "away")]
    [InlineData(Availability.Busy, "open", "busy")]
    [InlineData(Availability.DoNotDisturb, "open", "busy")]
    [InlineData(Availability.OffWork, "closed", null)]
    [InlineData(Availability.Offline, "closed", null)]
    [InlineData(Availability.Unknown, "closed", null)]
    public void Availability_maps_to_basic_status_and_an_rpid_activity(Availability availability, string basic, string? rpid)
    {
        var view = new PresenceView("bo", availability, null, null, null, null, null, 1, null, [], null, null);
        var root = Parse(PidfWriter.Write(view, "example.org", Now)).Root!;
        Assert.Equal(basic, root.Descendants(P + "basic").Single().Value);
        Assert.Equal(rpid, root.Element(Dm + "person")!.Element(R + "activities")?.Elements().Single().Name.LocalName);
        Assert.Equal(availability.ToString(), root.Element(Dm + "person")!.Element(H + "availability")!.Value);
    }

    [Fact]
    public void Markup_in_notes_and_ids_is_escaped()
    {
        var view = new PresenceView("a.b-c_d", Availability.Available, null, "<script>&\"x\"</script>\u00e9", null, null, null, 1,
            [new DeviceSummary("my phone/1", DeviceKind.Mobile, Availability.Available, null, false, null, [])], [], null, null);
        var xml = PidfWriter.Write(view, "example.org", Now);
        var root = Parse(xml).Root!;
        Assert.Equal("<script>&\"x\"</script>\u00e9", root.Element(Dm + "person")!.Element(Dm + "note")!.Value);
        Assert.Equal("d-my_phone_1", root.Element(Dm + "device")!.Attribute("id")!.Value);
        Assert.DoesNotContain("<script>", xml, StringComparison.Ordinal);
        Assert.StartsWith("<?xml version=\"1.0\" encoding=\"utf-8\"?>", xml, StringComparison.Ordinal);
    }
}
