using System.Net.Http.Json;
using Herald.Server.Tests.Infrastructure;
using Herald.Xmpp.Tests.Infrastructure;

namespace Herald.Xmpp.Tests;

/// <summary>Protocol features over raw streams: disco, ping, last activity, blocking, CSI, message routing.</summary>
public sealed class ProtocolTests : IAsyncLifetime
{
    private readonly XmppServer _xmpp = new();
    private Dictionary<string, string> _tokens = null!;

    public async Task InitializeAsync()
    {
        await _xmpp.StartAsync();
        _tokens = await _xmpp.Server.CreatePeople(HeraldTestServer.Person("ann", team: "t"), HeraldTestServer.Person("ben", team: "t"), HeraldTestServer.Person("cid", team: "t"));
        foreach (var (who, whom) in new[] { ("ann", "ben"), ("ben", "ann"), ("ann", "cid") })
        {
            using var c = _xmpp.Server.Client(_tokens[who]);
            (await c.PutAsync($"/api/v1/me/contacts/{whom}", null)).EnsureSuccessStatusCode();
        }
    }

    public async Task DisposeAsync() => await _xmpp.DisposeAsync();

    [Fact]
    public async Task Disco_ping_and_last_activity_answer_and_messages_route_between_online_resources()
    {
        await using var ann = await RawXmpp.Connect(_xmpp.Port);
        await ann.Login("ann", "pw-ann-123");
        await using var ben = await RawXmpp.Connect(_xmpp.Port);
        await ben.Login("ben", "pw-ben-123");

        await ann.Send("<iq type='get' id='d1' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>");
        var disco = await ann.ReadUntil("</iq>");
        Assert.Contains("urn:xmpp:blocking", disco, StringComparison.Ordinal);
        Assert.Contains("urn:xmpp:ping", disco, StringComparison.Ordinal);
        ann.ClearReceived();
        await ann.Send("<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>");
        Assert.Contains("type=\"result\"", await ann.ReadUntil("id=\"p1\""), StringComparison.Ordinal);
        ann.ClearReceived();

        // Initial presence of both; ann sees ben.
        await ben.Send("<presence><show>dnd</show><status>focus</status></presence>");
        await ann.Send("<presence/>");
        var seen = await ann.ReadUntil("</presence>");
        Assert.Contains("from=\"ben@localhost/herald\"", seen, StringComparison.Ordinal);
        Assert.Contains("<show>dnd</show>", seen, StringComparison.Ordinal);
        ann.ClearReceived();

        // A chat message to ben's bare JID reaches his online resource.
        ben.ClearReceived();
        await ann.Send("<message to='ben@localhost' type='chat' id='m1'><body>are you free?</body></message>");
        var got = await ben.ReadUntil("</message>");
        Assert.Contains("from=\"ann@localhost/raw\"", got, StringComparison.Ordinal);
        Assert.Contains("are you free?", got, StringComparison.Ordinal);

        // Last activity of an online contact: 0 seconds.
        await ann.Send("<iq type='get' id='l1' to='ben@localhost'><query xmlns='jabber:iq:last'/></iq>");
        Assert.Contains("seconds=\"0\"", await ann.ReadUntil("id=\"l1\""), StringComparison.Ordinal);
        ann.ClearReceived();

        // cid is offline and has never been online: a message gets an error that carries the status ann may see.
        await ann.Send("<message to='cid@localhost' type='chat' id='m2'><body>hello?</body></message>");
        var error = await ann.ReadUntil("</message>");
        Assert.Contains("recipient-unavailable", error, StringComparison.Ordinal);
        Assert.Contains("cid is offline", error, StringComparison.Ordinal);
        ann.ClearReceived();

        // ben sets a note over REST and goes unavailable: the error now carries it.
        using (var benRest = _xmpp.Server.Client(_tokens["ben"]))
        {
            (await benRest.PutAsJsonAsync("/api/v1/me/status", new { availability = "DoNotDisturb", note = "in a workshop" })).EnsureSuccessStatusCode();
        }
        await ben.Send("<presence type='unavailable'/><iq type='get' id='sync'><ping xmlns='urn:xmpp:ping'/></iq>");
        await ben.ReadUntil("id=\"sync\"");
        await ann.Send("<message to='ben@localhost' type='chat' id='m3'><body>now?</body></message>");
        var busy = await ann.ReadUntil("id=\"m3\"");
        await ann.ReadUntil("</message>");
        Assert.Contains("recipient-unavailable", ann.Received, StringComparison.Ordinal);
        Assert.Contains("ben is DoNotDisturb", ann.Received, StringComparison.Ordinal);
        Assert.Contains("in a workshop", ann.Received, StringComparison.Ordinal);
        _ = busy;
    }

