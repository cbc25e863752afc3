using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Herald.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR.Client;

namespace Herald.Server.Tests.Live;

public sealed class FoundationScenarioTests() : ServerWithPeople([], HeraldTestServer.Person("anna"), HeraldTestServer.Person("bob"))
{
    [Fact]
    public async Task A_watcher_receives_do_not_disturb_over_SignalR_and_SSE_with_a_higher_sequence()
    {
        await using var hub = await SignalRWatcher.Connect(Server.BaseAddress, Tokens["bob"]);
        var initial = (await hub.Watch("anna")).Single();
        Assert.Equal("Offline", initial.Availability);
        await using var sse = await SseWatcher.Connect(Server, Tokens["bob"], "watch=anna");
        await Eventually.True(() => sse.Latest("anna") is not null, because: "the SSE stream starts with a snapshot");

        using var anna = Server.Client(Tokens["anna"]);
        var put = await anna.PutAsJsonAsync("/api/v1/me/status", new { availability = "DoNotDisturb", note = "writing" });
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);

        await Eventually.True(() => hub.Latest("anna")?.Availability == "DoNotDisturb", because: "SignalR delivers the change");
        await Eventually.True(() => sse.Latest("anna")?.Availability == "DoNotDisturb", because: "SSE delivers the change");
        Assert.True(hub.Latest("anna")!.Sequence > initial.Sequence);
        Assert.True(sse.Latest("anna")!.Sequence > initial.Sequence);
        Assert.Equal("writing", sse.Latest("anna")!.Note);
        Assert.Null(hub.Latest("anna")!.Provenance is { ValueKind: JsonValueKind.Object } ? "leak" : null);
    }

    [Fact]
    public async Task A_device_that_stops_heartbeating_is_offline_after_ttl_and_grace_with_last_seen()
    {
        await using var hub = await SignalRWatcher.Connect(Server.BaseAddress, Tokens["bob"]);
        await hub.Watch("anna");
        using var anna = Server.Client(Tokens["anna"]);
        var started = Server.Time.GetUtcNow();
        (await anna.PutAsJsonAsync("/api/v1/me/devices/laptop", new { kind = "Desktop", ttlSeconds = 30 })).EnsureSuccessStatusCode();
        await Eventually.True(() => hub.Latest("anna")?.Availability == "Available");

        Server.Time.Advance(TimeSpan.FromSeconds(20));
        (await anna.PostAsync("/api/v1/me/devices/laptop/heartbeat", null)).EnsureSuccessStatusCode();
        var lastBeat = Server.Time.GetUtcNow();
        Server.Time.Advance(TimeSpan.FromSeconds(40)); // past the TTL, inside the 15 s grace window
        Assert.Equal("Available", (await Get(anna, "/api/v1/me/presence")).GetProperty("availability").GetString());

        Server.Time.Advance(TimeSpan.FromSeconds(6)); // past TTL + grace
        await Eventually.True(() => hub.Latest("anna")?.Availability == "Offline", because: "the grain's expiry timer fires on lease end");
        // A colleague gets last-seen to the hour (the default precision for colleagues); Anna herself exactly.
        Assert.Equal(new DateTimeOffset(lastBeat.Year, lastBeat.Month, lastBeat.Day, lastBeat.Hour, 0, 0, TimeSpan.Zero), hub.Latest("anna")!.LastSeen);
        Assert.Equal(lastBeat, (await Get(anna, "/api/v1/me/presence")).GetProperty("lastSeen").GetDateTimeOffset());
        Assert.True(lastBeat > started);
        Assert.Equal(HttpStatusCode.NotFound, (await anna.PostAsync("/api/v1/me/devices/laptop/heartbeat", null)).StatusCode);
    }

    [Fact]
    public async Task Preferred_do_not_disturb_beats_an_available_device_and_provenance_says_so()
    {
        using var anna = Server.Client(Tokens["anna"]);
        (await anna.PutAsJsonAsync("/api/v1/me/devices/phone", new { kind = "Mobile", availability = "Available", ttlSeconds = 300 })).EnsureSuccessStatusCode();
        var before = await Get(anna, "/api/v1/me/presence");
        Assert.Equal("Device", before.GetProperty("provenance").GetProperty("source").GetString());
        Assert.Equal("phone", before.GetProperty("provenance").GetProperty("sourceId").GetString());

        (await anna.PutAsJsonAsync("/api/v1/me/status", new { availability = "DoNotDisturb" })).EnsureSuccessStatusCode();
        var me = await Get(anna, "/api/v1/me/presence");
        Assert.Equal("DoNotDisturb", me.GetProperty("availability").GetString());
        Assert.Equal("Preferred", me.GetProperty("provenance").GetProperty("source").GetString());
        Assert.Equal(Server.Time.GetUtcNow().AddDays(1), me.GetProperty("provenance").GetProperty("until").GetDateTimeOffset());
        Assert.Equal("Available", me.GetProperty("devices")[0].GetProperty("availability").GetString());

        using var bob = Server.Client(Tokens["bob"]);
        var seen = await Get(bob, "/api/v1/presence/anna");
        Assert.Equal("DoNotDisturb", seen.GetProperty("availability").GetString());
        Assert.Equal(JsonValueKind.Null, seen.GetProperty("provenance").ValueKind);
    }

    [Fact]
    public async Task The_preferred_status_and_contacts_survive_a_restart_and_devices_come_back_with_heartbeats()
    {
        using (var anna = Server.Client(Tokens["anna"]))
        {
            (await anna.PutAsJsonAsync("/api/v1/me/status", new { availability = "Busy", note = "quarterly report" })).EnsureSuccessStatusCode();
            (await anna.PutAsync("/api/v1/me/contacts/bob", null)).EnsureSuccessStatusCode();
            (await anna.PutAsJsonAsync("/api/v1/me/devices/laptop", new { kind = "Desktop", ttlSeconds = 60 })).EnsureSuccessStatusCode();
        }
        await Server.RestartAsync();
        var token = await Server.Login("anna", "pw-anna-123");
        using var again = Server.Client(token);
        var me = await Get(again, "/api/v1/me/presence");
        Assert.Equal("Busy", me.GetProperty("availability").GetString());
        Assert.Equal("quarterly report", me.GetProperty("note").GetString());
        Assert.Equal(0, me.GetProperty("devices").GetArrayLength());
        var contacts = await again.GetFromJsonAsync<JsonElement>("/api/v1/me/contacts");
        Assert.Equal("bob", contacts[0].GetProperty("userId").GetString());
        // The device's old session is gone; its client starts it again.
        Assert.Equal(HttpStatusCode.NotFound, (await again.PostAsync("/api/v1/me/devices/laptop/heartbeat", null)).StatusCode);
        (await again.PutAsJsonAsync("/api/v1/me/devices/laptop", new { kind = "Desktop", ttlSeconds = 60 })).EnsureSuccessStatusCode();
        Assert.Equal(1, (await Get(again, "/api/v1/me/presence")).GetProperty("devices").GetArrayLength());
    }

    [Fact]
    public async Task Resuming_with_known_sequences_returns_only_what_moved_on()
    {
        await using var hub = await SignalRWatcher.Connect(Server.BaseAddress, Tokens["bob"]);
        var first = (await hub.Watch("anna")).Single();
        await hub.DisposeAsync();

        using var anna = Server.Client(Tokens["anna"]);
        (await anna.PutAsJsonAsync("/api/v1/me/status", new { availability = "Away" })).EnsureSuccessStatusCode();

        await using var again = await SignalRWatcher.Connect(Server.BaseAddress, Tokens["bob"]);
        var missed = await again.Connection.InvokeAsync<List<JsonElement>>("WatchFrom", new Dictionary<string, long> { ["anna"] = first.Sequence });
        Assert.Equal("Away", Assert.Single(missed).GetProperty("availability").GetString());
        var current = missed[0].GetProperty("sequence").GetInt64();
        var nothing = await again.Connection.InvokeAsync<List<JsonElement>>("WatchFrom", new Dictionary<string, long> { ["anna"] = current });
        Assert.Empty(nothing);

        await using var sse = await SseWatcher.Connect(Server, Tokens["bob"], "watch=anna", lastEventId: $"anna:{current}");
        (await anna.PutAsJsonAsync("/api/v1/me/status", new { availability = "BeRightBack" })).EnsureSuccessStatusCode();
        await Eventually.True(() => sse.Latest("anna")?.Availability == "BeRightBack");
        Assert.DoesNotContain(sse.Received, v => v.Availability == "Away");
    }

    [Fact]
    public async Task A_connection_bound_device_survives_a_quick_reconnect_without_flicker_and_lapses_after_the_grace_window()
    {
        await using var bob = await SignalRWatcher.Connect(Server.BaseAddress, Tokens["bob"]);
        await bob.Watch("anna");
        var page = await SignalRWatcher.Connect(Server.BaseAddress, Tokens["anna"]);
        await page.Connection.InvokeAsync<JsonElement>("Present", "web", "Web", null);
        await Eventually.True(() => bob.Latest("anna")?.Availability == "Available");

        var keeper = Server.Services.GetRequiredService<Herald.Server.Live.DeviceLeaseKeeper>();
        await page.DisposeAsync(); // the tab reloads
        await Eventually.True(() => keeper.Disconnects == 1, because: "the server handled the disconnect");
        Server.Time.Advance(TimeSpan.FromSeconds(5));
        await using var again = await SignalRWatcher.Connect(Server.BaseAddress, Tokens["anna"]);
        await again.Connection.InvokeAsync<JsonElement>("Present", "web", "Web", null);
        Server.Time.Advance(TimeSpan.FromSeconds(20));
        using (var anna = Server.Client(Tokens["anna"]))
        {
            Assert.Equal("Available", (await Get(anna, "/api/v1/me/presence")).GetProperty("availability").GetString());
        }
        Assert.DoesNotContain(bob.Received, v => v.Availability == "Offline" && v.Sequence > 0 && bob.Received.Any(a => a.Availability == "Available" && a.Sequence < v.Sequence));

        await again.DisposeAsync(); // the tab closes for good
        await Eventually.True(() => keeper.Disconnects == 2, because: "the server handled the disconnect");
        Server.Time.Advance(TimeSpan.FromSeconds(16)); // past the 15 s grace window
        await Eventually.True(() => bob.Latest("anna")?.Availability == "Offline", because: "the device lapses after the grace window");
    }

    private static async Task<JsonElement> Get(HttpClient client, string path)
    {
        var r = await client.GetAsync(path);
        Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
        return await r.Content.ReadFromJsonAsync<JsonElement>();
    }
}
