using System.Security.Claims;
using Herald.Cluster.Directory;
using Herald.Server.Auth;
using Herald.Server.Webhooks;

namespace Herald.Server.Apis;

/// <summary>Body of <c>POST /api/v1/webhooks</c>.</summary>
public sealed record WebhookRequest(string? Url, IReadOnlyList<string>? UserIds, IReadOnlyList<string>? Teams, IReadOnlyList<string>? Events);

/// <summary>A webhook as shown to its owner (never its secret).</summary>
public sealed record WebhookInfo(string Id, string Url, IReadOnlyList<string> UserIds, IReadOnlyList<string> Teams, IReadOnlyList<string> Events,
    DateTimeOffset CreatedAt, string State, int ConsecutiveFailures, DateTimeOffset? DisabledAt, string? LastError);

/// <summary>The answer to a create: the only time the secret is shown.</summary>
public sealed record WebhookCreated(string Id, string Secret, WebhookInfo Webhook);

/// <summary>
/// Webhooks: <c>/api/v1/webhooks</c>. The owner is a person (bearer token) or the owner of an API key with the
/// <c>webhooks</c> scope; a webhook is visible only to its owner (anyone else gets 404).
/// </summary>
public static class WebhooksApi
{
    /// <summary>Maps the endpoints.</summary>
    public static void MapWebhooksApi(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/api/v1/webhooks").WithTags("Webhooks").RequireAuthorization(HeraldPolicies.Any);
        g.MapPost("/", Create).WithName("CreateWebhook").WithSummary("Subscribe a URL to presence changes; the signing secret is shown once.");
        g.MapGet("/", List).WithName("ListWebhooks").WithSummary("My webhooks.");
        g.MapGet("/{id}", Get).WithName("GetWebhook").WithSummary("One webhook (never its secret).");
        g.MapDelete("/{id}", Delete).WithName("DeleteWebhook").WithSummary("Delete a webhook with its pending events.");
        g.MapPost("/{id}/test", Test).WithName("TestWebhook").WithSummary("Queue a webhook.test event.");
        g.MapGet("/{id}/deliveries", Deliveries).WithName("WebhookDeliveries").WithSummary("The newest delivery attempts, newest first.");
    }

    private static readonly string[] KnownEvents = [WebhookEvents.PresenceChanged, WebhookEvents.Huddle];

    private static bool Allowed(ClaimsPrincipal user) => user.IsPerson() || (user.IsApiKey() && user.HasScope("webhooks"));

    private static IResult NotAllowed() => Problems.Forbidden("Webhooks need a person's token or an API key with the 'webhooks' scope.");

    private static async Task<IResult> Create(WebhookRequest? body, ClaimsPrincipal user, IWebhookStore store, WebhookService service, Herald.Server.Outbound.OutboundGuard outbound,
        IDirectoryStore directory, TimeProvider time, CancellationToken ct)
    {
        if (!Allowed(user))
        {
            return NotAllowed();
        }
        var owner = user.UserIdOf();
        var userIds = (body?.UserIds ?? []).Distinct(StringComparer.Ordinal).ToList();
        var teams = (body?.Teams ?? []).Distinct(StringComparer.Ordinal).ToList();
        var events = (body?.Events ?? [WebhookEvents.PresenceChanged]).Distinct(StringComparer.Ordinal).ToList();
        var v = new Validation()
            .Require(!string.IsNullOrWhiteSpace(body?.Url), "url", "is required")
            .MaxLength(body?.Url, WebhookEvents.MaxUrlLength, "url")
            .Require(userIds.Count <= WebhookEvents.MaxUserIds, "userIds", $"at most {WebhookEvents.MaxUserIds}")
            .Require(teams.Count <= WebhookEvents.MaxTeams, "teams", $"at most {WebhookEvents.MaxTeams}")
            .Require(events.Count > 0, "events", "name at least one event type");
        Uri? uri = null;
        if (!string.IsNullOrWhiteSpace(body?.Url) && !(Uri.TryCreate(body.Url, UriKind.Absolute, out uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)))
        {
            v.Add("url", "must be an absolute http or https URL");
        }
        else if (uri is not null && outbound.Refuse(uri) is { } refused)
        {
            v.Add("url", refused);
        }
        foreach (var e in events.Where(e => e is null || !KnownEvents.Contains(e)))
        {
            v.Add("events", $"unknown event type '{e}' ({string.Join(", ", KnownEvents)})");
        }
        if (events.Contains(WebhookEvents.PresenceChanged) && userIds.Count == 0 && teams.Count == 0)
        {
            v.Add("userIds", "name at least one person or team to watch for presence.changed");
        }
        foreach (var id in userIds.Where(i => i is null || !Validation.IsId(i)).Take(10))
        {
            v.Add("userIds", $"'{id}' is not a valid id");
        }
        foreach (var id in teams.Where(i => i is null || !Validation.IsId(i)).Take(10))
        {
            v.Add("teams", $"'{id}' is not a valid id");
        }
        if (v.Ok)
        {
            var known = (await directory.GetPeople(userIds, ct)).Select(p => p.Id).ToHashSet(StringComparer.Ordinal);
            foreach (var id in userIds.Where(i => !known.Contains(i)).Take(10))
            {
                v.Add("userIds", $"no person '{id}'");
            }
            foreach (var t in teams)
            {
                if (await directory.GetTeam(t, ct) is null)
                {
                    v.Add("teams", $"no team '{t}'");
                }
            }
        }
        if (!v.Ok)
        {
            return v.Problem();
        }
        if (await store.Count(owner, ct) >= WebhookEvents.MaxPerOwner)
        {
            return Problems.Field("url", $"at most {WebhookEvents.MaxPerOwner} webhooks per owner; delete one first");
        }
        var record = new WebhookRecord("wh_" + Guid.NewGuid().ToString("N")[..20], owner, body!.Url!, WebhookSignature.NewSecret(),
            userIds, teams, events, time.GetUtcNow(), false, 0, null, null);
        await store.Create(record, ct);
        await service.Activate(record, ct);
        return Results.Created($"/api/v1/webhooks/{record.Id}", new WebhookCreated(record.Id, record.Secret, Info(record)));
    }

