using System.Collections.Concurrent;
using System.Text.Json;
using Herald.Cluster.Presence;
using Herald.Core.Model;
using Herald.Core.Privacy;
using Herald.Server.Apis;
using Herald.Server.Auth;
using Microsoft.AspNetCore.SignalR;

namespace Herald.Server.Live;

/// <summary>
/// SignalR hub at <c>/hubs/presence</c>. Clients call <c>Watch(userIds)</c> / <c>WatchFrom(known)</c> /
/// <c>Unwatch(userIds)</c> and receive <c>presence</c> messages: arrays of views, each with its sequence number.
/// After a reconnect, <c>WatchFrom</c> with the last sequence seen per person returns exactly the views that
/// moved on, so nothing is missed and nothing repeats. Events for the connected person arrive as messages named
/// after their kind (<c>huddle</c>: one event object <c>{type, huddle}</c> each).
/// </summary>
public sealed class PresenceHub(LiveConnections live, LiveOperations operations, PresencePump pump) : Hub
{
    /// <summary>Lease of a connection-bound device; the server renews it while the connection lives.</summary>
    public static readonly TimeSpan ConnectionDeviceTtl = LiveOperations.ConnectionDeviceTtl;

    /// <inheritdoc />
    public override async Task OnConnectedAsync()
    {
        var connection = new LiveConnection(Context.ConnectionId, Context.User!.UserIdOf());
        Context.Items[typeof(LiveConnection)] = connection;
        pump.Start(connection, Context);
        await live.Open(connection, Context.User!, Context.GetHttpContext() is { } http ? HeraldAuthHandler.ExpiryOf(http) : null);
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
            await operations.DeviceConnectionLost(Context.User!, Context.ConnectionId, deviceId);
        }
        await base.OnDisconnectedAsync(exception);
    }

    /// <summary>
    /// Makes this connection a device of the caller (e.g. the web page): a lease the server renews while the
    /// connection lives; after a disconnect it lapses once the grace window has passed.
    /// </summary>
    public async Task<PresenceView> Present(string deviceId, DeviceKind kind, Availability? availability)
    {
        var view = await Run(() => operations.Present(Context.User!, Context.ConnectionId, deviceId, kind, availability), Connection);
        Context.Items["device"] = deviceId;
        return view;
    }

    /// <summary>
    /// Sets the caller's preferred status and note, exactly like <c>PUT /api/v1/me/status</c> (same body, same checks,
    /// same durable write; the caller is the connection's person) and returns the caller's own view. Errors are hub
    /// errors: <c>Invalid request: field: message; …</c>, or <c>Rate limit exceeded; retry after N s.</c> (a
    /// per-principal bucket of the REST limit's size, see <see cref="LiveRateLimiter"/>).
    /// </summary>
    public Task<PresenceView> SetStatus(StatusRequest? request) => Run(() => operations.SetStatus(Context.User!, request), Connection);

    /// <summary>Watches people; returns their current views.</summary>
    public async Task<IReadOnlyList<PresenceView>> Watch(string[] userIds) =>
        await WatchFrom((userIds ?? []).Distinct(StringComparer.Ordinal).ToDictionary(id => id, _ => 0L, StringComparer.Ordinal));

    /// <summary>Watches people, returning only views newer than the sequence given per person (resume).</summary>
    public async Task<IReadOnlyList<PresenceView>> WatchFrom(Dictionary<string, long> known) =>
        // A plain array: the MessagePack hub protocol serializes a result by its runtime type and cannot write the
        // compiler's collection-expression types.
        await Run(() => operations.WatchFrom(Connection, known ?? throw new HubException("known is required"), Context.ConnectionAborted), Connection);

    /// <summary>
    /// Watches the caller's own contacts (those still in the directory, as <c>GET /api/v1/me/contacts</c> lists them);
    /// returns their current views in the order of the contact list. One call instead of fetching the contacts first.
    /// </summary>
    public async Task<IReadOnlyList<PresenceView>> WatchContacts() =>
        await Run(() => operations.WatchContacts(Connection, [], Context.ConnectionAborted), Connection);

    /// <summary>Stops watching people.</summary>
    public void Unwatch(string[] userIds) => operations.Unwatch(Connection, userIds ?? []);

    private LiveConnection Connection => (LiveConnection)Context.Items[typeof(LiveConnection)]!;

    private static async Task<T> Run<T>(Func<Task<T>> operation, LiveConnection? connection = null)
    {
        try
        {
            var result = await operation();
            if (connection?.CredentialEnded is { } why)
            {
                // Found invalid while the call ran: the views it read are not handed out.
                throw new HubException("Connection closed: " + CredentialClose.Reason(why));
            }
            return result;
        }
        catch (LiveOperationException e)
        {
            throw new HubException(e.Message);
        }
    }
}

/// <summary>
/// Writes each SignalR connection's pending views as one <c>presence</c> message per batch, and each pending event
/// as one message named after its kind (<c>huddle.updated</c> → <c>huddle</c>, the event's JSON object as payload),
/// from one async loop per connection (no thread per connection).
/// </summary>
public sealed partial class PresencePump(IHubContext<PresenceHub> hub, ILogger<PresencePump> logger)
{
    private readonly ConcurrentDictionary<string, Task> _loops = new(StringComparer.Ordinal);

    /// <summary>
    /// Starts the loop of <paramref name="connection"/>, ending when the connection is aborted; when the connection's
    /// credential ends the loop sends <c>closed</c> (<see cref="ClosedMessage"/>) and aborts the connection.
    /// </summary>
    public void Start(LiveConnection connection, HubCallerContext context)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(context);
        _loops[connection.Id] = Task.Run(() => Loop(connection, context), CancellationToken.None);
    }

    private async Task Loop(LiveConnection connection, HubCallerContext context)
    {
        var aborted = context.ConnectionAborted;
        try
        {
            while (!aborted.IsCancellationRequested)
            {
                // No timeout: a timed wait allocates and arms a timer per batch; the token ends the loop.
                await connection.WaitAsync(aborted);
                if (connection.CredentialEnded is { } why)
                {
                    await CloseForCredential(connection, context, why);
                    return;
                }
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

    /// <summary>Tells the client why (a <c>closed</c> message, at most <see cref="LiveSocketApi.CloseGrace"/>) and aborts the connection.</summary>
    private async Task CloseForCredential(LiveConnection connection, HubCallerContext context, Herald.Cluster.Directory.CredentialEnd why)
    {
        try
        {
            using var sending = CancellationTokenSource.CreateLinkedTokenSource(context.ConnectionAborted);
            sending.CancelAfter(LiveSocketApi.CloseGrace);
            await hub.Clients.Client(connection.Id).SendAsync("closed", CredentialClose.Message(why), sending.Token);
        }
        catch (OperationCanceledException)
        {
            // gone already, or not reading: closed regardless
        }
        finally
        {
            context.Abort();
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
