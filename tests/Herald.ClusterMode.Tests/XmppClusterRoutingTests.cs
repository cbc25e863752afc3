using System.Net.Http.Json;
using System.Text.Json;
using Xunit.Abstractions;

namespace Herald.ClusterMode.Tests;

/// <summary>
/// XMPP chat routing across nodes: a real redis-server, two Herald node processes (Mode=Redis) each with its XMPP
/// gateway, a python3-slixmpp client on each node. A chat to a person whose resource is on the other node arrives
/// (through the person's XmppRouterGrain and the target gateway's observer); once that resource is unavailable the
/// sender gets recipient-unavailable with the status, as on one node. Binding a resource that is bound on the other
/// node ends the older stream there with conflict, as on one node.
/// </summary>
public sealed class XmppClusterRoutingTests(ITestOutputHelper output)
{
    [RedisSlixmppFact]
    public async Task A_chat_from_a_client_on_node_A_reaches_a_client_on_node_B_and_back()
    {
        Assert.True(SlixClient.Present, "python3-slixmpp is required (HERALD_REQUIRE_ALL=1)");
        await using var redis = await RedisInstance.StartAsync();
        var clusterId = "x" + Guid.NewGuid().ToString("N")[..12];
        var cluster = new ClusterDiagnostics(output);
        await using var a = cluster.Node("xa", redis, clusterId, "--Herald:Xmpp:Port=-1"); // a free port each, read from the node's log
        await using var b = cluster.Node("xb", redis, clusterId, "--Herald:Xmpp:Port=-1");
        await cluster.Run(async () =>
        {
            await StartWithAnnAndBea(a, b);

            await using var ann = SlixClient.Start("ann", a.XmppPort);
            await using var bea = SlixClient.Start("bea", b.XmppPort);
            await ann.WaitFor(l => l == "ready", SlixClient.Wait, "ann logged in on node A");
            await bea.WaitFor(l => l == "ready", SlixClient.Wait, "bea logged in on node B");
            await ann.Send("presence -");
            await bea.Send("presence -");
            // Both resources are registered once their devices show (the route is registered before the device).
            using var beaOnA = a.Client(await a.Login("bea", "pw-bea-123"));
            using var annOnB = b.Client(await b.Login("ann", "pw-ann-123"));
            await Eventually.True(async () => await HasXmppDevice(beaOnA), because: "bea's XMPP resource is online");
            await Eventually.True(async () => await HasXmppDevice(annOnB), because: "ann's XMPP resource is online");

            await ann.Send("message bea@localhost hello-from-node-a");
            await bea.WaitFor(l => l == "message ann@localhost chat hello-from-node-a", SlixClient.Wait, "the chat from node A");
            await bea.Send("message ann@localhost hello-from-node-b");
            await ann.WaitFor(l => l == "message bea@localhost chat hello-from-node-b", SlixClient.Wait, "the reply from node B");

            // bea goes unavailable on node B: ann's next message comes back as an error with bea's status.
            await bea.Send("unavailable");
            await Eventually.True(async () => !await HasXmppDevice(beaOnA), because: "bea's XMPP resource is gone");
            await ann.Send("message bea@localhost anyone-there");
            var error = await ann.WaitFor(l => l.StartsWith("message bea@localhost error ", StringComparison.Ordinal), SlixClient.Wait, "the error for an unavailable person");
            Assert.StartsWith("message bea@localhost error recipient-unavailable bea is", error, StringComparison.Ordinal);
            Assert.DoesNotContain(bea.Lines, l => l.Contains("anyone-there", StringComparison.Ordinal));
        });
    }

