using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using Herald.Server.Tests.Infrastructure;
using Herald.Xmpp;

namespace Herald.Xmpp.Tests.Infrastructure;

/// <summary>Whether the real third-party components are here; in CI (HERALD_REQUIRE_ALL=1) a missing one fails the test.</summary>
public static class Interop
{
    public const string Python = PythonClient.Python;

    public static bool Required => Environment.GetEnvironmentVariable("HERALD_REQUIRE_ALL") == "1";

    public static bool Slixmpp => PythonClient.Imports("slixmpp");

    public static bool Aioxmpp => PythonClient.Imports("aioxmpp");

    public static void Require(bool present, string what) =>
        Assert.True(present, $"{what} is required (Debian package; see .ci/packages.txt) and HERALD_REQUIRE_ALL=1");
}

/// <summary>A test that needs python3-slixmpp: skipped when it is missing, unless HERALD_REQUIRE_ALL=1 (then it fails).</summary>
public sealed class SlixmppFactAttribute : FactAttribute
{
    public SlixmppFactAttribute()
    {
        if (!Interop.Slixmpp && !Interop.Required)
        {
            Skip = "python3-slixmpp is not installed";
        }
    }
}

/// <summary>A test that needs python3-aioxmpp: skipped when it is missing, unless HERALD_REQUIRE_ALL=1 (then it fails).</summary>
public sealed class AioxmppFactAttribute : FactAttribute
{
    public AioxmppFactAttribute()
    {
        if (!Interop.Aioxmpp && !Interop.Required)
        {
            Skip = "python3-aioxmpp is not installed";
        }
    }
}

/// <summary>The real server with the XMPP gateway on a free port.</summary>
public sealed class XmppServer : IAsyncDisposable
{
    public XmppServer(params string[] extraArgs) =>
        Server = new HeraldTestServer(null, null, ["--Herald:Xmpp:Port=-1", .. extraArgs]);

    public HeraldTestServer Server { get; }

    public int Port { get; private set; }

    public async Task StartAsync()
    {
        await Server.StartAsync();
        Port = await Server.Services.GetRequiredService<XmppGateway>().Started.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(Port > 0, "the XMPP gateway did not start");
    }

    public async ValueTask DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>A raw TCP XMPP connection for protocol-level tests (bad input, negotiation details).</summary>
public sealed class RawXmpp : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private Stream _stream;
    private readonly StringBuilder _received = new();

    private RawXmpp(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    public static async Task<RawXmpp> Connect(int port)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", port);
        return new RawXmpp(tcp);
    }

    public string Received => _received.ToString();

    public async Task Send(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        await _stream.WriteAsync(bytes);
        await _stream.FlushAsync();
    }

    public async Task SendBytes(byte[] bytes)
    {
        await _stream.WriteAsync(bytes);
        await _stream.FlushAsync();
    }

    /// <summary>Reads until <paramref name="marker"/> appears in everything received (bounded); returns all received.</summary>
    public async Task<string> ReadUntil(string marker, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(20));
        var buffer = new byte[8192];
        var decoder = Encoding.UTF8.GetDecoder();
        var chars = new char[8192];
        while (!_received.ToString().Contains(marker, StringComparison.Ordinal))
        {
            int n;
            try
            {
                n = await _stream.ReadAsync(buffer, cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"no '{marker}' in: {_received}");
            }
            if (n == 0)
            {
                throw new IOException($"closed before '{marker}': {_received}");
            }
            var c = decoder.GetChars(buffer, 0, n, chars, 0);
            _received.Append(chars, 0, c);
        }
        return _received.ToString();
    }

    /// <summary>True when the server closed the connection within the timeout.</summary>
    public async Task<bool> ClosedByServer(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                var n = await _stream.ReadAsync(buffer, cts.Token);
                if (n == 0)
                {
                    return true;
                }
                _received.Append(Encoding.UTF8.GetString(buffer, 0, n));
            }
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }

    public async Task StartTls()
    {
        var ssl = new SslStream(_stream, false, (_, _, _, _) => true);
        await ssl.AuthenticateAsClientAsync("localhost");
        _stream = ssl;
        _received.Clear();
    }

    public void ClearReceived() => _received.Clear();

    public const string Header = "<?xml version='1.0'?><stream:stream to='localhost' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>";

    /// <summary>Opens the stream, STARTTLS, then PLAIN and bind (for raw tests that need a bound session).</summary>
    public async Task Login(string user, string password, bool tls = true)
    {
        await Send(Header);
        await ReadUntil("</stream:features>");
        if (tls)
        {
            await Send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
            await ReadUntil("<proceed");
            await StartTls();
            await Send(Header);
            await ReadUntil("</stream:features>");
        }
        var plain = Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0{user}\0{password}"));
        ClearReceived();
        await Send($"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{plain}</auth>");
        await ReadUntil("<success");
        ClearReceived();
        await Send(Header);
        await ReadUntil("</stream:features>");
        ClearReceived();
        await Send("<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>raw</resource></bind></iq>");
        await ReadUntil("</iq>");
        ClearReceived();
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _tcp.Dispose();
    }
}
