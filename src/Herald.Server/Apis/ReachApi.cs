using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using Herald.Cluster.Directory;
using Herald.Cluster.Presence;
using Herald.Core.Model;
using Herald.Core.Reachability;
using Herald.Server.Auth;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace Herald.Server.Apis;

/// <summary>Reachability: how to reach someone now, who is available, and call routing decisions for phone systems.</summary>
public static class ReachApi
{
    /// <summary>Most people in one availability query.</summary>
    public const int MaxAvailabilityQuery = 500;

    /// <summary>Maps the endpoints.</summary>
    public static void MapReachApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/people/{userId}/reach", Reach).RequireAuthorization(HeraldPolicies.Person).WithTags("Reachability")
            .WithName("Reach").WithSummary("How I may reach this person now: ordered options and when they are available again.");
        app.MapGet("/api/v1/me/reach", GetPreferences).RequireAuthorization(HeraldPolicies.Person).WithTags("Reachability")
            .WithName("GetMyReachRules").WithSummary("My preferred contact methods with conditions.");
        app.MapPut("/api/v1/me/reach", PutPreferences).RequireAuthorization(HeraldPolicies.Person).WithTags("Reachability")
            .WithName("PutMyReachRules").WithSummary("Replace my preferred contact methods with conditions.");
        app.MapPost("/api/v1/availability/query", Available).RequireAuthorization(HeraldPolicies.Person).WithTags("Reachability")
            .WithName("QueryAvailability").WithSummary("Who of a team (or list) is available now, with their best reach option.");
        app.MapGet("/api/v1/route", Route).RequireAuthorization(HeraldPolicies.Any).WithTags("Reachability")
            .WithName("RouteCall").WithSummary("Ring, forward, voicemail or busy for a call (API key with scope 'route').");
    }

    private static bool TryUrgency(string? text, out Urgency urgency)
    {
        urgency = Urgency.Normal;
        return text is null || (char.IsLetter(text.FirstOrDefault()) && Enum.TryParse(text, true, out urgency) && Enum.IsDefined(urgency));
    }

    private static object Answer(string userId, ReachAnswer a) => new
    {
        userId,
        presence = a.View,
        options = a.Plan.Options.Select(o => new { method = o.Method, o.Address, o.Reason }),
        availableAgainAt = a.Plan.AvailableAgainAt,
    };

    private static async Task<IResult> Reach(string userId, string? urgency, ClaimsPrincipal user, IGrainFactory grains, IDirectoryStore directory, CancellationToken ct)
    {
        var v = new Validation().Id(userId, "userId").Require(TryUrgency(urgency, out var u), "urgency", "must be normal or urgent");
        if (!v.Ok)
        {
            return v.Problem();
        }
        if (userId != user.UserIdOf() && await directory.GetPerson(userId, ct) is null)
        {
            return Problems.NotFound($"No person '{userId}'.");
        }
        return Results.Ok(Answer(userId, await grains.Person(userId).Reach(user.UserIdOf(), u, "rest")));
    }

    private static async Task<IResult> GetPreferences(ClaimsPrincipal user, IGrainFactory grains) =>
        Results.Ok(await grains.Person(user.UserIdOf()).GetReachPreferences());

    private static async Task<IResult> PutPreferences(HttpRequest request, ClaimsPrincipal user, IGrainFactory grains, IOptions<JsonOptions> json, CancellationToken ct)
    {
        ReachPreferences? prefs;
        try
        {
            prefs = await JsonSerializer.DeserializeAsync<ReachPreferences>(request.Body, json.Value.SerializerOptions, ct);
        }
        catch (JsonException ex)
        {
            var field = ex.Path?.TrimStart('$', '.') is { Length: > 0 } f ? f : "body";
            return Problems.Field(field, (ex.InnerException as JsonException ?? ex).Message.Split(" Path:")[0]);
        }
        if (prefs is null)
        {
            return Problems.Field("body", "is required: {rules:[…], breakThroughTiers:[…]}");
        }
        prefs = prefs with { Rules = prefs.Rules ?? [], BreakThroughTiers = prefs.BreakThroughTiers ?? ReachPreferences.Default.BreakThroughTiers };
        var problems = ReachPreferences.Validate(prefs);
        if (problems.Count > 0)
        {
            var v = new Validation();
            foreach (var p in problems)
            {
                var colon = p.IndexOf(':', StringComparison.Ordinal);
                v.Add(colon > 0 ? p[..colon] : "rules", colon > 0 ? p[(colon + 1)..].Trim() : p);
            }
            return v.Problem();
        }
        await grains.Person(user.UserIdOf()).SetReachPreferences(prefs);
        return Results.Ok(prefs);
    }

    /// <summary>Availability query body.</summary>
    public sealed record AvailabilityQuery(string? Team, IReadOnlyList<string>? UserIds, int? ForMinutes, DateTimeOffset? At);

    private static async Task<IResult> Available(AvailabilityQuery? body, ClaimsPrincipal user, IGrainFactory grains, IDirectoryStore directory,
        TimeProvider time, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var v = new Validation()
            .Require(body is not null && (body.Team is null) != (body.UserIds is null), "team", "give exactly one of team or userIds")
            .Require(body?.UserIds is null || body.UserIds.Count <= MaxAvailabilityQuery, "userIds", $"at most {MaxAvailabilityQuery}")
            .Require(body?.ForMinutes is null || body.ForMinutes is >= 1 and <= 1440, "forMinutes", "must be between 1 and 1440")
            .Require(body?.At is null || Math.Abs((body.At.Value - now).TotalMinutes) <= 1, "at",
                "only now is supported: future availability needs calendars, which are not connected yet");
        if (body?.Team is not null)
        {
            v.Id(body.Team, "team");
        }
        foreach (var id in body?.UserIds ?? [])
        {
            v.Require(id is not null && Validation.IsId(id), "userIds", $"'{id}' is not a valid id");
        }
        if (!v.Ok)
        {
            return v.Problem();
        }
        var me = user.UserIdOf();
        var people = body!.Team is not null
            ? await directory.SearchPeople(null, body.Team, MaxAvailabilityQuery, ct)
            : await directory.GetPeople(body.UserIds!, ct);
        var answers = await Task.WhenAll(people.Where(p => p.Id != me)
            .Select(async p => (Person: p, Answer: await grains.Person(p.Id).Reach(me, Urgency.Normal, "availability"))));
        // Only what the asker may see: anyone not shown as Available to them is simply not listed.
        var available = answers.Where(a => a.Answer.View.Availability == Availability.Available)
            .OrderByDescending(a => a.Answer.Plan.Options.Count > 0)
            .ThenBy(a => a.Person.DisplayName, StringComparer.OrdinalIgnoreCase)
            .Select(a => new
            {
                userId = a.Person.Id,
                displayName = a.Person.DisplayName,
                presence = a.Answer.View,
                best = a.Answer.Plan.Options.Select(o => new { method = o.Method, o.Address, o.Reason }).FirstOrDefault(),
                freeUntil = (DateTimeOffset?)null,
            })
            .ToList();
        return Results.Ok(new { at = now, forMinutes = body.ForMinutes, available });
    }

    private static async Task<IResult> Route(string? from, string? to, string? urgency, ClaimsPrincipal user, IGrainFactory grains,
        IDirectoryStore directory, PhoneNumbers phones, CancellationToken ct)
    {
        if (!(user.IsApiKey() && user.HasScope("route")) && !user.HasRole(Roles.Admin))
        {
            return Problems.Forbidden("Routing decisions need an API key with the 'route' scope.");
        }
        var v = new Validation().Require(!string.IsNullOrWhiteSpace(to), "to", "is required (a person id or a phone number)")
            .Require(TryUrgency(urgency, out var u), "urgency", "must be normal or urgent")
            .MaxLength(from, 64, "from").MaxLength(to, 64, "to");
        if (!v.Ok)
        {
            return v.Problem();
        }
        var target = await Resolve(to!, directory, phones, ct);
        if (target is null)
        {
            return Problems.NotFound($"No person with id or phone '{to}'.");
        }
        var caller = string.IsNullOrWhiteSpace(from) ? null : await Resolve(from, directory, phones, ct);
        var decision = await grains.Person(target).Route(caller, u);
        return Results.Ok(new
        {
            action = decision.Action.ToString().ToLower(CultureInfo.InvariantCulture),
            decision.Target, decision.Announcement, decision.Reason, to = target, from = caller,
        });
    }

    private static async Task<string?> Resolve(string idOrNumber, IDirectoryStore directory, PhoneNumbers phones, CancellationToken ct)
    {
        if (PhoneNumbers.ToE164(idOrNumber) is { } e164)
        {
            return await phones.FindPerson(e164, ct);
        }
        return Validation.IsId(idOrNumber) && await directory.GetPerson(idOrNumber, ct) is not null ? idOrNumber : null;
    }
}
