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

/// <summary>An SSE stream (<see cref="SseWatcher"/>) whose <c>huddle</c> events are recorded.</summary>
public sealed class SseHuddleListener : IHuddleListener
{
    private SseHuddleListener(SseWatcher watcher) => Watcher = watcher;

    public SseWatcher Watcher { get; }

    public ConcurrentQueue<JsonElement> Huddles => Watcher.Huddles;

    /// <summary>Connects watching <paramref name="userId"/> and waits for the stream's first snapshot.</summary>
    public static async Task<SseHuddleListener> Connect(HeraldTestServer server, string token, string userId)
    {
        var watcher = await SseWatcher.Connect(server, token, "watch=" + userId);
        await Eventually.True(() => !watcher.Received.IsEmpty, because: "the SSE stream starts with a snapshot");
        return new SseHuddleListener(watcher);
    }

    public async ValueTask DisposeAsync() => await Watcher.DisposeAsync();
}
