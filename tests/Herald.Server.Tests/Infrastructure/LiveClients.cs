using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR.Client;

namespace Herald.Server.Tests.Infrastructure;

/// <summary>A presence view as a client receives it.</summary>
public sealed record ViewDto(string UserId, string Availability, string? Activity, string? Note, DateTimeOffset? LastSeen, long Sequence,
    JsonElement? Provenance, JsonElement? ContactMethods, JsonElement? Devices, JsonElement? Location = null);

/// <summary>A SignalR watcher that records every view it receives.</summary>
public sealed class SignalRWatcher : IAsyncDisposable
{
    private SignalRWatcher(HubConnection connection) => Connection = connection;

    public HubConnection Connection { get; }

    public ConcurrentQueue<ViewDto> Received { get; } = new();

    public static async Task<SignalRWatcher> Connect(Uri baseAddress, string token)
    {
        var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(baseAddress, "/hubs/presence"), o => o.AccessTokenProvider = () => Task.FromResult<string?>(token))
            .Build();
        var w = new SignalRWatcher(connection);
        connection.On<List<JsonElement>>("presence", batch =>
        {
            foreach (var e in batch)
            {
                w.Received.Enqueue(e.Deserialize<ViewDto>(HeraldTestServer.Json)!);
            }
        });
        await connection.StartAsync();
        return w;
    }

    public async Task<List<ViewDto>> Watch(params string[] userIds)
    {
        var views = await Connection.InvokeAsync<List<JsonElement>>("Watch", userIds);
        return [.. views.Select(v => v.Deserialize<ViewDto>(HeraldTestServer.Json)!)];
    }

    public ViewDto? Latest(string userId) => Received.Where(v => v.UserId == userId).MaxBy(v => v.Sequence);

    public async ValueTask DisposeAsync() => await Connection.DisposeAsync();
}

/// <summary>An SSE reader that records every presence event.</summary>
public sealed class SseWatcher : IAsyncDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private readonly HttpClient _client;
    private Task _loop = Task.CompletedTask;

    private SseWatcher(HttpClient client) => _client = client;

    public ConcurrentQueue<ViewDto> Received { get; } = new();

    public ConcurrentQueue<string> Ids { get; } = new();

    /// <summary>Every other event (e.g. <c>huddle</c>), in order, as its JSON data.</summary>
    public ConcurrentQueue<JsonElement> Huddles { get; } = new();

    /// <summary>The newest raw JSON view per person.</summary>
    public ConcurrentDictionary<string, JsonElement> RawLatest { get; } = new();

    /// <summary>Every event type received, in order (<c>presence</c>, <c>ping</c>, <c>closed</c>, …).</summary>
    public ConcurrentQueue<string> Types { get; } = new();

    /// <summary>The data of a <c>closed</c> event (the server ended the stream: credential ended), if one came.</summary>
    public JsonElement? ClosedEvent { get; private set; }

    /// <summary>True once the server ended the stream.</summary>
    public bool Ended { get; private set; }

    public static async Task<SseWatcher> Connect(HeraldTestServer server, string token, string query, string? lastEventId = null)
    {
        var client = server.Client(token);
        client.Timeout = Timeout.InfiniteTimeSpan;
        var w = new SseWatcher(client);
        var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/events?" + query);
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, w._cts.Token);
        response.EnsureSuccessStatusCode();
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var stream = await response.Content.ReadAsStreamAsync(w._cts.Token);
        w._loop = Task.Run(() => w.Read(stream));
        return w;
    }

    public ViewDto? Latest(string userId) => Received.Where(v => v.UserId == userId).MaxBy(v => v.Sequence);

    private async Task Read(Stream stream)
    {
        using var reader = new StreamReader(stream);
        string? type = null, data = null, id = null;
        try
        {
            while (await reader.ReadLineAsync(_cts.Token) is { } line)
            {
                if (line.Length == 0)
                {
                    if (type is not null)
                    {
                        Types.Enqueue(type);
                    }
                    if (type == "closed" && data is not null)
                    {
                        ClosedEvent = JsonDocument.Parse(data).RootElement.Clone();
                    }
                    if (type == "huddle" && data is not null)
                    {
                        Huddles.Enqueue(JsonDocument.Parse(data).RootElement.Clone());
                    }
                    else if (type == "presence" && data is not null)
                    {
                        var view = JsonSerializer.Deserialize<ViewDto>(data, HeraldTestServer.Json)!;
                        Received.Enqueue(view);
                        RawLatest[view.UserId] = JsonDocument.Parse(data).RootElement.Clone();
                        Ids.Enqueue(id ?? "");
                    }
                    type = data = id = null;
                }
                else if (line.StartsWith("event: ", StringComparison.Ordinal))
                {
                    type = line[7..];
                }
                else if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    data = line[6..];
                }
                else if (line.StartsWith("id: ", StringComparison.Ordinal))
                {
                    id = line[4..];
                }
            }
            Ended = true;
        }
        catch (OperationCanceledException)
        {
        }
        catch (IOException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync();
        await _loop;
        _client.Dispose();
        _cts.Dispose();
    }
}

