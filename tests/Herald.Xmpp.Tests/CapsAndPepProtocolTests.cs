using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Herald.Server.Tests.Infrastructure;
using Herald.Xmpp.Tests.Infrastructure;

namespace Herald.Xmpp.Tests;

/// <summary>XEP-0115 caps (hash, one query per ver, verification, cache) and XEP-0163 PEP details over raw streams.</summary>
public sealed partial class CapsAndPepProtocolTests : IAsyncLifetime
{
    private const string Node = "http://test.example/client";
    private readonly XmppServer _xmpp = new();
    private Dictionary<string, string> _tokens = null!;

    public async Task InitializeAsync()
    {
        await _xmpp.StartAsync();
        // quin and rex are pia's team (location to the building); pia has a precise location from a device.
        _tokens = await _xmpp.Server.CreatePeople(HeraldTestServer.Person("pia", team: "t"), HeraldTestServer.Person("quin", team: "t"), HeraldTestServer.Person("rex", team: "t"));
        foreach (var w in new[] { "quin", "rex" })
        {
            using var c = _xmpp.Server.Client(_tokens[w]);
            (await c.PutAsync("/api/v1/me/contacts/pia", null)).EnsureSuccessStatusCode();
        }
        using var pia = _xmpp.Server.Client(_tokens["pia"]);
        (await pia.PutAsJsonAsync("/api/v1/me/devices/desk", new
        {
            kind = "Desktop", ttlSeconds = 3600, location = new { country = "DE", city = "Berlin", building = "HQ", room = "3.14", latitude = 52.52, longitude = 13.405 },
        })).EnsureSuccessStatusCode();
    }

    public async Task DisposeAsync() => await _xmpp.DisposeAsync();

    private XmppGateway Gateway => _xmpp.Server.Services.GetRequiredService<XmppGateway>();

    private static XElement Info(params string[] features) =>
        new(Caps.DiscoInfo + "query",
            new XElement(Caps.DiscoInfo + "identity", new XAttribute("category", "client"), new XAttribute("type", "pc"), new XAttribute("name", "Test 1.0")),
            features.Select(f => new XElement(Caps.DiscoInfo + "feature", new XAttribute("var", f))));

    private static readonly string[] NotifyFeatures =
        ["http://jabber.org/protocol/caps", "http://jabber.org/protocol/disco#info", "http://jabber.org/protocol/geoloc+notify", "http://jabber.org/protocol/activity+notify"];

    [Fact]
    public void Ver_strings_of_the_xep_0115_examples()
    {
        var simple = Info("http://jabber.org/protocol/caps", "http://jabber.org/protocol/disco#info", "http://jabber.org/protocol/disco#items", "http://jabber.org/protocol/muc");
        simple.Element(Caps.DiscoInfo + "identity")!.SetAttributeValue("name", "Exodus 0.9.1");
        Assert.Equal("QgayPKawpkPSDYmwT/WM94uAlu0=", Caps.Ver(simple, "sha-1"));

        var complex = XElement.Parse("""
            <query xmlns='http://jabber.org/protocol/disco#info'>
              <identity xml:lang='en' category='client' name='Psi 0.11' type='pc'/>
              <identity xml:lang='el' category='client' name='Ψ 0.11' type='pc'/>
              <feature var='http://jabber.org/protocol/caps'/>
              <feature var='http://jabber.org/protocol/disco#info'/>
              <feature var='http://jabber.org/protocol/disco#items'/>
              <feature var='http://jabber.org/protocol/muc'/>
              <x xmlns='jabber:x:data' type='result'>
                <field var='FORM_TYPE' type='hidden'><value>urn:xmpp:dataforms:softwareinfo</value></field>
                <field var='ip_version'><value>ipv6</value><value>ipv4</value></field>
                <field var='os'><value>Mac</value></field>
                <field var='software_version'><value>0.11</value></field>
                <field var='os_version'><value>10.5.1</value></field>
                <field var='software'><value>Psi</value></field>
              </x>
            </query>
            """);
        Assert.Equal("q07IKJEyjvHSyhy//CH0CxmKi8w=", Caps.Ver(complex, "sha-1"));

        // Ill-formed (section 5.4): a duplicate feature gives no ver at all.
        Assert.Null(Caps.Ver(Info("a", "a"), "sha-1"));
        Assert.Null(Caps.Ver(simple, "md5"));
    }

    [Fact]
    public void The_cache_is_bounded_and_drops_the_oldest()
    {
        var cache = new CapsCache(2);
        var f = new HashSet<string> { "x" };
        cache.Add("sha-1", "a", f);
        cache.Add("sha-1", "b", f);
        cache.Add("sha-1", "c", f);
        Assert.Equal(2, cache.Count);
        Assert.Null(cache.Get("sha-1", "a"));
        Assert.NotNull(cache.Get("sha-1", "c"));
    }

