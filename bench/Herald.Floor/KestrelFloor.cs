using System.Buffers;
using System.Net;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Herald.Floor;

/// <summary>
/// The floor server on Kestrel and ASP.NET Core's WebSockets (what Herald uses): the HTTP endpoints the generator
/// calls and <c>/api/v1/live</c> with one receive loop and one pump per connection.
/// </summary>
public sealed class KestrelFloor : IFloorServer
{
    private const int MaxMessageBytes = 256 * 1024;
    private readonly WebApplication _app;

    private KestrelFloor(WebApplication app) => _app = app;

    /// <inheritdoc />
    public Uri Url { get; private set; } = new("http://127.0.0.1/");

    /// <summary>Builds and starts the server.</summary>
    public static async Task<KestrelFloor> Start(FloorState state, CancellationToken ct)
    {
        var coalesce = state.Options.Transport == FloorTransport.KestrelCoalesced;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, state.Options.Port));
        var app = builder.Build();
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.Zero });
        app.MapGet("/healthz", () => "ok");
        app.MapPost("/api/v1/auth/token", async (HttpContext ctx) =>
        {
            using var body = new MemoryStream();
            await ctx.Request.Body.CopyToAsync(body, ctx.RequestAborted);
            var answer = state.Token(body.GetBuffer().AsSpan(0, (int)body.Length));
            if (answer is null)
            {
                ctx.Response.StatusCode = 401;
                return;
            }
            ctx.Response.ContentType = "application/json";
            await ctx.Response.Body.WriteAsync(answer, ctx.RequestAborted);
        });
        app.MapGet("/api/v1/me/contacts", async (HttpContext ctx) =>
        {
            var user = state.Bearer(ctx.Request.Headers.Authorization.ToString());
            if (user < 0)
            {
                ctx.Response.StatusCode = 401;
                return;
            }
            ctx.Response.ContentType = "application/json";
            await ctx.Response.Body.WriteAsync(state.ContactsJson(user), ctx.RequestAborted);
        });
        app.Map("/api/v1/live", async (HttpContext ctx) =>
        {
            var user = state.Bearer(ctx.Request.Headers.Authorization.ToString());
            if (user < 0 && ctx.Request.Query.TryGetValue("access_token", out var token))
            {
                user = state.IndexOf(token.ToString());
            }
            if (user < 0)
            {
                ctx.Response.StatusCode = 401;
                return;
            }
            if (!ctx.WebSockets.IsWebSocketRequest)
            {
                ctx.Response.StatusCode = 400;
                return;
            }
            using var ws = await ctx.WebSockets.AcceptWebSocketAsync(
                ctx.WebSockets.WebSocketRequestedProtocols.Contains(FloorHost.SubProtocol) ? FloorHost.SubProtocol : null);
            await Session(state, new FloorConnection(user), ws, coalesce, ctx.RequestAborted);
        });
        await app.StartAsync(ct);
        var floor = new KestrelFloor(app);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        floor.Url = new Uri(address);
        return floor;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await _app.StopAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            // connections still open: they are aborted
        }
        await _app.DisposeAsync();
    }

    private static async Task Session(FloorState state, FloorConnection c, WebSocket ws, bool coalesce, CancellationToken aborted)
    {
        var pump = coalesce ? PumpCoalesced(c, ws) : PumpEach(c, ws);
        var closeReceived = false;
        try
        {
            closeReceived = await Receive(state, c, ws, aborted);
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException)
        {
            // the client went away
        }
        finally
        {
            state.Disconnect(c); // completes the outbox: the pump sends what is queued and ends
            try
            {
                await pump;
            }
            catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException or OperationCanceledException)
            {
                // gone
            }
        }
        if (closeReceived && ws.State == WebSocketState.CloseReceived)
        {
            try
            {
                await ws.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, aborted);
            }
            catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException)
            {
                // gone
            }
        }
    }

    /// <summary>Reads requests until the client closes (true) or the transport ends.</summary>
    private static async Task<bool> Receive(FloorState state, FloorConnection c, WebSocket ws, CancellationToken ct)
    {
        while (true)
        {
            // As Herald: wait for a message without holding a buffer.
            var first = await ws.ReceiveAsync(Memory<byte>.Empty, ct);
            if (first.MessageType == WebSocketMessageType.Close)
            {
                return true;
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
                        if (buffer.Length >= MaxMessageBytes)
                        {
                            await ws.CloseOutputAsync(WebSocketCloseStatus.MessageTooBig, "too big", ct);
                            return false;
                        }
                        var bigger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                        buffer.AsSpan(0, length).CopyTo(bigger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = bigger;
                    }
                    r = await ws.ReceiveAsync(buffer.AsMemory(length), ct);
                    if (r.MessageType == WebSocketMessageType.Close)
                    {
                        return true;
                    }
                    length += r.Count;
                }
                while (!r.EndOfMessage);
                FloorProtocol.Handle(state, c, buffer.AsSpan(0, length));
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    /// <summary>Herald's shape: one WebSocket message (one send) per delivery.</summary>
    private static async Task PumpEach(FloorConnection c, WebSocket ws)
    {
        var reader = c.Outbox.Reader;
        while (await reader.WaitToReadAsync())
        {
            while (reader.TryRead(out var m))
            {
                await ws.SendAsync(m.Bytes, WebSocketMessageType.Text, true, CancellationToken.None);
            }
        }
    }

    /// <summary>Everything pending in one presence message per wake-up (replies as their own messages).</summary>
    private static async Task PumpCoalesced(FloorConnection c, WebSocket ws)
    {
        var reader = c.Outbox.Reader;
        var head = FloorState.PresenceHead.Length;
        var tail = FloorState.PresenceTail.Length;
        while (await reader.WaitToReadAsync())
        {
            var buffer = ArrayPool<byte>.Shared.Rent(8192);
            var at = 0;
            try
            {
                while (reader.TryRead(out var m))
                {
                    if (!m.Presence)
                    {
                        if (at > 0)
                        {
                            await Flush(ws, buffer, at);
                            at = 0;
                        }
                        await ws.SendAsync(m.Bytes, WebSocketMessageType.Text, true, CancellationToken.None);
                        continue;
                    }
                    var view = m.Bytes.AsSpan(head, m.Bytes.Length - head - tail);
                    var need = at + view.Length + head + tail + 1;
                    if (need > buffer.Length)
                    {
                        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(need, buffer.Length * 2));
                        buffer.AsSpan(0, at).CopyTo(bigger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = bigger;
                    }
                    if (at == 0)
                    {
                        FloorState.PresenceHead.CopyTo(buffer, 0);
                        at = head;
                    }
                    else
                    {
                        buffer[at++] = (byte)',';
                    }
                    view.CopyTo(buffer.AsSpan(at));
                    at += view.Length;
                }
                if (at > 0)
                {
                    await Flush(ws, buffer, at);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        static ValueTask Flush(WebSocket ws, byte[] buffer, int at)
        {
            FloorState.PresenceTail.CopyTo(buffer, at);
            return ws.SendAsync(buffer.AsMemory(0, at + FloorState.PresenceTail.Length), WebSocketMessageType.Text, true, CancellationToken.None);
        }
    }
}