    [Fact]
    public async Task Binding_a_resource_in_use_ends_the_older_stream_with_conflict_and_the_device_stays()
    {
        await using var older = await RawXmpp.Connect(_xmpp.Port);
        await older.Login("ann", "pw-ann-123");
        await older.Send("<presence/><iq type='get' id='sync'><ping xmlns='urn:xmpp:ping'/></iq>");
        await older.ReadUntil("id=\"sync\"");

        await using var newer = await RawXmpp.Connect(_xmpp.Port); // the same full JID: ann@localhost/raw
        await newer.Login("ann", "pw-ann-123");
        var end = await older.ReadUntil("</stream:stream>");
        Assert.Contains("<conflict xmlns=\"urn:ietf:params:xml:ns:xmpp-streams\"", end, StringComparison.Ordinal);
        Assert.True(await older.ClosedByServer(TimeSpan.FromSeconds(10)));

        // The newer session is untouched, and the older one's end left the resource's device to it.
        await newer.Send("<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>");
        Assert.Contains("type=\"result\"", await newer.ReadUntil("id=\"p1\""), StringComparison.Ordinal);
        Assert.DoesNotContain("stream:error", newer.Received, StringComparison.Ordinal);
        using var rest = _xmpp.Server.Client(_tokens["ann"]);
        var me = await rest.GetStringAsync("/api/v1/me/presence");
        Assert.Contains("\"deviceId\":\"xmpp-", me, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Blocking_a_jid_makes_them_blocked_tier_and_last_activity_is_policy_filtered()
    {
        await using var ann = await RawXmpp.Connect(_xmpp.Port);
        await ann.Login("ann", "pw-ann-123");
        await ann.Send("<iq type='set' id='b1'><block xmlns='urn:xmpp:blocking'><item jid='cid@localhost'/></block></iq>");
        await ann.ReadUntil("id=\"b1\"");
        ann.ClearReceived();
        await ann.Send("<iq type='get' id='b2'><blocklist xmlns='urn:xmpp:blocking'/></iq>");
        Assert.Contains("cid@localhost", await ann.ReadUntil("id=\"b2\""), StringComparison.Ordinal);
        using (var rest = _xmpp.Server.Client(_tokens["ann"]))
        {
            var privacy = await rest.GetStringAsync("/api/v1/me/privacy");
            Assert.Contains("\"cid\":{\"tier\":\"Blocked\"", privacy.Replace(" ", "", StringComparison.Ordinal), StringComparison.Ordinal);
        }
        // cid (blocked) asks for ann's last activity: forbidden (a blocked watcher sees a constant offline without last-seen).
        await using var cid = await RawXmpp.Connect(_xmpp.Port);
        await cid.Login("cid", "pw-cid-123");
        await cid.Send("<iq type='get' id='l2' to='ann@localhost'><query xmlns='jabber:iq:last'/></iq>");
        var last = await cid.ReadUntil("id=\"l2\"");
        await cid.ReadUntil("</iq>");
        Assert.Contains("forbidden", cid.Received, StringComparison.Ordinal);
        _ = last;
        ann.ClearReceived();
        await ann.Send("<iq type='set' id='b3'><unblock xmlns='urn:xmpp:blocking'/></iq>");
        await ann.ReadUntil("id=\"b3\"");
        ann.ClearReceived();
        await ann.Send("<iq type='get' id='b4'><blocklist xmlns='urn:xmpp:blocking'/></iq>");
        Assert.DoesNotContain("cid@localhost", await ann.ReadUntil("id=\"b4\""), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_inactive_client_gets_presence_deferred_and_the_newest_on_active()
    {
        await using var ann = await RawXmpp.Connect(_xmpp.Port);
        await ann.Login("ann", "pw-ann-123");
        await ann.Send("<presence/>");
        await ann.Send("<inactive xmlns='urn:xmpp:csi:0'/>");
        await ann.Send("<iq type='get' id='sync'><ping xmlns='urn:xmpp:ping'/></iq>");
        await ann.ReadUntil("id=\"sync\"");
        ann.ClearReceived();
        using var ben = _xmpp.Server.Client(_tokens["ben"]);
        foreach (var (a, note) in new[] { ("Busy", "one"), ("Away", "two"), ("DoNotDisturb", "three") })
        {
            (await ben.PutAsJsonAsync("/api/v1/me/status", new { availability = a, note })).EnsureSuccessStatusCode();
        }
        await ann.Send("<iq type='get' id='sync2'><ping xmlns='urn:xmpp:ping'/></iq>");
        var held = await ann.ReadUntil("id=\"sync2\"");
        Assert.DoesNotContain("<presence", held, StringComparison.Ordinal);
        ann.ClearReceived();
        await ann.Send("<active xmlns='urn:xmpp:csi:0'/>");
        var flushed = await ann.ReadUntil("three");
        Assert.DoesNotContain(">one<", flushed, StringComparison.Ordinal);
        Assert.DoesNotContain(">two<", flushed, StringComparison.Ordinal);
    }
}
