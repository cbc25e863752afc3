using System.Net.Http.Json;
using System.Text.Json;
using Herald.Server.Tests.Infrastructure;
using Herald.Xmpp.Tests.Infrastructure;

namespace Herald.Xmpp.Tests;

/// <summary>
/// XEP-0163 PEP with real slixmpp clients (xep_0115 caps with geoloc+notify / activity+notify, xep_0080, xep_0108):
/// notifications come from each watcher's filtered view only, and a client's own publish changes the Herald view.
/// </summary>
public sealed class PepTests : IAsyncLifetime
{
    private readonly XmppServer _xmpp = new();
    private Dictionary<string, string> _tokens = null!;

    public async Task InitializeAsync()
    {
        await _xmpp.StartAsync();
        // carl and nora are Colleagues of ada (no shared team): by default city-level location; nora's own rule hides it.
        _tokens = await _xmpp.Server.CreatePeople(HeraldTestServer.Person("ada", team: "platform"), HeraldTestServer.Person("carl"), HeraldTestServer.Person("nora"));
        using (var ada = _xmpp.Server.Client(_tokens["ada"]))
        {
            (await ada.PutAsJsonAsync("/api/v1/me/privacy", new { watchers = new { nora = new { rules = new { any = new { location = "None" } } } } })).EnsureSuccessStatusCode();
        }
        foreach (var w in new[] { "carl", "nora" })
        {
            using var c = _xmpp.Server.Client(_tokens[w]);
            (await c.PutAsync("/api/v1/me/contacts/ada", null)).EnsureSuccessStatusCode();
        }
    }

    public async Task DisposeAsync() => await _xmpp.DisposeAsync();

    private PythonClient Client(string user) =>
        PythonClient.Start("slix_client.py", $"{user}@localhost/desk", $"pw-{user}-123", "127.0.0.1", _xmpp.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "SCRAM-SHA-256", "--pep");

    [SlixmppFact]
    public async Task Geoloc_and_activity_reach_each_watcher_at_its_disclosed_precision_and_a_publish_changes_the_herald_view()
    {
        Interop.Require(Interop.Slixmpp, "python3-slixmpp");
        await using var carl = Client("carl");
        await using var nora = Client("nora");
        await using var ada = Client("ada");
        foreach (var c in new[] { carl, nora, ada })
        {
            await c.WaitForLine("ready");
            await c.Send("presence -");
        }
        // The watchers' caps were queried and verified (slixmpp answers the disco#info of its node#ver).
        var gateway = _xmpp.Server.Services.GetRequiredService<XmppGateway>();
        await Eventually.True(() => gateway.Caps.Count >= 1, because: "caps verified");

        // ada publishes a precise location from XMPP: Herald's view of her changes (REST), at each watcher's precision.
        await ada.Send("geoloc country=DE locality=Berlin building=HQ lat=52.52 lon=13.405");
        await ada.WaitForLine("published geoloc");
        using var adaRest = _xmpp.Server.Client(_tokens["ada"]);
        using var carlRest = _xmpp.Server.Client(_tokens["carl"]);
        var own = await adaRest.GetFromJsonAsync<JsonElement>("/api/v1/me/presence");
        Assert.Equal(52.52, own.GetProperty("location").GetProperty("latitude").GetDouble());
        var carlView = await carlRest.GetFromJsonAsync<JsonElement>("/api/v1/presence/ada");
        Assert.Equal("Berlin", carlView.GetProperty("location").GetProperty("city").GetString());
        Assert.Equal(JsonValueKind.Null, carlView.GetProperty("location").GetProperty("latitude").ValueKind);

        // carl (Colleague: City) gets country and locality as a PEP notification — no building, no coordinates.
        var carlGeo = await carl.WaitFor(l => l.StartsWith("geoloc ada@localhost ", StringComparison.Ordinal), because: "ada's geoloc for carl");
        Assert.Equal("geoloc ada@localhost country=DE locality=Berlin", carlGeo);

        // An activity from XMPP: both watchers may see activity; nora, who may not see location, gets no geoloc at all.
        await ada.Send("activity working in_a_meeting");
        await ada.WaitForLine("published activity");
        await nora.WaitFor(l => l == "activity ada@localhost working/in_a_meeting InAMeeting", because: "ada's activity for nora");
        await carl.WaitFor(l => l == "activity ada@localhost working/in_a_meeting InAMeeting", because: "ada's activity for carl");
        Assert.DoesNotContain(nora.Lines, l => l.StartsWith("geoloc ada@localhost", StringComparison.Ordinal));
        var activityView = await carlRest.GetFromJsonAsync<JsonElement>("/api/v1/presence/ada");
        Assert.Equal("InAMeeting", activityView.GetProperty("activity").GetString());

        // ada stops publishing her location: carl gets the empty geoloc, and the Herald view has none.
        await ada.Send("geolocstop");
        await Eventually.True(() => ada.Lines.Count(l => l == "published geoloc") == 2, because: "the empty geoloc published");
        await carl.WaitFor(l => l == "geoloc ada@localhost -", because: "the empty geoloc");
        var cleared = await carlRest.GetFromJsonAsync<JsonElement>("/api/v1/presence/ada");
        Assert.Equal(JsonValueKind.Null, cleared.GetProperty("location").ValueKind);
        Assert.DoesNotContain(nora.Lines, l => l.StartsWith("geoloc ada@localhost", StringComparison.Ordinal));
    }
}
