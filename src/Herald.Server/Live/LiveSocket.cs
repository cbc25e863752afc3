using System.Buffers;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Serialization;
using Herald.Cluster.Directory;
using Herald.Core.Model;
using Herald.Core.Presence;
using Herald.Core.Privacy;
using Herald.Server.Apis;
using Herald.Server.Auth;
using Herald.Server.Hosting;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace Herald.Server.Live;

/// <summary>
/// Herald's own live protocol: a WebSocket at <c>/api/v1/live</c> (subprotocol <c>herald.live.v1</c>) carrying JSON
/// text messages — no hub framing, no negotiation. Everything pending for a connection goes out as one message per
/// wake-up (all views in one <c>presence</c> message), each view's JSON is encoded once and shared by every connection
/// it goes to, and an idle connection holds no receive buffer. Described in docs/api.md ("Live WebSocket").
/// </summary>
public static class LiveSocketApi
{
    /// <summary>The endpoint.</summary>
    public const string Path = "/api/v1/live";

    /// <summary>The WebSocket subprotocol (optional; when the client offers it, the server selects it).</summary>
    public const string SubProtocol = "herald.live.v1";

    /// <summary>Largest message a client may send, in bytes; a larger one closes the connection with 1009 (message too big).</summary>
    public const int MaxMessageBytes = 256 * 1024;

    /// <summary>How often the server pings an idle connection, and how long it waits for the pong before closing it.</summary>
    public static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(30);

    /// <summary>
    /// After the server sends its close frame (credential ended), how long it waits for the client's close frame before
    /// aborting the connection.
    /// </summary>
    public static readonly TimeSpan CloseGrace = TimeSpan.FromSeconds(5);

    /// <summary>Maps the endpoint.</summary>
    public static void MapLiveSocket(this IEndpointRouteBuilder app)
    {
        app.Map(Path, Accept).RequireAuthorization(HeraldPolicies.Person).WithTags("Live").WithName("LiveSocket")
            .WithSummary("Herald's live protocol over a WebSocket (JSON messages): watch, resume, set status, receive presence.");
    }

    private static async Task Accept(HttpContext http, LiveOperations operations, LiveConnections live, IOptions<JsonOptions> json,
        ConnectionDrain drain, ILoggerFactory loggers)
    {
        if (!http.WebSockets.IsWebSocketRequest)
        {
            await Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "WebSocket upgrade required",
                detail: $"{Path} is a WebSocket endpoint (subprotocol {SubProtocol}); see docs/api.md.").ExecuteAsync(http);
            return;
        }
        var offered = http.WebSockets.WebSocketRequestedProtocols;
        if (offered.Count > 0 && !offered.Contains(SubProtocol, StringComparer.Ordinal))
        {
            await Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Unsupported subprotocol",
                detail: $"the server speaks {SubProtocol}").ExecuteAsync(http);
            return;
        }
        using var ws = await http.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
        {
            SubProtocol = offered.Count > 0 ? SubProtocol : null,
            KeepAliveInterval = KeepAlive,
            KeepAliveTimeout = KeepAlive,
        });
        var session = new LiveSocketSession(ws, http.User, new LiveConnection(http.TraceIdentifier, http.User.UserIdOf()), operations, live,
            json.Value.SerializerOptions, loggers.CreateLogger(typeof(LiveSocketApi)));
        await session.Run(HeraldAuthHandler.ExpiryOf(http), http.RequestAborted, drain.Draining);
    }
}

/// <summary>A client request on the live WebSocket: <c>{"op": …, "id": …, …}</c>.</summary>
public sealed class LiveRequest
{
    /// <summary><c>watch</c>, <c>watchFrom</c>, <c>unwatch</c>, <c>status</c>, <c>present</c> or <c>ping</c>.</summary>
    public string? Op { get; set; }

    /// <summary>The client's correlation id, echoed in the reply (any JSON number or string; optional).</summary>
    public JsonElement? Id { get; set; }

    /// <summary>People to watch or unwatch.</summary>
    public string[]? Users { get; set; }

    /// <summary>For <c>watch</c>: true also watches the caller's own contacts (no <c>GET /api/v1/me/contacts</c> needed first).</summary>
    public bool? Contacts { get; set; }

