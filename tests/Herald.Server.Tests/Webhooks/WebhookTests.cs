using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Webhooks;

public sealed class WebhookTests : IAsyncLifetime
{
    private static readonly object[] BobContacts =
    [
        new { kind = "WorkPhone", address = "+49 30 100" },
        new { kind = "Mobile", address = "+49 170 200" },
        new { kind = "HomePhone", address = "+49 30 300" },
    ];

    private readonly HeraldTestServer _server = new(extraArgs: ["--Herald:Outbound:AllowNetworks:0=127.0.0.0/8"]);
    private WebhookReceiver _receiver = null!;
    private Dictionary<string, string> _tokens = null!;

    public async Task InitializeAsync()
    {
        _receiver = await WebhookReceiver.Start();
        await _server.StartAsync();
        _tokens = await _server.CreatePeople(HeraldTestServer.Person("anna"), HeraldTestServer.Person("bob", contactMethods: BobContacts),
            HeraldTestServer.Person("carl"));
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    private HttpClient As(string user) => _server.Client(_tokens[user]);

    private async Task<(string Id, string Secret)> Subscribe(string owner, object body)
    {
        using var c = As(owner);
        var r = await c.PostAsJsonAsync("/api/v1/webhooks", body);
        Assert.True(r.StatusCode == HttpStatusCode.Created, await r.Content.ReadAsStringAsync());
        var json = await r.Content.ReadFromJsonAsync<JsonElement>();
        var secret = json.GetProperty("secret").GetString()!;
        _receiver.Secret = secret;
        return (json.GetProperty("id").GetString()!, secret);
    }

    [Fact]
    public async Task A_subscriber_gets_a_signed_presence_change_filtered_as_the_owner_sees_it()
    {
        var (id, secret) = await Subscribe("anna", new { url = _receiver.Url.ToString(), userIds = new[] { "bob" } });
        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);

        using var bob = As("bob");
        (await bob.PutAsJsonAsync("/api/v1/me/status", new { availability = "DoNotDisturb", note = "writing" })).EnsureSuccessStatusCode();

        await Eventually.True(() => _receiver.Accepted.Any(r => r.Json.GetProperty("data").GetProperty("availability").GetString() == "DoNotDisturb"),
            because: "the presence change is delivered");
        var delivered = _receiver.Accepted[^1];
        Assert.True(delivered.SignatureValid);
        var body = delivered.Json;
        Assert.Equal("presence.changed", body.GetProperty("type").GetString());
        Assert.Equal(delivered.EventId, body.GetProperty("id").GetString());
        Assert.Equal(_server.Time.GetUtcNow(), body.GetProperty("occurredAt").GetDateTimeOffset());

        // Exactly what Anna herself reads, and nothing a colleague may not see.
        using var anna = As("anna");
        var asAnna = await anna.GetFromJsonAsync<JsonElement>("/api/v1/presence/bob");
        Assert.Equal(asAnna.GetRawText(), body.GetProperty("data").GetRawText());
        Assert.DoesNotContain("+49 30 300", body.GetRawText(), StringComparison.Ordinal);
        var trusted = await bob.GetFromJsonAsync<JsonElement>("/api/v1/me/presence");
        Assert.Contains("+49 30 300", trusted.GetRawText(), StringComparison.Ordinal); // the owner's own view has it

        // Listed without the secret, with its state and a delivery log.
        var info = await anna.GetFromJsonAsync<JsonElement>($"/api/v1/webhooks/{id}");
        Assert.Equal("active", info.GetProperty("state").GetString());
        Assert.False(info.TryGetProperty("secret", out _));
        Assert.DoesNotContain(secret, (await anna.GetStringAsync("/api/v1/webhooks")), StringComparison.Ordinal);
        var log = await anna.GetFromJsonAsync<JsonElement>($"/api/v1/webhooks/{id}/deliveries");
        Assert.Contains(log.EnumerateArray(), d => d.GetProperty("eventId").GetString() == delivered.EventId && d.GetProperty("statusCode").GetInt32() == 200);
    }

