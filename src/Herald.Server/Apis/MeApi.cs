using System.Security.Claims;
using Herald.Cluster.Directory;
using Herald.Cluster.Presence;
using Herald.Core.Model;
using Herald.Server.Auth;
using Herald.Server.Hosting;
using Microsoft.Extensions.Options;

namespace Herald.Server.Apis;

/// <summary>The caller's own presence, devices and contacts: <c>/api/v1/me/…</c>.</summary>
public static class MeApi
{
    /// <summary>Maps the endpoints.</summary>
    public static void MapMeApi(this IEndpointRouteBuilder app)
    {
        var me = app.MapGroup("/api/v1/me").WithTags("Me");
        me.MapGet("/presence", GetPresence).RequireAuthorization(HeraldPolicies.Person)
            .Produces<Herald.Core.Privacy.PresenceView>().WithName("GetMyPresence").WithSummary("My full presence, with provenance.");
        me.MapGet("/status", GetStatus).RequireAuthorization(HeraldPolicies.Person)
            .Produces<OwnStatus>().WithName("GetMyStatus").WithSummary("My preferred status and note as I set them, with their ends.");
        me.MapPut("/status", SetStatus).RequireAuthorization(HeraldPolicies.Person)
            .Produces<Herald.Core.Privacy.PresenceView>().ProducesValidationProblem().WithName("SetMyStatus").WithSummary("Set my preferred status and note ({\"availability\":\"Offline\"} = appear offline).");
        me.MapDelete("/status", ClearStatus).RequireAuthorization(HeraldPolicies.Person)
            .WithName("ClearMyStatus").WithSummary("Clear my preferred status and note.");
        me.MapPut("/devices/{deviceId}", PutDevice).RequireAuthorization(HeraldPolicies.Any)
            .Produces<Herald.Core.Privacy.PresenceView>().ProducesValidationProblem().WithName("PutDevice").WithSummary("Start or update a device session (a lease of ttlSeconds).");
        me.MapPost("/devices/{deviceId}/heartbeat", Heartbeat).RequireAuthorization(HeraldPolicies.Any)
            .WithName("DeviceHeartbeat").WithSummary("Renew a device lease.");
        me.MapDelete("/devices/{deviceId}", RemoveDevice).RequireAuthorization(HeraldPolicies.Any)
            .WithName("SignOutDevice").WithSummary("End a device session now.");
        me.MapGet("/contacts", GetContacts).RequireAuthorization(HeraldPolicies.Person)
            .Produces<List<Herald.Core.Privacy.PresenceView>>().WithName("GetMyContacts").WithSummary("My contacts with their presence as I may see it.");
        me.MapPut("/contacts/{userId}", AddContact).RequireAuthorization(HeraldPolicies.Person)
            .WithName("AddContact").WithSummary("Add a contact.");
        me.MapDelete("/contacts/{userId}", RemoveContact).RequireAuthorization(HeraldPolicies.Person)
            .WithName("RemoveContact").WithSummary("Remove a contact.");
    }

    private static IPersonGrain Me(this IGrainFactory grains, ClaimsPrincipal user) => grains.Person(user.UserIdOf());

    private static async Task<IResult> GetPresence(ClaimsPrincipal user, IGrainFactory grains) =>
        Results.Ok(await grains.Me(user).GetViewFor(user.UserIdOf(), "self"));

    private static async Task<IResult> GetStatus(ClaimsPrincipal user, IGrainFactory grains) =>
        Results.Ok(await grains.Me(user).GetStatus());

    private static async Task<IResult> SetStatus(StatusRequest? body, ClaimsPrincipal user, IGrainFactory grains,
        IOptions<HeraldOptions> options, TimeProvider time)
    {
        var v = ValidateStatus(body, options.Value.Limits.MaxNoteLength, time.GetUtcNow());
        if (!v.Ok)
        {
            return v.Problem();
        }
        var view = await grains.Me(user).SetStatus(new SetStatus(body!.Availability, body.Activity, body.Note, body.Until));
        return Results.Ok(view);
    }

    /// <summary>
    /// The checks of a status change, shared by <c>PUT /api/v1/me/status</c> and the live hub's <c>SetStatus</c>, so that
    /// both accept and refuse exactly the same requests.
    /// </summary>
    internal static Validation ValidateStatus(StatusRequest? body, int maxNoteLength, DateTimeOffset now) => new Validation()
        .Require(body is not null, "body", "is required")
        .MaxLength(body?.Note, maxNoteLength, "note")
        .Require(body?.Availability is not Availability.Unknown, "availability", "Unknown cannot be chosen")
        .Require(body?.Until is null || body.Until > now, "until", "must be in the future")
        .Require(body?.Until is null || body.Until <= now.AddDays(366), "until", "must be within a year")
        .Require(body is null || body.Availability is not null || body.Activity is not null || body.Note is not null, "body",
            "give at least one of availability, activity, note (DELETE clears)");

    private static async Task<IResult> ClearStatus(ClaimsPrincipal user, IGrainFactory grains) =>
        Results.Ok(await grains.Me(user).ClearStatus());

