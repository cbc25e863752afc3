using System.Security.Claims;
using Herald.Cluster.Directory;
using Herald.Core.Model;
using Herald.Server.Auth;
using Microsoft.Extensions.Caching.Memory;

namespace Herald.Server.Apis;

/// <summary>
/// API keys for devices and integrations: <c>/api/v1/apikeys</c>. A person may create keys with the
/// <c>devices</c> scope for their own devices; an admin may create integration keys with any scope and a list of
/// people they may act for.
/// </summary>
public static class ApiKeysApi
{
    /// <summary>Scopes a person may give their own keys.</summary>
    public static readonly IReadOnlySet<string> UserScopes = new HashSet<string>(StringComparer.Ordinal) { "devices" };

    /// <summary>Maps the endpoints.</summary>
    public static void MapApiKeysApi(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/api/v1/apikeys").WithTags("API keys").RequireAuthorization(HeraldPolicies.Person);
        g.MapPost("/", Create).WithName("CreateApiKey").WithSummary("Create an API key; the key is shown once and stored hashed.");
        g.MapGet("/", List).WithName("ListApiKeys").WithSummary("My keys (all keys for an admin).");
        g.MapGet("/{id}", Get).WithName("GetApiKey").WithSummary("One key (never its secret).");
        g.MapDelete("/{id}", Delete).WithName("DeleteApiKey").WithSummary("Revoke a key.");
    }

    /// <summary>True for a scope Herald knows.</summary>
    public static bool IsKnownScope(string scope) =>
        scope is "devices" or "route" or "webhooks" or "activities:*"
        || (scope.StartsWith("activities:", StringComparison.Ordinal) && Enum.GetNames<Activity>().Contains(scope["activities:".Length..], StringComparer.Ordinal));

    private static async Task<IResult> Create(ApiKeyRequest? body, ClaimsPrincipal user, IApiKeyStore keys, IDirectoryStore directory,
        TimeProvider time, CancellationToken ct)
    {
        var admin = user.HasRole(Roles.Admin);
        var v = new Validation()
            .Require(!string.IsNullOrWhiteSpace(body?.Name), "name", "is required")
            .MaxLength(body?.Name, 100, "name")
            .Require(body?.Scopes is { Count: > 0 and <= 32 }, "scopes", "give 1-32 scopes");
        foreach (var s in body?.Scopes ?? [])
        {
            if (s is null || !IsKnownScope(s))
            {
                v.Add("scopes", $"unknown scope '{s}' (devices, route, webhooks, activities:<Activity>, activities:*)");
            }
            else if (!admin && !UserScopes.Contains(s))
            {
                v.Add("scopes", $"only an admin may grant '{s}'");
            }
        }
        if (body?.UserIds is { } ids)
        {
            v.Require(admin, "userIds", "only an admin may create keys that act for other people")
                .Require(ids.Count <= 10_000, "userIds", "at most 10000");
            foreach (var id in ids)
            {
                v.Require(id is not null && Validation.IsId(id), "userIds", $"'{id}' is not a valid id");
            }
            if (v.Ok)
            {
                var known = (await directory.GetPeople(ids, ct)).Select(p => p.Id).ToHashSet(StringComparer.Ordinal);
                foreach (var id in ids.Where(i => !known.Contains(i)))
                {
                    v.Add("userIds", $"no person '{id}'");
                }
            }
        }
        if (!v.Ok)
        {
            return v.Problem();
        }
        var (id2, key, hash) = ApiKeys.Generate();
        var record = new ApiKeyRecord(id2, user.UserIdOf(), body!.Name!.Trim(), [.. body.Scopes!.Distinct()], body.UserIds, hash, time.GetUtcNow());
        await keys.Create(record, ct);
        return Results.Created($"/api/v1/apikeys/{id2}", new ApiKeyCreated(id2, key, record.Name, record.Scopes, record.UserIds));
    }

    private static async Task<IResult> List(ClaimsPrincipal user, IApiKeyStore keys, CancellationToken ct)
    {
        var list = await keys.List(user.HasRole(Roles.Admin) ? null : user.UserIdOf(), ct);
        return Results.Ok(list.Select(Info));
    }

    private static async Task<IResult> Get(string id, ClaimsPrincipal user, IApiKeyStore keys, CancellationToken ct)
    {
        var key = await keys.Get(id, ct);
        return key is null || !MayManage(user, key) ? Problems.NotFound($"No API key '{id}'.") : Results.Ok(Info(key));
    }

    private static async Task<IResult> Delete(string id, ClaimsPrincipal user, IApiKeyStore keys, IMemoryCache cache, LiveCredentials live, CancellationToken ct)
    {
        var key = await keys.Get(id, ct);
        if (key is null || !MayManage(user, key))
        {
            return Problems.NotFound($"No API key '{id}'.");
        }
        await keys.Delete(id, ct);
        HeraldAuthHandler.Evict(cache, keyId: id);
        live.EndKey(id); // connections opened with the key end now on this node (other nodes: invalidation, sweep)
        return Results.NoContent();
    }

    private static bool MayManage(ClaimsPrincipal user, ApiKeyRecord key) => user.HasRole(Roles.Admin) || key.OwnerId == user.UserIdOf();

    private static ApiKeyInfo Info(ApiKeyRecord k) => new(k.Id, k.Name, k.OwnerId, k.Scopes, k.UserIds, k.CreatedAt);
}
