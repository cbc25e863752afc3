using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Herald.Cluster.Directory;
using Herald.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR.Client;

namespace Herald.Server.Tests.Live;

/// <summary>
/// A live connection ends when the credential it was opened with does: at the bearer token's expiry (fake clock), when
/// the account is deleted, when an API key is revoked, and — for changes made elsewhere — at the next re-check. Each
/// channel closes its own way (WebSocket 4401/4403, SignalR <c>closed</c> then abort, SSE final <c>closed</c> event);
/// other connections stay open and keep receiving presence.
/// </summary>
public sealed class CredentialEndTests : IAsyncLifetime
{
    private readonly HeraldTestServer _server = new();
    private Dictionary<string, string> _tokens = null!;

    public async Task InitializeAsync()
    {
        await _server.StartAsync();
        _tokens = await _server.CreatePeople(HeraldTestServer.Person("anna"), HeraldTestServer.Person("bob"), HeraldTestServer.Person("cleo"),
            HeraldTestServer.Person("dora", timeZone: "America/Los_Angeles")); // dora's working day is the evening in UTC
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    /// <summary>Bob on all three channels, each watching anna.</summary>
    private sealed class Channels : IAsyncDisposable
    {
        public SocketWatcher Socket { get; private init; } = null!;
        public SignalRWatcher Hub { get; private init; } = null!;
        public SseWatcher Sse { get; private init; } = null!;
        public System.Collections.Concurrent.ConcurrentQueue<JsonElement> HubClosedMessages { get; } = new();
        public bool HubClosed { get; private set; }

        public static async Task<Channels> Open(HeraldTestServer server, string token, string watch)
        {
            var socket = await SocketWatcher.Connect(server.BaseAddress, token);
            await socket.Watch(watch);
            var hub = await SignalRWatcher.Connect(server.BaseAddress, token);
            var c = new Channels { Socket = socket, Hub = hub, Sse = await SseWatcher.Connect(server, token, "watch=" + watch) };
            hub.Connection.On<JsonElement>("closed", m => c.HubClosedMessages.Enqueue(m));
            hub.Connection.Closed += _ =>
            {
                c.HubClosed = true;
                return Task.CompletedTask;
            };
            await hub.Watch(watch);
            await Eventually.True(() => c.Sse.Received.Any(v => v.UserId == watch), because: "the SSE snapshot arrived");
            return c;
        }

        public async Task AssertAllClosed(int code, string reason)
        {
            await Eventually.True(() => Socket.Closed, because: "the WebSocket is closed");
            Assert.Equal(code, (int)Socket.CloseStatus!.Value);
            Assert.Equal(reason, Socket.Socket.CloseStatusDescription);
            var last = Socket.Messages.Last();
            Assert.Equal("closed", last.GetProperty("type").GetString());
            Assert.Equal(code, last.GetProperty("code").GetInt32());

            await Eventually.True(() => HubClosed, because: "the SignalR connection is closed");
            var hubMessage = Assert.Single(HubClosedMessages);
            Assert.Equal(code, hubMessage.GetProperty("code").GetInt32());
            Assert.Equal(reason, hubMessage.GetProperty("reason").GetString());

            await Eventually.True(() => Sse.Ended, because: "the SSE stream ended");
            Assert.Equal("closed", Sse.Types.Last());
            Assert.Equal(code, Sse.ClosedEvent!.Value.GetProperty("code").GetInt32());
            Assert.Equal(reason, Sse.ClosedEvent!.Value.GetProperty("reason").GetString());
        }

        public void AssertAllOpen()
        {
            Assert.False(Socket.Closed, "the WebSocket is still open");
            Assert.Equal(HubConnectionState.Connected, Hub.Connection.State);
            Assert.False(Sse.Ended, "the SSE stream is still open");
        }

        public async ValueTask DisposeAsync()
        {
            await Socket.DisposeAsync();
            await Hub.DisposeAsync();
            await Sse.DisposeAsync();
        }
    }

    private async Task SetStatus(string who, string availability, string note)
    {
        using var c = _server.Client(await _server.Login(who, $"pw-{who}-123"));
        (await c.PutAsJsonAsync("/api/v1/me/status", new { availability, note })).EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task At_the_token_expiry_every_channel_closes_with_4401_others_keep_receiving_and_a_fresh_token_reconnects()
    {
        var lifetime = TimeSpan.FromHours(12); // Herald:Auth:TokenLifetime default
        await using var bob = await Channels.Open(_server, _tokens["bob"], "dora");
        _server.Time.Advance(TimeSpan.FromHours(1));
        await using var cleo = await SocketWatcher.Connect(_server.BaseAddress, await _server.Login("cleo", "pw-cleo-123")); // expires an hour later
        await cleo.Watch("dora");

        _server.Time.Advance(lifetime - TimeSpan.FromHours(1) - TimeSpan.FromSeconds(1));
        long Seq(ViewDto? v) => v?.Sequence ?? 0;
        var (ws0, sse0, hub0) = (Seq(bob.Socket.Latest("dora")), Seq(bob.Sse.Latest("dora")), Seq(bob.Hub.Latest("dora")));
        await SetStatus("dora", "Busy", "one second before");
        await Eventually.True(() => Seq(bob.Socket.Latest("dora")) > ws0 && Seq(bob.Sse.Latest("dora")) > sse0 && Seq(bob.Hub.Latest("dora")) > hub0,
            because: "until its expiry the token's connections receive presence");
        bob.AssertAllOpen();

        _server.Time.Advance(TimeSpan.FromSeconds(2));
        await bob.AssertAllClosed(4401, "token expired");

        var (ws1, sse1, hub1) = (Seq(bob.Socket.Latest("dora")), Seq(bob.Sse.Latest("dora")), Seq(bob.Hub.Latest("dora")));
        var cleo1 = Seq(cleo.Latest("dora"));
        await SetStatus("dora", "Available", "after bob's expiry");
        await Eventually.True(() => Seq(cleo.Latest("dora")) > cleo1, because: "a connection with a valid token keeps receiving");
        Assert.False(cleo.Closed);
        Assert.Equal((ws1, sse1, hub1), (Seq(bob.Socket.Latest("dora")), Seq(bob.Sse.Latest("dora")), Seq(bob.Hub.Latest("dora"))));

        // The old token opens nothing; a fresh one does.
        await Assert.ThrowsAnyAsync<System.Net.WebSockets.WebSocketException>(() => SocketWatcher.Connect(_server.BaseAddress, _tokens["bob"]));
        await using var again = await SocketWatcher.Connect(_server.BaseAddress, await _server.Login("bob", "pw-bob-123"));
        Assert.Equal("dora", (await again.Watch("dora")).Single().UserId);
        Assert.False(again.Closed);
    }

    [Fact]
    public async Task The_sdk_reconnects_with_a_fresh_token_after_expiry_and_gives_up_after_a_revocation()
    {
        var logins = 0;
        await using var refreshing = new Herald.Client.PresenceWatcher([_server.BaseAddress], async _ =>
        {
            Interlocked.Increment(ref logins);
            return await _server.Login("bob", "pw-bob-123");
        });
        await using var fixedToken = new Herald.Client.PresenceWatcher(_server.BaseAddress, _tokens["cleo"]);
        var ended = new System.Collections.Concurrent.ConcurrentQueue<(string Who, Herald.Client.CredentialEndedInfo Info)>();
        var seen = new System.Collections.Concurrent.ConcurrentQueue<Herald.Client.PresenceView>();
        var reconnects = 0;
        refreshing.CredentialEnded += (_, e) => ended.Enqueue(("bob", e));
        fixedToken.CredentialEnded += (_, e) => ended.Enqueue(("cleo", e));
        refreshing.Reconnected += (_, _) => Interlocked.Increment(ref reconnects);
        refreshing.PresenceChanged += (_, v) => seen.Enqueue(v);
        await refreshing.StartAsync();
        await fixedToken.StartAsync();
        var loginsAtStart = Volatile.Read(ref logins); // the provider is asked at every connect (negotiate and transport)
        var before = (await refreshing.WatchAsync(["dora"])).Single().Sequence;
        await fixedToken.WatchAsync(["dora"]);

        _server.Time.Advance(TimeSpan.FromHours(12) + TimeSpan.FromSeconds(1)); // both tokens expire
        await Eventually.True(() => ended.Count == 2 && Volatile.Read(ref reconnects) == 1, because: "both ended; the refreshing one reconnected");
        Assert.All(ended, e => Assert.Equal((4401, "token expired"), (e.Info.Code, e.Info.Reason)));
        Assert.True(Volatile.Read(ref logins) > loginsAtStart, "the reconnect asked the provider for a fresh token");
        var loginsAfterReconnect = Volatile.Read(ref logins);
        Assert.Equal(Microsoft.AspNetCore.SignalR.Client.HubConnectionState.Connected, refreshing.State);
        Assert.Equal(Microsoft.AspNetCore.SignalR.Client.HubConnectionState.Disconnected, fixedToken.State); // no retries with an expired token

        await SetStatus("dora", "Busy", "after the reconnect");
        await Eventually.True(() => seen.Any(v => v.UserId == "dora" && v.Sequence > before), because: "the resumed watch receives presence");

        using var admin = _server.Client(await _server.Login("admin", HeraldTestServer.AdminPassword));
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync("/api/v1/admin/people/bob")).StatusCode);
        await Eventually.True(() => ended.Count == 3, because: "the deletion ended bob's connection");
        Assert.Equal((4403, "account deleted"), (ended.Last().Info.Code, ended.Last().Info.Reason));
        await Eventually.True(() => refreshing.State == Microsoft.AspNetCore.SignalR.Client.HubConnectionState.Disconnected, because: "closed");
        Assert.Equal(loginsAfterReconnect, Volatile.Read(ref logins)); // no reconnect after a revocation
    }

