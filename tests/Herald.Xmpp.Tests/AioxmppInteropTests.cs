using System.Globalization;
using Herald.Server.Tests.Infrastructure;
using Herald.Xmpp.Tests.Infrastructure;

namespace Herald.Xmpp.Tests;

/// <summary>A second, independent client library (python3-aioxmpp) logs in and exchanges presence with slixmpp.</summary>
public sealed class AioxmppInteropTests : IAsyncLifetime
{
    private readonly XmppServer _xmpp = new();

    public async Task InitializeAsync()
    {
        await _xmpp.StartAsync();
        await _xmpp.Server.CreatePeople(HeraldTestServer.Person("alice", team: "platform"), HeraldTestServer.Person("bob", team: "platform"));
    }

    public async Task DisposeAsync() => await _xmpp.DisposeAsync();

    [AioxmppFact]
    public async Task An_aioxmpp_client_and_a_slixmpp_client_exchange_presence()
    {
        Interop.Require(Interop.Aioxmpp, "python3-aioxmpp");
        Interop.Require(Interop.Slixmpp, "python3-slixmpp");
        var port = _xmpp.Port.ToString(CultureInfo.InvariantCulture);
        await using var alice = PythonClient.Start("aio_client.py", "alice@localhost/aio", "pw-alice-123", "127.0.0.1", port);
        await using var bob = PythonClient.Start("slix_client.py", "bob@localhost/slix", "pw-bob-123", "127.0.0.1", port, "SCRAM-SHA-256");
        await alice.WaitForLine("ready");
        await bob.WaitForLine("ready");
        await bob.Send("presence - from slixmpp");

        // Team members are allowed at once (Herald's default policy).
        await alice.Send("subscribe bob@localhost");
        await bob.Send("subscribe alice@localhost");
        await alice.WaitFor(l => l == "presence bob@localhost available - from slixmpp", because: "bob's presence in aioxmpp");
        await alice.Send("presence away from aioxmpp");
        await bob.WaitFor(l => l == "presence alice@localhost available away from aioxmpp", because: "alice's presence in slixmpp");
        await bob.Send("presence dnd busy now");
        await alice.WaitFor(l => l == "presence bob@localhost available dnd busy now", because: "bob's dnd in aioxmpp");
    }
}
