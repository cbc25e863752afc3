using System.Net.Http.Json;
using System.Text.Json;
using System.Xml.Linq;
using Herald.Core.Presence;
using Herald.Core.Privacy;
using Herald.Core.Tests.Privacy;
using Herald.Server.Tests.Infrastructure;
using Herald.Xmpp.Tests.Infrastructure;

namespace Herald.Xmpp.Tests;

/// <summary>
/// The disclosure matrix over XMPP: for every tier and context, the view the server computes for the watcher obeys the
/// matrix, and what that watcher's XMPP client receives is exactly that view rendered (nothing more, nothing less);
/// a polite-blocked watcher receives no presence at all.
/// </summary>
public sealed class XmppPrivacyMatrixTests : IAsyncLifetime
{
    private static readonly object[] AllContacts =
    [
        new { kind = "WorkPhone", address = "+49 30 1234 100" }, new { kind = "Mobile", address = "+49 170 555 0101" },
        new { kind = "Chat", address = "ada@chat.example.org" }, new { kind = "Sip", address = "sip:ada@example.org" },
    ];

    private static readonly Dictionary<RelationshipTier, string> Watchers = new()
    {
        [RelationshipTier.Trusted] = "tom",
        [RelationshipTier.Team] = "tina",
        [RelationshipTier.Colleague] = "carl",
        [RelationshipTier.External] = "eve",
    };

    private readonly XmppServer _xmpp = new();
    private Dictionary<string, string> _tokens = null!;

    private HeraldTestServer Server => _xmpp.Server;

    public async Task InitializeAsync()
    {
        await _xmpp.StartAsync();
        _tokens = await Server.CreatePeople(
            HeraldTestServer.Person("ada", team: "platform", contactMethods: AllContacts),
            HeraldTestServer.Person("tom"), HeraldTestServer.Person("tina", team: "platform"), HeraldTestServer.Person("carl"),
            HeraldTestServer.Person("eve"), HeraldTestServer.Person("mallory"));
        using var ada = Server.Client(_tokens["ada"]);
        (await ada.PutAsJsonAsync("/api/v1/me/privacy", new
        {
            watchers = new { tom = new { tier = "Trusted" }, eve = new { tier = "External" }, mallory = new { tier = "Blocked" } },
        })).EnsureSuccessStatusCode();
        foreach (var w in Watchers.Values.Append("mallory"))
        {
            using var c = Server.Client(_tokens[w]);
            (await c.PutAsync("/api/v1/me/contacts/ada", null)).EnsureSuccessStatusCode();
        }
        (await ada.PostAsync("/api/v1/me/watchers/eve/approve", null)).EnsureSuccessStatusCode();
    }

    public async Task DisposeAsync() => await _xmpp.DisposeAsync();