    [Fact]
    public async Task Deleting_an_account_closes_that_persons_connections_on_every_channel_and_nobody_elses()
    {
        await using var bob = await Channels.Open(_server, _tokens["bob"], "anna");
        await using var cleo = await Channels.Open(_server, _tokens["cleo"], "anna");

        using var admin = _server.Client(await _server.Login("admin", HeraldTestServer.AdminPassword));
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync("/api/v1/admin/people/bob")).StatusCode);
        await bob.AssertAllClosed(4403, "account deleted");

        await SetStatus("anna", "Away", "after bob left");
        await Eventually.True(() => cleo.Socket.Latest("anna")?.Note == "after bob left" && cleo.Sse.Latest("anna")?.Note == "after bob left"
            && cleo.Hub.Latest("anna")?.Note == "after bob left", because: "the other person's connections keep receiving");
        cleo.AssertAllOpen();
        Assert.DoesNotContain(bob.Socket.Received, v => v.Note == "after bob left");
        Assert.Equal(3, _server.Services.GetRequiredService<LiveCredentials>().Count); // cleo's three remain registered
    }

    [Fact]
    public async Task An_account_deleted_by_another_node_closes_the_connections_here_at_the_next_recheck()
    {
        await using var bob = await SocketWatcher.Connect(_server.BaseAddress, _tokens["bob"]);
        await bob.Watch("anna");
        await using var cleo = await SocketWatcher.Connect(_server.BaseAddress, _tokens["cleo"]);
        await cleo.Watch("anna");

        // Straight in the store, as another node would (no call on this node; embedded mode has no invalidation messages).
        Assert.True(await _server.Services.GetRequiredService<IAccountStore>().DeleteAccount("bob"));
        _server.Time.Advance(TimeSpan.FromSeconds(30)); // Herald:Auth:LiveRecheckInterval default
        await Eventually.True(() => bob.Closed, because: "the sweep found the account gone");
        Assert.Equal(4403, (int)bob.CloseStatus!.Value);
        Assert.Equal("account deleted", bob.Socket.CloseStatusDescription);
        Assert.False(cleo.Closed);
    }

    [Fact]
    public async Task A_password_change_closes_the_connections_opened_with_a_token_issued_before_it_with_4403_on_every_channel()
    {
        await using var bob = await Channels.Open(_server, _tokens["bob"], "anna");
        await using var cleo = await Channels.Open(_server, _tokens["cleo"], "anna");

        using var admin = _server.Client(await _server.Login("admin", HeraldTestServer.AdminPassword));
        var r = await admin.PutAsJsonAsync("/api/v1/admin/people/bob", new { id = "bob", displayName = "Bob", password = "bobs-new-password" });
        Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
        await bob.AssertAllClosed(4403, "password changed");

        await SetStatus("anna", "Away", "after bob's password change");
        await Eventually.True(() => cleo.Socket.Latest("anna")?.Note == "after bob's password change", because: "other people's connections keep receiving");
        cleo.AssertAllOpen();
        await Assert.ThrowsAnyAsync<System.Net.WebSockets.WebSocketException>(() => SocketWatcher.Connect(_server.BaseAddress, _tokens["bob"]));
        await using var again = await SocketWatcher.Connect(_server.BaseAddress, await _server.Login("bob", "bobs-new-password"));
        Assert.Equal("anna", (await again.Watch("anna")).Single().UserId);
    }

    [Fact]
    public async Task A_password_changed_by_another_node_closes_the_token_connections_here_at_the_next_recheck()
    {
        await using var bob = await SocketWatcher.Connect(_server.BaseAddress, _tokens["bob"]);
        await bob.Watch("anna");
        await using var cleo = await SocketWatcher.Connect(_server.BaseAddress, _tokens["cleo"]);
        await cleo.Watch("anna");

        var accounts = _server.Services.GetRequiredService<IAccountStore>();
        await accounts.UpsertAccount((await accounts.GetAccount("bob"))! with { Password = PasswordHasher.Hash("changed-elsewhere", 4096) });
        _server.Time.Advance(TimeSpan.FromSeconds(30)); // Herald:Auth:LiveRecheckInterval default
        await Eventually.True(() => bob.Closed, because: "the sweep found a different password");
        Assert.Equal(4403, (int)bob.CloseStatus!.Value);
        Assert.Equal("password changed", bob.Socket.CloseStatusDescription);
        Assert.False(cleo.Closed);
    }

    [Fact]
    public async Task Revoking_an_api_key_ends_the_connections_opened_with_it_and_deleting_the_owner_ends_those_of_their_keys()
    {
        // No live channel admits API keys today (they need a person's token, see docs/api.md), so a connection opened
        // with a key is stood in for by a registration like the one LiveConnections.Open makes for a key principal.
        using var bob = _server.Client(_tokens["bob"]);
        async Task<string> NewKey(string name)
        {
            var r = await bob.PostAsJsonAsync("/api/v1/apikeys", new { name, scopes = new[] { "devices" } });
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
            return (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        }
        var revoked = await NewKey("phone");
        var kept = await NewKey("desk");
        var credentials = _server.Services.GetRequiredService<LiveCredentials>();
        var onRevoked = new Probe();
        var onKept = new Probe();
        Assert.True(credentials.RegisterKey(onRevoked, revoked));
        Assert.True(credentials.RegisterKey(onKept, kept));

        Assert.Equal(HttpStatusCode.NoContent, (await bob.DeleteAsync($"/api/v1/apikeys/{revoked}")).StatusCode);
        Assert.Equal(CredentialEnd.KeyRevoked, onRevoked.Ended);
        Assert.Null(onKept.Ended);

        using var admin = _server.Client(await _server.Login("admin", HeraldTestServer.AdminPassword));
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync("/api/v1/admin/people/bob")).StatusCode);
        Assert.Equal(CredentialEnd.KeyRevoked, onKept.Ended);
    }

    [Fact]
    public async Task A_key_revoked_by_another_node_ends_its_connections_at_the_next_recheck()
    {
        using var bob = _server.Client(_tokens["bob"]);
        var r = await bob.PostAsJsonAsync("/api/v1/apikeys", new { name = "phone", scopes = new[] { "devices" } });
        var id = (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        var probe = new Probe();
        Assert.True(_server.Services.GetRequiredService<LiveCredentials>().RegisterKey(probe, id));

        Assert.True(await _server.Services.GetRequiredService<IApiKeyStore>().Delete(id));
        Assert.Null(probe.Ended);
        _server.Time.Advance(TimeSpan.FromSeconds(30));
        await Eventually.True(() => probe.Ended == CredentialEnd.KeyRevoked, because: "the sweep found the key gone");
    }

    [Fact]
    public async Task The_live_channels_take_a_persons_token_not_an_api_key()
    {
        using var bob = _server.Client(_tokens["bob"]);
        var r = await bob.PostAsJsonAsync("/api/v1/apikeys", new { name = "phone", scopes = new[] { "devices" } });
        var key = (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;
        using var c = _server.Client();
        c.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("ApiKey", key);
        Assert.Equal(HttpStatusCode.Forbidden, (await c.GetAsync("/api/v1/events?watch=anna")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await c.PostAsync("/hubs/presence/negotiate?negotiateVersion=1", null)).StatusCode);
    }

    private sealed class Probe : LiveCredential
    {
        public CredentialEnd? Ended { get; private set; }

        protected override void OnCredentialEnded(CredentialEnd reason) => Ended = reason;
    }
}
