using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using Herald.Cluster.Directory;
using Herald.Cluster.Fanout;
using Herald.Cluster.Presence;
using Herald.Cluster.Privacy;
using Herald.Core.Privacy;
using Herald.Server.Auth;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace Herald.Server.Apis;

/// <summary>
/// Privacy: my rules, "see me as", dry runs, grants, watchers, my disclosure audit; and the organization
/// policy and audit for admins and auditors.
/// </summary>
public static class PrivacyApi
{
    /// <summary>Maps the endpoints.</summary>
    public static void MapPrivacyApi(this IEndpointRouteBuilder app)
    {
        var me = app.MapGroup("/api/v1/me").WithTags("Privacy").RequireAuthorization(HeraldPolicies.Person);
        me.MapGet("/privacy", GetPrivacy).WithName("GetMyPrivacy").WithSummary("My privacy rules (per tier, per watcher, subscription handling).");
        me.MapPut("/privacy", PutPrivacy).WithName("PutMyPrivacy").WithSummary("Replace my privacy rules; fields above the organization ceiling are saved but clamped (see warnings).");
        me.MapGet("/privacy/preview", Preview).WithName("PreviewMyPresence").WithSummary("See my presence as a person (as=) or tier (tier=) sees it, now or at=.");
        me.MapPost("/privacy/preview", DryRun).WithName("DryRunPrivacy").WithSummary("What each tier would gain or lose under proposed rules.");
        me.MapGet("/privacy/limits", GetPolicy).WithName("GetMyPrivacyLimits")
            .WithSummary("The organization policy that bounds my rules (ceiling, floor, appear offline, subscriptions), read-only.");
        me.MapGet("/grants", GetGrants).WithName("GetMyGrants").WithSummary("My time-boxed grants.");
        me.MapPost("/grants", AddGrant).WithName("AddGrant").WithSummary("Grant one watcher more, until a time (still clamped by the ceiling).");
        me.MapDelete("/grants/{id}", RevokeGrant).WithName("RevokeGrant").WithSummary("Revoke a grant.");
        me.MapGet("/watchers", GetWatchers).WithName("GetMyWatchers").WithSummary("Who watches me, pending requests, tiers.");
        me.MapPost("/watchers/{userId}/approve", (string userId, ClaimsPrincipal u, IGrainFactory g) => Decide(userId, true, u, g))
            .WithName("ApproveWatcher").WithSummary("Approve a pending request.");
        me.MapPost("/watchers/{userId}/deny", (string userId, ClaimsPrincipal u, IGrainFactory g) => Decide(userId, false, u, g))
            .WithName("DenyWatcher").WithSummary("Deny a pending request.");
        me.MapDelete("/watchers/{userId}", RevokeWatcher).WithName("RevokeWatcher").WithSummary("Revoke a watcher.");
        me.MapGet("/audit", MyAudit).WithName("GetMyAudit").WithSummary("Who received which fields of my presence, when, under which rule.");

        var admin = app.MapGroup("/api/v1/admin").WithTags("Admin");
        admin.MapGet("/policy", GetPolicy).RequireAuthorization(HeraldPolicies.Admin).WithName("GetOrgPolicy").WithSummary("The organization policy.");
        admin.MapPut("/policy", PutPolicy).RequireAuthorization(HeraldPolicies.Admin).WithName("PutOrgPolicy").WithSummary("Replace the organization policy (audited).");
        admin.MapGet("/audit", AdminAudit).RequireAuthorization(HeraldPolicies.Auditor).WithName("GetAudit").WithSummary("The disclosure audit of everyone (auditors and admins).");
    }

    private static string Me(ClaimsPrincipal u) => u.UserIdOf();

    private static IPersonGrain Grain(IGrainFactory g, ClaimsPrincipal u) => g.Person(u.UserIdOf());

    private static async Task<IResult> GetPrivacy(ClaimsPrincipal user, IGrainFactory grains) =>
        Results.Ok(PrivacyDocuments.Write(await Grain(grains, user).GetPrivacy()));

    private static async Task<IResult> PutPrivacy(HttpRequest request, ClaimsPrincipal user, IGrainFactory grains, OrgPolicyCache policies, IDirectoryStore directory, CancellationToken ct)
    {
        var (privacy, problem) = await ReadUserRules(request, directory, ct);
        if (privacy is null)
        {
            return problem!;
        }
        await Grain(grains, user).SetPrivacy(privacy);
        var (org, _) = await policies.Get(ct);
        return Results.Ok(new { rules = PrivacyDocuments.Write(privacy), warnings = CeilingWarnings(privacy, org) });
    }

