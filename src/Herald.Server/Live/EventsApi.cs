using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Security.Claims;
using System.Text.Json;
using Herald.Cluster.Directory;
using Herald.Core.Privacy;
using Herald.Server.Apis;
using Herald.Server.Auth;
using Herald.Server.Hosting;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace Herald.Server.Live;

/// <summary>
/// Server-Sent Events at <c>GET /api/v1/events?watch=a,b,c</c>: event type <c>presence</c>, data = one view
/// (JSON), id = <c>userId:sequence</c>. A (re)connected stream starts with the current view of every watched
/// person; with <c>Last-Event-ID</c> or <c>?since=userId:seq,…</c> it skips those that have not moved past what
/// the client already has. A <c>ping</c> event is sent after 15 s of silence. Events for the connected person
/// come as event type <c>huddle</c> (data = the event object <c>{type, huddle}</c>, no id: they do not move the
/// presence cursor).
/// </summary>
public static class EventsApi
{
    private static readonly TimeSpan PingAfter = TimeSpan.FromSeconds(15);

    /// <summary>Maps the endpoint.</summary>
    public static void MapEventsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/events", Stream).RequireAuthorization(HeraldPolicies.Person).WithTags("Live")
            .WithName("PresenceEvents").WithSummary("Live presence of the watched people as Server-Sent Events.");
    }

    private static async Task<IResult> Stream(HttpContext http, string? watch, string? since, ClaimsPrincipal user, LiveConnections live,
        IDirectoryStore directory, IOptions<HeraldOptions> options, IOptions<JsonOptions> json, ConnectionDrain drain)
    {
        var ids = (watch ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal).ToList();
        var max = options.Value.Limits.MaxWatch;
        var v = new Validation()
            .Require(ids.Count > 0, "watch", "name at least one person (watch=a,b,c)")
            .Require(ids.Count <= max, "watch", $"at most {max} people per stream");
        foreach (var id in ids.Where(i => !Validation.IsId(i)).Take(10))
        {
            v.Add("watch", $"'{id}' is not a valid id");
        }
        if (!v.Ok)
        {
            return v.Problem();
        }
        var me = user.UserIdOf();
        var found = (await directory.GetPeople(ids, http.RequestAborted)).Select(p => p.Id).ToHashSet(StringComparer.Ordinal);
        found.Add(me);
        var unknown = ids.Where(i => !found.Contains(i)).ToList();
        if (unknown.Count > 0)
        {
            return Problems.NotFound($"Unknown people: {string.Join(", ", unknown.Take(10))}");
        }
        var known = ParseCursor(since ?? http.Request.Headers["Last-Event-ID"].ToString());
        var connection = new LiveConnection(http.TraceIdentifier, me);
        return TypedResults.ServerSentEvents(Events(connection, user, HeraldAuthHandler.ExpiryOf(http), ids, known, live, json.Value.SerializerOptions,
            drain.Draining, http.RequestAborted));
    }

    private static async IAsyncEnumerable<SseItem<string>> Events(LiveConnection connection, ClaimsPrincipal user, DateTimeOffset? expires,
        List<string> ids, Dictionary<string, long> known, LiveConnections live, JsonSerializerOptions json, CancellationToken draining,
        [EnumeratorCancellation] CancellationToken ct)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct, draining);
        try
        {
            await live.Open(connection, user, expires);
            var snapshot = await live.Watch(connection, ids);
            if (connection.CredentialEnded is { } gone)
            {
                yield return Closed(gone, json);
                yield break;
            }
            foreach (var view in snapshot.Where(v => v.Sequence > known.GetValueOrDefault(v.UserId)))
            {
                yield return Item(view, json);
            }
            while (!ct.IsCancellationRequested)
            {
                bool signalled;
                try
                {
                    signalled = await connection.WaitAsync(PingAfter, stop.Token);
                }
                catch (OperationCanceledException)
                {
                    signalled = false;
                }
                if (connection.CredentialEnded is { } why)
                {
                    // The credential ended: a final event says why, and the stream ends (no retry hint: reconnecting with
                    // the same credential fails; the client needs a fresh token).
                    yield return Closed(why, json);
                    yield break;
                }
                if (draining.IsCancellationRequested && !ct.IsCancellationRequested)
                {
                    // Graceful shutdown: the client reconnects (through the load balancer) and resumes with Last-Event-ID.
                    yield return new SseItem<string>("{}", "reconnect") { ReconnectionInterval = ConnectionDrain.ClientRetry };
                    yield break;
                }
                if (ct.IsCancellationRequested)
                {
                    yield break;
                }
                if (!signalled)
                {
                    yield return new SseItem<string>("{}", "ping");
                    continue;
                }
                foreach (var view in connection.TakeAll())
                {
                    yield return Item(view, json);
                }
                foreach (var e in connection.TakeEvents())
                {
                    yield return new SseItem<string>(e.Json, PresencePump.MessageName(e.Type));
                }
            }
        }
        finally
        {
            live.Close(connection);
        }
    }

    private static SseItem<string> Closed(Herald.Cluster.Directory.CredentialEnd why, JsonSerializerOptions json) =>
        new(JsonSerializer.Serialize(CredentialClose.Message(why), json), "closed");

    private static SseItem<string> Item(PresenceView view, JsonSerializerOptions json) =>
        new(JsonSerializer.Serialize(view, json), "presence") { EventId = $"{view.UserId}:{view.Sequence}" };

    /// <summary>Parses <c>userId:seq[,userId:seq…]</c>; malformed parts are ignored (the client then gets a full snapshot).</summary>
    internal static Dictionary<string, long> ParseCursor(string? cursor)
    {
        var result = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var part in (cursor ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var i = part.LastIndexOf(':');
            if (i > 0 && long.TryParse(part.AsSpan(i + 1), System.Globalization.CultureInfo.InvariantCulture, out var seq))
            {
                result[part[..i]] = seq;
            }
        }
        return result;
    }
}
