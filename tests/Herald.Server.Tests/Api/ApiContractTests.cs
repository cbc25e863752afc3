using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Api;

public sealed class ApiContractTests() : ServerWithPeople(
    ["--Herald:RateLimits:PerPrincipalPerSecond=5", "--Herald:RateLimits:PerPrincipalBurst=40"],
    HeraldTestServer.Person("anna", contactMethods: [new { kind = "Mobile", address = "+49 170 1" }, new { kind = "WorkPhone", address = "+49 30 1" }]),
    HeraldTestServer.Person("bob"), HeraldTestServer.Person("carl"))
{
    [Theory]
    [InlineData("""{"availability":"Sleepy"}""", "availability", "DoNotDisturb")]
    [InlineData("""{"availability":3}""", "availability", "Available")]
    [InlineData("""{"activity":"Dancing"}""", "activity", "InACall")]
    [InlineData("""{"availability":"Busy","until":"yesterday"}""", "until", null)]
    [InlineData("""{"availability":"Busy""", "availability", "end of data")]
    [InlineData("""{}""", "body", null)]
    [InlineData("""{"availability":"Unknown"}""", "availability", null)]
    public async Task Invalid_status_requests_get_problem_details_naming_the_field_and_change_nothing(string body, string field, string? mentions)
    {
        using var anna = Server.Client(Tokens["anna"]);
        var before = await anna.GetFromJsonAsync<JsonElement>("/api/v1/me/presence");
        var r = await anna.PutAsync("/api/v1/me/status", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        var problem = await r.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(400, problem.GetProperty("status").GetInt32());
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
        if (mentions is not null)
        {
            Assert.Contains(mentions, problem.ToString(), StringComparison.Ordinal);
        }
        var after = await anna.GetFromJsonAsync<JsonElement>("/api/v1/me/presence");
        Assert.Equal(before.GetProperty("sequence").GetInt64(), after.GetProperty("sequence").GetInt64());
    }

    [Fact]
    public async Task Limits_are_enforced_with_problem_details()
    {
        using var anna = Server.Client(Tokens["anna"]);
        var longNote = await anna.PutAsJsonAsync("/api/v1/me/status", new { note = new string('x', 281) });
        Assert.Equal(HttpStatusCode.BadRequest, longNote.StatusCode);
        Assert.Contains("280", await longNote.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var ttl = await anna.PutAsJsonAsync("/api/v1/me/devices/d1", new { kind = "Desktop", ttlSeconds = 2 });
        Assert.Equal(HttpStatusCode.BadRequest, ttl.StatusCode);
        Assert.Contains("ttlSeconds", await ttl.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var badId = await anna.PutAsJsonAsync("/api/v1/me/devices/has%20space", new { kind = "Desktop", ttlSeconds = 60 });
        Assert.Equal(HttpStatusCode.BadRequest, badId.StatusCode);

        var batch = await anna.PostAsJsonAsync("/api/v1/presence/query", new { userIds = Enumerable.Range(0, 1001).Select(i => $"u{i}") });
        Assert.Equal(HttpStatusCode.BadRequest, batch.StatusCode);
        Assert.Contains("1000", await batch.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Expect: 100-continue lets the server refuse the oversized body before it is sent (no reset mid-upload).
        using var bigRequest = new HttpRequestMessage(HttpMethod.Put, "/api/v1/me/status")
        {
            Content = new StringContent("{\"note\":\"" + new string('x', 2_000_000) + "\"}", Encoding.UTF8, "application/json"),
        };
        bigRequest.Headers.ExpectContinue = true;
        var big = await anna.SendAsync(bigRequest);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, big.StatusCode);
    }

    [Fact]
    public async Task Batch_reads_return_known_people_in_order_and_list_unknown_ones()
    {
        using var bob = Server.Client(Tokens["bob"]);
        var ids = new[] { "carl", "anna", "nobody" }.Concat(Enumerable.Range(0, 997).Select(i => $"ghost{i}"));
        var r = await bob.PostAsJsonAsync("/api/v1/presence/query", new { userIds = ids });
        var body = await r.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal(["carl", "anna"], body.GetProperty("presence").EnumerateArray().Select(v => v.GetProperty("userId").GetString()));
        Assert.Equal(998, body.GetProperty("unknown").GetArrayLength());
    }

    [Fact]
    public async Task Colleagues_never_see_personal_contact_methods_but_the_owner_does()
    {
        using var bob = Server.Client(Tokens["bob"]);
        var card = await bob.GetFromJsonAsync<JsonElement>("/api/v1/people/anna");
        var kinds = card.GetProperty("presence").GetProperty("contactMethods").EnumerateArray().Select(c => c.GetProperty("kind").GetString()).ToList();
        Assert.Contains("WorkPhone", kinds);
        Assert.DoesNotContain("Mobile", kinds);
        var search = await bob.GetFromJsonAsync<JsonElement>("/api/v1/people?q=ANN");
        Assert.DoesNotContain("+49 170 1", search.ToString(), StringComparison.Ordinal);

        using var anna = Server.Client(Tokens["anna"]);
        Assert.Contains("+49 170 1", (await anna.GetFromJsonAsync<JsonElement>("/api/v1/me/presence")).ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Requests_without_credentials_get_401_and_without_rights_403()
    {
        using var anonymous = Server.Client();
        foreach (var path in new[] { "/api/v1/me/presence", "/api/v1/presence/anna", "/api/v1/people", "/api/v1/apikeys", "/api/v1/events?watch=anna" })
        {
            var r = await anonymous.GetAsync(path);
            Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
            Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        }
        using var forged = Server.Client("not-a-token");
        Assert.Equal(HttpStatusCode.Unauthorized, (await forged.GetAsync("/api/v1/me/presence")).StatusCode);

        using var bob = Server.Client(Tokens["bob"]);
        var admin = await bob.PostAsJsonAsync("/api/v1/admin/people", new { id = "mallory", displayName = "M" });
        Assert.Equal(HttpStatusCode.Forbidden, admin.StatusCode);
        var key = await bob.PostAsJsonAsync("/api/v1/apikeys", new { name = "pbx", scopes = new[] { "route" } });
        Assert.Equal(HttpStatusCode.BadRequest, key.StatusCode);

        var wrong = await anonymous.PostAsJsonAsync("/api/v1/auth/token", new { username = "bob", password = "wrong-password" });
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
    }

    [Fact]
    public async Task Api_keys_are_scoped_shown_once_and_revocable()
    {
        using var anna = Server.Client(Tokens["anna"]);
        var created = await anna.PostAsJsonAsync("/api/v1/apikeys", new { name = "desk phone", scopes = new[] { "devices" } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        var key = body.GetProperty("key").GetString()!;
        var id = body.GetProperty("id").GetString()!;

        var list = await anna.GetFromJsonAsync<JsonElement>("/api/v1/apikeys");
        Assert.DoesNotContain(key, list.ToString(), StringComparison.Ordinal);

        using var device = Server.Client();
        device.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("ApiKey", key);
        var put = await device.PutAsJsonAsync("/api/v1/me/devices/deskphone", new { kind = "DeskPhone", activity = "InACall", ttlSeconds = 60 });
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal("Busy", (await anna.GetFromJsonAsync<JsonElement>("/api/v1/me/presence")).GetProperty("availability").GetString());
        // A device key is not a person: it cannot read or set status.
        Assert.Equal(HttpStatusCode.Forbidden, (await device.GetAsync("/api/v1/me/presence")).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await anna.DeleteAsync($"/api/v1/apikeys/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await device.PostAsync("/api/v1/me/devices/deskphone/heartbeat", null)).StatusCode);

        using var bob = Server.Client(Tokens["bob"]);
        Assert.Equal(HttpStatusCode.NotFound, (await bob.DeleteAsync($"/api/v1/apikeys/{id}")).StatusCode);
    }

    [Fact]
    public async Task Admin_imports_people_from_csv_all_or_nothing()
    {
        using var admin = Server.Client(await Server.Login("admin", HeraldTestServer.AdminPassword));
        const string good = "id,displayName,email,team,timeZone,workDays,workStart,workEnd,mobile,password\n" +
            "dora,Dora Diaz,dora@example.com,ops,Europe/Berlin,Mon-Fri,08:00,16:00,+49 171 2,dora-secret-1\n" +
            "\"eli\",\"Eli, Jr.\",eli@example.com,ops,America/New_York,Mon;Tue;Wed,09:00,17:00,,\n";
        var r = await admin.PostAsync("/api/v1/admin/people/import", new StringContent(good, Encoding.UTF8, "text/csv"));
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal(2, (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("created").GetInt32());
        var eli = await admin.GetFromJsonAsync<JsonElement>("/api/v1/admin/people/eli");
        Assert.Equal("Eli, Jr.", eli.GetProperty("displayName").GetString());
        Assert.Equal(3, eli.GetProperty("workHours").GetProperty("days").GetArrayLength());
        Assert.NotNull(await Server.Login("dora", "dora-secret-1"));

        const string bad = "id,displayName,timeZone\nfrank,Frank,Mars/Olympus\n,NoId,UTC\n";
        var rejected = await admin.PostAsync("/api/v1/admin/people/import", new StringContent(bad, Encoding.UTF8, "text/csv"));
        Assert.Equal(HttpStatusCode.BadRequest, rejected.StatusCode);
        var problem = await rejected.Content.ReadAsStringAsync();
        Assert.Contains("[0].timeZone", problem, StringComparison.Ordinal);
        Assert.Contains("[1].id", problem, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync("/api/v1/admin/people/frank")).StatusCode);
    }

    [Fact]
    public async Task Too_many_requests_get_429_with_retry_after()
    {
        using var carl = Server.Client(Tokens["carl"]);
        HttpResponseMessage? limited = null;
        for (var i = 0; i < 200 && limited is null; i++)
        {
            var r = await carl.GetAsync("/api/v1/me/presence");
            if (r.StatusCode == HttpStatusCode.TooManyRequests)
            {
                limited = r;
            }
        }
        Assert.NotNull(limited);
        Assert.True(limited.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        Assert.Equal("application/problem+json", limited.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task The_openapi_document_health_and_metrics_are_served()
    {
        using var c = Server.Client();
        var doc = await c.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        Assert.True(doc.GetProperty("paths").TryGetProperty("/api/v1/me/status", out _));
        Assert.Equal("Healthy", await c.GetStringAsync("/healthz"));
        Assert.Contains("# TYPE", await c.GetStringAsync("/metrics"), StringComparison.Ordinal);
    }
}