    /// <summary>Rules above the ceiling are kept (the person's intent) but never applied: list them.</summary>
    private static List<string> CeilingWarnings(UserPrivacy p, OrgPolicy org)
    {
        var warnings = new List<string>();
        foreach (var (tier, rules) in p.Tiers)
        {
            foreach (var (ctx, rule) in new[] { ("any", rules.Any), ("workHours", rules.WorkHours), ("offHours", rules.OffHours), ("dayOff", rules.DayOff) })
            {
                foreach (var (f, level) in rule?.Levels ?? new Dictionary<DisclosureField, int>())
                {
                    var ceiling = org.CeilingOf(tier, f);
                    if (level > ceiling)
                    {
                        warnings.Add($"tiers.{tier}.{ctx}.{DisclosureFields.Name(f)}: above the organization ceiling ({DisclosureFields.LevelName(f, ceiling)}); the ceiling applies");
                    }
                }
            }
        }
        return warnings;
    }

    private static async Task<(UserPrivacy?, IResult?)> ReadUserRules(HttpRequest request, IDirectoryStore directory, CancellationToken ct)
    {
        var (doc, bad) = await Problems.ReadJson(request, ct);
        if (bad is not null)
        {
            return (null, bad);
        }
        var v = new Validation();
        var privacy = PrivacyDocuments.ParseUser(doc, v);
        if (privacy is not null && privacy.Watchers.Count > 0)
        {
            var known = (await directory.GetPeople(privacy.Watchers.Keys.ToList(), ct)).Select(p => p.Id).ToHashSet(StringComparer.Ordinal);
            foreach (var w in privacy.Watchers.Keys.Where(k => !known.Contains(k)))
            {
                v.Add($"watchers.{w}", "no such person");
            }
        }
        return v.Ok ? (privacy, null) : (null, v.Problem());
    }

    private static async Task<IResult> Preview(string? @as, string? tier, string? at, ClaimsPrincipal user, IGrainFactory grains, IDirectoryStore directory, CancellationToken ct)
    {
        var v = new Validation().Require(@as is null || tier is null, "as", "give either as= or tier=, not both");
        RelationshipTier? t = null;
        if (tier is not null)
        {
            if (char.IsLetter(tier.FirstOrDefault()) && Enum.TryParse<RelationshipTier>(tier, true, out var parsed) && Enum.IsDefined(parsed))
            {
                t = parsed;
            }
            else
            {
                v.Add("tier", $"one of {string.Join(", ", Enum.GetNames<RelationshipTier>())}");
            }
        }
        DateTimeOffset? when = null;
        if (at is not null)
        {
            if (DateTimeOffset.TryParse(at, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsedAt))
            {
                when = parsedAt;
            }
            else
            {
                v.Add("at", "must be an ISO 8601 time");
            }
        }
        if (@as is not null && !Validation.IsId(@as))
        {
            v.Add("as", "is not a valid person id");
        }
        if (!v.Ok)
        {
            return v.Problem();
        }
        if (@as is not null && @as != Me(user) && await directory.GetPerson(@as, ct) is null)
        {
            return Problems.NotFound($"No person '{@as}'.");
        }
        return Results.Ok(await Grain(grains, user).Preview(@as, @as is null ? t ?? RelationshipTier.Colleague : null, when, null));
    }

    private static async Task<IResult> DryRun(HttpRequest request, ClaimsPrincipal user, IGrainFactory grains, IDirectoryStore directory, CancellationToken ct)
    {
        var (privacy, problem) = await ReadUserRules(request, directory, ct);
        return privacy is null ? problem! : Results.Ok(await Grain(grains, user).DryRun(privacy));
    }

    private static async Task<IResult> GetGrants(ClaimsPrincipal user, IGrainFactory grains) =>
        Results.Ok((await Grain(grains, user).GetGrants()).Select(WriteGrant));

    private static object WriteGrant(Grant g) => new
    {
        g.Id, g.WatcherId, Fields = PrivacyDocuments.WriteRule(g.Rule), g.From, g.Until, g.Reason,
    };

    private static async Task<IResult> AddGrant(HttpRequest request, ClaimsPrincipal user, IGrainFactory grains, IDirectoryStore directory, TimeProvider time, CancellationToken ct)
    {
        var (doc, bad) = await Problems.ReadJson(request, ct);
        if (bad is not null)
        {
            return bad;
        }
        var v = new Validation();
        if (doc.ValueKind != JsonValueKind.Object)
        {
            return Problems.Field("body", "must be {watcherId, fields, until, from?, reason?}");
        }
        var now = time.GetUtcNow();
        string? watcher = null, reason = null;
        DisclosureRule? rule = null;
        DateTimeOffset? from = null, until = null;
        foreach (var p in doc.EnumerateObject())
        {
            switch (p.Name)
            {
                case "watcherId": watcher = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : null; break;
                case "fields": rule = PrivacyDocuments.ParseRule(p.Value, "fields", v); break;
                case "reason": reason = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : null; break;
                case "from" when p.Value.ValueKind == JsonValueKind.String && p.Value.TryGetDateTimeOffset(out var f): from = f; break;
                case "until" when p.Value.ValueKind == JsonValueKind.String && p.Value.TryGetDateTimeOffset(out var u): until = u; break;
                case "from" or "until": v.Add(p.Name, "must be an ISO 8601 time"); break;
                default: v.Add(p.Name, "unknown property (watcherId, fields, from, until, reason)"); break;
            }
        }
        v.Id(watcher, "watcherId").Require(watcher != Me(user), "watcherId", "cannot grant yourself")
            .Require(rule is { Levels.Count: > 0 }, "fields", "name at least one field")
            .Require(until is not null, "until", "is required (grants are time-boxed)")
            .Require(until is null || until > (from ?? now), "until", "must be after from (or now)")
            .Require(until is null || until <= now.AddDays(366), "until", "must be within a year")
            .MaxLength(reason, 200, "reason");
        if (!v.Ok)
        {
            return v.Problem();
        }
        if (await directory.GetPerson(watcher!, ct) is null)
        {
            return Problems.NotFound($"No person '{watcher}'.");
        }
        var grant = new Grant(Guid.NewGuid().ToString("N")[..12], watcher!, rule!, from ?? now, until!.Value, reason);
        await Grain(grains, user).AddGrant(grant);
        return Results.Created($"/api/v1/me/grants/{grant.Id}", WriteGrant(grant));
    }

