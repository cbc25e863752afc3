using System.Security.Claims;
using Herald.Cluster.Directory;
using Herald.Cluster.Huddles;
using Herald.Cluster.Presence;
using Herald.Core.Model;
using Herald.Core.Privacy;
using Herald.Server.Auth;

namespace Herald.Server.Apis;

/// <summary>Request to ask the available: exactly one of <see cref="Team"/> and <see cref="UserIds"/>.</summary>
public sealed record HuddleRequest(string? Team, IReadOnlyList<string>? UserIds, string? Topic, int? ForMinutes, int? MinAccepts);

/// <summary>An invitee's answer: <c>accept</c> or <c>decline</c>.</summary>
public sealed record HuddleAnswer(string? Response);

/// <summary>
/// "Ask the available": <c>/api/v1/huddles</c>. A huddle invites only the candidates the requester may see as
/// Available right now (the same disclosure as every other channel, audited as <c>huddle</c>); the others are
/// reported as a count only. Invitees get a live <c>huddle</c> event (SignalR and SSE) and answer; the requester sees
/// the answers live; the huddle expires after <c>forMinutes</c>.
/// </summary>
public static class HuddlesApi
{
    /// <summary>Most people named in one request.</summary>
    public const int MaxUserIds = 100;

    /// <summary>Most members of a team considered.</summary>
    public const int MaxTeamMembers = 10_000;

    /// <summary>Longest topic.</summary>
    public const int MaxTopicLength = 200;

    /// <summary>Default lifetime in minutes.</summary>
    public const int DefaultMinutes = 15;

    /// <summary>Longest lifetime in minutes.</summary>
    public const int MaxMinutes = 240;

    /// <summary>Maps the endpoints.</summary>
    public static void MapHuddlesApi(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/api/v1/huddles").WithTags("Huddles").RequireAuthorization(HeraldPolicies.Person);
        g.MapPost("/", Create).WithName("CreateHuddle")
            .WithSummary("Ask the people available now (a team's members or named people) to huddle about a topic.");
        g.MapGet("/{huddleId}", Get).WithName("GetHuddle").WithSummary("A huddle as the caller may see it (requester or invitee).");
        g.MapPost("/{huddleId}/respond", Respond).WithName("RespondToHuddle").WithSummary("Accept or decline a huddle invitation.");
    }

