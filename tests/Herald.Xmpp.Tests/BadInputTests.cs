using System.Text;
using Herald.Server.Tests.Infrastructure;
using Herald.Xmpp.Tests.Infrastructure;

namespace Herald.Xmpp.Tests;

/// <summary>Hostile or broken input gets the right stream error, and a well-behaved client on the side is unaffected.</summary>
public sealed class BadInputTests : IAsyncLifetime
{
    private readonly XmppServer _xmpp = new("--Herald:Xmpp:StanzaTimeout=00:00:02", "--Herald:Xmpp:MaxStanzaBytes=16384");

    public async Task InitializeAsync()
    {
        await _xmpp.StartAsync();
        await _xmpp.Server.CreatePeople(HeraldTestServer.Person("good"), HeraldTestServer.Person("bad"));
    }

    public async Task DisposeAsync() => await _xmpp.DisposeAsync();

    private async Task<string> StreamErrorAfter(Func<RawXmpp, Task> misbehave, bool login = false)
    {
        await using var raw = await RawXmpp.Connect(_xmpp.Port);
        if (login)
        {
            await raw.Login("bad", "pw-bad-123");
        }
        await misbehave(raw);
        var received = await raw.ReadUntil("</stream:stream>");
        Assert.True(await raw.ClosedByServer(TimeSpan.FromSeconds(10)), "the server closes the connection after a stream error");
        var start = received.IndexOf("<stream:error>", StringComparison.Ordinal);
        Assert.True(start >= 0, received);
        return received[start..];
    }

    [Fact]
    public async Task Each_bad_input_gets_its_stream_error_while_a_good_client_keeps_working()
    {
        // The good client: logged in over TLS, pinging all along.
        await using var good = await RawXmpp.Connect(_xmpp.Port);
        await good.Login("good", "pw-good-123");
        using var stop = new CancellationTokenSource();
        var pings = 0;
        var pinger = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested && pings < 500)
            {
                good.ClearReceived();
                await good.Send($"<iq type='get' id='p{pings}'><ping xmlns='urn:xmpp:ping'/></iq>");
                await good.ReadUntil($"id=\"p{pings}\"", TimeSpan.FromSeconds(5));
                pings++;
                await Task.Delay(50);
            }
        });

        var cases = new (string Name, Func<Task<string>> Run, string Condition)[]
        {
            ("malformed XML", () => StreamErrorAfter(r => r.Send(RawXmpp.Header + "<message><body>x</bod></message>")), "not-well-formed"),
            ("entity expansion", () => StreamErrorAfter(r => r.Send("<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'><!ENTITY lol2 '&lol;&lol;&lol;'>]>" + RawXmpp.Header)), "restricted-xml"),
            ("entity reference", () => StreamErrorAfter(r => r.Send(RawXmpp.Header + "<message><body>&lol2;</body></message>")), "restricted-xml"),
            ("oversized stanza", () => StreamErrorAfter(r => r.Send(RawXmpp.Header + "<message><body>" + new string('x', 40_000) + "</body></message>")), "policy-violation"),
            ("stanza before authentication", () => StreamErrorAfter(r => r.Send(RawXmpp.Header + "<message to='good@localhost'><body>hi</body></message>")), "not-authorized"),
            ("presence before authentication", () => StreamErrorAfter(r => r.Send(RawXmpp.Header + "<presence/>")), "not-authorized"),
            ("slow sender", () => StreamErrorAfter(async r => await r.Send("<iq type='get' id='slow'><ping xmlns='urn:xmpp:ping'"), login: true), "connection-timeout"),
            ("invalid UTF-8", () => StreamErrorAfter(r => r.SendBytes([.. Encoding.UTF8.GetBytes(RawXmpp.Header + "<message><body>"), 0xC3, 0x28])), "not-well-formed"),
            ("wrong namespace", () => StreamErrorAfter(r => r.Send("<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>")), "invalid-namespace"),
            ("unknown host", () => StreamErrorAfter(r => r.Send(RawXmpp.Header.Replace("to='localhost'", "to='elsewhere.example'", StringComparison.Ordinal))), "host-unknown"),
        };
        var results = await Task.WhenAll(cases.Select(async c => (c.Name, c.Condition, Error: await c.Run())));
        foreach (var (name, condition, error) in results)
        {
            Assert.True(error.Contains($"<{condition} xmlns=\"urn:ietf:params:xml:ns:xmpp-streams\"", StringComparison.Ordinal), $"{name}: {error}");
        }

        var before = pings;
        await Eventually.True(() => pings >= before + 3 || pinger.IsFaulted, TimeSpan.FromSeconds(10), "the good client keeps getting answers");
        await stop.CancelAsync();
        await pinger;
        Assert.True(pings > 5);
    }

    [Fact]
    public async Task Tls_is_required_before_sasl_and_wrong_passwords_are_refused()
    {
        await using var raw = await RawXmpp.Connect(_xmpp.Port);
        await raw.Send(RawXmpp.Header);
        var features = await raw.ReadUntil("</stream:features>");
        Assert.Contains("<starttls xmlns=\"urn:ietf:params:xml:ns:xmpp-tls\"><required /></starttls>", features, StringComparison.Ordinal);
        Assert.DoesNotContain("mechanism", features, StringComparison.Ordinal);
        raw.ClearReceived();
        await raw.Send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" + Convert.ToBase64String(Encoding.UTF8.GetBytes("\0good\0pw-good-123")) + "</auth>");
        Assert.Contains("encryption-required", await raw.ReadUntil("</failure>"), StringComparison.Ordinal);

        raw.ClearReceived();
        await raw.Send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
        await raw.ReadUntil("<proceed");
        await raw.StartTls();
        await raw.Send(RawXmpp.Header);
        var secured = await raw.ReadUntil("</stream:features>");
        Assert.Contains("<mechanism>SCRAM-SHA-256</mechanism><mechanism>SCRAM-SHA-1</mechanism><mechanism>PLAIN</mechanism>", secured, StringComparison.Ordinal);
        for (var i = 0; i < 2; i++)
        {
            raw.ClearReceived();
            await raw.Send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" + Convert.ToBase64String(Encoding.UTF8.GetBytes("\0good\0wrong")) + "</auth>");
            Assert.Contains("<not-authorized", await raw.ReadUntil("</failure>"), StringComparison.Ordinal);
        }
        raw.ClearReceived();
        await raw.Send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" + Convert.ToBase64String(Encoding.UTF8.GetBytes("\0nobody\0wrong")) + "</auth>");
        Assert.Contains("policy-violation", await raw.ReadUntil("</stream:stream>"), StringComparison.Ordinal);
    }
}