    [Theory]
    [InlineData(PrivacyContext.WorkHours)]
    [InlineData(PrivacyContext.OffHours)]
    [InlineData(PrivacyContext.DayOff)]
    public async Task Every_tier_receives_over_xmpp_exactly_its_view(PrivacyContext context)
    {
        using var ada = Server.Client(_tokens["ada"]);
        if (context == PrivacyContext.OffHours)
        {
            Server.Time.Advance(TimeSpan.FromHours(10));
        }
        if (context == PrivacyContext.DayOff)
        {
            (await ada.PutAsJsonAsync("/api/v1/me/status", new { activity = "OutOfOffice", note = "day off" })).EnsureSuccessStatusCode();
        }
        else
        {
            (await ada.PutAsJsonAsync("/api/v1/me/status", new { note = "quarterly review" })).EnsureSuccessStatusCode();
        }
        (await ada.PutAsJsonAsync("/api/v1/me/devices/desk", new
        {
            kind = "Desktop", activity = "InACall", ttlSeconds = 3600, capabilities = new[] { "audio", "video", "chat" },
            location = new { country = "DE", city = "Berlin", building = "HQ", floor = "3", room = "3.14", latitude = 52.52, longitude = 13.405, text = "by the window" },
        })).EnsureSuccessStatusCode();
        (await ada.PutAsJsonAsync("/api/v1/me/devices/phone", new { kind = "Mobile", availability = "Away", ttlSeconds = 3600 })).EnsureSuccessStatusCode();

        var own = Parse(await (await ada.GetAsync("/api/v1/me/presence")).Content.ReadFromJsonAsync<JsonElement>());
        var profile = new Herald.Core.Model.PersonProfile("ada", "Ada", "ada@example.com", "platform", null, "UTC", null, own.ContactMethods ?? []);
        var presence = new AggregatedPresence(own.Availability, own.Activity,
            own.Note is null ? null : new Herald.Core.Model.StatusNote(own.Note, DateTimeOffset.MinValue, own.NoteUntil),
            own.Location, own.LastSeen, own.Provenance!, own.Devices ?? [], false,
            context == PrivacyContext.OffHours, context == PrivacyContext.DayOff, null);
        var state = new PresentityState(profile, presence, own.Sequence);

        // Every watcher's client advertises geoloc+notify and activity+notify (a verified ver, put in the cache here so
        // that no disco round trip is needed), so location and activity come as PEP notifications.
        var caps = new System.Xml.Linq.XElement(Caps.DiscoInfo + "query",
            new System.Xml.Linq.XElement(Caps.DiscoInfo + "identity", new System.Xml.Linq.XAttribute("category", "client"), new System.Xml.Linq.XAttribute("type", "pc")),
            new[] { "http://jabber.org/protocol/geoloc+notify", "http://jabber.org/protocol/activity+notify" }
                .Select(f => new System.Xml.Linq.XElement(Caps.DiscoInfo + "feature", new System.Xml.Linq.XAttribute("var", f))));
        var ver = Caps.Ver(caps, "sha-1")!;
        Server.Services.GetRequiredService<XmppGateway>().Caps.Add("sha-1", ver, new HashSet<string>(["http://jabber.org/protocol/geoloc+notify", "http://jabber.org/protocol/activity+notify"]));
        var presenceWithCaps = $"<presence><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='http://test.example/matrix' ver='{ver}'/></presence>";

        await using var mallory = await RawXmpp.Connect(_xmpp.Port);
        await mallory.Login("mallory", "pw-mallory-123");
        await mallory.Send(presenceWithCaps);
        foreach (var (tier, watcher) in Watchers)
        {
            using var c = Server.Client(_tokens[watcher]);
            var view = Parse(await c.GetFromJsonAsync<JsonElement>("/api/v1/presence/ada"));
            DisclosureMatrix.AssertViewMatches(view, tier, context, state);

            await using var raw = await RawXmpp.Connect(_xmpp.Port);
            await raw.Login(watcher, $"pw-{watcher}-123");
            await raw.Send(presenceWithCaps);
            var expected = XmppRendering.Presence(view, "localhost", $"{watcher}@localhost/raw");
            if (expected.Attribute("type")?.Value == "unavailable")
            {
                await raw.Send("<iq type='get' id='sync'><ping xmlns='urn:xmpp:ping'/></iq>");
                await raw.ReadUntil("id=\"sync\"");
                Assert.DoesNotContain("pubsub#event", raw.Received, StringComparison.Ordinal);
                continue; // nothing to see: no presence is sent for someone never shown available, and no PEP
            }
            var marker = $"seq=\"{view.Sequence}\"";
            var received = await raw.ReadUntil(marker);
            var at = received.IndexOf(marker, StringComparison.Ordinal);
            while (received.IndexOf("</presence>", at, StringComparison.Ordinal) < 0)
            {
                received = await raw.ReadUntil(received + "</presence>"); // not there yet: read on (bounded)
            }
            var begin = received.LastIndexOf("<presence", at, StringComparison.Ordinal);
            var end = received.IndexOf("</presence>", at, StringComparison.Ordinal) + "</presence>".Length;
            var stanza = XElement.Parse(received[begin..end]);
            Assert.True(XNode.DeepEquals(XElement.Parse(expected.ToString(SaveOptions.DisableFormatting)), stanza), $"{tier}/{context}:\nexpected {expected}\nreceived {stanza}");

            // PEP: exactly the view's location (at its precision) and activity; no notification for what is not disclosed.
            await raw.Send("<iq type='get' id='sync'><ping xmlns='urn:xmpp:ping'/></iq>");
            var all = await raw.ReadUntil("id=\"sync\"");
            foreach (var (node, element) in new[] { (XmppRendering.GeolocNode, "geoloc"), (XmppRendering.ActivityNode, "activity") })
            {
                var payload = XmppRendering.PepPayload(view, node);
                var at2 = all.IndexOf($"<items node=\"{node}\"", StringComparison.Ordinal);
                if (payload is null)
                {
                    Assert.True(at2 < 0, $"{tier}/{context}: no {element} expected, received {all}");
                    continue;
                }
                Assert.True(at2 >= 0, $"{tier}/{context}: {element} expected, received {all}");
                var from = all.IndexOf($"<{element} ", at2, StringComparison.Ordinal);
                var to = all.IndexOf($"</{element}>", from, StringComparison.Ordinal) + element.Length + 3;
                var got = XElement.Parse(all[from..to]);
                Assert.True(XNode.DeepEquals(XElement.Parse(payload.ToString(SaveOptions.DisableFormatting)), got), $"{tier}/{context}:\nexpected {payload}\nreceived {got}");
            }
        }

        // The polite-blocked watcher: after the others got theirs, nothing about ada ever reached mallory.
        await mallory.Send("<iq type='get' id='sync'><ping xmlns='urn:xmpp:ping'/></iq>");
        await mallory.ReadUntil("id=\"sync\"");
        Assert.DoesNotContain("ada@localhost", mallory.Received, StringComparison.Ordinal);
    }

    private static PresenceView Parse(JsonElement e) => e.Deserialize<PresenceView>(HeraldTestServer.Json)!;
}
