using System.Net.Http.Json;
using System.Text.Json;
using Herald.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace Herald.Server.Tests.Live;

/// <summary>The live hub's <c>SetStatus</c>: the same change, checks and limits as <c>PUT /api/v1/me/status</c>.</summary>
public sealed class HubStatusTests() : ServerWithPeople([], HeraldTestServer.Person("anna"), HeraldTestServer.Person("bob"))
{
    [Fact]
    public async Task SetStatus_over_the_hub_changes_the_callers_status_and_watchers_receive_it()
    {
        await using var bob = await SignalRWatcher.Connect(Server.BaseAddress, Tokens["bob"]);
        var initial = (await bob.Watch("anna")).Single();
        await using var anna = await SignalRWatcher.Connect(Server.BaseAddress, Tokens["anna"]);

        var own = await anna.Connection.InvokeAsync<JsonElement>("SetStatus", new { availability = "DoNotDisturb", note = "writing" });

        Assert.Equal("anna", own.GetProperty("userId").GetString());
        Assert.Equal("DoNotDisturb", own.GetProperty("availability").GetString());
        Assert.Equal("writing", own.GetProperty("note").GetString());
        await Eventually.True(() => bob.Latest("anna")?.Availability == "DoNotDisturb", because: "the watcher gets the change");
        Assert.True(bob.Latest("anna")!.Sequence > initial.Sequence);
        Assert.Equal("writing", bob.Latest("anna")!.Note);
        using var rest = Server.Client(Tokens["anna"]);
        var stored = await rest.GetFromJsonAsync<JsonElement>("/api/v1/me/presence");
        Assert.Equal("DoNotDisturb", stored.GetProperty("availability").GetString());
    }

    [Fact]
    public async Task WatchContacts_over_the_hub_watches_the_callers_contacts()
    {
        using (var rest = Server.Client(Tokens["bob"]))
        {
            (await rest.PutAsync("/api/v1/me/contacts/anna", null)).EnsureSuccessStatusCode();
        }
        await using var bob = await SignalRWatcher.Connect(Server.BaseAddress, Tokens["bob"]);

        var views = await bob.Connection.InvokeAsync<List<ViewDto>>("WatchContacts");

        Assert.Equal("anna", Assert.Single(views).UserId);
        using (var anna = Server.Client(Tokens["anna"]))
        {
            (await anna.PutAsJsonAsync("/api/v1/me/status", new { note = "hello" })).EnsureSuccessStatusCode();
        }
        await Eventually.True(() => bob.Latest("anna")?.Note == "hello", because: "a contact watched this way gets pushed like any watch");
    }

    [Theory]
    [InlineData("{\"availability\":\"Unknown\"}", "availability: Unknown cannot be chosen")]
    [InlineData("{}", "body: give at least one of availability, activity, note")]
    [InlineData("{\"note\":\"x\",\"until\":\"2000-01-01T00:00:00Z\"}", "until: must be in the future")]
    public async Task SetStatus_refuses_what_the_REST_call_refuses_with_the_same_message(string body, string expected)
    {
        await using var anna = await SignalRWatcher.Connect(Server.BaseAddress, Tokens["anna"]);
        var request = JsonSerializer.Deserialize<JsonElement>(body);

        var error = await Assert.ThrowsAsync<HubException>(() => anna.Connection.InvokeAsync<JsonElement>("SetStatus", request));

        Assert.Contains("Invalid request: " + expected, error.Message, StringComparison.Ordinal);
        using var rest = Server.Client(Tokens["anna"]);
        var put = await rest.PutAsync("/api/v1/me/status", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, put.StatusCode);
        Assert.Contains(expected, await put.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SetStatus_refuses_a_missing_body_and_a_note_over_the_limit()
    {
        await using var anna = await SignalRWatcher.Connect(Server.BaseAddress, Tokens["anna"]);

        var missing = await Assert.ThrowsAsync<HubException>(() => anna.Connection.InvokeAsync<JsonElement>("SetStatus", (object?)null));
        var tooLong = await Assert.ThrowsAsync<HubException>(() => anna.Connection.InvokeAsync<JsonElement>("SetStatus", new { note = new string('n', 281) }));

        Assert.Contains("body: is required", missing.Message, StringComparison.Ordinal);
        Assert.Contains("note: must be at most 280 characters", tooLong.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_hub_refuses_a_connection_without_a_person_token()
    {
        var connection = new HubConnectionBuilder().WithUrl(new Uri(Server.BaseAddress, "/hubs/presence")).Build();
        await using (connection)
        {
            await Assert.ThrowsAnyAsync<Exception>(() => connection.StartAsync());
        }
    }
}

/// <summary>The hub's <c>SetStatus</c> under a small per-principal bucket (its own server: REST calls have a bucket too).</summary>
public sealed class HubStatusRateLimitTests() : ServerWithPeople(
    // 2 at once, 1 more per second (the REST bucket has the same size, so the test logs in with room to spare).
    ["--Herald:RateLimits:PerPrincipalPerSecond=1", "--Herald:RateLimits:PerPrincipalBurst=2"],
    HeraldTestServer.Person("anna"), HeraldTestServer.Person("bob"))
{
    [Fact]
    public async Task SetStatus_is_rate_limited_per_principal()
    {
        await using var anna = await SignalRWatcher.Connect(Server.BaseAddress, Tokens["anna"]);
        var refused = new List<HubException>();
        for (var i = 0; i < 8; i++)
        {
            try
            {
                await anna.Connection.InvokeAsync<JsonElement>("SetStatus", new { note = $"n{i}" });
            }
            catch (HubException e)
            {
                refused.Add(e);
            }
        }

        // A bucket of 2 refilled by 1 per second lets at most 2 + (elapsed seconds) of 8 quick calls through.
        Assert.NotEmpty(refused);
        Assert.All(refused, e => Assert.Matches(@"Rate limit exceeded; retry after \d+ s\.", e.Message));
        // Another principal has its own bucket.
        await using var bob = await SignalRWatcher.Connect(Server.BaseAddress, Tokens["bob"]);
        var ok = await bob.Connection.InvokeAsync<JsonElement>("SetStatus", new { note = "mine" });
        Assert.Equal("bob", ok.GetProperty("userId").GetString());
    }
}
