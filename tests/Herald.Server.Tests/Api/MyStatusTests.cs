using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Api;

/// <summary>
/// <c>GET /api/v1/me/status</c> answers the status and note as the person set them with <c>PUT</c>, each with its end;
/// nulls before any, after a clear and after expiry; people only.
/// </summary>
public sealed class MyStatusTests() : ServerWithPeople([], HeraldTestServer.Person("anna"), HeraldTestServer.Person("bob"))
{
    private static void AssertEmpty(JsonElement status)
    {
        foreach (var field in new[] { "availability", "activity", "until", "note", "noteUntil" })
        {
            Assert.Equal(JsonValueKind.Null, status.GetProperty(field).ValueKind);
        }
    }

    private static DateTimeOffset? TimeOf(JsonElement status, string field) =>
        status.GetProperty(field).ValueKind == JsonValueKind.Null ? null : status.GetProperty(field).GetDateTimeOffset();

    [Fact]
    public async Task Before_any_status_is_set_every_field_is_null()
    {
        using var bob = Server.Client(Tokens["bob"]);
        var r = await bob.GetAsync("/api/v1/me/status");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        AssertEmpty(await r.Content.ReadFromJsonAsync<JsonElement>());
    }

    [Fact]
    public async Task The_status_and_note_are_answered_as_set_until_they_expire_or_are_cleared()
    {
        using var anna = Server.Client(Tokens["anna"]);
        var until = Server.Time.GetUtcNow().AddHours(2);
        var put = await anna.PutAsJsonAsync("/api/v1/me/status", new { availability = "DoNotDisturb", note = "Release day", until });
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);

        var status = await anna.GetFromJsonAsync<JsonElement>("/api/v1/me/status");
        Assert.Equal("DoNotDisturb", status.GetProperty("availability").GetString());
        Assert.Equal(JsonValueKind.Null, status.GetProperty("activity").ValueKind);
        Assert.Equal(until, TimeOf(status, "until"));
        Assert.Equal("Release day", status.GetProperty("note").GetString());
        Assert.Equal(until, TimeOf(status, "noteUntil"));

        // At its end both are gone (the answer does not wait for the expiry timer to prune them).
        Server.Time.Advance(TimeSpan.FromHours(2));
        AssertEmpty(await anna.GetFromJsonAsync<JsonElement>("/api/v1/me/status"));

        // Only an activity (implying OffWork), and a note without an end: the status gets the default lifetime of
        // seven days, the note none; no availability was chosen, so none is answered (not the implied one).
        var now = Server.Time.GetUtcNow();
        put = await anna.PutAsJsonAsync("/api/v1/me/status", new { activity = "OnVacation", note = "back Monday" });
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        status = await anna.GetFromJsonAsync<JsonElement>("/api/v1/me/status");
        Assert.Equal(JsonValueKind.Null, status.GetProperty("availability").ValueKind);
        Assert.Equal("OnVacation", status.GetProperty("activity").GetString());
        Assert.Equal(now.AddDays(7), TimeOf(status, "until"));
        Assert.Equal("back Monday", status.GetProperty("note").GetString());
        Assert.Null(TimeOf(status, "noteUntil"));

        Assert.Equal(HttpStatusCode.OK, (await anna.DeleteAsync("/api/v1/me/status")).StatusCode);
        AssertEmpty(await anna.GetFromJsonAsync<JsonElement>("/api/v1/me/status"));
    }

    [Fact]
    public async Task Without_credentials_it_is_401_and_with_an_api_key_403()
    {
        using var anonymous = Server.Client();
        var r = await anonymous.GetAsync("/api/v1/me/status");
        Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);

        // API keys cannot read presence: not even a key of the person's own devices.
        using var anna = Server.Client(Tokens["anna"]);
        var created = await anna.PostAsJsonAsync("/api/v1/apikeys", new { name = "desk phone", scopes = new[] { "devices" } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        using var device = Server.Client();
        device.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("ApiKey",
            (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString());
        r = await device.GetAsync("/api/v1/me/status");
        Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
    }
}