    [Fact]
    public async Task A_failing_receiver_gets_the_event_after_backoff_across_a_restart_exactly_once()
    {
        _receiver.FailuresLeft = 2;
        var (id, _) = await Subscribe("anna", new { url = _receiver.Url.ToString(), userIds = new[] { "bob" } });
        using (var bob = As("bob"))
        {
            (await bob.PutAsJsonAsync("/api/v1/me/status", new { availability = "DoNotDisturb" })).EnsureSuccessStatusCode();
        }
        await Eventually.True(() => !_receiver.Requests.IsEmpty, because: "the first attempt is made at once");
        var first = _receiver.Requests.First();
        Assert.Equal(503, first.AnsweredWith);
        _receiver.OnlyFail = first.EventId; // an unrelated event (e.g. after the restart) must not take this event's failures
        using (var owner = As("anna"))
        {
            await Eventually.True(async () => (await owner.GetFromJsonAsync<JsonElement>($"/api/v1/webhooks/{id}/deliveries")).GetArrayLength() == 1,
                because: "the failed attempt is logged");
        }

        await _server.RestartAsync();

        // Fake time moves one second per round until the backoff (2 s, then 4 s, ± 20 %) has run out.
        for (var i = 0; i < 40 && !_receiver.Accepted.Any(r => r.EventId == first.EventId); i++)
        {
            _server.Time.Advance(TimeSpan.FromSeconds(1));
            var before = _receiver.Requests.Count;
            var until = DateTime.UtcNow.AddMilliseconds(300);
            while (DateTime.UtcNow < until && _receiver.Requests.Count == before)
            {
                await Task.Delay(20);
            }
        }
        await Eventually.True(() => _receiver.Accepted.Any(r => r.EventId == first.EventId), because: "the third attempt succeeds");
        var accepted = _receiver.Accepted.Single(r => r.EventId == first.EventId);
        Assert.Equal("DoNotDisturb", accepted.Json.GetProperty("data").GetProperty("availability").GetString());
        Assert.Equal([503, 503, 200], _receiver.Requests.Where(r => r.EventId == first.EventId).Select(r => r.AnsweredWith));

        // Nothing is sent again: more time passes, the event stays delivered once.
        _server.Time.Advance(TimeSpan.FromMinutes(15));
        await Task.Delay(300);
        Assert.Single(_receiver.Accepted, r => r.EventId == first.EventId);

        using var anna = As("anna");
        async Task<List<JsonElement>> Log() => [.. (await anna.GetFromJsonAsync<JsonElement>($"/api/v1/webhooks/{id}/deliveries")).EnumerateArray()
            .Where(d => d.GetProperty("eventId").GetString() == first.EventId).Reverse()];
        await Eventually.True(async () => (await Log()).Count == 3, because: "the success is logged once the receiver's answer is back");
        var log = await Log();
        Assert.Equal([1, 2, 3], log.Select(d => d.GetProperty("attempt").GetInt32()));
        Assert.Equal("HTTP 503", log[0].GetProperty("error").GetString());
        Assert.True(log[2].GetProperty("succeeded").GetBoolean());
        var info = await anna.GetFromJsonAsync<JsonElement>($"/api/v1/webhooks/{id}");
        Assert.Equal(0, info.GetProperty("consecutiveFailures").GetInt32());
    }

    [Fact]
    public async Task Invalid_subscriptions_are_refused_with_problem_details()
    {
        using var anna = As("anna");
        var url = _receiver.Url.ToString();
        async Task Refused(object body, string field)
        {
            var r = await anna.PostAsJsonAsync("/api/v1/webhooks", body);
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            var problem = await r.Content.ReadFromJsonAsync<JsonElement>();
            Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.GetRawText());
        }
        await Refused(new { userIds = new[] { "bob" } }, "url");
        await Refused(new { url = "/relative/hook", userIds = new[] { "bob" } }, "url");
        await Refused(new { url = "ftp://example.com/hook", userIds = new[] { "bob" } }, "url");
        await Refused(new { url = "https://example.com/" + new string('a', 2048), userIds = new[] { "bob" } }, "url");
        await Refused(new { url }, "userIds");
        await Refused(new { url, userIds = Enumerable.Range(0, 1001).Select(i => $"p{i}").ToArray() }, "userIds");
        await Refused(new { url, userIds = new[] { "nobody" } }, "userIds");
        await Refused(new { url, teams = new[] { "no-such-team" } }, "teams");
        await Refused(new { url, userIds = new[] { "bob" }, events = new[] { "presence.exploded" } }, "events");

