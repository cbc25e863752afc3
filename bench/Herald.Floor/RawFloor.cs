using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Herald.Floor;

/// <summary>
/// The floor server on a raw <see cref="Socket"/> listener: hand-written HTTP/1.1 (keep-alive, Content-Length bodies
/// only) for the three HTTP endpoints and the WebSocket upgrade, and hand-written RFC 6455 framing (masked client
/// frames in, unmasked server frames out). One receive loop and one pump per connection; the pump writes everything
/// pending (replies and one presence message of all pending views) with one <c>send</c> per wake-up, from a reused
/// per-connection list and a pooled buffer: nothing is allocated per delivery. Limits: request head ≤ 16 KiB, body
/// ≤ 64 KiB, a client message ≤ 256 KiB (else close 1009); binary messages close with 1003.
/// </summary>
public sealed class RawFloor : IFloorServer
{
    private const int MaxHead = 16 * 1024;
    private const int MaxBody = 64 * 1024;
    private const int MaxMessage = 256 * 1024;
    private static readonly byte[] HeadEnd = "\r\n\r\n"u8.ToArray();
    private readonly FloorState _state;
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Socket> _open = [];
    private Task _accept = Task.CompletedTask;

    private RawFloor(FloorState state, Socket listener)
    {
        _state = state;
        _listener = listener;
    }

    /// <inheritdoc />
    public Uri Url { get; private set; } = new("http://127.0.0.1/");

