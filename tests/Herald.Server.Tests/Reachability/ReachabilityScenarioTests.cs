using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Reachability;

/// <summary>
/// A team of six — two available, one in a call, one presenting, one in Do not disturb, one off work — and their
/// manager: who is available, how to reach them, and what a phone system should do with a call.
/// </summary>
public sealed class ReachabilityScenarioTests : IAsyncLifetime
{
    private readonly HeraldTestServer _server = new();
    private Dictionary<string, string> _tokens = null!;
    private HttpClient _pbx = null!;

    private static object Member(string id, object? workHours = null) => new
    {
        id, displayName = char.ToUpperInvariant(id[0]) + id[1..], email = $"{id}@example.com", team = "ops", manager = "boss",
        password = $"pw-{id}-123", timeZone = "UTC", workHours,
        contactMethods = new object[]
        {
            new { kind = "WorkPhone", address = $"+49 30 {Math.Abs(id.GetHashCode(StringComparison.Ordinal)) % 9000 + 1000} 1" },
            new { kind = "Mobile", address = $"+49 170 {Math.Abs(id.GetHashCode(StringComparison.Ordinal)) % 9000 + 1000} 2" },
            new { kind = "Chat", address = $"{id}@chat.example.com" },
        },
    };

    public async Task InitializeAsync()
    {
        await _server.StartAsync();
        _tokens = await _server.CreatePeople(
            new { id = "boss", displayName = "Boss", email = "boss@example.com", team = "mgmt", password = "pw-boss-123", timeZone = "UTC",
                contactMethods = new object[] { new { kind = "WorkPhone", address = "+49 30 9999 0" } } },
            Member("amy"), Member("ali"), Member("cal"), Member("pia"), Member("dora"),
            Member("otto", new { days = new[] { "Sat" }, start = "09:00", end = "17:00" }),
            HeraldTestServer.Person("zed"));
        async Task Do(string who, Func<HttpClient, Task<HttpResponseMessage>> call)
        {
            using var c = _server.Client(_tokens[who]);
            var r = await call(c);
            Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
        }
        foreach (var p in new[] { "amy", "ali", "cal", "pia", "dora", "otto" })
        {
            await Do(p, c => c.PutAsJsonAsync("/api/v1/me/devices/laptop", new { kind = "Desktop", ttlSeconds = 3600 }));
        }
        await Do("cal", c => c.PutAsJsonAsync("/api/v1/me/devices/deskphone", new { kind = "DeskPhone", activity = "InACall", ttlSeconds = 3600 }));
        await Do("pia", c => c.PutAsJsonAsync("/api/v1/me/status", new { activity = "Presenting", until = _server.Time.GetUtcNow().AddHours(5) }));
        await Do("dora", c => c.PutAsJsonAsync("/api/v1/me/status", new { availability = "DoNotDisturb" }));
        await Do("dora", c => c.PutAsJsonAsync("/api/v1/me/reach", new { rules = Array.Empty<object>(), breakThroughTiers = new[] { "Trusted", "Team" } }));

        using var admin = _server.Client(await _server.Login("admin", HeraldTestServer.AdminPassword));
        var key = await (await admin.PostAsJsonAsync("/api/v1/apikeys", new { name = "pbx", scopes = new[] { "route" } })).Content.ReadFromJsonAsync<JsonElement>();
        _pbx = _server.Client();
        _pbx.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("ApiKey", key.GetProperty("key").GetString());
    }

