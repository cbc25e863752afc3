using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Web;

/// <summary>The web app's small server hooks: the static files at / and the read-only organization limits.</summary>
public sealed class WebAppHostingTests : IAsyncLifetime
{
    private readonly HeraldTestServer _server = new();
    private Dictionary<string, string> _tokens = null!;

    public async Task InitializeAsync()
    {
        await _server.StartAsync();
        _tokens = await _server.CreatePeople(HeraldTestServer.Person("anna"));
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_person_reads_the_organization_limits_that_bound_their_rules()
    {
        using var anna = _server.Client(_tokens["anna"]);
        var before = await anna.GetFromJsonAsync<JsonElement>("/api/v1/me/privacy/limits");
        Assert.Equal(0, before.GetProperty("version").GetInt32());
        Assert.True(before.GetProperty("policy").GetProperty("appearOfflineAllowed").GetBoolean());

        using var admin = _server.Client(await _server.Login("admin", HeraldTestServer.AdminPassword));
        (await admin.PutAsJsonAsync("/api/v1/admin/policy", new { ceiling = new { Colleague = new { homePhone = false } }, appearOfflineAllowed = false }))
            .EnsureSuccessStatusCode();

        var after = await anna.GetFromJsonAsync<JsonElement>("/api/v1/me/privacy/limits");
        Assert.Equal(1, after.GetProperty("version").GetInt32());
        Assert.False(after.GetProperty("policy").GetProperty("ceiling").GetProperty("Colleague").GetProperty("homePhone").GetBoolean());
        Assert.False(after.GetProperty("policy").GetProperty("appearOfflineAllowed").GetBoolean());
        // Still read-only for people: writing the policy needs the admin role.
        Assert.Equal(HttpStatusCode.Forbidden, (await anna.PutAsJsonAsync("/api/v1/admin/policy", new { })).StatusCode);
    }

    [Fact]
    public async Task The_limits_need_a_signed_in_person()
    {
        using var anonymous = _server.Client();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/v1/me/privacy/limits")).StatusCode);
    }

    [Fact]
    public async Task The_web_app_is_served_at_the_root_with_a_strict_content_security_policy_and_the_api_is_unchanged()
    {
        using var c = _server.Client();
        var root = await c.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, root.StatusCode);
        Assert.Equal("text/html", root.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<script type=\"module\" src=\"js/app.js\">", await root.Content.ReadAsStringAsync());
        Assert.Contains("default-src 'self'", root.Headers.GetValues("Content-Security-Policy").Single());

        var script = await c.GetAsync("/js/live.js");
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);

        // Unknown paths stay 404 (no catch-all), and the API still answers as before.
        Assert.Equal(HttpStatusCode.NotFound, (await c.GetAsync("/api/v1/no-such-thing")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await c.GetAsync("/no-such-page")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await c.GetAsync("/api/v1/me/presence")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await c.GetAsync("/healthz")).StatusCode);
    }
}

/// <summary>Which paths the static files look at (the API and the live endpoints never touch the disk).</summary>
public sealed class WebAppPathTests
{
    [Theory]
    [InlineData("/", true)]
    [InlineData("/index.html", true)]
    [InlineData("/js/live.js", true)]
    [InlineData("/apis.html", true)]
    [InlineData("/api", false)]
    [InlineData("/api/v1/live", false)]
    [InlineData("/API/v1/auth/token", false)]
    [InlineData("/hubs/presence", false)]
    [InlineData("/openapi/v1.json", false)]
    [InlineData("/healthz", false)]
    [InlineData("/metrics", false)]
    public void Only_paths_outside_the_api_and_the_live_endpoints_are_the_apps(string path, bool isApp) =>
        Assert.Equal(isApp, Herald.Server.Hosting.WebAppSetup.IsAppPath(new Microsoft.AspNetCore.Http.PathString(path)));
}