    /// <summary>Binds and starts accepting.</summary>
    public static RawFloor Start(FloorState state)
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, state.Options.Port));
        listener.Listen(4096);
        var floor = new RawFloor(state, listener);
        floor.Url = new Uri($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndPoint!).Port}");
        floor._accept = floor.AcceptLoop();
        return floor;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        try
        {
            await _accept;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // stopped
        }
        lock (_open)
        {
            foreach (var s in _open)
            {
                s.Dispose();
            }
            _open.Clear();
        }
        _stop.Dispose();
    }

    private async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            var s = await _listener.AcceptAsync(_stop.Token);
            s.NoDelay = true;
            lock (_open)
            {
                _open.Add(s);
            }
            _ = Task.Run(() => Serve(s));
        }
    }

    private async Task Serve(Socket s)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(4096);
        try
        {
            var length = 0;
            while (true)
            {
                // One HTTP/1.1 request: the head up to CRLFCRLF, then a Content-Length body.
                int end;
                while ((end = buffer.AsSpan(0, length).IndexOf(HeadEnd)) < 0)
                {
                    if (length == buffer.Length)
                    {
                        if (buffer.Length >= MaxHead)
                        {
                            await SendAll(s, "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray());
                            return;
                        }
                        Grow(ref buffer, length, buffer.Length * 2);
                    }
                    var n = await s.ReceiveAsync(buffer.AsMemory(length), _stop.Token);
                    if (n == 0)
                    {
                        return;
                    }
                    length += n;
                }
                var head = Encoding.ASCII.GetString(buffer, 0, end);
                var request = HttpHead.Parse(head);
                var consumed = end + HeadEnd.Length;
                if (request is null || request.ContentLength > MaxBody)
                {
                    await SendAll(s, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray());
                    return;
                }
                int need;
                byte[] body;
                if (request.Chunked)
                {
                    // HttpClient sends JsonContent chunked: decode it (bounded like a Content-Length body).
                    int bodyEnd;
                    while ((body = Dechunk(buffer.AsSpan(consumed, length - consumed), out bodyEnd)!) is null)
                    {
                        if (length - consumed > MaxBody)
                        {
                            await SendAll(s, "HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray());
                            return;
                        }
                        if (length == buffer.Length)
                        {
                            Grow(ref buffer, length, buffer.Length * 2);
                        }
                        var n = await s.ReceiveAsync(buffer.AsMemory(length), _stop.Token);
                        if (n == 0)
                        {
                            return;
                        }
                        length += n;
                    }
                    need = consumed + bodyEnd;
                }
                else
                {
                    need = consumed + request.ContentLength;
                    if (need > buffer.Length)
                    {
                        Grow(ref buffer, length, need);
                    }
                    while (length < need)
                    {
                        var n = await s.ReceiveAsync(buffer.AsMemory(length), _stop.Token);
                        if (n == 0)
                        {
                            return;
                        }
                        length += n;
                    }
                    body = buffer.AsSpan(consumed, request.ContentLength).ToArray();
                }
                if (request.Path == "/api/v1/live")
                {
                    var leftover = buffer.AsSpan(need, length - need).ToArray();
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = [];
                    await Upgrade(s, request, leftover);
                    return;
                }
                await SendAll(s, Answer(request, body));
                buffer.AsSpan(need, length - need).CopyTo(buffer);
                length -= need;
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException or InvalidDataException)
        {
            // the client went away, sent a bad chunk, or the server stops
        }
        finally
        {
            if (buffer.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
            lock (_open)
            {
                _open.Remove(s);
            }
            s.Dispose();
        }
    }

    private byte[] Answer(HttpHead request, ReadOnlySpan<byte> body)
    {
        byte[]? json = null;
        var status = "404 Not Found";
        switch (request.Method, request.Path)
        {
            case ("GET", "/healthz"):
                return Response("200 OK", "text/plain", "ok"u8);
            case ("POST", "/api/v1/auth/token"):
                json = _state.Token(body);
                status = json is null ? "401 Unauthorized" : "200 OK";
                break;
            case ("GET", "/api/v1/me/contacts"):
                var user = _state.Bearer(request.Authorization ?? "");
                json = user < 0 ? null : _state.ContactsJson(user);
                status = json is null ? "401 Unauthorized" : "200 OK";
                break;
        }
        return Response(status, "application/json", json ?? []);
    }

    private static byte[] Response(string status, string type, ReadOnlySpan<byte> body)
    {
        var head = Encoding.ASCII.GetBytes($"HTTP/1.1 {status}\r\nContent-Type: {type}\r\nContent-Length: {body.Length}\r\n\r\n");
        var r = new byte[head.Length + body.Length];
        head.CopyTo(r, 0);
        body.CopyTo(r.AsSpan(head.Length));
        return r;
    }

    private async Task Upgrade(Socket s, HttpHead request, byte[] leftover)
    {
        var user = _state.Bearer(request.Authorization ?? "");
        if (user < 0 && request.Query.StartsWith("access_token=", StringComparison.Ordinal))
        {
            user = _state.IndexOf(Uri.UnescapeDataString(request.Query["access_token=".Length..]));
        }
        if (user < 0 || request.WebSocketKey is null || !string.Equals(request.Upgrade, "websocket", StringComparison.OrdinalIgnoreCase))
        {
            await SendAll(s, Encoding.ASCII.GetBytes($"HTTP/1.1 {(user < 0 ? "401 Unauthorized" : "400 Bad Request")}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
            return;
        }
#pragma warning disable CA5350 // RFC 6455 4.2.2 defines Sec-WebSocket-Accept with SHA-1; it is not used for security here.
        var accept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(request.WebSocketKey + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
#pragma warning restore CA5350
        var protocol = request.Protocols.Contains(FloorHost.SubProtocol) ? $"Sec-WebSocket-Protocol: {FloorHost.SubProtocol}\r\n" : "";
        await SendAll(s, Encoding.ASCII.GetBytes(
            $"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n{protocol}\r\n"));
        var c = new FloorConnection(user);
        var pump = Pump(s, c);
        try
        {
            await ReceiveFrames(s, c, leftover);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // gone
        }
        finally
        {
            _state.Disconnect(c); // completes the outbox: the pump writes what is queued (and a close) and ends
            try
            {
                await pump;
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                // gone
            }
        }
        try
        {
            s.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // gone
        }
    }

    /// <summary>Reads client frames (masked) until a close frame or the end of the stream.</summary>
    private async Task ReceiveFrames(Socket s, FloorConnection c, byte[] leftover)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(4096, leftover.Length));
        leftover.CopyTo(buffer, 0);
        var length = leftover.Length;
        var message = ArrayPool<byte>.Shared.Rent(4096);
        var messageLength = 0;
        try
        {
            while (true)
            {
                // Parse every complete frame in the buffer.
                var at = 0;
                while (TryFrame(buffer.AsSpan(at, length - at), out var fin, out var opcode, out var headerLength, out var payloadLength))
                {
                    if (payloadLength > MaxMessage || messageLength + payloadLength > MaxMessage)
                    {
                        Control(c, 8, CloseBody(1009));
                        return;
                    }
                    var payload = buffer.AsSpan(at + headerLength, (int)payloadLength);
                    Unmask(payload, buffer.AsSpan(at + headerLength - 4, 4));
                    at += headerLength + (int)payloadLength;
                    switch (opcode)
                    {
                        case 0 or 1:
                            if (messageLength + payload.Length > message.Length)
                            {
                                Grow(ref message, messageLength, Math.Max(message.Length * 2, messageLength + payload.Length));
                            }
                            payload.CopyTo(message.AsSpan(messageLength));
                            messageLength += payload.Length;
                            if (fin)
                            {
                                FloorProtocol.Handle(_state, c, message.AsSpan(0, messageLength));
                                messageLength = 0;
                            }
                            break;
                        case 2:
                            Control(c, 8, CloseBody(1003));
                            return;
                        case 8:
                            Control(c, 8, CloseBody(1000));
                            return;
                        case 9:
                            Control(c, 10, payload.ToArray());
                            break;
                        default:
                            break; // pong
                    }
                }
                buffer.AsSpan(at, length - at).CopyTo(buffer);
                length -= at;
                if (length == buffer.Length)
                {
                    Grow(ref buffer, length, Math.Min(buffer.Length * 2, MaxMessage + 16));
                }
                var n = await s.ReceiveAsync(buffer.AsMemory(length), _stop.Token);
                if (n == 0)
                {
                    return;
                }
                length += n;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            ArrayPool<byte>.Shared.Return(message);
        }
    }

    private static bool TryFrame(ReadOnlySpan<byte> b, out bool fin, out int opcode, out int headerLength, out long payloadLength)
    {
        fin = false;
        opcode = 0;
        headerLength = 0;
        payloadLength = 0;
        if (b.Length < 2)
        {
            return false;
        }
        fin = (b[0] & 0x80) != 0;
        opcode = b[0] & 0x0F;
        var masked = (b[1] & 0x80) != 0;
        long len = b[1] & 0x7F;
        var h = 2;
        if (len == 126)
        {
            if (b.Length < 4)
            {
                return false;
            }
            len = BinaryPrimitives.ReadUInt16BigEndian(b[2..]);
            h = 4;
        }
        else if (len == 127)
        {
            if (b.Length < 10)
            {
                return false;
            }
            len = (long)Math.Min(BinaryPrimitives.ReadUInt64BigEndian(b[2..]), long.MaxValue);
            h = 10;
        }
        if (!masked)
        {
            // RFC 6455 5.1: a server must close on an unmasked client frame; treated as too big to end the connection.
            payloadLength = long.MaxValue;
            headerLength = h;
            return true;
        }
        h += 4;
        headerLength = h;
        payloadLength = len;
        return len > MaxMessage || b.Length >= h + len;
    }

    private static void Unmask(Span<byte> payload, ReadOnlySpan<byte> mask)
    {
        for (var i = 0; i < payload.Length; i++)
        {
            payload[i] ^= mask[i & 3];
        }
    }

    private static byte[] CloseBody(ushort code)
    {
        var b = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(b, code);
        return b;
    }

    /// <summary>A control frame (close 8, pong 10) through the outbox: marked as neither presence nor text by a leading opcode byte.</summary>
    private static void Control(FloorConnection c, byte opcode, byte[] payload)
    {
        var b = new byte[payload.Length + 1];
        b[0] = opcode;
        payload.CopyTo(b, 1);
        c.Outbox.Writer.TryWrite(new Outgoing(b, false) { Control = true });
    }

    /// <summary>One send per wake-up: replies as their own frames, all pending views as one presence frame.</summary>
    private static async Task Pump(Socket s, FloorConnection c)
    {
        var reader = c.Outbox.Reader;
        var items = new List<Outgoing>();
        var head = FloorState.PresenceHead.Length;
        var tail = FloorState.PresenceTail.Length;
        var closed = false;
        while (!closed && await reader.WaitToReadAsync())
        {
            items.Clear();
            var size = 0;
            var views = 0;
            var viewBytes = 0;
            while (reader.TryRead(out var m))
            {
                items.Add(m);
                if (m.Presence)
                {
                    views++;
                    viewBytes += m.Bytes.Length - head - tail;
                }
                else
                {
                    size += m.Bytes.Length + 10;
                }
            }
            var presenceLength = views == 0 ? 0 : head + tail + viewBytes + views - 1;
            size += views == 0 ? 0 : presenceLength + 10;
            var frame = ArrayPool<byte>.Shared.Rent(size);
            try
            {
                var at = 0;
                if (views > 0)
                {
                    at = Header(frame, at, 1, presenceLength);
                    FloorState.PresenceHead.CopyTo(frame, at);
                    at += head;
                    var first = true;
                    foreach (var m in items)
                    {
                        if (!m.Presence)
                        {
                            continue;
                        }
                        if (!first)
                        {
                            frame[at++] = (byte)',';
                        }
                        first = false;
                        var view = m.Bytes.AsSpan(head, m.Bytes.Length - head - tail);
                        view.CopyTo(frame.AsSpan(at));
                        at += view.Length;
                    }
                    FloorState.PresenceTail.CopyTo(frame, at);
                    at += tail;
                }
                foreach (var m in items)
                {
                    if (m.Presence)
                    {
                        continue;
                    }
                    if (m.Control)
                    {
                        at = Header(frame, at, m.Bytes[0], m.Bytes.Length - 1);
                        m.Bytes.AsSpan(1).CopyTo(frame.AsSpan(at));
                        at += m.Bytes.Length - 1;
                        closed |= m.Bytes[0] == 8;
                        continue;
                    }
                    at = Header(frame, at, 1, m.Bytes.Length);
                    m.Bytes.CopyTo(frame, at);
                    at += m.Bytes.Length;
                }
                await SendAll(s, frame.AsMemory(0, at));
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(frame);
            }
        }
    }

    private static int Header(byte[] frame, int at, byte opcode, int length)
    {
        frame[at++] = (byte)(0x80 | opcode);
        if (length < 126)
        {
            frame[at++] = (byte)length;
        }
        else if (length <= ushort.MaxValue)
        {
            frame[at++] = 126;
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(at), (ushort)length);
            at += 2;
        }
        else
        {
            frame[at++] = 127;
            BinaryPrimitives.WriteUInt64BigEndian(frame.AsSpan(at), (ulong)length);
            at += 8;
        }
        return at;
    }

    private static async ValueTask SendAll(Socket s, ReadOnlyMemory<byte> bytes)
    {
        while (bytes.Length > 0)
        {
            var n = await s.SendAsync(bytes, SocketFlags.None);
            bytes = bytes[n..];
        }
    }

    /// <summary>A whole chunked body (no trailers) decoded, or null while incomplete; <paramref name="end"/> = bytes used.</summary>
    private static byte[]? Dechunk(ReadOnlySpan<byte> data, out int end)
    {
        var body = new ArrayBufferWriter<byte>(256);
        var at = 0;
        end = 0;
        while (true)
        {
            var line = data[at..].IndexOf("\r\n"u8);
            if (line < 0)
            {
                return null;
            }
            var sizeText = data.Slice(at, line);
            var semi = sizeText.IndexOf((byte)';');
            if (semi >= 0)
            {
                sizeText = sizeText[..semi];
            }
            if (!int.TryParse(Encoding.ASCII.GetString(sizeText), System.Globalization.NumberStyles.HexNumber, null, out var size)
                || size < 0 || size > MaxBody)
            {
                throw new InvalidDataException("bad chunk size");
            }
            at += line + 2;
            if (data.Length < at + size + 2)
            {
                return null;
            }
            body.Write(data.Slice(at, size));
            at += size + 2;
            if (size == 0)
            {
                end = at;
                return body.WrittenSpan.ToArray();
            }
        }
    }

    private static void Grow(ref byte[] buffer, int used, int size)
    {
        var bigger = ArrayPool<byte>.Shared.Rent(size);
        buffer.AsSpan(0, used).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(buffer);
        buffer = bigger;
    }

    private sealed record HttpHead(string Method, string Path, string Query, int ContentLength, bool Chunked, string? Authorization, string? Upgrade,
        string? WebSocketKey, string[] Protocols)
    {
        public static HttpHead? Parse(string head)
        {
            var lines = head.Split("\r\n");
            var first = lines[0].Split(' ');
            if (first.Length != 3 || !first[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
            {
                return null;
            }
            var target = first[1];
            var q = target.IndexOf('?', StringComparison.Ordinal);
            var path = q < 0 ? target : target[..q];
            var query = q < 0 ? "" : target[(q + 1)..];
            var contentLength = 0;
            var chunked = false;
            string? authorization = null, upgrade = null, key = null;
            var protocols = Array.Empty<string>();
            foreach (var line in lines.AsSpan(1))
            {
                var colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon <= 0)
                {
                    return null;
                }
                var name = line[..colon].Trim();
                var value = line[(colon + 1)..].Trim();
                if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
                {
                    if (!int.TryParse(value, out contentLength) || contentLength < 0)
                    {
                        return null;
                    }
                }
                else if (name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
                {
                    if (!value.Equals("chunked", StringComparison.OrdinalIgnoreCase))
                    {
                        return null;
                    }
                    chunked = true;
                }
                else if (name.Equals("Authorization", StringComparison.OrdinalIgnoreCase))
                {
                    authorization = value;
                }
                else if (name.Equals("Upgrade", StringComparison.OrdinalIgnoreCase))
                {
                    upgrade = value;
                }
                else if (name.Equals("Sec-WebSocket-Key", StringComparison.OrdinalIgnoreCase))
                {
                    key = value;
                }
                else if (name.Equals("Sec-WebSocket-Protocol", StringComparison.OrdinalIgnoreCase))
                {
                    protocols = value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
                }
            }
            return new HttpHead(first[0], path, query, contentLength, chunked, authorization, upgrade, key, protocols);
        }
    }
}
