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
