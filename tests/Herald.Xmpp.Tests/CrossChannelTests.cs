using System.Diagnostics;
using System.Net.Http.Json;
using Herald.Server.Tests.Infrastructure;
using Herald.Xmpp.Tests.Infrastructure;

namespace Herald.Xmpp.Tests;

/// <summary>Changes made through one channel reach the others: REST → XMPP, XMPP → SSE, each within a second.</summary>
public sealed class CrossChannelTests : IAsyncLifetime
{
    private readonly XmppServer _xmpp = new();
    private Dictionary<string, string> _tokens = null!;

    public async Task InitializeAsync()
    {
        await _xmpp.StartAsync();
        _tokens = await _xmpp.Server.CreatePeople(HeraldTestServer.Person("alice", team: "platform"), HeraldTestServer.Person("bob", team: "platform"));
        using var alice = _xmpp.Server.Client(_tokens["alice"]);
        (await alice.PutAsync("/api/v1/me/contacts/bob", null)).EnsureSuccessStatusCode(); // the roster = Herald contacts
    }

    public async Task DisposeAsync() => await _xmpp.DisposeAsync();

    [SlixmppFact]
    public async Task A_rest_status_change_reaches_an_xmpp_client_and_an_xmpp_change_reaches_an_sse_watcher_within_a_second()
    {
        Interop.Require(Interop.Slixmpp, "python3-slixmpp");
        await using var alice = PythonClient.Start("slix_client.py", "alice@localhost/phone", "pw-alice-123", "127.0.0.1", _xmpp.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "SCRAM-SHA-256");
        await alice.WaitForLine("ready");
        await alice.Send("roster");
        await alice.WaitFor(l => l.StartsWith("roster bob@localhost ", StringComparison.Ordinal), because: "bob on alice's roster (a REST contact)");
        await alice.Send("presence - at my desk");
        await alice.WaitForLine("ok presence");

        // REST → XMPP.
        using var bob = _xmpp.Server.Client(_tokens["bob"]);
        var watch = Stopwatch.StartNew();
        (await bob.PutAsJsonAsync("/api/v1/me/status", new { availability = "DoNotDisturb", note = "Deep work" })).EnsureSuccessStatusCode();
        await alice.WaitFor(l => l == "presence bob@localhost available dnd Deep work", TimeSpan.FromSeconds(10), "bob's REST status over XMPP");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"REST → XMPP took {watch.Elapsed}");

        // XMPP → SSE.
        await using var sse = await SseWatcher.Connect(_xmpp.Server, _tokens["bob"], "watch=alice");
        await Eventually.True(() => sse.Latest("alice")?.Availability == "Available", because: "alice's first presence on SSE");
        watch.Restart();
        await alice.Send("presence away Back soon");
        await Eventually.True(() => sse.Latest("alice") is { Availability: "Away", Note: "Back soon" }, TimeSpan.FromSeconds(10), "alice's XMPP presence on SSE");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"XMPP → SSE took {watch.Elapsed}");
    }
}
