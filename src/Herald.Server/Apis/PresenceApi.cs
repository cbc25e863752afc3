using System.Security.Claims;
using Herald.Core.Formats;
using Herald.Server.Auth;
using Herald.Server.Hosting;
using Microsoft.Extensions.Options;

namespace Herald.Server.Apis;

/// <summary>Reading other people's presence: <c>/api/v1/presence</c>.</summary>
public static class PresenceApi
{
    /// <summary>Maps the endpoints.</summary>
    public static void MapPresenceApi(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/api/v1/presence").WithTags("Presence").RequireAuthorization(HeraldPolicies.Person);
        g.MapGet("/{userId}", Get).Produces<Herald.Core.Privacy.PresenceView>().Produces<string>(200, PidfWriter.MediaType).ProducesProblem(404).WithName("GetPresence").WithSummary("One person's presence as I may see it.");
        g.MapPost("/query", Query).ProducesValidationProblem().WithName("QueryPresence").WithSummary("Batch read: the presence of many people in one call.");
    }

    private static async Task<IResult> Get(string userId, HttpRequest request, ClaimsPrincipal user, PresenceReader reader, IConfiguration configuration,
        TimeProvider time, CancellationToken ct)
    {
        if (!Validation.IsId(userId))
        {
            return Problems.Field("userId", "is not a valid id");
        }
        var view = await reader.Get(user.UserIdOf(), userId, ct);
        if (view is null)
        {
            return Problems.NotFound($"No person '{userId}'.");
        }
        request.HttpContext.Response.Headers.Vary = "Accept";
        if (WantsPidf(request))
        {
            var domain = configuration["Herald:Xmpp:Domain"] is { Length: > 0 } d ? d : "localhost";
            return Results.Text(PidfWriter.Write(view, domain, time.GetUtcNow()), PidfWriter.MediaType, System.Text.Encoding.UTF8);
        }
        return Results.Ok(view);
    }

    /// <summary>True when the client prefers PIDF (RFC 3863) to JSON.</summary>
    private static bool WantsPidf(HttpRequest request)
    {
        var accept = request.GetTypedHeaders().Accept;
        double pidf = 0, json = 0;
        foreach (var m in accept)
        {
            var q = m.Quality ?? 1;
            if (m.MediaType.Equals(PidfWriter.MediaType, StringComparison.OrdinalIgnoreCase))
            {
                pidf = Math.Max(pidf, q);
            }
            else if (m.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) || m.MediaType.Equals("*/*", StringComparison.OrdinalIgnoreCase)
                || m.MediaType.Equals("application/*", StringComparison.OrdinalIgnoreCase))
            {
                json = Math.Max(json, q - 0.0001); // on a tie the explicit PIDF wins
            }
        }
        return pidf > 0 && pidf >= json;
    }

    private static async Task<IResult> Query(BatchQuery? body, ClaimsPrincipal user, PresenceReader reader, IOptions<HeraldOptions> options,
        CancellationToken ct)
    {
        var max = options.Value.Limits.MaxBatch;
        var v = new Validation()
            .Require(body?.UserIds is not null, "userIds", "is required")
            .Require(body?.UserIds is null || body.UserIds.Count <= max, "userIds", $"at most {max} per request");
        if (body?.UserIds is { } ids)
        {
            for (var i = 0; i < ids.Count && v.Ok; i++)
            {
                v.Require(ids[i] is not null && Validation.IsId(ids[i]), $"userIds[{i}]", "is not a valid id");
            }
        }
        if (!v.Ok)
        {
            return v.Problem();
        }
        var (views, unknown) = await reader.GetMany(user.UserIdOf(), body!.UserIds!, "batch", ct);
        return Results.Ok(new { presence = views, unknown });
    }
}