    private static async Task<IResult> RevokeGrant(string id, ClaimsPrincipal user, IGrainFactory grains) =>
        await Grain(grains, user).RevokeGrant(id) ? Results.NoContent() : Problems.NotFound($"No grant '{id}'.");

    private static async Task<IResult> GetWatchers(ClaimsPrincipal user, IGrainFactory grains) =>
        Results.Ok(await Grain(grains, user).GetWatchers());

    private static async Task<IResult> Decide(string userId, bool approve, ClaimsPrincipal user, IGrainFactory grains) =>
        await Grain(grains, user).DecideSubscription(userId, approve) ? Results.NoContent() : Problems.NotFound($"No pending request from '{userId}'.");

    private static async Task<IResult> RevokeWatcher(string userId, ClaimsPrincipal user, IGrainFactory grains) =>
        await Grain(grains, user).RevokeWatcher(userId) ? Results.NoContent() : Problems.NotFound($"'{userId}' does not watch you.");

    private static async Task<IResult> MyAudit(string? from, string? to, string? watcher, int? limit, ClaimsPrincipal user, IAuditLog audit, CancellationToken ct) =>
        await QueryAudit(Me(user), watcher, from, to, limit, audit, ct);

    private static async Task<IResult> AdminAudit(string? presentity, string? watcher, string? from, string? to, int? limit, IAuditLog audit, CancellationToken ct) =>
        await QueryAudit(presentity, watcher, from, to, limit, audit, ct);

    private static async Task<IResult> QueryAudit(string? presentity, string? watcher, string? from, string? to, int? limit, IAuditLog audit, CancellationToken ct)
    {
        var v = new Validation().Require(limit is null || limit is >= 1 and <= 10_000, "limit", "must be between 1 and 10000");
        DateTimeOffset? f = null, t = null;
        if (from is not null)
        {
            v.Require(DateTimeOffset.TryParse(from, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var x) && (f = x) is not null, "from", "must be an ISO 8601 time");
        }
        if (to is not null)
        {
            v.Require(DateTimeOffset.TryParse(to, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var y) && (t = y) is not null, "to", "must be an ISO 8601 time");
        }
        if (!v.Ok)
        {
            return v.Problem();
        }
        await audit.Flush(ct);
        return Results.Ok(await audit.Query(presentity, watcher, f, t, limit ?? 1000, ct));
    }

    private static async Task<IResult> GetPolicy(OrgPolicyCache policies, CancellationToken ct)
    {
        var (policy, version) = await policies.Get(ct);
        return Results.Ok(new { version, policy = PrivacyDocuments.Write(policy) });
    }

    private static async Task<IResult> PutPolicy(HttpRequest request, ClaimsPrincipal user, IOrgPolicyStore store, OrgPolicyCache policies,
        SiloPresenceHub hub, IGrainFactory grains, IAuditLog audit, TimeProvider time, IOptions<JsonOptions> json, CancellationToken ct)
    {
        var (doc, bad) = await Problems.ReadJson(request, ct);
        if (bad is not null)
        {
            return bad;
        }
        var v = new Validation();
        var policy = PrivacyDocuments.ParseOrg(doc, v);
        if (policy is null)
        {
            return v.Problem();
        }
        var version = await store.Save(policy, ct);
        await policies.Reload(ct);
        audit.Append(new AuditEntry(time.GetUtcNow(), "*organization*", null, "policy", "admin",
            JsonSerializer.Serialize(PrivacyDocuments.Write(policy), json.Value.SerializerOptions), $"organization policy v{version} by {Me(user)}"));
        // People watched live re-decide now; everyone else does on their next read.
        await Parallel.ForEachAsync(hub.WatchedPersonIds(), new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = ct },
            async (id, _) => await grains.Person(id).PolicyChanged());
        return Results.Ok(new { version, policy = PrivacyDocuments.Write(policy) });
    }
}