        // At most 20 per owner.
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(HttpStatusCode.Created, (await anna.PostAsJsonAsync("/api/v1/webhooks", new { url, userIds = new[] { "bob" } })).StatusCode);
        }
        await Refused(new { url, userIds = new[] { "bob" } }, "url");

        // A device key is not a webhook owner.
        var key = await (await anna.PostAsJsonAsync("/api/v1/apikeys", new { name = "phone", scopes = new[] { "devices" } })).Content.ReadFromJsonAsync<JsonElement>();
        using var device = _server.Client();
        device.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("ApiKey", key.GetProperty("key").GetString());
        Assert.Equal(HttpStatusCode.Forbidden, (await device.GetAsync("/api/v1/webhooks")).StatusCode);
    }

    [Fact]
    public async Task A_test_event_is_delivered_signed()
    {
        var (id, _) = await Subscribe("anna", new { url = _receiver.Url.ToString(), userIds = new[] { "bob" } });
        using var anna = As("anna");
        var r = await anna.PostAsync($"/api/v1/webhooks/{id}/test", null);
        Assert.Equal(HttpStatusCode.Accepted, r.StatusCode);
        var eventId = (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("eventId").GetString();

        await Eventually.True(() => _receiver.Accepted.Any(a => a.EventId == eventId), because: "the test event is delivered");
        var got = _receiver.Accepted.Single(a => a.EventId == eventId);
        Assert.True(got.SignatureValid);
        Assert.Equal("webhook.test", got.Json.GetProperty("type").GetString());
        Assert.Equal(id, got.Json.GetProperty("data").GetProperty("webhookId").GetString());
    }

    [Fact]
    public async Task The_owner_huddle_invitation_is_delivered_when_subscribed_to_huddle_events()
    {
        var (_, _) = await Subscribe("anna", new { url = _receiver.Url.ToString(), events = new[] { "huddle" } });
        using var anna = As("anna");
        (await anna.PutAsJsonAsync("/api/v1/me/devices/laptop", new { kind = "Desktop", ttlSeconds = 3600 })).EnsureSuccessStatusCode();
        using var bob = As("bob");
        var post = await bob.PostAsJsonAsync("/api/v1/huddles", new { userIds = new[] { "anna" }, topic = "Quick sync", minAccepts = 1 });
        Assert.True(post.StatusCode == HttpStatusCode.Created, await post.Content.ReadAsStringAsync());
        var huddleId = (await post.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();

        await Eventually.True(() => _receiver.Accepted.Any(a => a.Json.GetProperty("type").GetString() == "huddle.invited"), because: "the invitation is delivered");
        var got = _receiver.Accepted.First(a => a.Json.GetProperty("type").GetString() == "huddle.invited");
        Assert.True(got.SignatureValid);
        Assert.Contains(huddleId!, got.Json.GetProperty("data").GetRawText(), StringComparison.Ordinal);
        Assert.DoesNotContain(_receiver.Requests, r => r.Json.GetProperty("type").GetString() == "presence.changed"); // not subscribed
    }

    [Fact]
    public async Task Someone_elses_webhook_is_not_found()
    {
        var (id, _) = await Subscribe("anna", new { url = _receiver.Url.ToString(), userIds = new[] { "bob" } });
        using var carl = As("carl");
        Assert.Equal(HttpStatusCode.NotFound, (await carl.GetAsync($"/api/v1/webhooks/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await carl.GetAsync($"/api/v1/webhooks/{id}/deliveries")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await carl.PostAsync($"/api/v1/webhooks/{id}/test", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await carl.DeleteAsync($"/api/v1/webhooks/{id}")).StatusCode);
        Assert.Empty((await carl.GetFromJsonAsync<JsonElement>("/api/v1/webhooks")).EnumerateArray());

        using var anna = As("anna");
        Assert.Equal(HttpStatusCode.OK, (await anna.GetAsync($"/api/v1/webhooks/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await anna.DeleteAsync($"/api/v1/webhooks/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await anna.GetAsync($"/api/v1/webhooks/{id}")).StatusCode);
    }
}
