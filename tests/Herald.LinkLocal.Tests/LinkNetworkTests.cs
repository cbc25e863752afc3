using System.Diagnostics;
using System.Text.Json;

namespace Herald.LinkLocal.Tests;

/// <summary>
/// The done-when tests of serverless mode: real `herald peer` processes and Debian's python3-zeroconf in two network
/// namespaces joined by a veth pair, and a loopback-multicast fallback for the Herald-to-Herald part.
/// </summary>
[Collection("link")]
public sealed class LinkNetworkTests
{
    private static readonly TimeSpan Start = TimeSpan.FromSeconds(30);

    [ZeroconfFact]
    public async Task Zeroconf_discovers_the_Herald_peer_with_its_TXT_fields_and_Herald_shows_the_zeroconf_peer()
    {
        using var ns = new NetnsPair();
        var script = Path.Combine(AppContext.BaseDirectory, "interop", "zeroconf_peer.py");
        using var herald = JsonLineProcess.Herald("alice", ns.A, "--interface", ns.VethA, "--status", "avail",
            "--note", "writing the report", "--share-note", "--host", "hosta");
        await herald.WaitFor("ready", e => e.Is("ready"), Start);
        using var zc = new JsonLineProcess("zeroconf", "ip", ["netns", "exec", ns.B, "/usr/bin/python3", script,
            "--address", ns.AddressB, "--instance", "carol@zc", "--host", "carol-zc", "--status", "dnd", "--msg", "on a call",
            "--first", "Carol", "--last", "Zeroconf", "--port", "5298", "--lifetime", "60"]);
        try
        {
            // zeroconf sees the Herald peer with XEP-0174 TXT fields.
            var seen = await zc.WaitFor("alice's service", e => e.Is("service") && e.Str("name") == "alice@hosta._presence._tcp.local.", Start);
            var txt = seen.GetProperty("txt");
            Assert.Equal("1", txt.Str("txtvers"));
            Assert.Equal("avail", txt.Str("status"));
            Assert.Equal("alice", txt.Str("nick"));
            Assert.Equal("writing the report", txt.Str("msg"));
            Assert.Equal(seen.GetProperty("port").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture), txt.Str("port.p2pj"));
            Assert.Contains(ns.AddressA, seen.GetProperty("addresses").EnumerateArray().Select(a => a.GetString()));

            // The Herald peer shows zeroconf's XEP-0174 presence record.
            var carol = (await herald.WaitFor("carol in the list", e => e.Peer("carol@zc") is { } p && p.Str("address") == ns.AddressB, Start))
                .Peer("carol@zc")!.Value;
            Assert.Equal("DoNotDisturb", carol.Str("availability"));
            Assert.Equal("dnd", carol.Str("status"));
            Assert.Equal("on a call", carol.Str("note"));
            Assert.Equal("Carol", carol.Str("first"));
            Assert.Equal("Zeroconf", carol.Str("last"));
            Assert.Equal(5298, carol.GetProperty("port").GetInt32());
            Assert.False(carol.GetProperty("herald").GetBoolean());

            // A status change reaches zeroconf as an updated TXT record.
            var mark = zc.Count;
            herald.Send("status dnd");
            var updated = await zc.WaitFor("alice's update", e => e.Is("service") && e.GetProperty("txt").Str("status") == "dnd", TimeSpan.FromSeconds(5), mark);
            Assert.Equal("DoNotDisturb", updated.GetProperty("txt").Str("herald.avail"));

            // Leaving sends goodbye records: zeroconf removes the service.
            mark = zc.Count;
            await herald.QuitAsync();
            await zc.WaitFor("alice removed", e => e.Is("removed") && e.Str("name") == "alice@hosta._presence._tcp.local.", TimeSpan.FromSeconds(5), mark);
        }
        finally
        {
            await zc.QuitAsync();
        }
    }

    [ZeroconfFact]
    public async Task By_default_only_availability_is_announced_to_the_link()
    {
        using var ns = new NetnsPair();
        var script = Path.Combine(AppContext.BaseDirectory, "interop", "zeroconf_peer.py");
        using var herald = JsonLineProcess.Herald("dora", ns.A, "--interface", ns.VethA, "--status", "dnd", "--note", "private matter", "--host", "hosta");
        await herald.WaitFor("ready", e => e.Is("ready"), Start);
        using var zc = new JsonLineProcess("zeroconf", "ip", ["netns", "exec", ns.B, "/usr/bin/python3", script,
            "--address", ns.AddressB, "--instance", "erin@zc", "--host", "erin-zc", "--lifetime", "60"]);
        try
        {
            var seen = await zc.WaitFor("dora's service", e => e.Is("service") && e.Str("name") == "dora@hosta._presence._tcp.local.", Start);
            var txt = seen.GetProperty("txt");
            Assert.Equal("dnd", txt.Str("status"));
            Assert.Null(txt.Str("msg"));
            Assert.DoesNotContain("private matter", seen.GetRawText(), StringComparison.Ordinal);
            Assert.Equal(["herald.avail", "nick", "port.p2pj", "status", "txtvers"], txt.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        }
        finally
        {
            await herald.QuitAsync();
            await zc.QuitAsync();
        }
    }

    [NetnsFact]
    public async Task Two_Herald_peers_in_two_namespaces_see_status_changes_within_two_seconds_and_get_the_busy_answer()
    {
        using var ns = new NetnsPair();
        using var alice = JsonLineProcess.Herald("alice", ns.A, "--interface", ns.VethA, "--host", "hosta");
        using var bob = JsonLineProcess.Herald("bob", ns.B, "--interface", ns.VethB, "--host", "hostb", "--share-note");
        await HeraldToHerald(alice, bob, "alice@hosta", "bob@hostb", ns.AddressA, ns.AddressB);
    }

    [Fact]
    public async Task Loopback_fallback_two_Herald_peers_on_lo_see_each_other_and_get_the_busy_answer()
    {
        // The Herald-to-Herald part without namespaces: both peers on the loopback interface, multicast looped back.
        var tag = Convert.ToHexString(Guid.NewGuid().ToByteArray()[..3]).ToLowerInvariant();
        using var alice = JsonLineProcess.Herald("alice", null, "--interface", "lo", "--host", "lo" + tag + "a");
        using var bob = JsonLineProcess.Herald("bob", null, "--interface", "lo", "--host", "lo" + tag + "b", "--share-note");
        await HeraldToHerald(alice, bob, $"alice@lo{tag}a", $"bob@lo{tag}b", "127.0.0.1", "127.0.0.1");
    }

    private static async Task HeraldToHerald(JsonLineProcess alice, JsonLineProcess bob, string aliceId, string bobId, string aliceAddr, string bobAddr)
    {
        try
        {
            await alice.WaitFor("ready", e => e.Is("ready"), Start);
            await bob.WaitFor("ready", e => e.Is("ready"), Start);
            await alice.WaitFor("bob seen", e => e.Peer(bobId) is { } p && p.Str("address") == bobAddr && p.Str("availability") == "Available", Start);
            await bob.WaitFor("alice seen", e => e.Peer(aliceId) is { } p && p.Str("address") == aliceAddr, Start);

            // A message to an available peer is delivered and shown.
            var mark = bob.Count;
            alice.Send($"msg {bobId} hello from alice");
            await alice.WaitFor("delivered", e => e.Is("sent") && e.Str("to") == bobId, TimeSpan.FromSeconds(10));
            var got = await bob.WaitFor("message", e => e.Is("message"), TimeSpan.FromSeconds(5), mark);
            Assert.Equal("hello from alice", got.Str("body"));
            Assert.Equal(aliceId, got.Str("from"));

            // Status changes are seen on the other side within two seconds, both ways.
            foreach (var (who, watcher, id, status, expected) in new[]
            {
                (bob, alice, bobId, "note deep work", "Available"),
                (bob, alice, bobId, "status dnd for 30m", "DoNotDisturb"),
                (alice, bob, aliceId, "status away", "Away"),
            })
            {
                mark = watcher.Count;
                var sw = Stopwatch.StartNew();
                who.Send(status);
                await watcher.WaitFor($"{id} {status}", e => e.Peer(id) is { } p && p.Str("availability") == expected
                    && (status != "note deep work" || p.Str("note") == "deep work"), TimeSpan.FromSeconds(2), mark);
                Assert.True(sw.Elapsed <= TimeSpan.FromSeconds(2), $"{status} took {sw.Elapsed}");
            }

            // A message to the DoNotDisturb peer gets the busy answer with the note and when they are back.
            mark = alice.Count;
            alice.Send($"msg {bobId} got a minute?");
            var busy = await alice.WaitFor("busy answer", e => e.Is("busy"), TimeSpan.FromSeconds(10), mark);
            Assert.Equal(bobId, busy.Str("to"));
            Assert.Equal("DoNotDisturb", busy.Str("availability"));
            Assert.Equal("deep work", busy.Str("note"));
            Assert.Contains("deep work", busy.Str("text"), StringComparison.Ordinal);
            var back = busy.GetProperty("back").GetDateTimeOffset();
            Assert.InRange(back, DateTimeOffset.UtcNow.AddMinutes(25), DateTimeOffset.UtcNow.AddMinutes(31));
            await bob.WaitFor("refusal shown", e => e.Is("refused"), TimeSpan.FromSeconds(5));
            Assert.DoesNotContain(bob.Log.Split('\n'), l => l.Contains("got a minute", StringComparison.Ordinal));

            // Leaving sends goodbye records: the other side drops the peer.
            mark = alice.Count;
            await bob.QuitAsync();
            await alice.WaitFor("bob gone", e => e.Is("peers") && e.Peer(bobId) is null, TimeSpan.FromSeconds(5), mark);
        }
        finally
        {
            await alice.QuitAsync();
            await bob.QuitAsync();
        }
    }
}
