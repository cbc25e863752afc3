using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Huddles;

public sealed class HuddleTests : IAsyncLifetime
{
    private static readonly string[] Team = ["ann", "ben", "cal", "dee", "eve", "fay"];

    private readonly HeraldTestServer _server = new();
    private Dictionary<string, string> _tokens = null!;

    public async Task InitializeAsync()
    {
        await _server.StartAsync();
        _tokens = await _server.CreatePeople(
            HeraldTestServer.Person("mgr", team: "ops"),
            HeraldTestServer.Person("ann", team: "ops"), HeraldTestServer.Person("ben", team: "ops"),
            HeraldTestServer.Person("cal", team: "ops"), HeraldTestServer.Person("dee", team: "ops"),
            HeraldTestServer.Person("eve", team: "ops"),
            HeraldTestServer.Person("fay", team: "ops", workHours: new { days = new[] { "Sat" }, start = "09:00", end = "17:00" }),
            HeraldTestServer.Person("zed", team: "sales"));
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private HttpClient As(string user) => _server.Client(_tokens[user]);

    /// <summary>ann and ben are available; cal is in a call, dee presenting, eve on do not disturb, fay off work.</summary>
    private async Task SetTheScene()
    {
        foreach (var id in Team)
        {
            using var c = As(id);
            object device = id switch
            {
                "cal" => new { kind = "Desktop", activity = "InACall", ttlSeconds = 3600 },
                "eve" => new { kind = "Desktop", availability = "DoNotDisturb", ttlSeconds = 3600 },
                _ => new { kind = "Desktop", ttlSeconds = 3600 },
            };
            (await c.PutAsJsonAsync("/api/v1/me/devices/laptop", device)).EnsureSuccessStatusCode();
            if (id == "dee")
            {
                (await c.PutAsJsonAsync("/api/v1/me/status", new { activity = "Presenting" })).EnsureSuccessStatusCode();
            }
        }
        var seen = await Get(As("mgr"), "/api/v1/people?team=ops");
        var availability = seen.EnumerateArray().ToDictionary(p => p.GetProperty("id").GetString()!,
            p => p.GetProperty("presence").GetProperty("availability").GetString());
        Assert.Equal("Available", availability["ann"]);
        Assert.Equal("Available", availability["ben"]);
        Assert.All(new[] { "cal", "dee", "eve", "fay" }, id => Assert.NotEqual("Available", availability[id]));
    }

    [Fact]
    public async Task Asking_the_available_invites_only_them_live_and_the_requester_sees_the_answers_until_it_expires()
    {
        await SetTheScene();
        await using var mgr = await SignalRHuddleListener.Connect(_server, _tokens["mgr"], "mgr");
        await using var ann = await SignalRHuddleListener.Connect(_server, _tokens["ann"], "ann");
        await using var ben = await SseHuddleListener.Connect(_server, _tokens["ben"], "ben");
        var others = new Dictionary<string, IHuddleListener>();
        foreach (var id in new[] { "cal", "dee", "eve", "fay", "zed" })
        {
            others[id] = await SignalRHuddleListener.Connect(_server, _tokens[id], id);
        }
        try
        {
            using var mgrClient = As("mgr");
            var post = await mgrClient.PostAsJsonAsync("/api/v1/huddles", new { team = "ops", topic = "Incident review", forMinutes = 30 });
            Assert.Equal(HttpStatusCode.Created, post.StatusCode);
            var created = await post.Content.ReadFromJsonAsync<JsonElement>();
            var id = created.GetProperty("id").GetString()!;
            Assert.Equal($"/api/v1/huddles/{id}", post.Headers.Location?.OriginalString);
            Assert.Equal(["ann", "ben"], created.GetProperty("invited").EnumerateArray().Select(p => p.GetProperty("userId").GetString()).Order());
            Assert.Equal("Ann", created.GetProperty("invited")[0].GetProperty("displayName").GetString());
            Assert.Equal(4, created.GetProperty("skipped").GetInt32());
            Assert.Equal("Incident review", created.GetProperty("topic").GetString());
            Assert.Equal(_server.Time.GetUtcNow().AddMinutes(30), created.GetProperty("expiresAt").GetDateTimeOffset());
            Assert.Empty(created.GetProperty("responses").EnumerateObject());
            Assert.Equal(1, created.GetProperty("minAccepts").GetInt32());
            Assert.False(created.GetProperty("met").GetBoolean());
            // Only a count: nothing says who was skipped or why.
            var createdText = created.GetRawText();
            Assert.All(new[] { "cal", "dee", "eve", "fay", "Busy", "DoNotDisturb", "OffWork" },
                s => Assert.DoesNotContain(s, createdText, StringComparison.Ordinal));

            // The invitees are told live: ann over SignalR, ben over SSE.
            foreach (var (who, listener) in new (string, IHuddleListener)[] { ("ann", ann), ("ben", ben) })
            {
                await Eventually.True(() => listener.Last("huddle.invited") is not null, because: $"{who} is invited live");
                var invited = listener.Last("huddle.invited")!.Value.GetProperty("huddle");
                Assert.Equal(id, invited.GetProperty("id").GetString());
                Assert.Equal("Incident review", invited.GetProperty("topic").GetString());
                Assert.Equal("mgr", invited.GetProperty("requester").GetProperty("userId").GetString());
                Assert.Equal("Mgr", invited.GetProperty("requester").GetProperty("displayName").GetString());
                Assert.Equal(created.GetProperty("expiresAt").GetDateTimeOffset(), invited.GetProperty("expiresAt").GetDateTimeOffset());
                // An invitee sees neither the other invitees nor the skipped count.
                Assert.False(invited.TryGetProperty("invited", out _));
                Assert.False(invited.TryGetProperty("skipped", out _));
                Assert.DoesNotContain(who == "ann" ? "ben" : "ann", invited.GetRawText(), StringComparison.Ordinal);
            }

            using var annClient = As("ann");
            using var benClient = As("ben");
            var accepted = await annClient.PostAsJsonAsync($"/api/v1/huddles/{id}/respond", new { response = "accept" });
            Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
            Assert.Equal("accepted", (await accepted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("myResponse").GetString());
            (await benClient.PostAsJsonAsync($"/api/v1/huddles/{id}/respond", new { response = "decline" })).EnsureSuccessStatusCode();

            // The requester sees the answers live.
            await Eventually.True(() => mgr.OfType("huddle.updated").Any(e => e.GetProperty("huddle").GetProperty("responses").EnumerateObject().Count() == 2),
                because: "both answers reach the requester live");
            var update = mgr.OfType("huddle.updated").Last(e => e.GetProperty("huddle").GetProperty("responses").EnumerateObject().Count() == 2)
                .GetProperty("huddle");
            Assert.Equal("accepted", update.GetProperty("responses").GetProperty("ann").GetString());
            Assert.Equal("declined", update.GetProperty("responses").GetProperty("ben").GetString());
            Assert.True(update.GetProperty("met").GetBoolean());
            Assert.Equal(4, update.GetProperty("skipped").GetInt32());

            // The invitees are updated with the counts, as they may see them.
            await Eventually.True(() => ann.OfType("huddle.updated").Any(e => e.GetProperty("huddle").GetProperty("declined").GetInt32() == 1),
                because: "ann sees ben's answer as a count");
            await Eventually.True(() => ben.OfType("huddle.updated").Any(e => e.GetProperty("huddle").GetProperty("accepted").GetInt32() == 1),
                because: "ben sees ann's answer as a count");
            var annView = ann.OfType("huddle.updated").Last().GetProperty("huddle");
            Assert.Equal(2, annView.GetProperty("invitedCount").GetInt32());
            Assert.Equal("accepted", annView.GetProperty("myResponse").GetString());
            Assert.False(annView.TryGetProperty("responses", out _));

            // Nobody else can answer or read it; the requester does not answer their own huddle.
            foreach (var outsider in new[] { "cal", "zed" })
            {
                using var c = As(outsider);
                Assert.Equal(HttpStatusCode.NotFound, (await c.PostAsJsonAsync($"/api/v1/huddles/{id}/respond", new { response = "accept" })).StatusCode);
                Assert.Equal(HttpStatusCode.NotFound, (await c.GetAsync($"/api/v1/huddles/{id}")).StatusCode);
            }
            Assert.Equal(HttpStatusCode.Forbidden, (await mgrClient.PostAsJsonAsync($"/api/v1/huddles/{id}/respond", new { response = "accept" })).StatusCode);
            Assert.Equal(HttpStatusCode.BadRequest, (await annClient.PostAsJsonAsync($"/api/v1/huddles/{id}/respond", new { response = "maybe" })).StatusCode);
            Assert.Equal(2, (await Get(mgrClient, $"/api/v1/huddles/{id}")).GetProperty("invited").GetArrayLength());
            Assert.Equal("accepted", (await Get(annClient, $"/api/v1/huddles/{id}")).GetProperty("myResponse").GetString());

            // It expires after forMinutes of (fake) time: everyone concerned is told, answers are refused.
            _server.Time.Advance(TimeSpan.FromMinutes(30));
            foreach (var (who, listener) in new (string, IHuddleListener)[] { ("mgr", mgr), ("ann", ann), ("ben", ben) })
            {
                await Eventually.True(() => listener.Last("huddle.expired") is not null, because: $"{who} is told of the expiry");
                Assert.Equal("expired", listener.Last("huddle.expired")!.Value.GetProperty("huddle").GetProperty("status").GetString());
            }
            Assert.Equal(HttpStatusCode.Conflict, (await benClient.PostAsJsonAsync($"/api/v1/huddles/{id}/respond", new { response = "accept" })).StatusCode);
            Assert.Equal("expired", (await Get(mgrClient, $"/api/v1/huddles/{id}")).GetProperty("status").GetString());

            // Only the requester and the invitees ever heard of it.
            Assert.DoesNotContain(mgr.Huddles, e => e.GetProperty("type").GetString() == "huddle.invited");
            foreach (var (who, listener) in others)
            {
                Assert.True(listener.Huddles.IsEmpty, $"{who} received a huddle event");
            }
        }
        finally
        {
            foreach (var l in others.Values)
            {
                await l.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Named_people_only_the_available_are_invited_and_nobody_available_is_a_conflict_with_a_count()
    {
        await SetTheScene();
        using var mgr = As("mgr");

        var post = await mgr.PostAsJsonAsync("/api/v1/huddles", new { userIds = new[] { "ann", "cal", "mgr", "zed" }, topic = "Quick sync", minAccepts = 1 });
        Assert.Equal(HttpStatusCode.Created, post.StatusCode);
        var created = await post.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(["ann"], created.GetProperty("invited").EnumerateArray().Select(p => p.GetProperty("userId").GetString()));
        Assert.Equal(2, created.GetProperty("skipped").GetInt32()); // cal (in a call) and zed (offline); the requester is not a candidate
        Assert.Equal(_server.Time.GetUtcNow().AddMinutes(15), created.GetProperty("expiresAt").GetDateTimeOffset());

        var tooMany = await mgr.PostAsJsonAsync("/api/v1/huddles", new { userIds = new[] { "ann", "ben", "cal" }, topic = "Quick sync", minAccepts = 3 });
        Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);
        Assert.Contains("minAccepts", await tooMany.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var nobody = await mgr.PostAsJsonAsync("/api/v1/huddles", new { userIds = new[] { "cal", "dee" }, topic = "Quick sync" });
        Assert.Equal(HttpStatusCode.Conflict, nobody.StatusCode);
        Assert.Equal(2, (await nobody.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("skipped").GetInt32());

        Assert.Equal(HttpStatusCode.NotFound, (await mgr.PostAsJsonAsync("/api/v1/huddles", new { userIds = new[] { "ann", "nobody" }, topic = "x" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await mgr.PostAsJsonAsync("/api/v1/huddles", new { team = "no-such-team", topic = "x" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await mgr.GetAsync("/api/v1/huddles/0123456789abcdef0123456789abcdef")).StatusCode);
    }

    [Fact]
    public async Task A_huddle_still_expires_and_says_so_when_the_server_restarted_while_it_was_open()
    {
        await SetTheScene();
        string id;
        using (var mgrClient = As("mgr"))
        {
            var post = await mgrClient.PostAsJsonAsync("/api/v1/huddles", new { userIds = new[] { "ann" }, topic = "After the restart", forMinutes = 10 });
            Assert.Equal(HttpStatusCode.Created, post.StatusCode);
            id = (await post.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        }

        // Nothing touches the huddle after the restart: only the sweep of open huddles can find it.
        await _server.RestartAsync();
        await using var mgr = await SignalRHuddleListener.Connect(_server, _tokens["mgr"], "mgr");
        await using var ann = await SignalRHuddleListener.Connect(_server, _tokens["ann"], "ann");

        // Fake time moves a minute per round (the sweep runs every minute) until both were told.
        for (var i = 0; i < 40 && (mgr.Last("huddle.expired") is null || ann.Last("huddle.expired") is null); i++)
        {
            _server.Time.Advance(TimeSpan.FromMinutes(1));
            var until = DateTime.UtcNow.AddMilliseconds(300);
            while (DateTime.UtcNow < until && (mgr.Last("huddle.expired") is null || ann.Last("huddle.expired") is null))
            {
                await Task.Delay(20);
            }
        }
        foreach (var (who, listener) in new (string, IHuddleListener)[] { ("mgr", mgr), ("ann", ann) })
        {
            var expired = listener.Last("huddle.expired");
            Assert.True(expired is not null, $"{who} is told of the expiry after the restart");
            Assert.Equal(id, expired.Value.GetProperty("huddle").GetProperty("id").GetString());
            Assert.Single(listener.OfType("huddle.expired"));
        }
    }

    [Theory]
    [InlineData("both", "team")]
    [InlineData("neither", "team")]
    [InlineData("topicTooLong", "topic")]
    [InlineData("topicEmpty", "topic")]
    [InlineData("forMinutesTooLong", "forMinutes")]
    [InlineData("forMinutesZero", "forMinutes")]
    [InlineData("minAcceptsZero", "minAccepts")]
    [InlineData("tooManyUserIds", "userIds")]
    [InlineData("badUserId", "userIds")]
    public async Task Invalid_huddle_requests_are_400_naming_the_field(string kind, string field)
    {
        object body = kind switch
        {
            "both" => new { team = "ops", userIds = new[] { "ann" }, topic = "x" },
            "neither" => new { topic = "x" },
            "topicTooLong" => new { team = "ops", topic = new string('t', 201) },
            "topicEmpty" => new { team = "ops", topic = "  " },
            "forMinutesTooLong" => new { team = "ops", topic = "x", forMinutes = 241 },
            "forMinutesZero" => new { team = "ops", topic = "x", forMinutes = 0 },
            "minAcceptsZero" => new { team = "ops", topic = "x", minAccepts = 0 },
            "tooManyUserIds" => new { userIds = Enumerable.Range(0, 101).Select(i => $"p{i}").ToArray(), topic = "x" },
            "badUserId" => new { userIds = new[] { "not an id" }, topic = "x" },
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        using var mgr = As("mgr");
        var r = await mgr.PostAsJsonAsync("/api/v1/huddles", body);
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        var problem = await r.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.GetRawText());
    }

    private static async Task<JsonElement> Get(HttpClient c, string path)
    {
        var r = await c.GetAsync(path);
        Assert.True(r.IsSuccessStatusCode, $"{path}: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
        return await r.Content.ReadFromJsonAsync<JsonElement>();
    }
}
