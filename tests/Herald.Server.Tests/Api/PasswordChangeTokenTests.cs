using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Herald.Cluster.Directory;
using Herald.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.DataProtection;

namespace Herald.Server.Tests.Api;

/// <summary>
/// A bearer token carries the fingerprint of the password it was issued under: a password change ends the tokens
/// issued before it (401 with problem details), other account or profile changes do not, and tokens of the older
/// two-line format or malformed ones are refused.
/// </summary>
public sealed class PasswordChangeTokenTests : IAsyncLifetime
{
    private readonly HeraldTestServer _server = new();
    private Dictionary<string, string> _tokens = null!;
    private string _admin = null!;

    public async Task InitializeAsync()
    {
        await _server.StartAsync();
        _tokens = await _server.CreatePeople(HeraldTestServer.Person("anna"), HeraldTestServer.Person("bob", team: "ops"));
        _admin = await _server.Login("admin", HeraldTestServer.AdminPassword);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task Put(object person)
    {
        using var admin = _server.Client(_admin);
        var r = await admin.PutAsJsonAsync("/api/v1/admin/people/bob", person);
        Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
    }

    private static async Task AssertUnauthorized(HttpResponseMessage r, string? detailContains = null)
    {
        Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        var body = await r.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(401, body.GetProperty("status").GetInt32());
        if (detailContains is not null)
        {
            Assert.Contains(detailContains, body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_token_issued_before_a_password_change_gets_401_and_a_token_issued_after_works()
    {
        var before = _tokens["bob"];
        var again = await _server.Login("bob", "pw-bob-123"); // a second login under the same password
        using (var c = _server.Client(before))
        {
            Assert.Equal(HttpStatusCode.OK, (await c.GetAsync("/api/v1/me/presence")).StatusCode); // cached account
        }

        await Put(new { id = "bob", displayName = "Bob", email = "bob@example.com", team = "ops", password = "new-bob-password" });

        foreach (var old in new[] { before, again })
        {
            using var c = _server.Client(old);
            await AssertUnauthorized(await c.GetAsync("/api/v1/me/presence"), "issued before a password change");
        }
        using var fresh = _server.Client(await _server.Login("bob", "new-bob-password"));
        Assert.Equal(HttpStatusCode.OK, (await fresh.GetAsync("/api/v1/me/presence")).StatusCode);
        using var anna = _server.Client(_tokens["anna"]);
        Assert.Equal(HttpStatusCode.OK, (await anna.GetAsync("/api/v1/me/presence")).StatusCode); // nobody else's
    }

    [Fact]
    public async Task A_password_changed_in_the_store_by_another_node_ends_the_token_here_within_the_cache_bound()
    {
        using var c = _server.Client(_tokens["bob"]);
        Assert.Equal(HttpStatusCode.OK, (await c.GetAsync("/api/v1/me/presence")).StatusCode);
        var accounts = _server.Services.GetRequiredService<IAccountStore>();
        var account = (await accounts.GetAccount("bob"))!;
        await accounts.UpsertAccount(account with { Password = PasswordHasher.Hash("changed-elsewhere", 4096) });

        // Embedded mode has no invalidation messages: the account cache (15 s on the application's clock) bounds how
        // long the old token works. Within the bound it is still served from the cache; past it, refused.
        _server.Time.Advance(TimeSpan.FromSeconds(14));
        Assert.Equal(HttpStatusCode.OK, (await c.GetAsync("/api/v1/me/presence")).StatusCode);
        _server.Time.Advance(TimeSpan.FromSeconds(2));
        await AssertUnauthorized(await c.GetAsync("/api/v1/me/presence"), "issued before a password change");
    }

    [Fact]
    public async Task A_key_deleted_in_the_store_by_another_node_stops_working_here_within_the_cache_bound()
    {
        using var bob = _server.Client(_tokens["bob"]);
        var created = await bob.PostAsJsonAsync("/api/v1/apikeys", new { name = "sensor", scopes = new[] { "devices" } });
        Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        using var device = _server.Client();
        device.DefaultRequestHeaders.Authorization = new("ApiKey", body.GetProperty("key").GetString());
        // A heartbeat for a device with no session: 404 once authenticated, 401 when the key is not known.
        const string heartbeat = "/api/v1/me/devices/sensor-1/heartbeat";
        Assert.Equal(HttpStatusCode.NotFound, (await device.PostAsync(heartbeat, null)).StatusCode);

        Assert.True(await _server.Services.GetRequiredService<IApiKeyStore>().Delete(body.GetProperty("id").GetString()!));

        _server.Time.Advance(TimeSpan.FromSeconds(14));
        Assert.Equal(HttpStatusCode.NotFound, (await device.PostAsync(heartbeat, null)).StatusCode); // still cached
        _server.Time.Advance(TimeSpan.FromSeconds(2));
        await AssertUnauthorized(await device.PostAsync(heartbeat, null));
    }

    [Fact]
    public async Task An_unrelated_profile_or_role_change_keeps_tokens_valid()
    {
        await Put(new { id = "bob", displayName = "Robert", email = "robert@example.com", team = "sales" });
        await Put(new { id = "bob", displayName = "Robert", team = "sales", roles = new[] { "user", "auditor" } });

        using var c = _server.Client(_tokens["bob"]);
        Assert.Equal(HttpStatusCode.OK, (await c.GetAsync("/api/v1/me/presence")).StatusCode);
        await using var socket = await SocketWatcher.Connect(_server.BaseAddress, _tokens["bob"]);
        Assert.Equal("anna", (await socket.Watch("anna")).Single().UserId);
        await _server.Services.GetRequiredService<LiveCredentials>().Sweep(); // the periodic re-check, run now
        Assert.False(socket.Closed);
        Assert.Equal("anna", (await socket.Watch("anna")).Single().UserId);
    }

    [Fact]
    public async Task Malformed_and_old_format_tokens_are_refused_with_401()
    {
        // The format before password fingerprints ("userId\nroles"), protected with the server's own key ring.
        var protector = _server.Services.GetRequiredService<IDataProtectionProvider>()
            .CreateProtector("Herald.BearerToken.v1").ToTimeLimitedDataProtector();
        var oldFormat = protector.Protect("bob\nuser", _server.Time.GetUtcNow() + TimeSpan.FromHours(1));
        var emptyFingerprint = protector.Protect("bob\nuser\n", _server.Time.GetUtcNow() + TimeSpan.FromHours(1));
        var wrongFingerprint = protector.Protect("bob\nuser\nAAAAAAAAAAA", _server.Time.GetUtcNow() + TimeSpan.FromHours(1));
        foreach (var token in new[] { oldFormat, emptyFingerprint, wrongFingerprint, "not-a-token", _tokens["bob"][..^4] })
        {
            using var c = _server.Client(token);
            await AssertUnauthorized(await c.GetAsync("/api/v1/me/presence"));
        }
        await Assert.ThrowsAnyAsync<System.Net.WebSockets.WebSocketException>(() => SocketWatcher.Connect(_server.BaseAddress, oldFormat));
        using var ok = _server.Client(_tokens["bob"]);
        Assert.Equal(HttpStatusCode.OK, (await ok.GetAsync("/api/v1/me/presence")).StatusCode);
    }
}
