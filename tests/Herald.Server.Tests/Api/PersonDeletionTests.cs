using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Api;

/// <summary>Deleting a person leaves nothing of theirs behind: no login, no key, no state that a new person with the id would inherit.</summary>
public sealed class PersonDeletionTests() : ServerWithPeople(
    ["--Herald:Outbound:AllowNetworks:0=127.0.0.0/8"],
    HeraldTestServer.Person("anna", team: "ops"), HeraldTestServer.Person("bob", team: "ops"))
{
    [Fact]
    public async Task A_deleted_person_loses_access_and_a_new_person_with_the_id_starts_clean()
    {
        using var anna = Server.Client(Tokens["anna"]);
        (await anna.PutAsJsonAsync("/api/v1/me/status", new { availability = "DoNotDisturb", note = "private matters" })).EnsureSuccessStatusCode();
        (await anna.PutAsJsonAsync("/api/v1/me/contacts/bob", new { })).EnsureSuccessStatusCode();
        (await anna.PutAsJsonAsync("/api/v1/me/privacy", new { watchers = new Dictionary<string, object> { ["bob"] = new { tier = "Trusted" } } })).EnsureSuccessStatusCode();
        var key = (await (await anna.PostAsJsonAsync("/api/v1/apikeys", new { name = "phone", scopes = new[] { "devices" } }))
            .Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString();
        var hook = await anna.PostAsJsonAsync("/api/v1/webhooks", new { url = "http://127.0.0.1:9/hook", userIds = new[] { "bob" } });
        Assert.Equal(HttpStatusCode.Created, hook.StatusCode);
        using var device = Server.Client();
        device.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("ApiKey", key);
        Assert.Equal(HttpStatusCode.OK, (await device.PutAsJsonAsync("/api/v1/me/devices/phone", new { kind = "Mobile", ttlSeconds = 300 })).StatusCode);

        await using var bobWatch = await SignalRWatcher.Connect(Server.BaseAddress, Tokens["bob"]);
        Assert.Equal("DoNotDisturb", Assert.Single(await bobWatch.Watch("anna")).Availability);

        using var admin = Server.Client(await Server.Login("admin", HeraldTestServer.AdminPassword));
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync("/api/v1/admin/people/anna")).StatusCode);

        // Her token and her key stop working; her watchers are told at once.
        Assert.Equal(HttpStatusCode.Unauthorized, (await anna.GetAsync("/api/v1/me/presence")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await device.PostAsync("/api/v1/me/devices/phone/heartbeat", null)).StatusCode);
        await Eventually.True(() => bobWatch.Latest("anna") is { Availability: not "DoNotDisturb" }, because: "the deletion reaches watchers");
        using var bob = Server.Client(Tokens["bob"]);
        Assert.Equal(HttpStatusCode.NotFound, (await bob.GetAsync("/api/v1/presence/anna")).StatusCode);
        Assert.DoesNotContain((await admin.GetFromJsonAsync<JsonElement>("/api/v1/apikeys")).EnumerateArray(),
            k => k.GetProperty("ownerId").GetString() == "anna");

        // A new person under the same id inherits nothing: no status, note, contacts, rules or webhooks.
        var fresh = (await Server.CreatePeople(HeraldTestServer.Person("anna", team: "ops")))["anna"];
        using var anna2 = Server.Client(fresh);
        var me = await anna2.GetFromJsonAsync<JsonElement>("/api/v1/me/presence");
        Assert.NotEqual("DoNotDisturb", me.GetProperty("availability").GetString());
        Assert.Equal(JsonValueKind.Null, me.GetProperty("note").ValueKind);
        Assert.Empty((await anna2.GetFromJsonAsync<JsonElement>("/api/v1/me/contacts")).EnumerateArray());
        var privacy = await anna2.GetFromJsonAsync<JsonElement>("/api/v1/me/privacy");
        Assert.DoesNotContain("bob", privacy.GetRawText(), StringComparison.Ordinal);
        Assert.Empty((await anna2.GetFromJsonAsync<JsonElement>("/api/v1/webhooks")).EnumerateArray());
    }
}
