using System.Security.Claims;
using Herald.Cluster.Directory;
using Herald.Cluster.Presence;
using Herald.Core.Model;
using Herald.Server.Auth;
using Microsoft.Extensions.Options;

namespace Herald.Server.Apis;

/// <summary>
/// Activity publishers (phone systems, conferencing): <c>POST /api/v1/integrations/activities</c> with an API key
/// whose scopes name the activities it may publish (<c>activities:InACall</c>, <c>activities:*</c>) and whose
/// <c>userIds</c> name the people it may publish for (none = everyone, for keys an admin created). Each activity is
/// a lease: it lapses if the publisher stops renewing. People list and revoke the integrations publishing for them.
/// </summary>
public static class IntegrationsApi
{
    /// <summary>Activity publication body.</summary>
    public sealed record ActivityRequest(string? UserId, Activity? Activity, ActivityAction? Action, int? TtlSeconds);

    /// <summary>Maps the endpoints.</summary>
    public static void MapIntegrationsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/integrations/activities", Publish).RequireAuthorization(HeraldPolicies.Any).WithTags("Integrations")
            .WithName("PublishActivity").WithSummary("Start, renew or end an activity lease for a person (API key with activities:<Activity>).");
        app.MapGet("/api/v1/me/integrations", List).RequireAuthorization(HeraldPolicies.Person).WithTags("Integrations")
            .WithName("GetMyIntegrations").WithSummary("Integrations publishing for me, and the ones I revoked.");
        app.MapDelete("/api/v1/me/integrations/{id}", (string id, ClaimsPrincipal u, IGrainFactory g) => Consent(id, false, u, g))
            .RequireAuthorization(HeraldPolicies.Person).WithTags("Integrations")
            .WithName("RevokeIntegration").WithSummary("Withdraw an integration's consent: its activities end and it may no longer publish for me.");
        app.MapPut("/api/v1/me/integrations/{id}", (string id, ClaimsPrincipal u, IGrainFactory g) => Consent(id, true, u, g))
            .RequireAuthorization(HeraldPolicies.Person).WithTags("Integrations")
            .WithName("AllowIntegration").WithSummary("Restore an integration's consent.");
    }

    private static async Task<IResult> Publish(ActivityRequest? body, ClaimsPrincipal user, IGrainFactory grains, IDirectoryStore directory,
        IApiKeyStore keys, IOptions<PresenceOptions> presence, CancellationToken ct)
    {
        if (!user.IsApiKey())
        {
            return Problems.Forbidden("Activities are published by integrations with an API key.");
        }
        var o = presence.Value;
        var v = new Validation().Require(body is not null, "body", "is required");
        if (body is not null)
        {
            v.Id(body.UserId, "userId")
                .Require(body.Activity is not null, "activity", "is required")
                .Require(body.Action is not null, "action", "is required (Start, Renew or End)")
                .Require(body.Action == ActivityAction.End || body.TtlSeconds is not null, "ttlSeconds", "is required to start or renew")
                .Require(body.TtlSeconds is null || (body.TtlSeconds >= o.MinLeaseTtl.TotalSeconds && body.TtlSeconds <= o.MaxLeaseTtl.TotalSeconds),
                    "ttlSeconds", $"must be between {o.MinLeaseTtl.TotalSeconds:0} and {o.MaxLeaseTtl.TotalSeconds:0}");
        }
        if (!v.Ok)
        {
            return v.Problem();
        }
        if (!user.HasScope("activities:" + body!.Activity))
        {
            return Problems.Forbidden($"This API key may not publish {body.Activity} (needs the scope activities:{body.Activity} or activities:*).");
        }
        var actsFor = user.FindAll(HeraldClaims.ActsFor).Select(c => c.Value).ToHashSet(StringComparer.Ordinal);
        var ownerIsAdmin = user.HasClaim("owner_role", Roles.Admin);
        if (actsFor.Count > 0 ? !actsFor.Contains(body.UserId!) : !ownerIsAdmin && body.UserId != user.UserIdOf())
        {
            return Problems.Forbidden($"This API key may not publish for '{body.UserId}'.");
        }
        if (await directory.GetPerson(body.UserId!, ct) is null)
        {
            return Problems.NotFound($"No person '{body.UserId}'.");
        }
        var keyId = user.FindFirstValue(HeraldClaims.KeyId)!;
        var name = (await keys.Get(keyId, ct))?.Name ?? keyId;
        var outcome = await grains.Person(body.UserId!).PublishActivity(keyId, name, body.Activity!.Value, body.Action!.Value,
            TimeSpan.FromSeconds(body.TtlSeconds ?? 0));
        return outcome switch
        {
            PublishOutcome.Applied => Results.NoContent(),
            PublishOutcome.Revoked => Problems.Forbidden($"'{body.UserId}' has revoked this integration's consent."),
            _ => Results.Problem(statusCode: 409, title: "Not running", detail: $"{body.Activity} is not running for '{body.UserId}'; start it first."),
        };
    }

    private static async Task<IResult> List(ClaimsPrincipal user, IGrainFactory grains) =>
        Results.Ok(await grains.Person(user.UserIdOf()).GetIntegrations());

    private static async Task<IResult> Consent(string id, bool allow, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (!Validation.IsId(id))
        {
            return Problems.Field("id", "is not a valid integration id");
        }
        await grains.Person(user.UserIdOf()).SetIntegrationConsent(id, allow);
        return Results.NoContent();
    }
}
