using Herald.Cluster.Directory;
using Herald.Server.Auth;

namespace Herald.Server.Apis;

/// <summary><c>POST /api/v1/auth/token</c>.</summary>
public static class AuthApi
{
    private static PasswordCredential? _decoy;

    /// <summary>Maps the login endpoint.</summary>
    public static void MapAuthApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/auth/token", Login)
            .AllowAnonymous()
            .RequireRateLimiting(HeraldPolicies.LoginRate)
            .Produces<TokenResponse>().ProducesValidationProblem().ProducesProblem(401).ProducesProblem(429).WithTags("Auth").WithName("Login").WithSummary("Exchange a username and password for a bearer token.");
    }

    private static async Task<IResult> Login(TokenRequest? body, IAccountStore accounts, TokenService tokens,
        Microsoft.Extensions.Options.IOptions<Hosting.HeraldOptions> options, CancellationToken ct)
    {
        var iterations = options.Value.Auth.PasswordIterations;
        var decoy = _decoy is { } d && d.Iterations == iterations ? d : _decoy = PasswordHasher.Hash(Guid.NewGuid().ToString(), iterations);
        var v = new Validation()
            .Require(!string.IsNullOrEmpty(body?.Username), "username", "is required")
            .Require(!string.IsNullOrEmpty(body?.Password), "password", "is required")
            .MaxLength(body?.Username, 64, "username")
            .MaxLength(body?.Password, 1024, "password");
        if (!v.Ok)
        {
            return v.Problem();
        }
        var account = await accounts.GetAccount(body!.Username!, ct);
        // Unknown users cost the same hash as known ones, so timing does not reveal who exists.
        var ok = PasswordHasher.Verify(body.Password!, account?.Password ?? decoy);
        if (account?.Password is null || !ok)
        {
            return Results.Problem(statusCode: 401, title: "Login failed", detail: "Unknown user or wrong password.");
        }
        if (account.ScramSha1 is null)
        {
            // Accounts created before SCRAM-SHA-1 keys existed get them now (the password is known only here).
            await accounts.UpsertAccount(account.WithScram(body.Password!), ct);
        }
        return Results.Ok(new TokenResponse(tokens.Issue(account.UserId, account.Roles, account.Password), (int)tokens.Lifetime.TotalSeconds, "Bearer",
            account.UserId, account.Roles));
    }
}