    /// <summary>Sends presence with caps; when the server asks, answers with <paramref name="answer"/>; returns whether it asked.</summary>
    private static async Task<bool> PresenceWithCaps(RawXmpp c, string ver, XElement? answer)
    {
        await c.Send($"<presence><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='{Node}' ver='{ver}'/></presence>");
        if (answer is null)
        {
            return false;
        }
        var received = await c.ReadUntil($"node=\"{Node}#{ver}\"");
        var id = CapsQueryId().Match(received).Groups[1].Value;
        Assert.False(string.IsNullOrEmpty(id), received);
        var reply = new XElement(Ns.Client + "iq", new XAttribute("type", "result"), new XAttribute("id", id), new XAttribute("to", "localhost"), answer);
        reply.Element(Caps.DiscoInfo + "query")!.SetAttributeValue("node", $"{Node}#{ver}");
        await c.Send(reply.ToString(SaveOptions.DisableFormatting).Replace(" xmlns=\"jabber:client\"", "", StringComparison.Ordinal));
        return true;
    }

    [Fact]
    public async Task A_verified_ver_is_queried_once_and_its_notify_features_bring_geoloc_at_the_disclosed_precision()
    {
        var info = Info(NotifyFeatures);
        var ver = Caps.Ver(info, "sha-1")!;
        await using var quin = await RawXmpp.Connect(_xmpp.Port);
        await quin.Login("quin", "pw-quin-123");
        await PresenceWithCaps(quin, ver, info);
        // Team sees pia's location to the building: a PEP notification from her bare JID, without room or coordinates.
        var got = await quin.ReadUntil("</message>");
        var message = Stanza(got, "<message");
        Assert.Equal("headline", (string?)message.Attribute("type"));
        Assert.Equal("pia@localhost", (string?)message.Attribute("from"));
        var items = message.Element(Ns.PubSubEvent + "event")!.Element(Ns.PubSubEvent + "items")!;
        Assert.Equal("http://jabber.org/protocol/geoloc", (string?)items.Attribute("node"));
        var geoloc = items.Element(Ns.PubSubEvent + "item")!.Element(Ns.Geoloc + "geoloc")!;
        Assert.Equal(["country", "locality", "building"], geoloc.Elements().Select(e => e.Name.LocalName));
        Assert.Equal("HQ", geoloc.Element(Ns.Geoloc + "building")!.Value);
        Assert.Equal(1, Gateway.Caps.Count);
        Assert.Equal(1, Gateway.Caps.Queries);

        // rex presents the same ver: no second query, and the features apply at once.
        await using var rex = await RawXmpp.Connect(_xmpp.Port);
        await rex.Login("rex", "pw-rex-123");
        await PresenceWithCaps(rex, ver, answer: null);
        var rexGot = await rex.ReadUntil("</message>");
        Assert.Contains("<building>HQ</building>", rexGot, StringComparison.Ordinal);
        Assert.DoesNotContain("disco#info", rexGot, StringComparison.Ordinal);
        Assert.Equal(1, Gateway.Caps.Queries);

        // pia's location goes away (her device ends): both get the empty geoloc item.
        using var pia = _xmpp.Server.Client(_tokens["pia"]);
        (await pia.DeleteAsync("/api/v1/me/devices/desk")).EnsureSuccessStatusCode();
        await rex.ReadUntil("<geoloc xmlns=\"http://jabber.org/protocol/geoloc\" /></item>");
        await quin.ReadUntil("<geoloc xmlns=\"http://jabber.org/protocol/geoloc\" /></item>");
    }

    [Fact]
    public async Task A_ver_that_does_not_match_its_answer_is_neither_cached_nor_used_and_no_caps_means_no_pep()
    {
        await using var quin = await RawXmpp.Connect(_xmpp.Port);
        await quin.Login("quin", "pw-quin-123");
        await PresenceWithCaps(quin, "AAAAAAAAAAAAAAAAAAAAAAAAAAA=", Info(NotifyFeatures));
        await using var rex = await RawXmpp.Connect(_xmpp.Port);
        await rex.Login("rex", "pw-rex-123");
        await rex.Send("<presence/>");
        // Both see pia's presence; neither gets PEP (quin's answer did not hash to its ver; rex has no caps).
        await quin.ReadUntil("from=\"pia@localhost/herald\"");
        await rex.ReadUntil("from=\"pia@localhost/herald\"");
        await Eventually.True(() => Gateway.Caps.Queries == 1, because: "the caps query");
        foreach (var c in new[] { quin, rex })
        {
            await c.Send("<iq type='get' id='sync'><ping xmlns='urn:xmpp:ping'/></iq>");
            await c.ReadUntil("id=\"sync\"");
            Assert.DoesNotContain("pubsub#event", c.Received, StringComparison.Ordinal);
            Assert.DoesNotContain("geoloc", c.Received, StringComparison.Ordinal);
        }
        Assert.Equal(0, Gateway.Caps.Count);
    }