    /// <summary>For <c>watchFrom</c>: the last sequence the client has per person.</summary>
    public Dictionary<string, long>? Known { get; set; }

    /// <summary>For <c>status</c>: the same body as <c>PUT /api/v1/me/status</c>.</summary>
    public StatusRequest? Status { get; set; }

    /// <summary>For <c>present</c>: the device id.</summary>
    public string? DeviceId { get; set; }

    /// <summary>For <c>present</c>: the device kind (default Web).</summary>
    public DeviceKind? Kind { get; set; }

    /// <summary>For <c>present</c>: the device's availability.</summary>
    public Availability? Availability { get; set; }
}

/// <summary>One WebSocket connection of the live protocol: a receive loop for requests and a pump for presence.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001",
    Justification = "The send lock is a SemaphoreSlim without a wait handle (nothing unmanaged); it is not disposed because a delivering thread may still release it after the connection ended.")]
internal sealed partial class LiveSocketSession(WebSocket ws, ClaimsPrincipal user, LiveConnection connection, LiveOperations operations,
    LiveConnections live, JsonSerializerOptions json, ILogger logger) : IInlineFlush
{
    private static readonly byte[] PresenceHead = "{\"type\":\"presence\",\"views\":["u8.ToArray();
    private static readonly byte[] PresenceTail = "]}"u8.ToArray();
    private static readonly ConditionalWeakTable<PresenceView, byte[]> Encoded = new();
    private readonly SemaphoreSlim _send = new(1, 1);
    private readonly List<PresenceView> _inlineViews = [];
    private volatile bool _ended;
    private string? _device;

    public async Task Run(DateTimeOffset? expires, CancellationToken aborted, CancellationToken draining)
    {
        using var end = CancellationTokenSource.CreateLinkedTokenSource(aborted, draining);
        connection.UseInlineFlush(this);
        await live.Open(connection, user, expires);
        var pump = Pump(end.Token, aborted, draining);
        try
        {
            await Receive(aborted);
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException)
        {
            // the client went away
        }
        finally
        {
            await end.CancelAsync();
            await pump;
            live.Close(connection);
            if (_device is { } device)
            {
                await operations.DeviceConnectionLost(user, connection.Id, device);
            }
        }
    }

    /// <summary>Writes everything pending as one message per wake-up; on drain tells the client to reconnect and closes.</summary>
    private async Task Pump(CancellationToken end, CancellationToken aborted, CancellationToken draining)
    {
        try
        {
            var views = new List<PresenceView>();
            while (true)
            {
                await connection.WaitAsync(end);
                if (connection.CredentialEnded is { } why)
                {
                    _ended = true;
                    await CloseForCredential(why, end);
                    return;
                }
                await SendPending(views, aborted);
                foreach (var e in connection.TakeEvents())
                {
                    await SendJson(new { type = PresencePump.MessageName(e.Type), @event = JsonSerializer.Deserialize<JsonElement>(e.Json) }, aborted);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException)
        {
            _ended = true;
            return; // the connection is gone; the receive loop ends too
        }
        _ended = true; // nothing is written inline any more (a drain's reconnect and close come last)
        if (draining.IsCancellationRequested && !aborted.IsCancellationRequested && ws.State == WebSocketState.Open)
        {
            try
            {
                // Graceful shutdown: the client reconnects (through the load balancer) and resumes with watchFrom.
                await SendJson(new { type = "reconnect", retryAfterMs = (int)ConnectionDrain.ClientRetry.TotalMilliseconds }, aborted);
                await Locked(() => ws.CloseOutputAsync(WebSocketCloseStatus.EndpointUnavailable, "server draining", aborted), aborted);
            }
            catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
            {
                // gone already
            }
        }
    }

    /// <summary>
    /// The credential ended: a final <c>closed</c> message, then a close frame with 4401/4403 and the reason. The client's
    /// close frame ends the receive loop; a client that does not answer within <see cref="LiveSocketApi.CloseGrace"/> is cut off.
    /// </summary>
    private async Task CloseForCredential(CredentialEnd why, CancellationToken end)
    {
        try
        {
            using var sending = CancellationTokenSource.CreateLinkedTokenSource(end);
            sending.CancelAfter(LiveSocketApi.CloseGrace);
            await SendJson(new { type = "closed", code = CredentialClose.Code(why), reason = CredentialClose.Reason(why) }, sending.Token, final: true);
            await Locked(() => ws.CloseOutputAsync((WebSocketCloseStatus)CredentialClose.Code(why), CredentialClose.Reason(why), sending.Token), sending.Token);
            await Task.Delay(LiveSocketApi.CloseGrace, end);
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            if (end.IsCancellationRequested)
            {
                return; // the connection ended (the client answered the close, or went away)
            }
        }
        ws.Abort();
    }

    private async Task Receive(CancellationToken ct)
    {
        while (true)
        {
            // Wait for a message without holding a buffer: idle connections cost no receive memory.
            var first = await ws.ReceiveAsync(Memory<byte>.Empty, ct);
            if (first.MessageType == WebSocketMessageType.Close)
            {
                await CloseIfOpen(WebSocketCloseStatus.NormalClosure, null, ct);
                return;
            }
            var buffer = ArrayPool<byte>.Shared.Rent(4096);
            var length = 0;
            try
            {
                ValueWebSocketReceiveResult r;
                do
                {
                    if (length == buffer.Length)
                    {
                        if (buffer.Length >= LiveSocketApi.MaxMessageBytes)
                        {
                            await CloseIfOpen(WebSocketCloseStatus.MessageTooBig, $"messages are limited to {LiveSocketApi.MaxMessageBytes} bytes", ct);
                            return;
                        }
                        var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, LiveSocketApi.MaxMessageBytes));
                        buffer.AsSpan(0, length).CopyTo(bigger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = bigger;
                    }
                    r = await ws.ReceiveAsync(buffer.AsMemory(length, Math.Min(buffer.Length, LiveSocketApi.MaxMessageBytes) - length), ct);
                    if (r.MessageType == WebSocketMessageType.Close)
                    {
                        await CloseIfOpen(WebSocketCloseStatus.NormalClosure, null, ct);
                        return;
                    }
                    length += r.Count;
                }
                while (!r.EndOfMessage);
                if (r.MessageType != WebSocketMessageType.Text)
                {
                    await CloseIfOpen(WebSocketCloseStatus.InvalidMessageType, $"{LiveSocketApi.SubProtocol} messages are JSON text", ct);
                    return;
                }
                await Handle(buffer.AsMemory(0, length), ct);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    private async Task Handle(ReadOnlyMemory<byte> message, CancellationToken ct)
    {
        if (!connection.CredentialValid)
        {
            return; // the connection is closing: no request is served once its credential ended
        }
        LiveRequest? request;
        try
        {
            request = JsonSerializer.Deserialize<LiveRequest>(message.Span, json);
        }
        catch (JsonException ex)
        {
            await SendError(null, 400, "Invalid request", "the message is not a valid request: " + ex.Message, ct);
            return;
        }
        if (request is null)
        {
            await SendError(null, 400, "Invalid request", "a request is a JSON object with an \"op\"", ct);
            return;
        }
        var id = request.Id;
        try
        {
            switch (request.Op)
            {
                case "watch":
                    var ids = request.Users ?? (request.Contacts == true ? [] : throw new LiveOperationException(400, "Invalid request: users: is required (or contacts: true)"));
                    if (ids.Any(u => u is null))
                    {
                        throw new LiveOperationException(400, "Invalid ids: null");
                    }
                    var views = request.Contacts == true
                        ? await operations.WatchContacts(connection, ids, ct)
                        : await operations.WatchFrom(connection, ids.Distinct(StringComparer.Ordinal).ToDictionary(u => u, _ => 0L, StringComparer.Ordinal), ct);
                    await SendJson(new { type = "result", id, views }, ct);
                    break;
                case "watchFrom":
                    var known = request.Known ?? throw new LiveOperationException(400, "Invalid request: known: is required");
                    await SendJson(new { type = "result", id, views = await operations.WatchFrom(connection, known, ct) }, ct);
                    break;
                case "unwatch":
                    operations.Unwatch(connection, request.Users ?? throw new LiveOperationException(400, "Invalid request: users: is required"));
                    await SendJson(new { type = "result", id }, ct);
                    break;
                case "status":
                    await SendJson(new { type = "result", id, view = await operations.SetStatus(user, request.Status) }, ct);
                    break;
                case "present":
                    var view = await operations.Present(user, connection.Id, request.DeviceId, request.Kind ?? DeviceKind.Web, request.Availability);
                    _device = request.DeviceId;
                    await SendJson(new { type = "result", id, view }, ct);
                    break;
                case "ping":
                    await SendJson(new { type = "pong", id }, ct);
                    break;
                default:
                    throw new LiveOperationException(400, $"Unknown op '{request.Op}': use watch, watchFrom, unwatch, status, present or ping.");
            }
        }
        catch (LiveOperationException e)
        {
            await SendError(id, e.Status, e.Status switch { 404 => "Not found", 429 => "Too many requests", _ => "Invalid request" }, e.Message, ct);
        }
        catch (Herald.Cluster.Presence.PresenceLimitException e)
        {
            await SendError(id, 422, "Limit reached", e.Message, ct);
        }
        catch (Orleans.Storage.InconsistentStateException)
        {
            // Another activation wrote first (cluster mode, around a node loss): not applied, safe to retry (REST: 503).
            await SendError(id, 503, "Service unavailable", "The change was not applied; retry.", ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not WebSocketException and not IOException)
        {
            // e.g. a person's device limit (REST: 422): the request fails, the connection stays usable.
            LogOperationFailed(ex, request.Op);
            await SendError(id, 500, "Operation failed", $"'{request.Op}' failed: {ex.Message}", ct);
        }
    }

    private Task SendError(JsonElement? id, int status, string title, string detail, CancellationToken ct) =>
        SendJson(new { type = "error", id, status, title, detail }, ct);

    /// <summary>
    /// Sends <paramref name="message"/> as one text message, serialized into a buffer rented for the send (a login's
    /// <c>watch</c> result, 20 views, no longer allocates its own array). Nothing but the <paramref name="final"/>
    /// message goes out once the connection's credential ended.
    /// </summary>
    private async Task SendJson<T>(T message, CancellationToken ct, bool final = false)
    {
        if (!final && !connection.CredentialValid)
        {
            return; // nothing (a watch result's views included) goes out once the credential ended
        }
        using var buffer = new Herald.Xmpp.PooledByteWriter();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = json.Encoder, Indented = json.WriteIndented }))
        {
            JsonSerializer.Serialize(writer, message, json);
        }
        await Locked(() => ws.SendAsync(buffer.WrittenMemory, WebSocketMessageType.Text, true, ct).AsTask(), ct);
    }

    /// <inheritdoc />
    public bool TryWriteNow(PresenceView view)
    {
        if (_ended)
        {
            return true; // the connection is ending: nothing more is sent
        }
        if (!_send.Wait(0))
        {
            return false; // a send is in progress: offered, the pump takes it when woken
        }
        var release = true;
        try
        {
            switch (connection.TakeDirect(view))
            {
                case DirectTake.Busy:
                    return false; // views are pending: it goes behind them
                case DirectTake.Stale:
                    return true;
            }
            // A span over the argument itself: the view is written without being stored in any longer-lived object.
            release = CompleteInline(WritePresence(new ReadOnlySpan<PresenceView>(in view)));
            return true;
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            return true; // the connection is gone or closing; its receive loop ends it
        }
        finally
        {
            if (release)
            {
                _send.Release();
            }
        }
    }

    /// <inheritdoc />
    public bool TryFlushNow()
    {
        if (_ended)
        {
            return true; // the connection is ending: nothing more is sent
        }
        if (!_send.Wait(0))
        {
            return false; // a send is in progress: the pump takes the views when woken
        }
        var release = true;
        try
        {
            if (connection.TakeAll(_inlineViews) == 0)
            {
                return true;
            }
            release = CompleteInline(WritePresence(CollectionsMarshal.AsSpan(_inlineViews)));
            return true;
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            return true; // the connection is gone or closing; its receive loop ends it
        }
        finally
        {
            _inlineViews.Clear();
            if (release)
            {
                _send.Release();
            }
        }
    }

    /// <summary>
    /// Completes a send made on the delivering thread under the send lock: at once when it completed (its exception, if
    /// any, is thrown here), else in the background, which then releases the lock (the transport pushed back). True
    /// when the caller still holds the lock and must release it.
    /// </summary>
    private bool CompleteInline(ValueTask sending)
    {
        if (sending.IsCompletedSuccessfully)
        {
            sending.GetAwaiter().GetResult();
            return true;
        }
        _ = FinishInline(sending);
        return false;
    }

    private async Task FinishInline(ValueTask sending)
    {
        try
        {
            await sending;
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
        {
            // the connection is gone; its receive loop ends it
        }
        finally
        {
            _send.Release();
        }
    }

    /// <summary>
    /// The pump's send: takes the pending views under the send lock (as <see cref="TryFlushNow"/> does), so views taken
    /// earlier are always written earlier, whichever thread writes them.
    /// </summary>
    private async Task SendPending(List<PresenceView> views, CancellationToken ct)
    {
        await _send.WaitAsync(ct);
        try
        {
            if (connection.TakeAll(views) > 0)
            {
                await WritePresence(CollectionsMarshal.AsSpan(views));
            }
        }
        finally
        {
            views.Clear();
            _send.Release();
        }
    }

    /// <summary>
    /// Writes <paramref name="views"/> as one <c>presence</c> message; the caller holds the send lock. Each view's JSON
    /// is encoded once per view instance and shared by every connection it goes to.
    /// </summary>
    private ValueTask WritePresence(ReadOnlySpan<PresenceView> views)
    {
        var parts = ArrayPool<byte[]>.Shared.Rent(views.Length);
        var size = PresenceHead.Length + PresenceTail.Length + views.Length;
        for (var i = 0; i < views.Length; i++)
        {
            if (!Encoded.TryGetValue(views[i], out var bytes))
            {
                bytes = JsonSerializer.SerializeToUtf8Bytes(views[i], json);
                Encoded.TryAdd(views[i], bytes); // a concurrent first use may encode twice; both are identical
            }
            parts[i] = bytes;
            size += bytes.Length;
        }
        var frame = ArrayPool<byte>.Shared.Rent(size);
        var at = 0;
        try
        {
            PresenceHead.CopyTo(frame, 0);
            at = PresenceHead.Length;
            for (var i = 0; i < views.Length; i++)
            {
                if (i > 0)
                {
                    frame[at++] = (byte)',';
                }
                parts[i].CopyTo(frame, at);
                at += parts[i].Length;
            }
            PresenceTail.CopyTo(frame, at);
            at += PresenceTail.Length;
        }
        finally
        {
            ArrayPool<byte[]>.Shared.Return(parts, clearArray: true);
        }
        ValueTask sending;
        try
        {
            // No token on the send itself: a cancellable send takes ManagedWebSocket's slower path (a registration and
            // a state machine per message). A connection that ends aborts its transport, which fails the send.
            sending = ws.SendAsync(frame.AsMemory(0, at), WebSocketMessageType.Text, true, CancellationToken.None);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(frame);
            throw;
        }
        if (sending.IsCompleted)
        {
            ArrayPool<byte>.Shared.Return(frame);
            return sending;
        }
        return ReturnAfter(sending, frame);
    }

    private static async ValueTask ReturnAfter(ValueTask sending, byte[] frame)
    {
        try
        {
            await sending;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    private async Task CloseIfOpen(WebSocketCloseStatus status, string? reason, CancellationToken ct)
    {
        if (ws.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            try
            {
                await Locked(() => ws.CloseOutputAsync(status, reason, ct), ct);
            }
            catch (Exception ex) when (ex is WebSocketException or IOException)
            {
                LogCloseFailed(ex);
            }
        }
    }

    private async Task Locked(Func<Task> send, CancellationToken ct)
    {
        await _send.WaitAsync(ct);
        try
        {
            await send();
        }
        finally
        {
            _send.Release();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A live WebSocket operation {Op} failed")]
    private partial void LogOperationFailed(Exception ex, string? op);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Closing a live WebSocket failed")]
    private partial void LogCloseFailed(Exception ex);
}
