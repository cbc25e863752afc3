using System.Collections.Concurrent;
using System.Text.Json;
using Herald.Cluster.Directory;
using Herald.Cluster.Presence;
using Herald.Core.Model;
using Herald.Core.Privacy;
using Herald.Server.Apis;
using Herald.Server.Auth;
using Herald.Server.Hosting;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;

namespace Herald.Server.Live;

/// <summary>
/// SignalR hub at <c>/hubs/presence</c>. Clients call <c>Watch(userIds)</c> / <c>WatchFrom(known)</c> /
/// <c>Unwatch(userIds)</c> and receive <c>presence</c> messages: arrays of views, each with its sequence number.
/// After a reconnect, <c>WatchFrom</c> with the last sequence seen per person returns exactly the views that
/// moved on, so nothing is missed and nothing repeats. Events for the connected person arrive as messages named
/// after their kind (<c>huddle</c>: one event object <c>{type, huddle}</c> each).
/// </summary>
public sealed class PresenceHub(LiveConnections live, IDirectoryStore directory, IOptions<HeraldOptions> options, PresencePump pump,
    IGrainFactory grains, DeviceLeaseKeeper keeper, LiveRateLimiter limiter, TimeProvider time) : Hub
{
    /// <summary>Lease of a connection-bound device; the server renews it while the connection lives.</summary>
    public static readonly TimeSpan ConnectionDeviceTtl = TimeSpan.FromSeconds(60);

    /// <inheritdoc />
    public override async Task OnConnectedAsync()
    {
        var connection = new LiveConnection(Context.ConnectionId, Context.User!.UserIdOf());
        Context.Items[typeof(LiveConnection)] = connection;
        pump.Start(connection, Context.ConnectionAborted);
        await live.Open(connection);
        await base.OnConnectedAsync();
    }

    /// <inheritdoc />
    public override async Task OnDisconnectedAsync(Exception? exception)
    {
        if (Context.Items[typeof(LiveConnection)] is LiveConnection c)
        {
            live.Close(c);
        }
        if (Context.Items["device"] is string deviceId)
        {
            // A transport loss is a hint, not the truth: the device still counts for the grace window, so a quick
            // reconnect shows watchers no flicker.
            keeper.Release(Context.ConnectionId);
            try
            {
                await grains.GetGrain<IPersonGrain>(Context.User!.UserIdOf()).ConnectionLost(deviceId);
            }
            finally
            {
                keeper.DisconnectHandled();
            }
        }
        await base.OnDisconnectedAsync(exception);
    }

    /// <summary>
    /// Makes this connection a device of the caller (e.g. the web page): a lease the server renews while the
    /// connection lives; after a disconnect it lapses once the grace window has passed.
    /// </summary>
    public async Task<PresenceView> Present(string deviceId, DeviceKind kind, Availability? availability)
    {
        if (deviceId is null || !Validation.IsId(deviceId))
        {
            throw new HubException("deviceId must be 1-64 characters: letters, digits, '.', '_', '@', '-'");
        }
        if (availability is { } a && !AvailabilityRules.IsValidForDevice(a))
        {
            throw new HubException("a device may report Available, Away, BeRightBack, Busy or DoNotDisturb");
        }
        var userId = Context.User!.UserIdOf();
        var report = new DeviceReport(deviceId, kind, availability, null, null, ["chat"], null, ConnectionDeviceTtl);
        var view = await grains.GetGrain<IPersonGrain>(userId).PutDevice(report);
        Context.Items["device"] = deviceId;
        keeper.Keep(Context.ConnectionId, userId, report);
        return view;
    }

    /// <summary>
    /// Sets the caller's preferred status and note, exactly like <c>PUT /api/v1/me/status</c> (same body, same checks,
    /// same durable write; the caller is the connection's person) and returns the caller's own view. Errors are hub
    /// errors: <c>Invalid request: field: message; …</c>, or <c>Rate limit exceeded; retry after N s.</c> (a
    /// per-principal bucket of the REST limit's size, see <see cref="LiveRateLimiter"/>).
    /// </summary>
    public async Task<PresenceView> SetStatus(StatusRequest? request)
    {
        if (!limiter.TryAcquire(Context.User!, out var retryAfter))
        {
            throw new HubException($"Rate limit exceeded; retry after {Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds))} s.");
        }
        var v = MeApi.ValidateStatus(request, options.Value.Limits.MaxNoteLength, time.GetUtcNow());
        if (!v.Ok)
        {
            throw new HubException("Invalid request: " + v.Detail);
        }
        return await grains.GetGrain<IPersonGrain>(Context.User!.UserIdOf())
            .SetStatus(new SetStatus(request!.Availability, request.Activity, request.Note, request.Until));
    }

    /// <summary>Watches people; returns their current views.</summary>
    public async Task<IReadOnlyList<PresenceView>> Watch(string[] userIds) =>
        await WatchFrom((userIds ?? []).Distinct(StringComparer.Ordinal).ToDictionary(id => id, _ => 0L, StringComparer.Ordinal));

    /// <summary>Watches people, returning only views newer than the sequence given per person (resume).</summary>
    public async Task<IReadOnlyList<PresenceView>> WatchFrom(Dictionary<string, long> known)
    {
        ArgumentNullException.ThrowIfNull(known);
        var c = Connection;
        var max = options.Value.Limits.MaxWatch;
        if (known.Keys.Count(k => !c.Watching.ContainsKey(k)) + c.Watching.Count > max)
        {
            throw new HubException($"A connection may watch at most {max} people.");
        }
        var bad = known.Keys.Where(k => k is null || !Validation.IsId(k)).ToList();
        if (bad.Count > 0)
        {
            throw new HubException($"Invalid ids: {string.Join(", ", bad.Take(10))}");
        }
        var found = (await directory.GetPeople(known.Keys, Context.ConnectionAborted)).Select(p => p.Id).ToHashSet(StringComparer.Ordinal);
        found.Add(c.WatcherId); // one may always watch oneself
        var unknown = known.Keys.Where(k => !found.Contains(k)).ToList();
        if (unknown.Count > 0)
        {
            throw new HubException($"Unknown people: {string.Join(", ", unknown.Take(10))}");
        }
        var views = await live.Watch(c, known.Keys);
        // A plain array: the MessagePack hub protocol serializes a result by its runtime type and cannot write the
        // compiler's collection-expression types.
        return views.Where(v => v.Sequence > known.GetValueOrDefault(v.UserId)).ToArray();
    }

    /// <summary>Stops watching people.</summary>
    public void Unwatch(string[] userIds) => live.Unwatch(Connection, userIds ?? []);

    private LiveConnection Connection => (LiveConnection)Context.Items[typeof(LiveConnection)]!;
}

