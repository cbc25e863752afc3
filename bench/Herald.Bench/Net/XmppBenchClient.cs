using System.Buffers;
using System.Net.Sockets;
using System.Text;

namespace Herald.Bench.Net;

/// <summary>
/// A minimal asynchronous XMPP c2s client for the load generator: plain TCP (no TLS), SASL PLAIN, resource
/// binding, a session request, a roster get, initial presence, then presence updates with the stamp in
/// <c>&lt;status/&gt;</c>. It frames top-level stanzas by counting tags (quotes respected) and only inspects the
/// stanzas it needs, so a connection costs one socket, one receive buffer and no thread.
/// </summary>
public sealed class XmppBenchClient : IBenchConnection
{
    private const int MaxStanzaBytes = 1 << 20;
    private readonly NetOptions _o;
    private readonly int _index;
    private readonly DeliveryRecorder _recorder;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
    private byte[] _buf = new byte[4096];
    private int _start;
    private int _end;
    private int _scan;
    private int _depth;
    private int _elemStart = -1;
    private long _errors;
    private bool _closed;

    /// <summary>Creates the client of user <paramref name="index"/>.</summary>
    public XmppBenchClient(NetOptions options, int index, DeliveryRecorder recorder)
    {
        _o = options;
        _index = index;
        _recorder = recorder;
    }

    /// <inheritdoc />
    public long Errors => Interlocked.Read(ref _errors);

    /// <inheritdoc />
    public int RosterSize { get; private set; }

