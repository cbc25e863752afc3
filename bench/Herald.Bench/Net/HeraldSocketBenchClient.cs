using System.Collections.Concurrent;
using System.Globalization;
using System.Net.WebSockets;
using System.Text.Json;

namespace Herald.Bench.Net;

/// <summary>
/// One user on Herald's live WebSocket protocol (<c>/api/v1/live</c>, subprotocol <c>herald.live.v1</c>, JSON
/// messages): <c>POST /api/v1/auth/token</c>, then over the socket a <c>watch</c> of the caller's contacts
/// (<c>{"op":"watch","contacts":true}</c>; with <c>--herald-login rest</c>: <c>GET /api/v1/me/contacts</c> first and a
/// <c>watch</c> of those ids) and a <c>status</c> request for the initial presence and for every update (the stamp in the note).
/// </summary>
public sealed class HeraldSocketBenchClient : IBenchConnection
{
    private readonly NetOptions _o;
    private readonly int _index;
    private readonly DeliveryRecorder _recorder;
    private readonly HttpClient _http;
    private readonly SemaphoreSlim _publishLock = new(1, 1);
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonElement>> _pending = new();
    private readonly CancellationTokenSource _stop = new();
    private ClientWebSocket? _ws;
    private Task _receive = Task.CompletedTask;
    private int _nextId;
    private long _errors;
    private volatile bool _closing;

    /// <summary>Creates the client of user <paramref name="index"/>; <paramref name="http"/> is shared.</summary>
    public HeraldSocketBenchClient(NetOptions options, int index, DeliveryRecorder recorder, HttpClient http)
    {
        _o = options;
        _index = index;
        _recorder = recorder;
        _http = http;
    }

    /// <inheritdoc />
    public long Errors => Interlocked.Read(ref _errors);

    /// <inheritdoc />
    public int RosterSize { get; private set; }

    private string User => _o.Prefix + _index.ToString(CultureInfo.InvariantCulture);

    /// <inheritdoc />
    public async Task Login(CancellationToken ct)
    {
        var byWatch = _o.HeraldLogin == "watch";
        var (token, contacts) = byWatch ? (await HeraldLogin.Token(_http, _o, User, ct), []) : await HeraldLogin.TokenAndContacts(_http, _o, User, ct);
        _ws = new ClientWebSocket();
        _ws.Options.SetRequestHeader("Authorization", "Bearer " + token);
        _ws.Options.AddSubProtocol("herald.live.v1");
        _ws.Options.KeepAliveInterval = TimeSpan.Zero;
        var ws = new UriBuilder(_o.Url) { Scheme = _o.Url.StartsWith("https", StringComparison.Ordinal) ? "wss" : "ws", Path = "/api/v1/live" }.Uri;
        await _ws.ConnectAsync(ws, ct);
        _receive = Task.Run(ReceiveLoop, CancellationToken.None);
        if (byWatch)
        {
            var watched = await Request(new { op = "watch", contacts = true }, ct);
            RosterSize = watched.GetProperty("views").GetArrayLength();
        }
        else
        {
            RosterSize = contacts.Length;
            await Request(new { op = "watch", users = contacts }, ct);
        }
        await PutStatus("online", false, ct);
    }

    /// <inheritdoc />
    public async Task Publish(string stamp, bool busy, CancellationToken ct)
    {
        await _publishLock.WaitAsync(ct);
        try
        {
            await PutStatus(stamp, busy, ct);
        }
        finally
        {
            _publishLock.Release();
        }
    }

