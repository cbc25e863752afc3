using System.Security.Claims;
using Herald.Cluster.Directory;
using Herald.Cluster.Presence;
using Herald.Core.Model;
using Herald.Core.Privacy;
using Herald.Server.Apis;
using Herald.Server.Auth;
using Herald.Server.Hosting;
using Microsoft.Extensions.Options;

namespace Herald.Server.Live;

/// <summary>
/// A live operation refused: <see cref="Status"/> is the HTTP status it corresponds to (400 invalid, 404 unknown people,
/// 429 rate limited), the message says why. The SignalR hub turns it into a <c>HubException</c> with the same text, the
/// WebSocket protocol into an <c>error</c> message.
/// </summary>
public sealed class LiveOperationException(int status, string message) : Exception(message)
{
    /// <summary>The corresponding HTTP status.</summary>
    public int Status { get; } = status;
}

/// <summary>
/// What a live connection can ask for — watch, resume, unwatch, set the status, become a device — with the same checks
/// and limits on every live protocol (the SignalR hub and the WebSocket protocol at <c>/api/v1/live</c>).
/// </summary>
public sealed class LiveOperations(LiveConnections live, IDirectoryStore directory, IOptions<HeraldOptions> options, IGrainFactory grains,
    DeviceLeaseKeeper keeper, LiveRateLimiter limiter, TimeProvider time)
{
    /// <summary>Lease of a connection-bound device; the server renews it while the connection lives.</summary>
    public static readonly TimeSpan ConnectionDeviceTtl = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Watches the people named in <paramref name="known"/> and returns the views newer than the sequence given for
    /// each (0: the current view). The snapshot counts as delivered, so the fan-out does not send it again.
    /// </summary>
    public Task<PresenceView[]> WatchFrom(LiveConnection connection, Dictionary<string, long> known, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(known);
        return Watch(connection, known, exist: null, ct);
    }

    /// <summary>
    /// Watches the caller's own contacts (as <c>GET /api/v1/me/contacts</c> lists them: contacts no longer in the
    /// directory are left out) and the people named in <paramref name="users"/>; returns their current views, the
    /// contacts first in the order of the contact list. Saves a client the contacts request before its first watch:
    /// the views go through the same policy and the same <c>live</c> audit as a <c>watch</c> of the same ids.
    /// </summary>
    public async Task<PresenceView[]> WatchContacts(LiveConnection connection, IReadOnlyCollection<string> users, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(users);
        if (users.Any(id => id is null))
        {
            throw new LiveOperationException(400, "Invalid ids: null");
        }
        var contacts = await grains.Person(connection.WatcherId).GetContacts();
        var exist = (await directory.GetPeople(contacts, ct)).Select(p => p.Id).ToHashSet(StringComparer.Ordinal);
        var known = new Dictionary<string, long>(contacts.Count + users.Count, StringComparer.Ordinal);
        foreach (var id in contacts)
        {
            if (exist.Contains(id))
            {
                known.TryAdd(id, 0);
            }
        }
        foreach (var id in users)
        {
            known.TryAdd(id, 0); // not contacts: checked like a watch's ids (400 invalid, 404 unknown)
        }
        return await Watch(connection, known, exist, ct);
    }

    /// <summary>The watch itself; <paramref name="exist"/>: ids already known to be directory people (not looked up again).</summary>
    private async Task<PresenceView[]> Watch(LiveConnection connection, Dictionary<string, long> known, HashSet<string>? exist, CancellationToken ct)
    {
        var max = options.Value.Limits.MaxWatch;
        if (known.Keys.Count(k => !connection.IsWatching(k)) + connection.WatchingCount > max)
        {
            throw new LiveOperationException(400, $"A connection may watch at most {max} people.");
        }
        var toCheck = exist is null ? [.. known.Keys] : known.Keys.Where(k => !exist.Contains(k)).ToList();
        var bad = toCheck.Where(k => k is null || !Validation.IsId(k)).ToList();
        if (bad.Count > 0)
        {
            throw new LiveOperationException(400, $"Invalid ids: {string.Join(", ", bad.Take(10))}");
        }
        if (toCheck.Count > 0)
        {
            var found = (await directory.GetPeople(toCheck, ct)).Select(p => p.Id).ToHashSet(StringComparer.Ordinal);
            found.Add(connection.WatcherId); // one may always watch oneself
            var unknown = toCheck.Where(k => !found.Contains(k)).ToList();
            if (unknown.Count > 0)
            {
                throw new LiveOperationException(404, $"Unknown people: {string.Join(", ", unknown.Take(10))}");
            }
        }
        var views = await live.Watch(connection, known.Keys);
        return [.. views.Where(v => v.Sequence > known.GetValueOrDefault(v.UserId))];
    }

    /// <summary>Stops watching <paramref name="userIds"/> (ids not watched are ignored).</summary>
    public void Unwatch(LiveConnection connection, IEnumerable<string> userIds) => live.Unwatch(connection, userIds);

    /// <summary>
    /// Sets the caller's preferred status exactly like <c>PUT /api/v1/me/status</c> (same body, checks and durable write),
    /// limited by the caller's live bucket (<see cref="LiveRateLimiter"/>); returns the caller's own view.
    /// </summary>
    public async Task<PresenceView> SetStatus(ClaimsPrincipal user, StatusRequest? request)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (!limiter.TryAcquire(user, out var retryAfter))
        {
            throw new LiveOperationException(429, $"Rate limit exceeded; retry after {Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds))} s.");
        }
        var v = MeApi.ValidateStatus(request, options.Value.Limits.MaxNoteLength, time.GetUtcNow());
        if (!v.Ok)
        {
            throw new LiveOperationException(400, "Invalid request: " + v.Detail);
        }
        return await grains.Person(user.UserIdOf())
            .SetStatus(new SetStatus(request!.Availability, request.Activity, request.Note, request.Until));
    }

    /// <summary>
    /// Makes the connection a device of the caller: a lease the server renews while the connection lives (see
    /// <see cref="DeviceLeaseKeeper"/>); after a disconnect it lapses once the grace window has passed.
    /// </summary>
    public async Task<PresenceView> Present(ClaimsPrincipal user, string connectionId, string? deviceId, DeviceKind kind, Availability? availability)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (deviceId is null || !Validation.IsId(deviceId))
        {
            throw new LiveOperationException(400, "deviceId must be 1-64 characters: letters, digits, '.', '_', '@', '-'");
        }
        if (!Enum.IsDefined(kind))
        {
            throw new LiveOperationException(400, "kind is not a known device kind");
        }
        if (availability is { } a && !AvailabilityRules.IsValidForDevice(a))
        {
            throw new LiveOperationException(400, "a device may report Available, Away, BeRightBack, Busy or DoNotDisturb");
        }
        var userId = user.UserIdOf();
        var report = new DeviceReport(deviceId, kind, availability, null, null, ["chat"], null, ConnectionDeviceTtl);
        var view = await grains.Person(userId).PutDevice(report);
        keeper.Keep(connectionId, userId, report);
        return view;
    }

    /// <summary>
    /// The connection of a device ended: the lease is no longer renewed, and the device still counts for the grace
    /// window (a transport loss is a hint, not the truth), so a quick reconnect shows watchers no flicker.
    /// </summary>
    public async Task DeviceConnectionLost(ClaimsPrincipal user, string connectionId, string deviceId)
    {
        ArgumentNullException.ThrowIfNull(user);
        keeper.Release(connectionId);
        try
        {
            await grains.Person(user.UserIdOf()).ConnectionLost(deviceId);
        }
        finally
        {
            keeper.DisconnectHandled();
        }
    }
}
