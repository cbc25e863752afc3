using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Herald.Cluster.Privacy;
using Herald.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR.Client;

namespace Herald.Server.Tests.Privacy;

public sealed class PrivacyScenarioTests : IAsyncLifetime
{
    private static readonly object[] AnnaContacts =
    [
        new { kind = "WorkPhone", address = "+49 30 100" },
        new { kind = "Mobile", address = "+49 170 200" },
        new { kind = "HomePhone", address = "+49 30 300" },
    ];

    private readonly HeraldTestServer _server = new();
    private Dictionary<string, string> _tokens = null!;
    private string _admin = null!;

    public async Task InitializeAsync()
    {
        await _server.StartAsync();
        _tokens = await _server.CreatePeople(
            HeraldTestServer.Person("anna", team: "ops", contactMethods: AnnaContacts),
            HeraldTestServer.Person("bob"), HeraldTestServer.Person("carl"), HeraldTestServer.Person("dora", contactMethods: AnnaContacts),
            HeraldTestServer.Person("erik", team: "ops"), HeraldTestServer.Person("mallory"), HeraldTestServer.Person("xena"));
        _admin = await _server.Login("admin", HeraldTestServer.AdminPassword);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private HttpClient As(string user) => _server.Client(_tokens[user]);

    [Fact]
    public async Task The_rules_document_read_with_get_can_be_sent_back_unchanged()
    {
        using var anna = As("anna");
        (await anna.PutAsJsonAsync("/api/v1/me/privacy", new { watchers = new Dictionary<string, object> { ["bob"] = new { tier = "Trusted" } } }))
            .EnsureSuccessStatusCode();
        var read = await anna.GetStringAsync("/api/v1/me/privacy");
        Assert.Contains("\"rules\":null", read, StringComparison.Ordinal); // a watcher with only a tier
        var put = await anna.PutAsync("/api/v1/me/privacy", new StringContent(read, System.Text.Encoding.UTF8, "application/json"));
        Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        Assert.Equal(read, await anna.GetStringAsync("/api/v1/me/privacy"));
    }

    [Fact]
    public async Task On_annas_day_off_a_colleague_gets_off_work_and_her_work_email_while_a_trusted_watcher_gets_her_home_phone()
    {
        using var anna = As("anna");
        (await anna.PutAsJsonAsync("/api/v1/me/privacy", new { watchers = new { carl = new { tier = "Trusted" } } })).EnsureSuccessStatusCode();
        (await anna.PutAsJsonAsync("/api/v1/me/devices/laptop", new { kind = "Desktop", ttlSeconds = 3600 })).EnsureSuccessStatusCode();
        (await anna.PutAsJsonAsync("/api/v1/me/status", new { activity = "OutOfOffice", note = "day off" })).EnsureSuccessStatusCode();

        var colleague = await Get(As("bob"), "/api/v1/presence/anna");
        Assert.Equal("OffWork", colleague.GetProperty("availability").GetString());
        Assert.Equal(["Email:anna@example.com"], Contacts(colleague));
        Assert.Equal(JsonValueKind.Null, colleague.GetProperty("activity").ValueKind);
        Assert.Equal(JsonValueKind.Null, colleague.GetProperty("note").ValueKind);

        var trusted = await Get(As("carl"), "/api/v1/presence/anna");
        Assert.Contains("HomePhone:+49 30 300", Contacts(trusted));
        Assert.Contains("Mobile:+49 170 200", Contacts(trusted));
        Assert.Equal("OutOfOffice", trusted.GetProperty("activity").GetString());

        // The organization forbids colleagues the home phone; Anna's own rule cannot override it.
        using var admin = _server.Client(_admin);
        (await admin.PutAsJsonAsync("/api/v1/admin/policy", new { ceiling = new { Colleague = new { homePhone = false } } })).EnsureSuccessStatusCode();
        var put = await anna.PutAsJsonAsync("/api/v1/me/privacy", new
        {
            watchers = new { carl = new { tier = "Trusted" } },
            tiers = new { Colleague = new { any = new { homePhone = true } } },
        });
        put.EnsureSuccessStatusCode();
        Assert.Contains("homePhone", (await put.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("warnings")[0].GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain(Contacts(await Get(As("bob"), "/api/v1/presence/anna")), c => c.StartsWith("HomePhone", StringComparison.Ordinal));

        var preview = await Get(anna, "/api/v1/me/privacy/preview?as=bob");
        var homePhone = preview.GetProperty("fields").EnumerateArray().Single(f => f.GetProperty("field").GetString() == "homePhone");
        Assert.Equal("OrganizationCeiling", homePhone.GetProperty("decidedBy").GetString());
        Assert.Equal("false", homePhone.GetProperty("level").GetString());
        Assert.Equal("DayOff", preview.GetProperty("context").GetString());
        Assert.Equal(JsonValueKind.Null, preview.GetProperty("view").GetProperty("provenance").ValueKind);
    }

    [Fact]
    public async Task Appearing_offline_is_indistinguishable_from_being_offline_on_every_channel()
    {
        // dora has really been offline since 10:00; anna chooses "appear offline" at 10:00 and stays online.
        using (var dora = As("dora"))
        {
            (await dora.PutAsJsonAsync("/api/v1/me/devices/d", new { kind = "Desktop", ttlSeconds = 60 })).EnsureSuccessStatusCode();
            (await dora.DeleteAsync("/api/v1/me/devices/d")).EnsureSuccessStatusCode();
        }
        using var anna = As("anna");
        (await anna.PutAsJsonAsync("/api/v1/me/status", new { availability = "Offline" })).EnsureSuccessStatusCode();
        _server.Time.Advance(TimeSpan.FromMinutes(10));
        (await anna.PutAsJsonAsync("/api/v1/me/devices/laptop", new
        {
            kind = "Desktop", ttlSeconds = 600, location = new { country = "DE", city = "Berlin", building = "HQ" },
        })).EnsureSuccessStatusCode();
        (await anna.PutAsJsonAsync("/api/v1/me/devices/phone", new { kind = "Mobile", activity = "InACall", ttlSeconds = 600 })).EnsureSuccessStatusCode();
        Assert.Equal("Offline", (await Get(anna, "/api/v1/me/presence")).GetProperty("availability").GetString());

        var views = await AllChannels("bob", ["anna", "dora"]);
        foreach (var (channel, byUser) in views)
        {
            Assert.Equal(Normalize(byUser["dora"]), Normalize(byUser["anna"]));
            Assert.Equal("Offline", byUser["anna"].GetProperty("availability").GetString());
        }
        // Every channel agrees with every other.
        Assert.Single(views.Select(v => Normalize(v.Value["anna"])).Distinct());
    }

    [Fact]
    public async Task A_polite_blocked_watcher_sees_offline_and_nothing_reveals_the_block()
    {
        using var anna = As("anna");
        (await anna.PutAsJsonAsync("/api/v1/me/privacy", new { watchers = new { mallory = new { tier = "Blocked" } } })).EnsureSuccessStatusCode();
        (await anna.PutAsJsonAsync("/api/v1/me/devices/laptop", new { kind = "Desktop", ttlSeconds = 600 })).EnsureSuccessStatusCode();

        using var mallory = As("mallory");
        var add = await mallory.PutAsync("/api/v1/me/contacts/anna", null);
        Assert.Equal(HttpStatusCode.OK, add.StatusCode);
        Assert.Equal("Approved", (await add.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("subscription").GetString());

        await using var hub = await SignalRWatcher.Connect(_server.BaseAddress, _tokens["mallory"]);
        var first = (await hub.Watch("anna")).Single();
        Assert.Equal("Offline", first.Availability);

        (await anna.PutAsJsonAsync("/api/v1/me/status", new { availability = "Available", note = "ask me anything" })).EnsureSuccessStatusCode();
        var views = await AllChannels("mallory", ["anna"]);
        foreach (var (_, byUser) in views)
        {
            var v = byUser["anna"];
            Assert.Equal("Offline", v.GetProperty("availability").GetString());
            Assert.Equal(JsonValueKind.Null, v.GetProperty("note").ValueKind);
            Assert.Equal(JsonValueKind.Null, v.GetProperty("lastSeen").ValueKind);
        }
        Assert.Equal(first.Sequence, views["rest"]["anna"].GetProperty("sequence").GetInt64());
        Assert.DoesNotContain(hub.Received, v => v.Availability != "Offline");
        Assert.DoesNotContain("Blocked", string.Join(" ", views.Values.SelectMany(v => v.Values).Select(v => v.ToString())), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Confirm_keeps_a_request_pending_until_approved_and_revoking_ends_it()
    {
        using var anna = As("anna");
        (await anna.PutAsJsonAsync("/api/v1/me/privacy", new { subscriptions = new { Colleague = "Confirm" } })).EnsureSuccessStatusCode();
        (await anna.PutAsJsonAsync("/api/v1/me/status", new { availability = "Busy" })).EnsureSuccessStatusCode();

        using var xena = As("xena");
        var add = await xena.PutAsync("/api/v1/me/contacts/anna", null);
        Assert.Equal("Pending", (await add.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("subscription").GetString());
        Assert.Equal("Unknown", (await Get(xena, "/api/v1/presence/anna")).GetProperty("availability").GetString());

        var watchers = await Get(anna, "/api/v1/me/watchers");
        Assert.Contains(watchers.EnumerateArray(), w => w.GetProperty("watcherId").GetString() == "xena" && w.GetProperty("status").GetString() == "Pending");

        await using var hub = await SignalRWatcher.Connect(_server.BaseAddress, _tokens["xena"]);
        Assert.Equal("Unknown", (await hub.Watch("anna")).Single().Availability);
        Assert.Equal(HttpStatusCode.NoContent, (await anna.PostAsync("/api/v1/me/watchers/xena/approve", null)).StatusCode);
        await Eventually.True(() => hub.Latest("anna")?.Availability == "Busy", because: "approval re-decides the live watcher's disclosure");

        Assert.Equal(HttpStatusCode.NoContent, (await anna.DeleteAsync("/api/v1/me/watchers/xena")).StatusCode);
        await Eventually.True(() => hub.Latest("anna")?.Availability == "Unknown", because: "revocation reaches the live watcher");
        Assert.Equal(HttpStatusCode.NotFound, (await anna.PostAsync("/api/v1/me/watchers/nobody/approve", null)).StatusCode);
    }

    [Fact]
    public async Task A_grant_shows_exact_location_to_one_watcher_until_it_expires_and_the_audit_records_it()
    {
        using var anna = As("anna");
        (await anna.PutAsJsonAsync("/api/v1/me/devices/laptop", new
        {
            kind = "Desktop", ttlSeconds = 3600, location = new { country = "DE", city = "Berlin", building = "HQ", room = "3.14" },
        })).EnsureSuccessStatusCode();
        Assert.Equal(JsonValueKind.Undefined, Room(await Get(As("bob"), "/api/v1/presence/anna")).ValueKind);

        var until = _server.Time.GetUtcNow().AddHours(2);
        var grant = await anna.PostAsJsonAsync("/api/v1/me/grants", new { watcherId = "bob", fields = new { location = "Exact" }, until });
        Assert.Equal(HttpStatusCode.Created, grant.StatusCode);
        await using var hub = await SignalRWatcher.Connect(_server.BaseAddress, _tokens["bob"]);
        var live = (await hub.Watch("anna")).Single();
        Assert.Equal("3.14", (await Get(As("bob"), "/api/v1/presence/anna")).GetProperty("location").GetProperty("room").GetString());
        Assert.Equal(JsonValueKind.Undefined, Room(await Get(As("carl"), "/api/v1/presence/anna")).ValueKind);

        _server.Time.Advance(TimeSpan.FromHours(2).Add(TimeSpan.FromSeconds(1)));
        await Eventually.True(() => hub.Latest("anna") is { } v && v.Sequence > live.Sequence, because: "the grant's end re-decides live watchers");
        Assert.Equal(JsonValueKind.Undefined, Room(await Get(As("bob"), "/api/v1/presence/anna")).ValueKind);

        var bad = await anna.PostAsJsonAsync("/api/v1/me/grants", new { watcherId = "bob", fields = new { locaton = "Exact" }, until });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("fields.locaton", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var audit = await Get(anna, "/api/v1/me/audit?watcher=bob");
        var kinds = audit.EnumerateArray().Select(e => e.GetProperty("kind").GetString()).ToList();
        Assert.Contains("grant", kinds);
        Assert.Contains("snapshot", kinds);
        Assert.Contains("live", kinds);
        Assert.Contains(audit.EnumerateArray(), e => e.GetProperty("fields").GetString()!.Contains("location=Exact", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_audit_records_subscriptions_reads_and_changes_and_forgets_entries_past_retention()
    {
        using var anna = As("anna");
        using var bob = As("bob");
        (await bob.PutAsync("/api/v1/me/contacts/anna", null)).EnsureSuccessStatusCode();
        (await bob.PostAsJsonAsync("/api/v1/presence/query", new { userIds = new[] { "anna" } })).EnsureSuccessStatusCode();
        (await bob.GetAsync("/api/v1/people?q=anna")).EnsureSuccessStatusCode();
        await using (var hub = await SignalRWatcher.Connect(_server.BaseAddress, _tokens["bob"]))
        {
            await hub.Watch("anna");
            // Leaving work hours changes what bob receives: recorded once.
            _server.Time.Advance(TimeSpan.FromHours(8));
            await Eventually.True(() => hub.Latest("anna")?.Availability == "OffWork");
        }

        var mine = await Get(anna, "/api/v1/me/audit");
        var kinds = mine.EnumerateArray().Select(e => e.GetProperty("kind").GetString()).ToHashSet();
        Assert.Superset(new HashSet<string?> { "subscription", "snapshot", "batch", "search", "live" }, kinds);
        Assert.All(mine.EnumerateArray(), e => Assert.Equal("anna", e.GetProperty("presentityId").GetString()));
        var offHours = mine.EnumerateArray().First(e => e.GetProperty("kind").GetString() == "live"
            && e.GetProperty("rule").GetString()!.Contains("context=OffHours", StringComparison.Ordinal));
        Assert.Equal("bob", offHours.GetProperty("watcherId").GetString());

        // Another person cannot read Anna's audit; an auditor can.
        Assert.Equal(HttpStatusCode.Forbidden, (await bob.GetAsync("/api/v1/admin/audit?presentity=anna")).StatusCode);
        using var admin = _server.Client(_admin);
        Assert.NotEqual(0, (await Get(admin, "/api/v1/admin/audit?presentity=anna")).GetArrayLength());

        // Retention: 30 days; everything is now older.
        (await admin.PutAsJsonAsync("/api/v1/admin/policy", new { auditRetentionDays = 30 })).EnsureSuccessStatusCode();
        _server.Time.Advance(TimeSpan.FromDays(31));
        var retention = _server.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<AuditRetention>().Single();
        await retention.RunOnce(CancellationToken.None); // (the service's own 6-hourly run may already have purged)
        using var annaAgain = _server.Client(await _server.Login("anna", "pw-anna-123")); // a month later: a new token
        var after = await Get(annaAgain, $"/api/v1/me/audit?to={Uri.EscapeDataString(_server.Time.GetUtcNow().AddDays(-30).ToString("O"))}");
        Assert.Equal(0, after.GetArrayLength());
    }

    [Fact]
    public async Task Malformed_rules_are_refused_naming_the_rule_and_a_floor_above_the_ceiling_is_refused()
    {
        using var anna = As("anna");
        var r = await anna.PutAsJsonAsync("/api/v1/me/privacy", new
        {
            tiers = new { Colleages = new { any = new { location = "City" } }, Team = new { offHours = new { location = "Street" }, lunch = new { } } },
        });
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        var text = await r.Content.ReadAsStringAsync();
        Assert.Contains("tiers.Colleages", text, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("tiers.Team.offHours.location", text, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("tiers.Team.lunch", text, StringComparison.OrdinalIgnoreCase);

        using var admin = _server.Client(_admin);
        var policy = await admin.PutAsJsonAsync("/api/v1/admin/policy", new
        {
            ceiling = new { External = new { location = "Country" } },
            floor = new { External = new { workHours = new { location = "City" } } },
        });
        Assert.Equal(HttpStatusCode.BadRequest, policy.StatusCode);
        Assert.Contains("floor.External.workHours.location", await policy.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_dry_run_shows_what_each_tier_would_gain_or_lose()
    {
        using var anna = As("anna");
        var r = await anna.PostAsJsonAsync("/api/v1/me/privacy/preview", new
        {
            tiers = new { Colleague = new { workHours = new { location = "Exact", note = false } } },
        });
        r.EnsureSuccessStatusCode();
        var colleague = (await r.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray().Single(t => t.GetProperty("tier").GetString() == "Colleague");
        Assert.Contains(colleague.GetProperty("gained").EnumerateArray(), c => c.GetProperty("field").GetString() == "location" && c.GetProperty("after").GetString() == "Exact");
        Assert.Contains(colleague.GetProperty("lost").EnumerateArray(), c => c.GetProperty("field").GetString() == "note");
        // Nothing was saved.
        Assert.Empty((await Get(anna, "/api/v1/me/privacy")).GetProperty("tiers").EnumerateObject());
    }

    [Fact]
    public async Task Changing_rules_never_shows_a_team_watcher_another_tier_and_tells_a_blocked_watcher_nothing()
    {
        using var anna = As("anna");
        (await anna.PutAsJsonAsync("/api/v1/me/privacy", new { watchers = new { mallory = new { tier = "Blocked" } } })).EnsureSuccessStatusCode();
        (await anna.PutAsJsonAsync("/api/v1/me/devices/laptop", new
        {
            kind = "Desktop", ttlSeconds = 3600, location = new { country = "DE", city = "Berlin", building = "HQ", room = "3.14" },
        })).EnsureSuccessStatusCode();
        await using var erik = await SignalRWatcher.Connect(_server.BaseAddress, _tokens["erik"]); // same team
        await using var mallory = await SignalRWatcher.Connect(_server.BaseAddress, _tokens["mallory"]);
        Assert.Equal("HQ", (await erik.Watch("anna")).Single().Location?.GetProperty("building").GetString());
        var blockedFirst = (await mallory.Watch("anna")).Single();

        // Unrelated rule changes and appear offline for colleagues only.
        (await anna.PutAsJsonAsync("/api/v1/me/privacy", new
        {
            watchers = new { mallory = new { tier = "Blocked" } },
            tiers = new { External = new { any = new { note = false } } },
            appearOfflineTiers = new[] { "Colleague" },
        })).EnsureSuccessStatusCode();
        (await anna.PutAsJsonAsync("/api/v1/me/status", new { availability = "Offline" })).EnsureSuccessStatusCode();

        // The team is exempt from appear offline: it still sees her, at team precision.
        var team = await Get(As("erik"), "/api/v1/presence/anna");
        Assert.Equal("Available", team.GetProperty("availability").GetString());
        Assert.Equal("HQ", team.GetProperty("location").GetProperty("building").GetString());
        Assert.Equal("Offline", (await Get(As("bob"), "/api/v1/presence/anna")).GetProperty("availability").GetString());
        Assert.All(erik.Received, v => Assert.NotEqual("Offline", v.Availability));

        // The blocked watcher learns nothing: no new event, the same sequence everywhere.
        (await anna.DeleteAsync("/api/v1/me/status")).EnsureSuccessStatusCode();
        await Eventually.True(async () => (await Get(As("bob"), "/api/v1/presence/anna")).GetProperty("availability").GetString() == "Available");
        Assert.Empty(mallory.Received);
        Assert.Equal(blockedFirst.Sequence, (await Get(As("mallory"), "/api/v1/presence/anna")).GetProperty("sequence").GetInt64());
    }

    [Fact]
    public async Task A_revoked_watcher_cannot_subscribe_again_without_the_persons_approval()
    {
        using var anna = As("anna");
        using var bob = As("bob");
        Assert.Equal("Approved", (await (await bob.PutAsync("/api/v1/me/contacts/anna", null)).Content.ReadFromJsonAsync<JsonElement>())
            .GetProperty("subscription").GetString());
        Assert.Equal(HttpStatusCode.NoContent, (await anna.DeleteAsync("/api/v1/me/watchers/bob")).StatusCode);
        Assert.Equal("Unknown", (await Get(bob, "/api/v1/presence/anna")).GetProperty("availability").GetString());
        var again = await (await bob.PutAsync("/api/v1/me/contacts/anna", null)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Pending", again.GetProperty("subscription").GetString());
        Assert.Equal(HttpStatusCode.NoContent, (await anna.PostAsync("/api/v1/me/watchers/bob/approve", null)).StatusCode);
        Assert.NotEqual("Unknown", (await Get(bob, "/api/v1/presence/anna")).GetProperty("availability").GetString());
    }

    private static JsonElement Room(JsonElement view) =>
        view.GetProperty("location") is { ValueKind: JsonValueKind.Object } l && l.TryGetProperty("room", out var r) && r.ValueKind != JsonValueKind.Null ? r : default;

    private static List<string> Contacts(JsonElement view) =>
        [.. view.GetProperty("contactMethods").EnumerateArray().Select(c => $"{c.GetProperty("kind").GetString()}:{c.GetProperty("address").GetString()}")];

    private static string Normalize(JsonElement view)
    {
        var d = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(view.GetRawText())!;
        d.Remove("userId");
        d.Remove("sequence");
        d["contactMethods"] = JsonSerializer.SerializeToElement(view.GetProperty("contactMethods").EnumerateArray()
            .Select(c => c.GetProperty("kind").GetString()).ToList());
        return JsonSerializer.Serialize(d.OrderBy(kv => kv.Key).ToDictionary());
    }

    /// <summary>What <paramref name="watcher"/> receives about each of <paramref name="people"/> on every channel.</summary>
    private async Task<Dictionary<string, Dictionary<string, JsonElement>>> AllChannels(string watcher, string[] people)
    {
        using var c = As(watcher);
        var result = new Dictionary<string, Dictionary<string, JsonElement>>();
        result["rest"] = [];
        foreach (var p in people)
        {
            result["rest"][p] = await Get(c, $"/api/v1/presence/{p}");
        }
        var batch = await (await c.PostAsJsonAsync("/api/v1/presence/query", new { userIds = people })).Content.ReadFromJsonAsync<JsonElement>();
        result["batch"] = batch.GetProperty("presence").EnumerateArray().ToDictionary(v => v.GetProperty("userId").GetString()!);
        result["search"] = [];
        foreach (var p in people)
        {
            var cards = await Get(c, $"/api/v1/people?q={p}");
            result["search"][p] = cards.EnumerateArray().Single(x => x.GetProperty("id").GetString() == p).GetProperty("presence");
        }
        await using (var hub = await SignalRWatcher.Connect(_server.BaseAddress, _tokens[watcher]))
        {
            var views = await hub.Connection.InvokeAsync<List<JsonElement>>("Watch", people);
            result["signalr"] = views.ToDictionary(v => v.GetProperty("userId").GetString()!);
        }
        await using (var sse = await SseWatcher.Connect(_server, _tokens[watcher], "watch=" + string.Join(',', people)))
        {
            await Eventually.True(() => people.All(sse.RawLatest.ContainsKey));
            result["sse"] = new Dictionary<string, JsonElement>(sse.RawLatest);
        }
        return result;
    }

    private static async Task<JsonElement> Get(HttpClient client, string path)
    {
        var r = await client.GetAsync(path);
        Assert.True(r.IsSuccessStatusCode, $"{path}: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
        return await r.Content.ReadFromJsonAsync<JsonElement>();
    }
}
