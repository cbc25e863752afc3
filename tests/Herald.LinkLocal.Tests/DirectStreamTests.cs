using System.Net;
using System.Net.Sockets;
using System.Text;
using Herald.Core.Model;
using Herald.LinkLocal.Xmpp;

namespace Herald.LinkLocal.Tests;

/// <summary>The direct XMPP stream over loopback TCP: delivery, the busy answer and the parser's limits.</summary>
public sealed class DirectStreamTests
{
    // A generous idle timeout: on a loaded CI machine a peer may well be silent for a second between two writes.
    private static readonly StreamLimits Limits = new() { IdleTimeout = TimeSpan.FromSeconds(15), MaxStanzaBytes = 8 * 1024, MaxDepth = 8 };

    private sealed class Server : IAsyncDisposable
    {
        private readonly TcpListener _l = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;
        public readonly List<IncomingMessage> Received = [];

        public Server(Func<BusyAnswer> decide, StreamLimits? limits = null)
        {
            _l.Start();
            _loop = Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    TcpClient c;
                    try
                    {
                        c = await _l.AcceptTcpClientAsync(_stop.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }
                    _ = Task.Run(async () =>
                    {
                        using (c)
                        {
                            try
                            {
                                await DirectStream.ServeAsync(c.GetStream(), "bob@host", limits ?? Limits, _ => decide(), m =>
                                {
                                    lock (Received)
                                    {
                                        Received.Add(m);
                                    }
                                }, null, _stop.Token);
                            }
                            catch (Exception e) when (e is IOException or OperationCanceledException)
                            {
                            }
                        }
                    });
                }
            });
        }

        public IPEndPoint EndPoint => (IPEndPoint)_l.LocalEndpoint;

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _l.Stop();
            await _loop;
            _l.Dispose();
            _stop.Dispose();
        }
    }

    private static readonly BusyAnswer Deliver = new(true, Availability.Available, null, null, null);

    [Fact]
    public async Task A_message_to_an_available_peer_is_delivered_with_a_receipt()
    {
        await using var s = new Server(() => Deliver);
        var r = await DirectStream.SendAsync(s.EndPoint, "alice@host", "bob@host", "hello <there> & 'you'", Limits, TimeSpan.FromSeconds(5), default);
        Assert.True(r.Delivered, r.Error);
        var m = Assert.Single(s.Received);
        Assert.Equal(("alice@host", "hello <there> & 'you'"), (m.From, m.Body));
    }

    [Fact]
    public async Task A_busy_peer_answers_at_once_with_the_busy_answer()
    {
        var back = new DateTimeOffset(2026, 11, 27, 15, 0, 0, TimeSpan.Zero);
        await using var s = new Server(() => new BusyAnswer(false, Availability.DoNotDisturb, "in a meeting", back, "bob is not to be disturbed: in a meeting"));
        var r = await DirectStream.SendAsync(s.EndPoint, "alice@host", "bob@host", "knock knock", Limits, TimeSpan.FromSeconds(5), default);
        Assert.Null(r.Error);
        Assert.False(r.Delivered);
        Assert.Equal(new BusyAnswer(false, Availability.DoNotDisturb, "in a meeting", back, "bob is not to be disturbed: in a meeting"), r.Busy);
        Assert.Empty(s.Received);
    }

    [Fact]
    public async Task The_busy_answer_is_a_standard_XMPP_message_error()
    {
        await using var s = new Server(() => new BusyAnswer(false, Availability.Busy, null, null, "bob is busy"));
        var reply = await Raw(s.EndPoint,
            "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from='x@y' to='bob@host' version='1.0'>" +
            "<message from='x@y' to='bob@host' id='m1' type='chat'><body>hi</body></message></stream:stream>");
        Assert.Contains("from='bob@host'", reply.Replace('"', '\''), StringComparison.Ordinal);
        Assert.Contains("<message type=\"error\"", reply, StringComparison.Ordinal);
        Assert.Contains("id=\"m1\"", reply, StringComparison.Ordinal);
        Assert.Contains("<error type=\"wait\"><recipient-unavailable xmlns=\"urn:ietf:params:xml:ns:xmpp-stanzas\" />", reply, StringComparison.Ordinal);
        Assert.Contains("<busy availability=\"Busy\" xmlns=\"urn:herald:link:busy:0\" />", reply, StringComparison.Ordinal);
        Assert.EndsWith("</stream:stream>", reply, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("dtd", "<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'aaaa'>]><stream:stream xmlns:stream='http://etherx.jabber.org/streams'>", "restricted-xml")]
    [InlineData("not a stream", "<hello/>", "invalid-namespace")]
    [InlineData("broken xml", "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'><message><body></message>", "not-well-formed")]
    public async Task Bad_input_gets_a_stream_error(string why, string input, string condition)
    {
        await using var s = new Server(() => Deliver);
        var reply = await Raw(s.EndPoint, input);
        Assert.Contains($"<{condition} xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>", reply, StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(why));
        Assert.Empty(s.Received);
    }

    [Fact]
    public async Task A_stanza_nested_too_deep_is_refused()
    {
        await using var s = new Server(() => Deliver);
        var deep = string.Concat(Enumerable.Repeat("<x>", 20)) + string.Concat(Enumerable.Repeat("</x>", 20));
        var reply = await Raw(s.EndPoint, Open + $"<message><body>hi</body>{deep}</message>");
        Assert.Contains("<policy-violation", reply, StringComparison.Ordinal);
        Assert.Empty(s.Received);
    }

    [Fact]
    public async Task A_stanza_over_the_byte_limit_is_refused()
    {
        await using var s = new Server(() => Deliver);
        var reply = await Raw(s.EndPoint, Open + "<message><body>" + new string('a', 64 * 1024) + "</body></message>");
        Assert.Contains("<policy-violation", reply, StringComparison.Ordinal);
        Assert.Empty(s.Received);
    }

    [Fact]
    public async Task An_idle_peer_is_cut_off_with_connection_timeout()
    {
        await using var s = new Server(() => Deliver, Limits with { IdleTimeout = TimeSpan.FromSeconds(1) });
        var reply = await Raw(s.EndPoint, Open, closeAfterWrite: false);
        Assert.Contains("<connection-timeout", reply, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sending_to_a_closed_port_is_a_clear_error()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var ep = (IPEndPoint)l.LocalEndpoint;
        l.Stop();
        var r = await DirectStream.SendAsync(ep, "alice@host", "bob@host", "hi", Limits, TimeSpan.FromSeconds(5), default);
        Assert.False(r.Delivered);
        Assert.StartsWith("Cannot connect", r.Error, StringComparison.Ordinal);
    }

    private const string Open = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from='x@y' to='bob@host' version='1.0'>";

    /// <summary>Writes raw bytes and reads everything the server sends until it closes (bounded by 10 s).</summary>
    private static async Task<string> Raw(IPEndPoint ep, string input, bool closeAfterWrite = true)
    {
        using var c = new TcpClient();
        await c.ConnectAsync(ep);
        var s = c.GetStream();
        await s.WriteAsync(Encoding.UTF8.GetBytes(input));
        if (closeAfterWrite)
        {
            c.Client.Shutdown(SocketShutdown.Send);
        }
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var buf = new byte[4096];
        var sb = new StringBuilder();
        try
        {
            int n;
            while ((n = await s.ReadAsync(buf, cts.Token)) > 0)
            {
                sb.Append(Encoding.UTF8.GetString(buf, 0, n));
            }
        }
        catch (IOException)
        {
        }
        return sb.ToString();
    }
}
