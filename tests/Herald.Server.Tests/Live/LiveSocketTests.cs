using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Live;

/// <summary>
/// The live WebSocket protocol at <c>/api/v1/live</c>: watch, resume, status, present and ping over JSON messages;
/// presence pushed as batches; every bad input answered with an <c>error</c> (the connection stays usable) or, for
/// what breaks the framing, a WebSocket close with the right status.
/// </summary>
public sealed class LiveSocketTests() : ServerWithPeople(
    [], HeraldTestServer.Person("anna"), HeraldTestServer.Person("bob"), HeraldTestServer.Person("cleo"))
{
    [Fact]
    public async Task A_watcher_gets_the_current_views_and_then_every_change_pushed()
    {
        await using var bob = await SocketWatcher.Connect(Server.BaseAddress, Tokens["bob"]);
        Assert.Equal("herald.live.v1", bob.Socket.SubProtocol);
        var initial = await bob.Watch("anna", "cleo");
        Assert.Equal(["anna", "cleo"], initial.Select(v => v.UserId).Order());

        using var anna = Server.Client(Tokens["anna"]);
        (await anna.PutAsJsonAsync("/api/v1/me/status", new { availability = "DoNotDisturb", note = "writing" })).EnsureSuccessStatusCode();

        await Eventually.True(() => bob.Latest("anna")?.Availability == "DoNotDisturb", because: "the change is pushed");
        Assert.Equal("writing", bob.Latest("anna")!.Note);
        Assert.True(bob.Latest("anna")!.Sequence > initial.Single(v => v.UserId == "anna").Sequence);
        // cleo did not change: nothing new pushed for her (a silo renewal may re-hand her current view, same sequence)
        Assert.True(bob.Latest("cleo") is null || bob.Latest("cleo")!.Sequence == initial.Single(v => v.UserId == "cleo").Sequence);
    }

    [Fact]
    public async Task Concurrent_changes_of_several_people_arrive_in_order_per_person_and_end_at_the_latest()
    {
        // Views are written either by the delivering thread (when the connection is idle) or by the connection's pump
        // (when a send is in progress); both take from the same outbox under the send lock, so per person the
        // sequences a client sees only rise, and the last one it sees is the person's latest.
        await using var bob = await SocketWatcher.Connect(Server.BaseAddress, Tokens["bob"]);
        await bob.Watch("anna", "cleo");
        await using var anna = await SocketWatcher.Connect(Server.BaseAddress, Tokens["anna"]);
        await using var cleo = await SocketWatcher.Connect(Server.BaseAddress, Tokens["cleo"]);

        const int changes = 60;
        async Task<long> Publish(SocketWatcher who, string name)
        {
            var last = 0L;
            var inFlight = new List<Task<JsonElement>>();
            for (var i = 0; i < changes; i++)
            {
                inFlight.Add(who.Request(new { op = "status", status = new { availability = i % 2 == 0 ? "Busy" : "Available", note = $"{name} {i}" } }));
                if (inFlight.Count == 8)
                {
                    foreach (var r in await Task.WhenAll(inFlight))
                    {
                        last = Math.Max(last, r.GetProperty("view").GetProperty("sequence").GetInt64());
                    }
                    inFlight.Clear();
                }
            }
            foreach (var r in await Task.WhenAll(inFlight))
            {
                last = Math.Max(last, r.GetProperty("view").GetProperty("sequence").GetInt64());
            }
            return last;
        }

        var finals = await Task.WhenAll(Publish(anna, "anna"), Publish(cleo, "cleo"));

        await Eventually.True(() => bob.Latest("anna")?.Sequence == finals[0] && bob.Latest("cleo")?.Sequence == finals[1],
            because: "each person's latest view reaches the watcher");
        foreach (var person in new[] { "anna", "cleo" })
        {
            var seen = bob.Received.Where(v => v.UserId == person).Select(v => v.Sequence).ToList();
            for (var i = 1; i < seen.Count; i++)
            {
                Assert.True(seen[i] >= seen[i - 1], $"{person}: sequence {seen[i]} arrived after {seen[i - 1]}");
            }
        }
    }

    [Fact]
    public async Task Status_sets_the_callers_status_like_the_REST_call_and_watchers_receive_it()
    {
        await using var bob = await SocketWatcher.Connect(Server.BaseAddress, Tokens["bob"]);
        await bob.Watch("anna");
        await using var anna = await SocketWatcher.Connect(Server.BaseAddress, Tokens["anna"]);

        var reply = await anna.Request(new { op = "status", status = new { availability = "Busy", note = "in a call" } });

        Assert.Equal("result", reply.GetProperty("type").GetString());
        Assert.Equal("Busy", reply.GetProperty("view").GetProperty("availability").GetString());
        await Eventually.True(() => bob.Latest("anna")?.Note == "in a call");
        using var rest = Server.Client(Tokens["anna"]);
        Assert.Equal("Busy", (await rest.GetFromJsonAsync<JsonElement>("/api/v1/me/presence")).GetProperty("availability").GetString());
    }

    [Theory]
    [InlineData("{\"op\":\"status\",\"id\":1,\"status\":{\"availability\":\"Unknown\"}}", 400, "Invalid request: availability: Unknown cannot be chosen")]
    [InlineData("{\"op\":\"status\",\"id\":1}", 400, "Invalid request: body: is required")]
    [InlineData("{\"op\":\"watch\",\"id\":1,\"users\":[\"nobody\"]}", 404, "Unknown people: nobody")]
    [InlineData("{\"op\":\"watch\",\"id\":1,\"users\":[\"no way\"]}", 400, "Invalid ids: no way")]
    [InlineData("{\"op\":\"watch\",\"id\":1}", 400, "users: is required")]
    [InlineData("{\"op\":\"watch\",\"id\":1,\"contacts\":false}", 400, "users: is required")]
    [InlineData("{\"op\":\"watch\",\"id\":1,\"contacts\":\"yes\"}", 400, "not a valid request")]
    [InlineData("{\"op\":\"watch\",\"id\":1,\"contacts\":true,\"users\":[\"nobody\"]}", 404, "Unknown people: nobody")]
    [InlineData("{\"op\":\"watch\",\"id\":1,\"contacts\":true,\"users\":[\"no way\"]}", 400, "Invalid ids: no way")]
    [InlineData("{\"op\":\"watch\",\"id\":1,\"contacts\":true,\"users\":[null]}", 400, "Invalid ids: null")]
    [InlineData("{\"op\":\"watch\",\"id\":1,\"users\":[\"bob\",null]}", 400, "Invalid ids: null")]
    [InlineData("{\"op\":\"watchFrom\",\"id\":1}", 400, "known: is required")]
    [InlineData("{\"op\":\"present\",\"id\":1,\"deviceId\":\"\"}", 400, "deviceId must be")]
    [InlineData("{\"op\":\"fly\",\"id\":1}", 400, "Unknown op 'fly'")]
    [InlineData("{\"id\":1}", 400, "Unknown op ''")]
    [InlineData("{\"op\":\"status\",\"id\":1,\"status\":{\"availability\":\"Sleepy\"}}", 400, "not a valid request")]
    [InlineData("[1,2", 400, "not a valid request")]
    [InlineData("null", 400, "a request is a JSON object")]
    public async Task Bad_requests_get_an_error_with_a_status_and_the_connection_stays_usable(string message, int status, string detail)
    {
        await using var anna = await SocketWatcher.Connect(Server.BaseAddress, Tokens["anna"]);

        await anna.SendRaw(message);
        await Eventually.True(() => anna.Messages.Any(m => m.GetProperty("type").GetString() == "error"));

        var error = anna.Messages.Single(m => m.GetProperty("type").GetString() == "error");
        Assert.Equal(status, error.GetProperty("status").GetInt32());
        Assert.Contains(detail, error.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var pong = await anna.Request(new { op = "ping" });
        Assert.Equal("pong", pong.GetProperty("type").GetString());
        Assert.False(anna.Closed);
    }

    [Fact]
    public async Task Watch_with_contacts_watches_the_callers_contacts_with_the_same_views_as_the_contacts_request()
    {
        using var bobRest = Server.Client(Tokens["bob"]);
        (await bobRest.PutAsync("/api/v1/me/contacts/cleo", null)).EnsureSuccessStatusCode();
        (await bobRest.PutAsync("/api/v1/me/contacts/anna", null)).EnsureSuccessStatusCode();
        using (var anna = Server.Client(Tokens["anna"]))
        {
            // anna hides her note from bob only: the socket must give bob exactly what the contacts request gives him.
            (await anna.PutAsJsonAsync("/api/v1/me/privacy", new { watchers = new { bob = new { rules = new { any = new { note = false } } } } })).EnsureSuccessStatusCode();
            (await anna.PutAsJsonAsync("/api/v1/me/status", new { availability = "Busy", note = "secret" })).EnsureSuccessStatusCode();
        }
        using (var cleo = Server.Client(Tokens["cleo"]))
        {
            (await cleo.PutAsJsonAsync("/api/v1/me/status", new { note = "visible" })).EnsureSuccessStatusCode();
        }
        var rest = await bobRest.GetFromJsonAsync<List<ViewDto>>("/api/v1/me/contacts", HeraldTestServer.Json);

        await using var bob = await SocketWatcher.Connect(Server.BaseAddress, Tokens["bob"]);
        var reply = await bob.Request(new { op = "watch", contacts = true });

        Assert.Equal("result", reply.GetProperty("type").GetString());
        var views = reply.GetProperty("views").EnumerateArray().Select(v => v.Deserialize<ViewDto>(HeraldTestServer.Json)!).ToList();
        Assert.Equal(rest!.Select(v => (v.UserId, v.Availability, v.Note, v.Sequence)), views.Select(v => (v.UserId, v.Availability, v.Note, v.Sequence)));
        Assert.Equal(["cleo", "anna"], views.Select(v => v.UserId)); // the order of the contact list
        Assert.Null(views.Single(v => v.UserId == "anna").Note);
        Assert.Equal("visible", views.Single(v => v.UserId == "cleo").Note);

        // Now watched: a change is pushed, through the same view pipeline (the note stays hidden from bob).
        using (var anna = Server.Client(Tokens["anna"]))
        {
            (await anna.PutAsJsonAsync("/api/v1/me/status", new { availability = "DoNotDisturb", note = "still secret" })).EnsureSuccessStatusCode();
        }
        await Eventually.True(() => bob.Latest("anna")?.Availability == "DoNotDisturb", because: "the contact's change is pushed");
        Assert.Null(bob.Latest("anna")!.Note);
        Assert.DoesNotContain(bob.Messages, m => m.GetRawText().Contains("secret", StringComparison.Ordinal));

        // The watch is audited as a live disclosure to bob, like a watch of the same ids.
        using var annaRest = Server.Client(Tokens["anna"]);
        var audit = await annaRest.GetFromJsonAsync<JsonElement>("/api/v1/me/audit?watcher=bob");
        Assert.Contains(audit.EnumerateArray(), e => e.GetProperty("kind").GetString() == "live" && e.GetProperty("channel").GetString() == "live");
    }

    [Fact]
    public async Task Watch_with_contacts_and_users_watches_both_and_without_contacts_returns_only_the_users()
    {
        using var bobRest = Server.Client(Tokens["bob"]);
        (await bobRest.PutAsync("/api/v1/me/contacts/anna", null)).EnsureSuccessStatusCode();
        await using var bob = await SocketWatcher.Connect(Server.BaseAddress, Tokens["bob"]);

        var reply = await bob.Request(new { op = "watch", contacts = true, users = new[] { "cleo", "anna" } });

        Assert.Equal(["anna", "cleo"], reply.GetProperty("views").EnumerateArray().Select(v => v.GetProperty("userId").GetString()));
        using (var cleo = Server.Client(Tokens["cleo"]))
        {
            (await cleo.PutAsJsonAsync("/api/v1/me/status", new { note = "pushed" })).EnsureSuccessStatusCode();
        }
        await Eventually.True(() => bob.Latest("cleo")?.Note == "pushed");

        // A person without contacts gets an empty result, and the connection stays usable.
        await using var cleoSocket = await SocketWatcher.Connect(Server.BaseAddress, Tokens["cleo"]);
        var none = await cleoSocket.Request(new { op = "watch", contacts = true });
        Assert.Equal("result", none.GetProperty("type").GetString());
        Assert.Equal(0, none.GetProperty("views").GetArrayLength());
    }

    [Fact]
    public async Task Watch_with_contacts_keeps_the_watch_limit()
    {
        await using var server = new HeraldTestServer(extraArgs: "--Herald:Limits:MaxWatch=1");
        await server.StartAsync();
        var tokens = await server.CreatePeople(HeraldTestServer.Person("anna"), HeraldTestServer.Person("bob"), HeraldTestServer.Person("cleo"));
        using var bobRest = server.Client(tokens["bob"]);
        (await bobRest.PutAsync("/api/v1/me/contacts/anna", null)).EnsureSuccessStatusCode();
        (await bobRest.PutAsync("/api/v1/me/contacts/cleo", null)).EnsureSuccessStatusCode();
        await using var bob = await SocketWatcher.Connect(server.BaseAddress, tokens["bob"]);

        var reply = await bob.Request(new { op = "watch", contacts = true });

        Assert.Equal("error", reply.GetProperty("type").GetString());
        Assert.Equal(400, reply.GetProperty("status").GetInt32());
        Assert.Contains("at most 1 people", reply.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WatchFrom_returns_only_what_moved_past_the_clients_sequences()
    {
        using (var anna = Server.Client(Tokens["anna"]))
        {
            (await anna.PutAsJsonAsync("/api/v1/me/status", new { note = "first" })).EnsureSuccessStatusCode();
        }
        long annaSeq, cleoSeq;
        await using (var bob = await SocketWatcher.Connect(Server.BaseAddress, Tokens["bob"]))
        {
            var views = await bob.Watch("anna", "cleo");
            annaSeq = views.Single(v => v.UserId == "anna").Sequence;
            cleoSeq = views.Single(v => v.UserId == "cleo").Sequence;
        }
        using (var anna = Server.Client(Tokens["anna"]))
        {
            (await anna.PutAsJsonAsync("/api/v1/me/status", new { note = "while bob was away" })).EnsureSuccessStatusCode();
        }

        await using var again = await SocketWatcher.Connect(Server.BaseAddress, Tokens["bob"]);
        var reply = await again.Request(new { op = "watchFrom", known = new Dictionary<string, long> { ["anna"] = annaSeq, ["cleo"] = cleoSeq } });

        var moved = reply.GetProperty("views").EnumerateArray().ToList();
        Assert.Single(moved);
        Assert.Equal("while bob was away", moved[0].GetProperty("note").GetString());
    }

    [Fact]
    public async Task Unwatch_stops_the_pushes_for_that_person()
    {
        await using var bob = await SocketWatcher.Connect(Server.BaseAddress, Tokens["bob"]);
        await bob.Watch("anna", "cleo");
        var reply = await bob.Request(new { op = "unwatch", users = new[] { "anna" } });
        Assert.Equal("result", reply.GetProperty("type").GetString());

        using (var anna = Server.Client(Tokens["anna"]))
        {
            (await anna.PutAsJsonAsync("/api/v1/me/status", new { note = "unseen" })).EnsureSuccessStatusCode();
        }
        using (var cleo = Server.Client(Tokens["cleo"]))
        {
            (await cleo.PutAsJsonAsync("/api/v1/me/status", new { note = "seen" })).EnsureSuccessStatusCode();
        }

        // cleo's change was made after anna's: once it has arrived, anna's would have too.
        await Eventually.True(() => bob.Latest("cleo")?.Note == "seen");
        Assert.NotEqual("unseen", bob.Latest("anna")?.Note); // a renewal may have re-handed her view from before the unwatch; never the change
    }

    [Fact]
    public async Task Present_makes_the_connection_a_device_and_closing_it_starts_the_grace_window()
    {
        var keeper = (Herald.Server.Live.DeviceLeaseKeeper)Server.Services.GetService(typeof(Herald.Server.Live.DeviceLeaseKeeper))!;
        var disconnectsBefore = keeper.Disconnects;
        await using (var anna = await SocketWatcher.Connect(Server.BaseAddress, Tokens["anna"]))
        {
            var reply = await anna.Request(new { op = "present", deviceId = "laptop-1", kind = "Desktop", availability = "Available" });
            Assert.Equal("result", reply.GetProperty("type").GetString());
            Assert.Equal("Available", reply.GetProperty("view").GetProperty("availability").GetString());
            using var rest = Server.Client(Tokens["anna"]);
            var own = await rest.GetFromJsonAsync<JsonElement>("/api/v1/me/presence");
            Assert.Contains(own.GetProperty("devices").EnumerateArray(), d => d.GetProperty("deviceId").GetString() == "laptop-1");
        }
        await Eventually.True(() => keeper.Disconnects > disconnectsBefore, because: "closing the socket hands the device to its grace window");
    }

    [Fact]
    public async Task Present_beyond_the_device_limit_gets_a_422_error_and_the_connection_stays_usable()
    {
        using var rest = Server.Client(Tokens["anna"]);
        for (var i = 0; i < 20; i++) // Herald:Presence:MaxDevicesPerPerson, default 20
        {
            (await rest.PutAsJsonAsync($"/api/v1/me/devices/d{i}", new { kind = "Desktop", ttlSeconds = 3600 })).EnsureSuccessStatusCode();
        }
        await using var anna = await SocketWatcher.Connect(Server.BaseAddress, Tokens["anna"]);

        var reply = await anna.Request(new { op = "present", deviceId = "one-too-many" });

        Assert.Equal("error", reply.GetProperty("type").GetString());
        Assert.Equal(422, reply.GetProperty("status").GetInt32());
        Assert.Contains("at most 20 devices", reply.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("pong", (await anna.Request(new { op = "ping" })).GetProperty("type").GetString());
    }

    [Fact]
    public async Task A_message_over_the_limit_closes_the_connection_with_1009()
    {
        await using var anna = await SocketWatcher.Connect(Server.BaseAddress, Tokens["anna"]);

        await anna.SendRaw("{\"op\":\"ping\",\"pad\":\"" + new string('x', Herald.Server.Live.LiveSocketApi.MaxMessageBytes) + "\"}");

        await Eventually.True(() => anna.Closed);
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, anna.CloseStatus);
    }

    [Fact]
    public async Task A_binary_message_closes_the_connection_with_1003()
    {
        await using var anna = await SocketWatcher.Connect(Server.BaseAddress, Tokens["anna"]);

        await anna.SendRaw("{\"op\":\"ping\"}", WebSocketMessageType.Binary);

        await Eventually.True(() => anna.Closed);
        Assert.Equal(WebSocketCloseStatus.InvalidMessageType, anna.CloseStatus);
    }

    [Fact]
    public async Task Without_an_upgrade_a_token_or_our_subprotocol_the_endpoint_answers_with_problem_details()
    {
        using var anon = Server.Client();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anon.GetAsync("/api/v1/live")).StatusCode);

        using var anna = Server.Client(Tokens["anna"]);
        var plain = await anna.GetAsync("/api/v1/live");
        Assert.Equal(HttpStatusCode.BadRequest, plain.StatusCode);
        Assert.Equal("application/problem+json", plain.Content.Headers.ContentType?.MediaType);
        Assert.Contains("WebSocket upgrade required", await plain.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var wrong = await Assert.ThrowsAnyAsync<WebSocketException>(() => SocketWatcher.Connect(Server.BaseAddress, Tokens["anna"], "chat.v2"));
        Assert.Contains("400", wrong.Message, StringComparison.Ordinal);
        await using var none = await SocketWatcher.Connect(Server.BaseAddress, Tokens["anna"], subProtocol: null);
        Assert.Equal("pong", (await none.Request(new { op = "ping" })).GetProperty("type").GetString());
    }

    [Fact]
    public async Task A_browser_can_authenticate_with_the_access_token_query()
    {
        using var ws = new ClientWebSocket();
        var uri = new UriBuilder(Server.BaseAddress) { Scheme = "ws", Path = "/api/v1/live", Query = "access_token=" + Uri.EscapeDataString(Tokens["anna"]) }.Uri;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await ws.ConnectAsync(uri, timeout.Token);
        Assert.Equal(WebSocketState.Open, ws.State);
        await ws.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
    }
}