/// <summary>A client of the live WebSocket protocol (<c>/api/v1/live</c>) that records every message it receives.</summary>
public sealed class SocketWatcher : IAsyncDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private readonly System.Net.WebSockets.ClientWebSocket _ws;
    private readonly ConcurrentDictionary<string, TaskCompletionSource<JsonElement>> _pending = new();
    private Task _loop = Task.CompletedTask;
    private int _nextId;

    private SocketWatcher(System.Net.WebSockets.ClientWebSocket ws) => _ws = ws;

    public System.Net.WebSockets.ClientWebSocket Socket => _ws;

    /// <summary>Every presence view received (from <c>presence</c> messages), in order.</summary>
    public ConcurrentQueue<ViewDto> Received { get; } = new();

    /// <summary>The newest raw JSON view per person.</summary>
    public ConcurrentDictionary<string, JsonElement> RawLatest { get; } = new();

    /// <summary>Every message received, in order, as JSON.</summary>
    public ConcurrentQueue<JsonElement> Messages { get; } = new();

    /// <summary>The close status the server sent, once the connection closed.</summary>
    public System.Net.WebSockets.WebSocketCloseStatus? CloseStatus { get; private set; }

    public bool Closed { get; private set; }

    public static async Task<SocketWatcher> Connect(Uri baseAddress, string token, string? subProtocol = "herald.live.v1")
    {
        var ws = new System.Net.WebSockets.ClientWebSocket();
        ws.Options.SetRequestHeader("Authorization", "Bearer " + token);
        if (subProtocol is not null)
        {
            ws.Options.AddSubProtocol(subProtocol);
        }
        var uri = new UriBuilder(baseAddress) { Scheme = "ws", Path = "/api/v1/live" }.Uri;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await ws.ConnectAsync(uri, timeout.Token);
        var w = new SocketWatcher(ws);
        w._loop = Task.Run(w.Read);
        return w;
    }

    /// <summary>Sends a request (an <c>id</c> is added) and returns the reply (<c>result</c>, <c>error</c> or <c>pong</c>).</summary>
    public async Task<JsonElement> Request(object body)
    {
        var id = "r" + Interlocked.Increment(ref _nextId).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var node = JsonSerializer.SerializeToNode(body, HeraldTestServer.Json)!.AsObject();
        node["id"] = id;
        var tcs = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = tcs;
        await SendRaw(JsonSerializer.Serialize(node));
        return await tcs.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    public async Task SendRaw(string text, System.Net.WebSockets.WebSocketMessageType type = System.Net.WebSockets.WebSocketMessageType.Text)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _ws.SendAsync(System.Text.Encoding.UTF8.GetBytes(text), type, true, timeout.Token);
    }

    /// <summary>Watches people; returns the views of the result.</summary>
    public async Task<List<ViewDto>> Watch(params string[] userIds)
    {
        var reply = await Request(new { op = "watch", users = userIds });
        Assert.Equal("result", reply.GetProperty("type").GetString());
        return [.. reply.GetProperty("views").EnumerateArray().Select(v => v.Deserialize<ViewDto>(HeraldTestServer.Json)!)];
    }

    public ViewDto? Latest(string userId) => Received.Where(v => v.UserId == userId).MaxBy(v => v.Sequence);

    private async Task Read()
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var length = 0;
                System.Net.WebSockets.ValueWebSocketReceiveResult r;
                do
                {
                    if (length == buffer.Length)
                    {
                        Array.Resize(ref buffer, buffer.Length * 2);
                    }
                    r = await _ws.ReceiveAsync(buffer.AsMemory(length), _cts.Token);
                    if (r.MessageType == System.Net.WebSockets.WebSocketMessageType.Close)
                    {
                        CloseStatus = _ws.CloseStatus;
                        Closed = true;
                        return;
                    }
                    length += r.Count;
                }
                while (!r.EndOfMessage);
                var message = JsonDocument.Parse(buffer.AsMemory(0, length)).RootElement.Clone();
                Messages.Enqueue(message);
                if (message.GetProperty("type").GetString() == "presence")
                {
                    foreach (var v in message.GetProperty("views").EnumerateArray())
                    {
                        var view = v.Deserialize<ViewDto>(HeraldTestServer.Json)!;
                        Received.Enqueue(view);
                        RawLatest[view.UserId] = v.Clone();
                    }
                }
                else if (message.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String
                    && _pending.TryRemove(id.GetString()!, out var tcs))
                {
                    tcs.TrySetResult(message);
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or System.Net.WebSockets.WebSocketException)
        {
            Closed = true;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_ws.State == System.Net.WebSockets.WebSocketState.Open)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await _ws.CloseOutputAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, null, timeout.Token);
            }
            catch (System.Net.WebSockets.WebSocketException)
            {
            }
        }
        await _cts.CancelAsync();
        await _loop;
        _ws.Dispose();
        _cts.Dispose();
    }
}
