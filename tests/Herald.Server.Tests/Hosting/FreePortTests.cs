using System.Net;
using System.Net.Sockets;
using Herald.Server.Tests.Infrastructure;
using Herald.Xmpp;

namespace Herald.Server.Tests.Hosting;

/// <summary>
/// Test servers never collide on a fixed port: with XMPP's default port 5222 taken (by us, or by whatever already
/// listens there), two in-process servers and two server processes start at once, each with its own free HTTP port
/// and — where a test turns XMPP on (<c>Herald:Xmpp:Port=-1</c>) — its own free XMPP port, reported once bound.
/// </summary>
public sealed class FreePortTests
{
    [Fact]
    public async Task Two_test_servers_and_two_server_processes_start_at_once_while_port_5222_is_taken()
    {
        using var blocker = Occupy5222(); // null when something else already listens there: the same condition

        // In process: the fixture's defaults (XMPP off) and XMPP on a free port.
        await using var plain = new HeraldTestServer();
        await using var withXmpp = new HeraldTestServer(null, null, "--Herald:Xmpp:Port=-1");
        await using var withXmpp2 = new HeraldTestServer(null, null, "--Herald:Xmpp:Port=-1");
        // Child processes: the shared ServerProcess (the fixture of the crash, browser, CLI and cluster tests).
        var dirA = Path.Combine(Path.GetTempPath(), "herald-ports-" + Guid.NewGuid().ToString("N"));
        var dirB = Path.Combine(Path.GetTempPath(), "herald-ports-" + Guid.NewGuid().ToString("N"));
        await using var procA = new ServerProcess(dirA) { Name = "a", DeleteDataDirectory = true };
        await using var procB = new ServerProcess(dirB, "--Herald:Xmpp:Port=-1") { Name = "b", DeleteDataDirectory = true };

        await Task.WhenAll(plain.StartAsync(), withXmpp.StartAsync(), withXmpp2.StartAsync(), procA.StartAsync(), procB.StartAsync());

        var gateways = new[] { plain, withXmpp, withXmpp2 }
            .Select(s => s.Services.GetRequiredService<XmppGateway>().Started.WaitAsync(TimeSpan.FromSeconds(30))).ToArray();
        var xmppPorts = await Task.WhenAll(gateways);
        Assert.Equal(0, xmppPorts[0]); // the fixture's default: XMPP off, no listener at all
        Assert.Equal(0, procA.XmppPort);
        int[] open = [xmppPorts[1], xmppPorts[2], procB.XmppPort];
        Assert.All(open, p => Assert.True(p > 0 && p != 5222, $"XMPP port {p}"));
        Assert.Equal(open.Length, open.Distinct().Count());
        foreach (var port in open)
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(IPAddress.Loopback, port); // each gateway accepts on the port it reported
        }

        // The kept output (attached to failures of process-based tests) shows where each process listens.
        Assert.Contains($"Now listening on: http://127.0.0.1:{procA.Port}", procA.Report(), StringComparison.Ordinal);
        Assert.Contains($"XMPP gateway listening on port {procB.XmppPort}", procB.Report(), StringComparison.Ordinal);

        int[] http = [plain.BaseAddress.Port, withXmpp.BaseAddress.Port, withXmpp2.BaseAddress.Port, procA.Port, procB.Port];
        Assert.Equal(http.Length, http.Distinct().Count());
        foreach (var address in new[] { plain.BaseAddress, withXmpp.BaseAddress, withXmpp2.BaseAddress, procA.BaseAddress, procB.BaseAddress })
        {
            using var c = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(10) };
            Assert.Equal(HttpStatusCode.OK, (await c.GetAsync("/healthz")).StatusCode);
        }
    }

    /// <summary>Listens on 5222 (all addresses, as the gateway would) if it is free; null when it is already taken.</summary>
    private static Socket? Occupy5222()
    {
        var address = Socket.OSSupportsIPv6 ? IPAddress.IPv6Any : IPAddress.Any;
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }
            socket.Bind(new IPEndPoint(address, 5222));
            socket.Listen(1);
            return socket;
        }
        catch (SocketException)
        {
            socket.Dispose();
            return null;
        }
    }
}