    private async Task PutStatus(string note, bool busy, CancellationToken ct)
    {
        try
        {
            await Request(new { op = "status", status = new { availability = busy ? "Busy" : "Available", note } }, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Interlocked.Increment(ref _errors);
            throw new InvalidOperationException($"status of {User}: {ex.Message}", ex);
        }
    }

    private async Task<JsonElement> Request(object body, CancellationToken ct)
    {
        var id = Interlocked.Increment(ref _nextId);
        var tcs = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = tcs;
        var node = JsonSerializer.SerializeToNode(body)!.AsObject();
        node["id"] = id;
        var bytes = JsonSerializer.SerializeToUtf8Bytes(node);
        await _sendLock.WaitAsync(ct);
        try
        {
            await _ws!.SendAsync(bytes, WebSocketMessageType.Text, true, ct);
        }
        finally
        {
            _sendLock.Release();
        }
        using var reg = ct.Register(() => tcs.TrySetCanceled(ct));
        return await tcs.Task;
    }

    private async Task ReceiveLoop()
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var length = 0;
                ValueWebSocketReceiveResult r;
                do
                {
                    if (length == buffer.Length)
                    {
                        Array.Resize(ref buffer, buffer.Length * 2);
                    }
                    r = await _ws!.ReceiveAsync(buffer.AsMemory(length), _stop.Token);
                    if (r.MessageType == WebSocketMessageType.Close)
                    {
                        Closed();
                        return;
                    }
                    length += r.Count;
                }
                while (!r.EndOfMessage);
                OnMessage(buffer.AsSpan(0, length));
            }
        }
        catch (Exception)
        {
            Closed();
        }
    }

    private void Closed()
    {
        if (!_closing)
        {
            Interlocked.Increment(ref _errors);
        }
        foreach (var p in _pending.Values)
        {
            p.TrySetException(new InvalidOperationException("connection closed"));
        }
    }

    private void OnMessage(ReadOnlySpan<byte> message)
    {
        // The hot path: a presence push (Herald writes "type" first). Read the notes with a forward-only reader, no
        // document and no copy — the same notes the general path below reads, at a fraction of the generator's CPU.
        if (message.StartsWith("{\"type\":\"presence\","u8))
        {
            OnPresence(message);
            return;
        }
        using var doc = JsonDocument.Parse(message.ToArray());
        var root = doc.RootElement;
        var type = root.GetProperty("type").GetString();
        if (type == "presence")
        {
            foreach (var v in root.GetProperty("views").EnumerateArray())
            {
                if (v.TryGetProperty("note", out var note) && note.ValueKind == JsonValueKind.String)
                {
                    _recorder.OnStamp(note.GetString().AsSpan(), _index);
                }
            }
            return;
        }
        if (root.TryGetProperty("id", out var idElement) && idElement.ValueKind == JsonValueKind.Number
            && _pending.TryRemove(idElement.GetInt32(), out var tcs))
        {
            if (type == "error")
            {
                tcs.TrySetException(new InvalidOperationException(root.GetProperty("detail").GetString()));
            }
            else
            {
                tcs.TrySetResult(root.Clone());
            }
        }
    }

    /// <summary>Records the stamp in the <c>note</c> of every view of <c>{"type":"presence","views":[{…},…]}</c>.</summary>
    private void OnPresence(ReadOnlySpan<byte> message)
    {
        var r = new Utf8JsonReader(message);
        while (r.Read())
        {
            // root object = depth 0, "views" = 1, a view object = 2, a view's own properties = 3
            if (r.TokenType == JsonTokenType.PropertyName && r.CurrentDepth == 3 && r.ValueTextEquals("note"u8) && r.Read()
                && r.TokenType == JsonTokenType.String)
            {
                if (r.ValueIsEscaped)
                {
                    _recorder.OnStamp(r.GetString().AsSpan(), _index);
                }
                else
                {
                    _recorder.OnStamp(r.ValueSpan, _index);
                }
            }
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        _closing = true;
        if (_ws is not null)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await _ws.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
            }
            catch (Exception)
            {
                // best effort
            }
            await _stop.CancelAsync();
            await _receive;
            _ws.Dispose();
        }
        _stop.Dispose();
        _publishLock.Dispose();
        _sendLock.Dispose();
    }
}