    private string User => _o.Prefix + _index.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <inheritdoc />
    public async Task Login(CancellationToken ct)
    {
        await _socket.ConnectAsync(_o.Host, _o.Port, ct);
        await Send(Header(), ct);
        await ExpectFeatures(ct);
        var plain = Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0{User}\0{_o.Password}"));
        await Send($"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{plain}</auth>", ct);
        var auth = await NextStanza(ct);
        if (!auth.StartsWith("<success", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{User}: SASL failed: {Trim(auth)}");
        }
        // A new stream after SASL; the parser restarts at depth 0.
        _depth = 0;
        await Send(Header(), ct);
        await ExpectFeatures(ct);
        await Send("<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>bench</resource></bind></iq>", ct);
        await ExpectResult("bind1", ct);
        await Send("<iq type='set' id='sess1'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>", ct);
        await ExpectResult("sess1", ct, allowError: true);
        await Send("<iq type='get' id='roster1'><query xmlns='jabber:iq:roster'/></iq>", ct);
        var roster = await ExpectResult("roster1", ct);
        RosterSize = Count(roster, "<item ");
        await Send("<presence><status>online</status></presence>", ct);
        _ = ReadLoop();
    }

    /// <inheritdoc />
    public async Task Publish(string stamp, bool busy, CancellationToken ct)
    {
        var show = busy ? "<show>dnd</show>" : "";
        await Send($"<presence>{show}<status>{stamp}</status></presence>", ct);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_closed)
        {
            return;
        }
        _closed = true;
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await Send("<presence type='unavailable'/></stream:stream>", cts.Token);
        }
        catch (Exception)
        {
            // best effort
        }
        _socket.Dispose();
    }

    private string Header() =>
        $"<?xml version='1.0'?><stream:stream to='{_o.Domain}' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>";

    private async Task ExpectFeatures(CancellationToken ct)
    {
        for (var i = 0; i < 5; i++)
        {
            var s = await NextStanza(ct);
            if (s.StartsWith("<stream:features", StringComparison.Ordinal))
            {
                return;
            }
            if (s.StartsWith("<stream:error", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"{User}: {Trim(s)}");
            }
        }
        throw new InvalidOperationException($"{User}: no stream features");
    }

    private async Task<string> ExpectResult(string id, CancellationToken ct, bool allowError = false)
    {
        for (var i = 0; i < 10_000; i++)
        {
            var s = await NextStanza(ct);
            if (s.StartsWith("<iq", StringComparison.Ordinal) && (s.Contains($"id='{id}'", StringComparison.Ordinal) || s.Contains($"id=\"{id}\"", StringComparison.Ordinal)))
            {
                if (s.Contains("type='result'", StringComparison.Ordinal) || s.Contains("type=\"result\"", StringComparison.Ordinal) || allowError)
                {
                    return s;
                }
                throw new InvalidOperationException($"{User}: {id} failed: {Trim(s)}");
            }
            if (s.StartsWith("<stream:error", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"{User}: {Trim(s)}");
            }
            if (s.StartsWith("<presence", StringComparison.Ordinal))
            {
                OnPresence(Encoding.UTF8.GetBytes(s));
            }
        }
        throw new InvalidOperationException($"{User}: no answer to {id}");
    }

    private static string Trim(string s) => s.Length > 300 ? s[..300] : s;

    private static int Count(string s, string what)
    {
        var n = 0;
        for (var i = s.IndexOf(what, StringComparison.Ordinal); i >= 0; i = s.IndexOf(what, i + 1, StringComparison.Ordinal))
        {
            n++;
        }
        return n;
    }

    private async Task Send(string xml, CancellationToken ct)
    {
        var bytes = Encoding.UTF8.GetBytes(xml);
        await _sendLock.WaitAsync(ct);
        try
        {
            var sent = 0;
            while (sent < bytes.Length)
            {
                sent += await _socket.SendAsync(bytes.AsMemory(sent), SocketFlags.None, ct);
            }
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>Reads the next top-level element during login (as a string; the stream header is skipped).</summary>
    private async Task<string> NextStanza(CancellationToken ct)
    {
        while (true)
        {
            var (start, length) = Frame();
            if (length > 0)
            {
                return Encoding.UTF8.GetString(_buf, start, length);
            }
            if (!await Fill(ct))
            {
                throw new InvalidOperationException($"{User}: the server closed the stream");
            }
        }
    }

    private async Task ReadLoop()
    {
        try
        {
            while (!_closed)
            {
                while (true)
                {
                    var (start, length) = Frame();
                    if (length == 0)
                    {
                        break;
                    }
                    Dispatch(_buf.AsSpan(start, length));
                }
                if (!await Fill(CancellationToken.None))
                {
                    break;
                }
            }
        }
        catch (Exception) when (_closed)
        {
            // closing
        }
        catch (Exception)
        {
            Interlocked.Increment(ref _errors);
        }
        if (!_closed)
        {
            Interlocked.Increment(ref _errors); // the server closed a live stream
        }
    }

    private void Dispatch(ReadOnlySpan<byte> stanza)
    {
        if (stanza.StartsWith("<presence"u8))
        {
            // A presence error (e.g. the server failed to apply our own presence) is an error, not a delivery.
            var head = stanza[..Math.Max(0, stanza.IndexOf((byte)'>'))];
            if (head.IndexOf("type='error'"u8) >= 0 || head.IndexOf("type=\"error\""u8) >= 0)
            {
                Interlocked.Increment(ref _errors);
                return;
            }
            OnPresence(stanza);
        }
        else if (stanza.StartsWith("<stream:error"u8) || (stanza.StartsWith("<iq"u8) && stanza.IndexOf("type='error'"u8) >= 0))
        {
            Interlocked.Increment(ref _errors);
        }
    }

    private void OnPresence(ReadOnlySpan<byte> stanza)
    {
        var i = stanza.IndexOf("<status>"u8);
        if (i < 0)
        {
            return;
        }
        var text = stanza[(i + 8)..];
        var end = text.IndexOf((byte)'<');
        if (end > 0)
        {
            _recorder.OnStamp(text[..end], _index);
        }
    }

    private async Task<bool> Fill(CancellationToken ct)
    {
        if (_start > 0)
        {
            // Compact: keep the unread part (and the element being framed) at the front.
            var keepFrom = _elemStart >= 0 ? Math.Min(_elemStart, _start) : _start;
            Buffer.BlockCopy(_buf, keepFrom, _buf, 0, _end - keepFrom);
            _end -= keepFrom;
            _scan -= keepFrom;
            if (_elemStart >= 0)
            {
                _elemStart -= keepFrom;
            }
            _start -= keepFrom;
        }
        if (_end == _buf.Length)
        {
            if (_buf.Length >= MaxStanzaBytes)
            {
                throw new InvalidOperationException($"{User}: stanza over {MaxStanzaBytes} bytes");
            }
            Array.Resize(ref _buf, _buf.Length * 2);
        }
        var n = await _socket.ReceiveAsync(_buf.AsMemory(_end), SocketFlags.None, ct);
        if (n == 0)
        {
            return false;
        }
        _end += n;
        return true;
    }

    /// <summary>
    /// Scans for the next complete top-level element (depth 1 inside the stream); returns its offset and length,
    /// or length 0 when more bytes are needed.
    /// </summary>
    private (int Start, int Length) Frame()
    {
        var i = _scan;
        while (i < _end)
        {
            if (_buf[i] != (byte)'<')
            {
                i++;
                continue;
            }
            // Find the end of this tag, respecting quotes.
            var j = i + 1;
            byte quote = 0;
            while (j < _end)
            {
                var b = _buf[j];
                if (quote != 0)
                {
                    if (b == quote)
                    {
                        quote = 0;
                    }
                }
                else if (b is (byte)'\'' or (byte)'"')
                {
                    quote = b;
                }
                else if (b == (byte)'>')
                {
                    break;
                }
                j++;
            }
            if (j >= _end)
            {
                _scan = i; // incomplete tag: rescan it when more bytes arrive
                return (0, 0);
            }
            var next = j + 1;
            var kind = i + 1 < _end ? _buf[i + 1] : (byte)0;
            if (kind is (byte)'?' or (byte)'!')
            {
                i = next;
                continue;
            }
            if (kind == (byte)'/')
            {
                _depth--;
                i = next;
                if (_depth == 1 && _elemStart >= 0)
                {
                    var start = _elemStart;
                    _elemStart = -1;
                    _scan = next;
                    _start = next;
                    return (start, next - start);
                }
                if (_depth <= 0)
                {
                    _closed = true;
                    _scan = next;
                    _start = next;
                    return (0, 0);
                }
                continue;
            }
            var selfClosing = _buf[j - 1] == (byte)'/';
            if (_depth == 0)
            {
                // <stream:stream …>: opens the stream.
                _depth = 1;
                i = next;
                _start = next;
                continue;
            }
            if (_depth == 1)
            {
                _elemStart = i;
                if (selfClosing)
                {
                    _elemStart = -1;
                    _scan = next;
                    _start = next;
                    return (i, next - i);
                }
            }
            if (!selfClosing)
            {
                _depth++;
            }
            i = next;
        }
        _scan = i;
        if (_elemStart < 0)
        {
            _start = i;
        }
        return (0, 0);
    }
}

/// <summary>One simulated user's connection.</summary>
public interface IBenchConnection : IAsyncDisposable
{
    /// <summary>Connects, authenticates, fetches the contacts and publishes initial presence.</summary>
    Task Login(CancellationToken ct);

    /// <summary>Publishes a status change carrying <paramref name="stamp"/>.</summary>
    Task Publish(string stamp, bool busy, CancellationToken ct);

    /// <summary>Protocol errors seen after login (stream errors, error answers, a closed stream).</summary>
    long Errors { get; }

    /// <summary>Contacts returned at login.</summary>
    int RosterSize { get; }
}
