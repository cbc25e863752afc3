using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Integrations;

public sealed class ActivityPublisherTests : IAsyncLifetime
{
    private readonly HeraldTestServer _server = new();
    private Dictionary<string, string> _tokens = null!;
    private HttpClient _admin = null!;

    public async Task InitializeAsync()
    {
        await _server.StartAsync();
        _tokens = await _server.CreatePeople(HeraldTestServer.Person("anna", team: "ops"), HeraldTestServer.Person("bob", team: "ops"),
            HeraldTestServer.Person("carl"));
        _admin = _server.Client(await _server.Login("admin", HeraldTestServer.AdminPassword));
        using var anna = _server.Client(_tokens["anna"]);
        (await anna.PutAsJsonAsync("/api/v1/me/devices/laptop", new { kind = "Desktop", ttlSeconds = 3600 })).EnsureSuccessStatusCode();
    }

    public async Task DisposeAsync()
    {
        _admin.Dispose();
        await _server.DisposeAsync();
    }

    private async Task<(string Id, HttpClient Client)> Key(string name, string[] scopes, string[]? userIds)
    {
        var r = await _admin.PostAsJsonAsync("/api/v1/apikeys", new { name, scopes, userIds });
        Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
        var body = await r.Content.ReadFromJsonAsync<JsonElement>();
        var c = _server.Client();
        c.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("ApiKey", body.GetProperty("key").GetString());
        return (body.GetProperty("id").GetString()!, c);
    }

    [Fact]
    public async Task A_scoped_key_publishes_in_a_call_the_lease_lapses_and_revoking_consent_ends_it()
    {
        var (pbxId, pbx) = await Key("Office PBX", ["activities:InACall", "activities:InAConferenceCall"], ["anna", "bob"]);
        using var _ = pbx;
        await using var bob = await SignalRWatcher.Connect(_server.BaseAddress, _tokens["bob"]);
        await bob.Watch("anna");

        var start = await pbx.PostAsJsonAsync("/api/v1/integrations/activities", new { userId = "anna", activity = "InACall", action = "start", ttlSeconds = 60 });
        Assert.Equal(HttpStatusCode.NoContent, start.StatusCode);
        await Eventually.True(() => bob.Latest("anna") is { Availability: "Busy", Activity: "InACall" });
        using var anna = _server.Client(_tokens["anna"]);
        var me = await anna.GetFromJsonAsync<JsonElement>("/api/v1/me/presence");
        Assert.Equal("Integration", me.GetProperty("provenance").GetProperty("source").GetString());
        Assert.Equal(pbxId, me.GetProperty("provenance").GetProperty("sourceId").GetString());
        Assert.Contains("Office PBX", me.GetProperty("provenance").GetProperty("reason").GetString(), StringComparison.Ordinal);

        // Out of scope: another activity, another person.
        Assert.Equal(HttpStatusCode.Forbidden, (await pbx.PostAsJsonAsync("/api/v1/integrations/activities",
            new { userId = "anna", activity = "Presenting", action = "start", ttlSeconds = 60 })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await pbx.PostAsJsonAsync("/api/v1/integrations/activities",
            new { userId = "carl", activity = "InACall", action = "start", ttlSeconds = 60 })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await pbx.PostAsJsonAsync("/api/v1/integrations/activities",
            new { userId = "anna", activity = "InACall", action = "pause", ttlSeconds = 60 })).StatusCode);

        // Renewed, then the publisher dies: the lease lapses.
        _server.Time.Advance(TimeSpan.FromSeconds(50));
        Assert.Equal(HttpStatusCode.NoContent, (await pbx.PostAsJsonAsync("/api/v1/integrations/activities",
            new { userId = "anna", activity = "InACall", action = "renew", ttlSeconds = 60 })).StatusCode);
        _server.Time.Advance(TimeSpan.FromSeconds(50));
        Assert.Equal("Busy", (await anna.GetFromJsonAsync<JsonElement>("/api/v1/me/presence")).GetProperty("availability").GetString());
        _server.Time.Advance(TimeSpan.FromSeconds(11));
        await Eventually.True(() => bob.Latest("anna")?.Availability == "Available", because: "the call lease lapsed");
        Assert.Equal(HttpStatusCode.Conflict, (await pbx.PostAsJsonAsync("/api/v1/integrations/activities",
            new { userId = "anna", activity = "InACall", action = "renew", ttlSeconds = 60 })).StatusCode);

        // Anna lists and revokes the integration: its call ends and it may not publish for her again.
        (await pbx.PostAsJsonAsync("/api/v1/integrations/activities", new { userId = "anna", activity = "InACall", action = "start", ttlSeconds = 60 })).EnsureSuccessStatusCode();
        var list = await anna.GetFromJsonAsync<JsonElement>("/api/v1/me/integrations");
        Assert.Contains(list.EnumerateArray(), i => i.GetProperty("integrationId").GetString() == pbxId);
        Assert.Equal(HttpStatusCode.NoContent, (await anna.DeleteAsync($"/api/v1/me/integrations/{pbxId}")).StatusCode);
        await Eventually.True(() => bob.Latest("anna")?.Availability == "Available", because: "revoking consent ends the activity");
        Assert.Equal(HttpStatusCode.Forbidden, (await pbx.PostAsJsonAsync("/api/v1/integrations/activities",
            new { userId = "anna", activity = "InACall", action = "start", ttlSeconds = 60 })).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await pbx.PostAsJsonAsync("/api/v1/integrations/activities",
            new { userId = "bob", activity = "InAConferenceCall", action = "start", ttlSeconds = 60 })).StatusCode);
    }

    [Fact]
    public async Task A_person_token_or_a_device_key_cannot_publish_activities()
    {
        using var anna = _server.Client(_tokens["anna"]);
        Assert.Equal(HttpStatusCode.Forbidden, (await anna.PostAsJsonAsync("/api/v1/integrations/activities",
            new { userId = "anna", activity = "InACall", action = "start", ttlSeconds = 60 })).StatusCode);
        var created = await (await anna.PostAsJsonAsync("/api/v1/apikeys", new { name = "phone", scopes = new[] { "devices" } })).Content.ReadFromJsonAsync<JsonElement>();
        using var device = _server.Client();
        device.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("ApiKey", created.GetProperty("key").GetString());
        Assert.Equal(HttpStatusCode.Forbidden, (await device.PostAsJsonAsync("/api/v1/integrations/activities",
            new { userId = "anna", activity = "InACall", action = "start", ttlSeconds = 60 })).StatusCode);
    }
}