    private static async Task<IResult> List(ClaimsPrincipal user, IWebhookStore store, CancellationToken ct) =>
        Allowed(user) ? Results.Ok((await store.List(user.UserIdOf(), ct)).Select(Info)) : NotAllowed();

    private static async Task<IResult> Get(string id, ClaimsPrincipal user, IWebhookStore store, CancellationToken ct)
    {
        if (!Allowed(user))
        {
            return NotAllowed();
        }
        var w = await Own(id, user, store, ct);
        return w is null ? Missing(id) : Results.Ok(Info(w));
    }

    private static async Task<IResult> Delete(string id, ClaimsPrincipal user, IWebhookStore store, WebhookService service, CancellationToken ct)
    {
        if (!Allowed(user))
        {
            return NotAllowed();
        }
        if (await Own(id, user, store, ct) is null)
        {
            return Missing(id);
        }
        service.Deactivate(id);
        await store.Delete(id, ct);
        return Results.NoContent();
    }

    private static async Task<IResult> Test(string id, ClaimsPrincipal user, IWebhookStore store, WebhookService service, CancellationToken ct)
    {
        if (!Allowed(user))
        {
            return NotAllowed();
        }
        var w = await Own(id, user, store, ct);
        if (w is null)
        {
            return Missing(id);
        }
        if (w.Disabled)
        {
            return Problems.Conflict("The webhook is disabled after repeated failures; delete it and create it again.");
        }
        var eventId = await service.EnqueueTest(w, ct);
        return Results.Accepted($"/api/v1/webhooks/{id}/deliveries", new { eventId });
    }

    private static async Task<IResult> Deliveries(string id, int? limit, ClaimsPrincipal user, IWebhookStore store, CancellationToken ct)
    {
        if (!Allowed(user))
        {
            return NotAllowed();
        }
        if (await Own(id, user, store, ct) is null)
        {
            return Missing(id);
        }
        var n = Math.Clamp(limit ?? WebhookStore.MaxLogEntries, 1, WebhookStore.MaxLogEntries);
        return Results.Ok(await store.Deliveries(id, n, ct));
    }

    private static async Task<WebhookRecord?> Own(string id, ClaimsPrincipal user, IWebhookStore store, CancellationToken ct)
    {
        var w = await store.Get(id, ct);
        return w is not null && w.OwnerId == user.UserIdOf() ? w : null;
    }

    private static IResult Missing(string id) => Problems.NotFound($"No webhook '{id}'.");

    private static WebhookInfo Info(WebhookRecord w) => new(w.Id, w.Url, w.UserIds, w.Teams, w.Events, w.CreatedAt,
        w.Disabled ? "disabled" : "active", w.ConsecutiveFailures, w.DisabledAt, w.LastError);
}