    public async Task DisposeAsync()
    {
        _pbx.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task The_availability_query_returns_exactly_the_two_available_with_how_to_reach_them()
    {
        using var boss = _server.Client(_tokens["boss"]);
        var r = await boss.PostAsJsonAsync("/api/v1/availability/query", new { team = "ops", forMinutes = 30 });
        var body = await r.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var available = body.GetProperty("available").EnumerateArray().ToList();
        Assert.Equal(["Ali", "Amy"], available.Select(a => a.GetProperty("displayName").GetString()));
        Assert.All(available, a => Assert.Equal("WorkPhone", a.GetProperty("best").GetProperty("method").GetString()));

        var reach = await boss.GetFromJsonAsync<JsonElement>("/api/v1/people/pia/reach");
        Assert.Equal("Email", reach.GetProperty("options")[0].GetProperty("method").GetString());
        Assert.Equal(_server.Time.GetUtcNow().AddHours(5), reach.GetProperty("availableAgainAt").GetDateTimeOffset());

        var bad = await boss.PostAsJsonAsync("/api/v1/availability/query", new { team = "ops", userIds = new[] { "amy" } });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    [Fact]
    public async Task Routing_decisions_follow_presence_rules_and_what_the_caller_may_know()
    {
        var presenting = await Route("from=boss&to=pia");
        Assert.Equal("busy", presenting.GetProperty("action").GetString());
        Assert.Contains("Pia is presenting until", presenting.GetProperty("announcement").GetString(), StringComparison.Ordinal);

        Assert.Equal("ring", (await Route("from=boss&to=amy")).GetProperty("action").GetString());
        Assert.Equal("busy", (await Route("from=boss&to=cal")).GetProperty("action").GetString());
        Assert.Equal("voicemail", (await Route("from=boss&to=otto")).GetProperty("action").GetString());

        // Urgent from the manager (Team): Dora lets Team break through → her mobile.
        var urgent = await Route("from=%2B49%2030%209999%200&to=dora&urgency=urgent");
        Assert.Equal("boss", urgent.GetProperty("from").GetString());
        Assert.Equal("forward", urgent.GetProperty("action").GetString());
        Assert.StartsWith("+49 170", urgent.GetProperty("target").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("170", urgent.GetProperty("announcement").GetString(), StringComparison.Ordinal);

        using (var dora = _server.Client(_tokens["dora"]))
        {
            (await dora.PutAsJsonAsync("/api/v1/me/reach", new { rules = Array.Empty<object>(), breakThroughTiers = new[] { "Trusted" } })).EnsureSuccessStatusCode();
        }
        Assert.Equal("voicemail", (await Route("from=boss&to=dora&urgency=urgent")).GetProperty("action").GetString());

        // By number, and bad requests.
        var doraNumber = (await Route("from=boss&to=dora")).GetProperty("to").GetString();
        Assert.Equal("dora", doraNumber);
        using var person = _server.Client(_tokens["zed"]);
        Assert.Equal(HttpStatusCode.Forbidden, (await person.GetAsync("/api/v1/route?to=amy")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _pbx.GetAsync("/api/v1/route?to=%2B1%20555%200000000")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _pbx.GetAsync("/api/v1/route?to=amy&urgency=panic")).StatusCode);
    }

    [Fact]
    public async Task Reach_options_never_reveal_what_the_policy_hides()
    {
        using var zed = _server.Client(_tokens["zed"]); // a colleague, not in the team
        var amy = await zed.GetFromJsonAsync<JsonElement>("/api/v1/people/amy/reach?urgency=urgent");
        Assert.DoesNotContain(amy.GetProperty("options").EnumerateArray(), o => o.GetProperty("method").GetString() == "Mobile");
        using var anna = _server.Client(_tokens["amy"]);
        (await anna.PutAsJsonAsync("/api/v1/me/privacy", new { watchers = new { zed = new { tier = "Blocked" } } })).EnsureSuccessStatusCode();
        var blocked = await zed.GetFromJsonAsync<JsonElement>("/api/v1/people/amy/reach");
        Assert.Empty(blocked.GetProperty("options").EnumerateArray());
        Assert.Equal(JsonValueKind.Null, blocked.GetProperty("availableAgainAt").ValueKind);

        var audit = await anna.GetFromJsonAsync<JsonElement>("/api/v1/me/audit?watcher=zed");
        Assert.Contains(audit.EnumerateArray(), e => e.GetProperty("kind").GetString() == "reach");
    }

    private async Task<JsonElement> Route(string query)
    {
        var r = await _pbx.GetAsync("/api/v1/route?" + query);
        Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
        return await r.Content.ReadFromJsonAsync<JsonElement>();
    }
}