    [RedisSlixmppFact]
    public async Task Binding_a_resource_on_node_B_that_is_bound_on_node_A_ends_the_session_on_A_with_conflict()
    {
        Assert.True(SlixClient.Present, "python3-slixmpp is required (HERALD_REQUIRE_ALL=1)");
        await using var redis = await RedisInstance.StartAsync();
        var clusterId = "x" + Guid.NewGuid().ToString("N")[..12];
        var cluster = new ClusterDiagnostics(output);
        await using var a = cluster.Node("xa", redis, clusterId, "--Herald:Xmpp:Port=-1");
        await using var b = cluster.Node("xb", redis, clusterId, "--Herald:Xmpp:Port=-1");
        await cluster.Run(async () =>
        {
            await StartWithAnnAndBea(a, b);
            using var annRest = a.Client(await a.Login("ann", "pw-ann-123"));

            // ann@localhost/desk on node A, available, and bea on node A to write to her later.
            await using var older = SlixClient.Start("ann", a.XmppPort);
            await using var bea = SlixClient.Start("bea", a.XmppPort);
            await older.WaitFor(l => l == "ready", SlixClient.Wait, "ann logged in on node A");
            await bea.WaitFor(l => l == "ready", SlixClient.Wait, "bea logged in on node A");
            await older.Send("presence - on-node-a");
            await bea.Send("presence -");
            await Eventually.True(async () => await NoteOf(annRest) == "on-node-a", because: "ann's resource on node A is online");

            // The same full JID binds on node B: the newest binding wins, the stream on node A gets conflict.
            await using var newer = SlixClient.Start("ann", b.XmppPort);
            await newer.WaitFor(l => l == "ready", SlixClient.Wait, "ann logged in on node B");
            await older.WaitFor(l => l == "streamerror conflict", SlixClient.Wait, "the older stream on node A is told conflict");
            await older.WaitFor(l => l == "closed", SlixClient.Wait, "the older stream on node A closes");

            // The resource is node B's: its presence shows (the route is registered before the note is set), the
            // device stays (the older stream's end does not remove it), and a chat from node A reaches node B.
            await newer.Send("presence - on-node-b");
            await Eventually.True(async () => await NoteOf(annRest) == "on-node-b", because: "ann's resource on node B is online");
            Assert.True(await HasXmppDevice(annRest));
            await bea.Send("message ann@localhost hello-newest-binding");
            await newer.WaitFor(l => l == "message bea@localhost chat hello-newest-binding", SlixClient.Wait, "the chat reaches node B");
            Assert.DoesNotContain(newer.Lines, l => l.StartsWith("streamerror", StringComparison.Ordinal) || l == "closed");
            Assert.DoesNotContain(bea.Lines, l => l.StartsWith("message ann@localhost error", StringComparison.Ordinal));
        });
    }

    /// <summary>Starts both nodes and creates ann and bea (team core, passwords pw-ann-123 / pw-bea-123) through node A.</summary>
    private static async Task StartWithAnnAndBea(ServerProcess a, ServerProcess b)
    {
        await Task.WhenAll(a.StartAsync(), b.StartAsync());
        using var admin = a.Client(await a.Login("admin", ServerProcess.AdminPassword));
        var r = await admin.PostAsJsonAsync("api/v1/admin/people", new[] { "ann", "bea" }.Select(id => new
        {
            id, displayName = id, email = id + "@example.com", team = "core", password = $"pw-{id}-123", timeZone = "UTC",
        }).ToArray());
        Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
    }

    private static async Task<string?> NoteOf(HttpClient c) =>
        (await c.GetFromJsonAsync<JsonElement>("api/v1/me/presence")).GetProperty("note").GetString();

    private static async Task<bool> HasXmppDevice(HttpClient c)
    {
        var me = await c.GetFromJsonAsync<JsonElement>("api/v1/me/presence");
        return me.TryGetProperty("devices", out var d) && d.ValueKind == JsonValueKind.Array
            && d.EnumerateArray().Any(x => x.GetProperty("deviceId").GetString()?.StartsWith("xmpp-", StringComparison.Ordinal) == true);
    }
}

/// <summary>Needs redis-server and python3-slixmpp: skipped when either is missing, unless HERALD_REQUIRE_ALL=1 (then it fails).</summary>
public sealed class RedisSlixmppFactAttribute : FactAttribute
{
    public RedisSlixmppFactAttribute()
    {
        if ((RedisInstance.ServerPath is null || !SlixClient.Present) && Environment.GetEnvironmentVariable("HERALD_REQUIRE_ALL") != "1")
        {
            Skip = "redis-server or python3-slixmpp is not installed; set HERALD_REQUIRE_ALL=1 to fail instead";
        }
    }
}

/// <summary>The slixmpp test client of Herald.Xmpp.Tests (clients/slix_client.py, linked into this project).</summary>
public static class SlixClient
{
    /// <summary>How long a test waits for a client's line.</summary>
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    public static bool Present => PythonClient.Imports("slixmpp");

    /// <summary>Logs in as <paramref name="user"/> (password pw-user-123) with SCRAM-SHA-256 at 127.0.0.1:<paramref name="port"/>.</summary>
    public static PythonClient Start(string user, int port) =>
        PythonClient.Start("slix_client.py", $"{user}@localhost/desk", $"pw-{user}-123", "127.0.0.1",
            port.ToString(System.Globalization.CultureInfo.InvariantCulture), "SCRAM-SHA-256");
}