    private static async Task<IResult> Create(HuddleRequest? body, ClaimsPrincipal user, IDirectoryStore directory, IGrainFactory grains,
        TimeProvider time, CancellationToken ct)
    {
        var v = new Validation().Require(body is not null, "body", "is required");
        if (body is null)
        {
            return v.Problem();
        }
        if ((body.Team is null) == (body.UserIds is null))
        {
            v.Add("team", "give exactly one of team and userIds");
            v.Add("userIds", "give exactly one of team and userIds");
        }
        else if (body.Team is not null)
        {
            v.Id(body.Team, "team");
        }
        else
        {
            v.Require(body.UserIds!.Count is > 0 and <= MaxUserIds, "userIds", $"name 1 to {MaxUserIds} people");
            foreach (var id in body.UserIds.Where(i => i is null || !Validation.IsId(i)).Take(10))
            {
                v.Add("userIds", $"'{id}' is not a valid id");
            }
        }
        var topic = body.Topic?.Trim();
        v.Require(!string.IsNullOrEmpty(topic), "topic", "is required")
            .Require(topic is null || topic.Length <= MaxTopicLength, "topic", $"must be 1-{MaxTopicLength} characters")
            .Require(body.ForMinutes is null || body.ForMinutes is >= 1 and <= MaxMinutes, "forMinutes", $"must be between 1 and {MaxMinutes}")
            .Require(body.MinAccepts is null || body.MinAccepts >= 1, "minAccepts", "must be at least 1");
        if (!v.Ok)
        {
            return v.Problem();
        }

        var me = user.UserIdOf();
        IReadOnlyList<PersonProfile> candidates;
        if (body.Team is { } team)
        {
            candidates = [.. (await directory.SearchPeople(null, team, MaxTeamMembers, ct)).Where(p => p.Id != me)];
            if (candidates.Count == 0)
            {
                return Problems.NotFound($"No team '{team}' with members other than you.");
            }
        }
        else
        {
            var ids = body.UserIds!.Distinct(StringComparer.Ordinal).ToList();
            var found = (await directory.GetPeople(ids, ct)).ToDictionary(p => p.Id, StringComparer.Ordinal);
            var unknown = ids.Where(i => i != me && !found.ContainsKey(i)).ToList();
            if (unknown.Count > 0)
            {
                return Problems.NotFound($"Unknown people: {string.Join(", ", unknown.Take(10))}");
            }
            candidates = [.. ids.Where(i => i != me).Select(i => found[i])];
            if (candidates.Count == 0)
            {
                return Problems.Field("userIds", "name at least one person other than yourself");
            }
        }

        // "Available now" is what the requester may see: the person's grain decides (and audits) as for any read.
        var views = new PresenceView[candidates.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, candidates.Count), new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = ct },
            async (i, _) => views[i] = await grains.Person(candidates[i].Id).GetViewFor(me, "huddle"));
        var invitees = candidates.Where((_, i) => views[i].Availability == Availability.Available)
            .Select(p => new HuddlePerson(p.Id, p.DisplayName)).ToList();
        var skipped = candidates.Count - invitees.Count;
        if (invitees.Count == 0)
        {
            return Results.Problem(statusCode: 409, title: "Nobody is available",
                detail: "None of the people asked is available now.", extensions: new Dictionary<string, object?> { ["skipped"] = skipped });
        }
        var minAccepts = body.MinAccepts ?? 1;
        if (minAccepts > invitees.Count)
        {
            return Problems.Field("minAccepts", $"must be at most the number of people available now ({invitees.Count})");
        }

        var requester = await directory.GetPerson(me, ct);
        var huddleId = Guid.NewGuid().ToString("N");
        var expiresAt = time.GetUtcNow().AddMinutes(body.ForMinutes ?? DefaultMinutes);
        HuddleRequesterView created;
        try
        {
            created = await grains.GetGrain<IHuddleGrain>(huddleId).Create(new NewHuddle(
                new HuddlePerson(me, requester?.DisplayName ?? me), topic!, invitees, skipped, minAccepts, expiresAt));
        }
        catch (InvalidOperationException)
        {
            // The organization-wide limit of open huddles (OpenHuddlesGrain.MaxOpen) is reached.
            return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Too many open huddles",
                detail: $"At most {OpenHuddlesGrain.MaxOpen} huddles may be open at once; try again when some have expired.");
        }
        return Results.Created($"/api/v1/huddles/{huddleId}", created);
    }

    private static async Task<IResult> Get(string huddleId, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (!Validation.IsId(huddleId))
        {
            return NoHuddle(huddleId);
        }
        var view = await grains.GetGrain<IHuddleGrain>(huddleId).Get(user.UserIdOf());
        return view is null ? NoHuddle(huddleId) : Results.Ok(view.Body);
    }

    private static async Task<IResult> Respond(string huddleId, HuddleAnswer? body, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (body?.Response is not ("accept" or "decline"))
        {
            return Problems.Field("response", "must be \"accept\" or \"decline\"");
        }
        if (!Validation.IsId(huddleId))
        {
            return NoHuddle(huddleId);
        }
        var result = await grains.GetGrain<IHuddleGrain>(huddleId).Respond(user.UserIdOf(), body.Response == "accept");
        return result.Outcome switch
        {
            HuddleRespondOutcome.Recorded => Results.Ok(result.View!.Body),
            HuddleRespondOutcome.Forbidden => Problems.Forbidden("The requester does not answer their own huddle."),
            HuddleRespondOutcome.Expired => Problems.Conflict("The huddle has expired."),
            _ => NoHuddle(huddleId),
        };
    }

    /// <summary>The same answer for a huddle that does not exist and one the caller is not part of.</summary>
    private static IResult NoHuddle(string huddleId) => Problems.NotFound($"No huddle '{huddleId}'.");
}
