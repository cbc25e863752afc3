using System.Net.Http.Json;
using Herald.Server.Tests.Infrastructure;
using Herald.Xmpp.Tests.Infrastructure;

namespace Herald.Xmpp.Tests;

/// <summary>Real third-party clients (python3-slixmpp) against the real server.</summary>
public sealed class SlixmppInteropTests : IAsyncLifetime
{
    private readonly XmppServer _xmpp = new();
    private Dictionary<string, string> _tokens = null!;

    public async Task InitializeAsync()
    {
        await _xmpp.StartAsync();
        _tokens = await _xmpp.Server.CreatePeople(HeraldTestServer.Person("alice", team: "platform"), HeraldTestServer.Person("bob", team: "platform"),
            HeraldTestServer.Person("carol", team: "platform"));
        // Team members must confirm subscriptions (so there is something to approve).
        foreach (var id in new[] { "alice", "bob" })
        {
            using var c = _xmpp.Server.Client(_tokens[id]);
            (await c.PutAsJsonAsync("/api/v1/me/privacy", new { subscriptions = new { Team = "Confirm" } })).EnsureSuccessStatusCode();
        }
    }

    public async Task DisposeAsync() => await _xmpp.DisposeAsync();

    private PythonClient Client(string user, string mechanism = "SCRAM-SHA-256") =>
        PythonClient.Start("slix_client.py", $"{user}@localhost/desk", $"pw-{user}-123", "127.0.0.1", _xmpp.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), mechanism);

    [SlixmppFact]
    public async Task Two_clients_log_in_with_scram_over_starttls_subscribe_approve_and_see_each_other()
    {
        Interop.Require(Interop.Slixmpp, "python3-slixmpp");
        await using var alice = Client("alice");
        await using var bob = Client("bob", "SCRAM-SHA-1");
        await alice.WaitForLine("ready");
        await bob.WaitForLine("ready");
        await alice.Send("presence - working");
        await bob.Send("presence - here");

        // alice asks, bob approves from XMPP; then the other way round.
        await alice.Send("subscribe bob@localhost");
        await bob.WaitForLine("subscribe alice@localhost");
        await bob.Send("approve alice@localhost");
        await alice.WaitForLine("subscribed bob@localhost");
        await alice.WaitFor(l => l.StartsWith("presence bob@localhost available - here", StringComparison.Ordinal), because: "bob's presence");

        await bob.Send("subscribe alice@localhost");
        await alice.WaitForLine("subscribe bob@localhost");
        await alice.Send("approve bob@localhost");
        await bob.WaitFor(l => l.StartsWith("presence alice@localhost available - working", StringComparison.Ordinal), because: "alice's presence");

        // Do not disturb with a status text.
        await alice.Send("presence dnd In a meeting");
        try
        {
            await bob.WaitFor(l => l == "presence alice@localhost available dnd In a meeting", because: "dnd with the status");
        }
        catch (TimeoutException ex)
        {
            using var bc = _xmpp.Server.Client(_tokens["bob"]);
            using var ac = _xmpp.Server.Client(_tokens["alice"]);
            throw new TimeoutException(ex.Message + "\nalice:\n" + string.Join("\n", alice.Lines) + "\nbob sees: " + await bc.GetStringAsync("/api/v1/presence/alice")
                + "\nalice sees: " + await ac.GetStringAsync("/api/v1/presence/alice"), ex);
        }

        // alice closes her stream: bob sees her unavailable.
        await alice.Send("quit");
        await alice.WaitForLine("closed");
        await bob.WaitFor(l => l.StartsWith("presence alice@localhost unavailable", StringComparison.Ordinal), because: "alice unavailable");

        // The roster reflects both subscriptions.
        await bob.Send("roster");
        await bob.WaitFor(l => l == "roster alice@localhost both -", because: "mutual subscription in the roster");
    }
}
