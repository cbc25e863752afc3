using System.Collections.Concurrent;
using System.Text.Json;
using Herald.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR.Client;

namespace Herald.Server.Tests.Huddles;

/// <summary>Something that records the huddle events its person receives.</summary>
public interface IHuddleListener : IAsyncDisposable
{
    ConcurrentQueue<JsonElement> Huddles { get; }
}

public static class HuddleListenerExtensions
{
    public static IEnumerable<JsonElement> OfType(this IHuddleListener listener, string type) =>
        listener.Huddles.Where(e => e.GetProperty("type").GetString() == type);

    public static JsonElement? Last(this IHuddleListener listener, string type) =>
        listener.OfType(type).Select(e => (JsonElement?)e).LastOrDefault();
}

/// <summary>A SignalR connection that records <c>huddle</c> messages (and presence, through <see cref="SignalRWatcher"/>).</summary>
public sealed class SignalRHuddleListener : IHuddleListener
{
    private SignalRHuddleListener(SignalRWatcher watcher) => Watcher = watcher;

    public SignalRWatcher Watcher { get; }

    public ConcurrentQueue<JsonElement> Huddles { get; } = new();

    /// <summary>Connects and makes one call, which the hub runs only after the connection was fully opened.</summary>
    public static async Task<SignalRHuddleListener> Connect(HeraldTestServer server, string token, string userId)
    {
        var watcher = await SignalRWatcher.Connect(server.BaseAddress, token);
        var listener = new SignalRHuddleListener(watcher);
        watcher.Connection.On<JsonElement>("huddle", e => listener.Huddles.Enqueue(e.Clone()));
        await watcher.Watch(userId);
        return listener;
    }

    public async ValueTask DisposeAsync() => await Watcher.DisposeAsync();
}

/// <summary>An SSE stream that records <c>huddle</c> events and counts presence events.</summary>
public sealed class SseHuddleListener : IHuddleListener
{
    private readonly CancellationTokenSource _cts = new();
    private readonly HttpClient _client;
    private Task _loop = Task.CompletedTask;
    private int _presence;

    private SseHuddleListener(HttpClient client) => _client = client;

    public ConcurrentQueue<JsonElement> Huddles { get; } = new();

    /// <summary>Connects watching <paramref name="userId"/> and waits for the stream's first snapshot.</summary>
    public static async Task<SseHuddleListener> Connect(HeraldTestServer server, string token, string userId)
    {
        var client = server.Client(token);
        client.Timeout = Timeout.InfiniteTimeSpan;
        var l = new SseHuddleListener(client);
        var response = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/api/v1/events?watch=" + userId),
            HttpCompletionOption.ResponseHeadersRead, l._cts.Token);
        response.EnsureSuccessStatusCode();
        var stream = await response.Content.ReadAsStreamAsync(l._cts.Token);
        l._loop = Task.Run(() => l.Read(stream));
        await Eventually.True(() => Volatile.Read(ref l._presence) > 0, because: "the SSE stream starts with a snapshot");
        return l;
    }

    private async Task Read(Stream stream)
    {
        using var reader = new StreamReader(stream);
        string? type = null, data = null;
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
                    else if (type == "presence")
                    {
                        Interlocked.Increment(ref _presence);
                    }
                    type = data = null;
                }
                else if (line.StartsWith("event: ", StringComparison.Ordinal))
                {
                    type = line[7..];
                }
                else if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    data = line[6..];
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
