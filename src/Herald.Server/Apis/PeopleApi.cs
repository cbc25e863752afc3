using System.Security.Claims;
using Herald.Cluster.Directory;
using Herald.Core.Model;
using Herald.Core.Privacy;
using Herald.Server.Auth;
using Herald.Server.Hosting;
using Microsoft.Extensions.Options;

namespace Herald.Server.Apis;

/// <summary>A directory entry with presence as the caller may see it (contact methods come from the view).</summary>
public sealed record PersonCard(string Id, string DisplayName, string? Email, string? Team, string? Manager, string TimeZone,
    WorkHoursDto? WorkHours, PresenceView Presence);

/// <summary>Directory search: <c>/api/v1/people</c>.</summary>
public static class PeopleApi
{
    /// <summary>Maps the endpoints.</summary>
    public static void MapPeopleApi(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/api/v1/people").WithTags("People").RequireAuthorization(HeraldPolicies.Person);
        g.MapGet("/", Search).Produces<List<PersonCard>>().WithName("SearchPeople").WithSummary("Search the directory by name, id or e-mail, optionally within a team.");
        g.MapGet("/{userId}", Get).Produces<PersonCard>().ProducesProblem(404).WithName("GetPerson").WithSummary("One person's directory entry with presence.");
    }

    private static async Task<IResult> Search(string? q, string? team, int? limit, ClaimsPrincipal user, IDirectoryStore directory,
        PresenceReader reader, IOptions<HeraldOptions> options, CancellationToken ct)
    {
        var max = options.Value.Limits.MaxSearchResults;
        var v = new Validation().MaxLength(q, 100, "q").MaxLength(team, 64, "team")
            .Require(limit is null || (limit >= 1 && limit <= max), "limit", $"must be between 1 and {max}");
        if (!v.Ok)
        {
            return v.Problem();
        }
        var people = await directory.SearchPeople(q, team, limit ?? max, ct);
        var views = await reader.ForProfiles(user.UserIdOf(), people);
        return Results.Ok(people.Zip(views, Card).ToList());
    }

    private static async Task<IResult> Get(string userId, ClaimsPrincipal user, IDirectoryStore directory, PresenceReader reader, CancellationToken ct)
    {
        if (!Validation.IsId(userId))
        {
            return Problems.Field("userId", "is not a valid id");
        }
        var person = await directory.GetPerson(userId, ct);
        if (person is null)
        {
            return Problems.NotFound($"No person '{userId}'.");
        }
        var view = await reader.ForProfiles(user.UserIdOf(), [person]);
        return Results.Ok(Card(person, view[0]));
    }

    internal static PersonCard Card(PersonProfile p, PresenceView view) =>
        new(p.Id, p.DisplayName, p.Email, p.Team, p.Manager, p.TimeZone, AdminApi.ToDto(p.WorkHours), view);
}