    [Fact]
    public async Task Pep_publish_maps_onto_the_device_and_bad_publishes_get_xep_0060_errors()
    {
        await using var quin = await RawXmpp.Connect(_xmpp.Port);
        await quin.Login("quin", "pw-quin-123");
        await quin.Send("<presence/>");

        // The account is a PEP service.
        await quin.Send("<iq type='get' id='d1' to='quin@localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>");
        await quin.ReadUntil("id=\"d1\"");
        await quin.ReadUntil("</iq>");
        Assert.Contains("<identity category=\"pubsub\" type=\"pep\" />", quin.Received, StringComparison.Ordinal);
        quin.ClearReceived();

        async Task<XElement> Iq(string id, string payload)
        {
            await quin.Send($"<iq type='set' id='{id}'><pubsub xmlns='http://jabber.org/protocol/pubsub'>{payload}</pubsub></iq>");
            await quin.ReadUntil($"id=\"{id}\"");
            var text = await quin.ReadUntil("</iq>");
            var at = text.IndexOf($"id=\"{id}\"", StringComparison.Ordinal);
            var begin = text.LastIndexOf("<iq", at, StringComparison.Ordinal);
            var end = text.IndexOf("</iq>", at, StringComparison.Ordinal);
            var iq = XElement.Parse(text[begin..(end + 5)]);
            quin.ClearReceived();
            return iq;
        }

        static string? Condition(XElement iq) => iq.Element(Ns.Client + "error")?.Elements().FirstOrDefault(e => e.Name.Namespace == Ns.Stanzas)?.Name.LocalName;
        static string? PubSubError(XElement iq) => iq.Element(Ns.Client + "error")?.Elements().FirstOrDefault(e => e.Name.Namespace == Ns.PubSubErrors)?.Name.LocalName;

        var unknown = await Iq("e1", "<publish node='urn:xmpp:avatar:data'><item><data xmlns='urn:xmpp:avatar:data'>AA==</data></item></publish>");
        Assert.Equal("item-not-found", Condition(unknown));
        var badLat = await Iq("e2", "<publish node='http://jabber.org/protocol/geoloc'><item><geoloc xmlns='http://jabber.org/protocol/geoloc'><lat>north</lat></geoloc></item></publish>");
        Assert.Equal("bad-request", Condition(badLat));
        Assert.Equal("invalid-payload", PubSubError(badLat));
        var wrongNs = await Iq("e3", "<publish node='http://jabber.org/protocol/geoloc'><item><activity xmlns='http://jabber.org/protocol/activity'/></item></publish>");
        Assert.Equal("invalid-payload", PubSubError(wrongNs));
        var noItem = await Iq("e4", "<publish node='http://jabber.org/protocol/geoloc'/>");
        Assert.Equal("item-required", PubSubError(noItem));
        var unmapped = await Iq("e5", "<publish node='http://jabber.org/protocol/activity'><item><activity xmlns='http://jabber.org/protocol/activity'><relaxing><reading/></relaxing></activity></item></publish>");
        Assert.Equal("not-acceptable", Condition(unmapped));

        var ok = await Iq("p1", "<publish node='http://jabber.org/protocol/geoloc'><item id='here'><geoloc xmlns='http://jabber.org/protocol/geoloc'><country>FR</country><locality>Lyon</locality><lat>45.76</lat><lon>4.83</lon></geoloc></item></publish>");
        Assert.Equal("result", (string?)ok.Attribute("type"));
        Assert.Equal("here", (string?)ok.Descendants(Ns.PubSub + "item").Single().Attribute("id"));
        using var rest = _xmpp.Server.Client(_tokens["quin"]);
        var own = await rest.GetFromJsonAsync<JsonElement>("/api/v1/me/presence");
        Assert.Equal("Lyon", own.GetProperty("location").GetProperty("city").GetString());
        Assert.Equal(45.76, own.GetProperty("location").GetProperty("latitude").GetDouble());

        // Items retrieval from pia's node: the item rendered from quin's view (building level).
        await quin.Send("<iq type='get' id='r1' to='pia@localhost'><pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='http://jabber.org/protocol/geoloc'/></pubsub></iq>");
        await quin.ReadUntil("id=\"r1\"");
        var items = await quin.ReadUntil("</iq>");
        Assert.Contains("<building>HQ</building>", items, StringComparison.Ordinal);
        Assert.DoesNotContain("<lat>", items, StringComparison.Ordinal);
        Assert.DoesNotContain("<room>", items, StringComparison.Ordinal);
    }

    private static XElement Stanza(string received, string start)
    {
        var begin = received.IndexOf(start, StringComparison.Ordinal);
        var name = start[1..];
        var end = received.IndexOf($"</{name}>", begin, StringComparison.Ordinal) + name.Length + 3;
        return XElement.Parse(received[begin..end]);
    }

    [GeneratedRegex("id=\"(caps-[0-9a-f]+)\"")]
    private static partial Regex CapsQueryId();
}