    private static async Task<IResult> PutDevice(string deviceId, DeviceRequest? body, ClaimsPrincipal user, IGrainFactory grains,
        IOptions<PresenceOptions> presence, TimeProvider time)
    {
        if (DeniedForKey(user) is { } denied)
        {
            return denied;
        }
        var o = presence.Value;
        var now = time.GetUtcNow();
        var v = new Validation().Id(deviceId, "deviceId").Require(body is not null, "body", "is required");
        if (body is not null)
        {
            v.Require(body.Kind is not null, "kind", "is required")
                .Require(body.TtlSeconds is not null, "ttlSeconds", "is required")
                .Require(body.TtlSeconds is null || (body.TtlSeconds >= o.MinLeaseTtl.TotalSeconds && body.TtlSeconds <= o.MaxLeaseTtl.TotalSeconds),
                    "ttlSeconds", $"must be between {o.MinLeaseTtl.TotalSeconds:0} and {o.MaxLeaseTtl.TotalSeconds:0}")
                .Require(body.Availability is null || AvailabilityRules.IsValidForDevice(body.Availability.Value), "availability",
                    "a device may report Available, Away, BeRightBack, Busy or DoNotDisturb")
                .Require(body.IdleSince is null || body.IdleSince <= now.AddMinutes(1), "idleSince", "must not be in the future")
                .Require(body.Capabilities is null || body.Capabilities.Count <= 16, "capabilities", "at most 16")
                .Require(body.Capabilities is null || body.Capabilities.All(c => c is { Length: > 0 and <= 32 }), "capabilities", "each 1-32 characters");
            ValidateLocation(body.Location, v);
        }
        if (!v.Ok)
        {
            return v.Problem();
        }
        var view = await grains.Me(user).PutDevice(new DeviceReport(deviceId, body!.Kind!.Value, body.Availability, body.Activity,
            body.IdleSince, body.Capabilities ?? [], body.Location, TimeSpan.FromSeconds(body.TtlSeconds!.Value)));
        return Results.Ok(view);
    }

    private static async Task<IResult> Heartbeat(string deviceId, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (DeniedForKey(user) is { } denied)
        {
            return denied;
        }
        if (!Validation.IsId(deviceId))
        {
            return Problems.Field("deviceId", "is not a valid id");
        }
        return await grains.Me(user).Heartbeat(deviceId)
            ? Results.NoContent()
            : Problems.NotFound($"No live session for device '{deviceId}'; start it again with PUT.");
    }

    private static async Task<IResult> RemoveDevice(string deviceId, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (DeniedForKey(user) is { } denied)
        {
            return denied;
        }
        return await grains.Me(user).RemoveDevice(deviceId) ? Results.NoContent() : Problems.NotFound($"No device '{deviceId}'.");
    }

    private static async Task<IResult> GetContacts(ClaimsPrincipal user, IGrainFactory grains, PresenceReader reader, CancellationToken ct)
    {
        var ids = await grains.Me(user).GetContacts();
        var (views, _) = await reader.GetMany(user.UserIdOf(), ids, "contacts", ct);
        return Results.Ok(views);
    }

    private static async Task<IResult> AddContact(string userId, ClaimsPrincipal user, IGrainFactory grains, IDirectoryStore directory,
        PresenceReader reader, CancellationToken ct)
    {
        if (!Validation.IsId(userId))
        {
            return Problems.Field("userId", "is not a valid id");
        }
        if (userId == user.UserIdOf())
        {
            return Problems.Field("userId", "you cannot add yourself");
        }
        if (await directory.GetPerson(userId, ct) is null)
        {
            return Problems.NotFound($"No person '{userId}'.");
        }
        // Adding a contact asks to watch them: their subscription policy answers (a polite block looks approved).
        var answer = await grains.Person(userId).RequestSubscription(user.UserIdOf());
        if (answer == SubscriptionAnswer.Refused)
        {
            return Problems.Forbidden($"'{userId}' does not accept watch requests from you.");
        }
        await grains.Me(user).AddContact(userId);
        return Results.Ok(new { subscription = answer, presence = await reader.Get(user.UserIdOf(), userId, ct) });
    }

    private static async Task<IResult> RemoveContact(string userId, ClaimsPrincipal user, IGrainFactory grains) =>
        await grains.Me(user).RemoveContact(userId) ? Results.NoContent() : Problems.NotFound($"'{userId}' is not a contact.");

    /// <summary>API keys may manage devices only with the <c>devices</c> scope.</summary>
    private static IResult? DeniedForKey(ClaimsPrincipal user) =>
        user.IsApiKey() && !user.HasScope("devices") ? Problems.Forbidden("This API key lacks the 'devices' scope.") : null;

    internal static void ValidateLocation(Location? l, Validation v)
    {
        if (l is null)
        {
            return;
        }
        foreach (var (value, name) in new[] { (l.Country, "country"), (l.City, "city"), (l.Building, "building"), (l.Floor, "floor"), (l.Room, "room"), (l.Text, "text") })
        {
            v.MaxLength(value, 128, "location." + name);
        }
        v.Require(l.Latitude is null || (l.Latitude >= -90 && l.Latitude <= 90), "location.latitude", "must be between -90 and 90")
            .Require(l.Longitude is null || (l.Longitude >= -180 && l.Longitude <= 180), "location.longitude", "must be between -180 and 180");
    }
}