/// <summary>
/// Writes each SignalR connection's pending views as one <c>presence</c> message per batch, and each pending event
/// as one message named after its kind (<c>huddle.updated</c> → <c>huddle</c>, the event's JSON object as payload),
/// from one async loop per connection (no thread per connection).
/// </summary>
public sealed partial class PresencePump(IHubContext<PresenceHub> hub, ILogger<PresencePump> logger)
{
    private readonly ConcurrentDictionary<string, Task> _loops = new(StringComparer.Ordinal);

    /// <summary>Starts the loop of <paramref name="connection"/>, ending when <paramref name="aborted"/> fires.</summary>
    public void Start(LiveConnection connection, CancellationToken aborted)
    {
        ArgumentNullException.ThrowIfNull(connection);
        _loops[connection.Id] = Task.Run(() => Loop(connection, aborted), CancellationToken.None);
    }

    private async Task Loop(LiveConnection connection, CancellationToken aborted)
    {
        try
        {
            while (!aborted.IsCancellationRequested)
            {
                // No timeout: a timed wait allocates and arms a timer per batch; the token ends the loop.
                await connection.WaitAsync(aborted);
                var batch = connection.TakeAll();
                if (batch.Count > 0)
                {
                    // An array, for the MessagePack hub protocol (it writes arguments by their runtime type).
                    await hub.Clients.Client(connection.Id).SendAsync("presence", batch as PresenceView[] ?? [.. batch], aborted);
                }
                foreach (var e in connection.TakeEvents())
                {
                    await hub.Clients.Client(connection.Id).SendAsync(MessageName(e.Type), Plain(JsonSerializer.Deserialize<JsonElement>(e.Json)), aborted);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // connection closed
        }
        catch (Exception ex)
        {
            LogPumpFailed(ex, connection.Id);
        }
        finally
        {
            _loops.TryRemove(connection.Id, out _);
        }
    }

    /// <summary>
    /// An event's JSON as plain maps, lists and scalars, which both hub protocols can write (MessagePack cannot write a
    /// <see cref="JsonElement"/>); JSON clients receive the same object as before.
    /// </summary>
    internal static object? Plain(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => e.EnumerateObject().ToDictionary(p => p.Name, p => Plain(p.Value), StringComparer.Ordinal),
        JsonValueKind.Array => e.EnumerateArray().Select(Plain).ToArray(),
        JsonValueKind.String => e.GetString(),
        JsonValueKind.Number => e.TryGetInt64(out var l) ? l : e.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => null,
    };

    /// <summary>The client method of an event type: its kind, the part before the first dot.</summary>
    internal static string MessageName(string type) => type.IndexOf('.', StringComparison.Ordinal) is > 0 and var i ? type[..i] : type;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Live pump of connection {ConnectionId} failed")]
    private partial void LogPumpFailed(Exception ex, string connectionId);
}
