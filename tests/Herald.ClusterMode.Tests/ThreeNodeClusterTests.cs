using System.Net;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Herald.Client;
using Xunit.Abstractions;

namespace Herald.ClusterMode.Tests;

/// <summary>
/// The done-when test of cluster mode: a real redis-server and three Herald node processes (Mode=Redis); watchers on
/// node 1 and node 2 (the SDK watcher with fail-over URLs); status writes through every node; node 2 SIGKILLed during
/// the traffic; then every watcher must show every person's last acknowledged status, every acknowledged durable write
/// (statuses and contacts) must read back through every live node, and delivered-versus-expected counts are printed.
/// </summary>
public sealed class ThreeNodeClusterTests(ITestOutputHelper output)
{
    private readonly ClusterDiagnostics _cluster = new(output);

    private static readonly string[] People = ["p0", "p1", "p2", "p3", "p4", "p5"];
    private static readonly string[] Cycle = ["Busy", "DoNotDisturb", "Away", "Available", "BeRightBack"];

    [RedisFact]
    public async Task Watchers_see_changes_from_other_nodes_and_survive_a_SIGKILLed_node_without_losing_acknowledged_writes()
    {
        var clock = Stopwatch.StartNew();
        await using var redis = await RedisInstance.StartAsync();
        var clusterId = "t" + Guid.NewGuid().ToString("N")[..12];
        await using var n1 = _cluster.Node("n1", redis, clusterId);
        await using var n2 = _cluster.Node("n2", redis, clusterId);
        await using var n3 = _cluster.Node("n3", redis, clusterId);
        await _cluster.Run(async () =>
        {
            await Task.WhenAll(n1.StartAsync(), n2.StartAsync(), n3.StartAsync()); // same admin password on each; exactly one creates the account (ClusterSafetyTests)
            Log($"redis + 3 nodes up after {clock.Elapsed.TotalSeconds:0.0} s");

            // People, created through node 1; everyone in one team, working around the clock (the test may run at night).
            var startHour = (DateTime.UtcNow.Hour + 12) % 24;
            var workHours = new
            {
                days = new[] { "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday" },
                start = $"{startHour:00}:00",
                end = $"{(startHour + 23) % 24:00}:59",
            };
            using (var admin = n1.Client(await n1.Login("admin", ServerProcess.AdminPassword)))
            {
                var r = await admin.PostAsJsonAsync("api/v1/admin/people", People.Select(id => new
                {
                    id, displayName = id.ToUpperInvariant(), email = id + "@example.com", team = "core", password = $"pw-{id}-123", timeZone = "UTC", workHours,
                }).ToArray());
                Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
            }

            Log($"people created after {clock.Elapsed.TotalSeconds:0.0} s");
            // Tokens come from node 3 and are used on every node (one shared Data Protection key ring).
            var tokens = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var id in People)
            {
                tokens[id] = await n3.Login(id, $"pw-{id}-123");
            }

            Log($"tokens after {clock.Elapsed.TotalSeconds:0.0} s");
            // Watchers: three on node 1, two on node 2 (those fail over to node 3, then node 1).
            var watchers = new List<(string Who, PresenceWatcher Watcher, ConcurrentDictionary<string, PresenceView> Latest)>();
            var delivered = 0;
            foreach (var (who, urls) in new[]
            {
                ("p0", new[] { n1.BaseAddress, n3.BaseAddress }), ("p1", [n1.BaseAddress, n3.BaseAddress]), ("p2", [n1.BaseAddress, n3.BaseAddress]),
                ("p3", [n2.BaseAddress, n3.BaseAddress, n1.BaseAddress]), ("p4", [n2.BaseAddress, n3.BaseAddress, n1.BaseAddress]),
            })
            {
                var latest = new ConcurrentDictionary<string, PresenceView>(StringComparer.Ordinal);
                var w = new PresenceWatcher(urls, tokens[who]);
                w.PresenceChanged += (_, v) =>
                {
                    Interlocked.Increment(ref delivered);
                    latest.AddOrUpdate(v.UserId, v, (_, old) => v.Sequence > old.Sequence ? v : old);
                };
                await w.StartAsync();
                foreach (var v in await w.WatchAsync(People))
                {
                    latest[v.UserId] = v;
                }
                watchers.Add((who, w, latest));
                Log($"watcher {who} connected after {clock.Elapsed.TotalSeconds:0.0} s");
            }

            try
            {
                // A change published through node 3 reaches the watchers on node 1.
                using (var p5 = n3.Client(tokens["p5"]))
                {
                    (await p5.PutAsJsonAsync("api/v1/me/status", new { availability = "DoNotDisturb", note = "first" })).EnsureSuccessStatusCode();
                }
                await Eventually.True(() => watchers.Take(3).All(w => w.Latest.TryGetValue("p5", out var v) && v.Availability == Availability.DoNotDisturb),
                    TimeSpan.FromSeconds(15), "watchers on node 1 see p5's change made through node 3");
                Log($"node 3 → node 1 fan-out seen after {clock.Elapsed.TotalSeconds:0.0} s");

                // Traffic: rounds of status writes (and a contact each) through the nodes in turn; node 2 dies before round 5.
                var acked = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);      // person → last acknowledged availability
                var ackedContacts = new ConcurrentDictionary<string, ConcurrentBag<string>>(StringComparer.Ordinal);
                var ackedWrites = 0;
                var failedWrites = 0;
                var unexpected = new ConcurrentQueue<string>(); // refusals other than 503 (retry), reported below
                var nodes = new[] { n1, n2, n3 };
                const int Rounds = 8;
                const int KillRound = 5; // late: the last rounds and the final writes fall into the window before node 2 is declared dead
                for (var round = 0; round < Rounds; round++)
                {
                    if (round == KillRound)
                    {
                        await n2.KillAsync();
                        Log($"node 2 SIGKILLed at {clock.Elapsed.TotalSeconds:0.0} s");
                        // No waiting for the membership to declare node 2 dead: the remaining rounds and the final writes run in
                        // the seconds where a person's grain can have a stale duplicate activation (see operations.md, "Node loss").
                    }
                    await Task.WhenAll(People.Select(async (id, i) =>
                    {
                        var node = nodes[(round + i) % 3];
                        var availability = Cycle[(round + i) % Cycle.Length];
                        var contact = People[(i + round + 1) % People.Length];
                        try
                        {
                            using var c = node.Client(tokens[id]);
                            var r = await c.PutAsJsonAsync("api/v1/me/status", new { availability, note = $"round {round}" });
                            if (r.IsSuccessStatusCode)
                            {
                                acked[id] = availability; // writes of one person are sequential, so the last ack is the state
                                Interlocked.Increment(ref ackedWrites);
                            }
                            else
                            {
                                Interlocked.Increment(ref failedWrites);
                                if (r.StatusCode != HttpStatusCode.ServiceUnavailable)
                                {
                                    unexpected.Enqueue($"round {round} on {node.Name} as {id}: {await ServerProcess.Describe(r)}");
                                }
                            }
                            if (contact != id)
                            {
                                using var added = await c.PutAsync($"api/v1/me/contacts/{contact}", null);
                                if (added.IsSuccessStatusCode)
                                {
                                    ackedContacts.GetOrAdd(id, _ => []).Add(contact);
                                }
                                else if (added.StatusCode != HttpStatusCode.ServiceUnavailable)
                                {
                                    unexpected.Enqueue($"round {round} on {node.Name} as {id} (contact): {await ServerProcess.Describe(added)}");
                                }
                            }
                        }
                        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                        {
                            Interlocked.Increment(ref failedWrites); // not acknowledged (node 2 is gone, or a grain was moving)
                        }
                    }));
                }

                // A last round through the surviving nodes, retried until acknowledged (bounded), fixes the expected state.
                foreach (var (id, i) in People.Select((id, i) => (id, i)))
                {
                    var availability = Cycle[(Rounds + i) % Cycle.Length];
                    var last = "no answer yet";
                    try
                    {
                        await Eventually.True(async () =>
                        {
                            try
                            {
                                using var c = (i % 2 == 0 ? n1 : n3).Client(tokens[id]);
                                using var r = await c.PutAsJsonAsync("api/v1/me/status", new { availability, note = "final" });
                                if (r.IsSuccessStatusCode)
                                {
                                    acked[id] = availability;
                                    Interlocked.Increment(ref ackedWrites);
                                    return true;
                                }
                                last = await ServerProcess.Describe(r);
                            }
                            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                            {
                                last = $"{ex.GetType().Name}: {ex.Message}";
                            }
                            return false;
                        }, TimeSpan.FromSeconds(60), $"a final write for {id} is acknowledged by a surviving node");
                    }
                    catch (TimeoutException ex)
                    {
                        throw new TimeoutException($"{ex.Message}; last answer: {last}", ex);
                    }
                }
                Log($"traffic done at {clock.Elapsed.TotalSeconds:0.0} s: {ackedWrites} writes acknowledged, {failedWrites} not");
                foreach (var line in unexpected)
                {
                    Log("refused other than with 503: " + line); // not a failure while a node dies, but worth reading
                }

                // Every watcher converges on every person's last acknowledged status (those of node 2 after failing over).
                var converge = Stopwatch.StartNew();
                try
                {
                    await Eventually.True(() => watchers.All(w => People.All(id =>
                            w.Latest.TryGetValue(id, out var v) && v.Availability.ToString() == acked[id])),
                        TimeSpan.FromSeconds(45), "every watcher shows every person's last acknowledged status");
                }
                catch (TimeoutException)
                {
                    var wrong = watchers.SelectMany(w => People
                        .Where(id => !(w.Latest.TryGetValue(id, out var v) && v.Availability.ToString() == acked[id]))
                        .Select(id => $"{w.Who}@{w.Watcher.CurrentBaseAddress.Port} sees {id} as "
                            + (w.Latest.TryGetValue(id, out var v) ? $"{v.Availability} (seq {v.Sequence})" : "nothing") + $", acknowledged {acked[id]}"));
                    var reads = new List<string>();
                    foreach (var node in new[] { n1, n3 })
                    {
                        foreach (var id in People)
                        {
                            try
                            {
                                using var c = node.Client(tokens["p3"]);
                                var v = await c.GetFromJsonAsync<JsonElement>($"api/v1/presence/{id}");
                                reads.Add($"{node.Name}:{id}={v.GetProperty("availability")}/{v.GetProperty("sequence")}");
                            }
                            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException)
                            {
                                reads.Add($"{node.Name}:{id}=({ex.GetType().Name})");
                            }
                        }
                    }
                    throw new TimeoutException("watchers did not converge: " + string.Join("; ", wrong) + "; REST reads as p3: " + string.Join(", ", reads));
                }
                Log($"all {watchers.Count} watchers correct {converge.Elapsed.TotalSeconds:0.0} s after the traffic; failed over: "
                    + string.Join(", ", watchers.Select(w => $"{w.Who}→{w.Watcher.CurrentBaseAddress.Port}")));

                // Every acknowledged durable write reads back through every live node.
                foreach (var node in new[] { n1, n3 })
                {
                    foreach (var id in People)
                    {
                        using var c = node.Client(tokens[id]);
                        var me = await c.GetFromJsonAsync<JsonElement>("api/v1/me/presence");
                        Assert.Equal(acked[id], me.GetProperty("availability").GetString());
                        Assert.Equal("final", me.GetProperty("note").GetString());
                        var contacts = (await c.GetFromJsonAsync<JsonElement>("api/v1/me/contacts")).EnumerateArray()
                            .Select(e => e.GetProperty("userId").GetString()!).ToHashSet(StringComparer.Ordinal);
                        foreach (var contact in ackedContacts.GetValueOrDefault(id) ?? [])
                        {
                            Assert.Contains(contact, contacts);
                        }
                    }
                }

                // Delivered versus expected: each watcher watches every person, so every acknowledged write is one expected
                // change per watcher. Coalescing (a slow client gets only the final state) lowers the delivered count; resumes
                // after a fail-over and grains re-issuing a sequence when they reactivate on another node raise it.
                var expected = (ackedWrites + 1) * watchers.Count;
                Log($"delivered {delivered} presence changes to {watchers.Count} watchers; expected {expected} "
                    + $"({ackedWrites + 1} acknowledged writes × {watchers.Count} watchers); all watchers converged; total {clock.Elapsed.TotalSeconds:0.0} s");
                Assert.True(delivered > 0);
                foreach (var node in new[] { n1, n3 })
                {
                    var lines = node.Output;
                    Log($"{node.Name}: {lines.Count(l => l.Contains("Cluster membership changed", StringComparison.Ordinal))} membership changes seen, "
                        + $"{lines.Count(l => l.Contains("adopted and re-broadcast", StringComparison.Ordinal))} stale activations adopted the stored state, "
                        + $"{lines.Count(l => l.Contains("another activation wrote first", StringComparison.Ordinal))} writes rejected for a stale ETag");
                }

                // Graceful shutdown of node 3 drains: its SSE stream gets a `reconnect` event (with a retry) and its SignalR
                // watchers are told to reconnect; they move to node 1 and see the next change.
                using var sse = n3.Client(tokens["p0"]);
                sse.Timeout = TimeSpan.FromSeconds(30);
                using var stream = await sse.GetAsync("api/v1/events?watch=p1", HttpCompletionOption.ResponseHeadersRead);
                stream.EnsureSuccessStatusCode();
                var reader = new StreamReader(await stream.Content.ReadAsStreamAsync());
                var sseLines = new List<string>();
                var sseDone = Task.Run(async () =>
                {
                    while (await reader.ReadLineAsync() is { } line)
                    {
                        lock (sseLines)
                        {
                            sseLines.Add(line);
                        }
                    }
                });
                await Eventually.True(() => { lock (sseLines) { return sseLines.Any(l => l.StartsWith("event: presence", StringComparison.Ordinal)); } },
                    TimeSpan.FromSeconds(15), "the SSE stream on node 3 starts with a snapshot");
                var onNode3 = watchers.Where(w => w.Watcher.CurrentBaseAddress == n3.BaseAddress).ToList();
                var stopping = Stopwatch.StartNew();
                await n3.StopGracefullyAsync(TimeSpan.FromSeconds(30));
                Log($"node 3 stopped gracefully in {stopping.Elapsed.TotalSeconds:0.0} s");
                await sseDone.WaitAsync(TimeSpan.FromSeconds(10));
                lock (sseLines)
                {
                    Assert.Contains("event: reconnect", sseLines);
                    Assert.Contains(sseLines, l => l.StartsWith("retry:", StringComparison.Ordinal));
                }
                using (var p1 = n1.Client(tokens["p1"]))
                {
                    // Right after a node leaves, a write may be refused with 503 (never a 500): clients retry that, as here.
                    await Eventually.True(async () =>
                    {
                        using var put = await p1.PutAsJsonAsync("api/v1/me/status", new { availability = "Busy", note = "after drain" });
                        if (!put.IsSuccessStatusCode && put.StatusCode != HttpStatusCode.ServiceUnavailable)
                        {
                            Assert.Fail($"status write after the drain: {await ServerProcess.Describe(put)}"); // problem details (traceId) + node logs
                        }
                        return put.IsSuccessStatusCode;
                    }, TimeSpan.FromSeconds(30), "a status write on node 1 succeeds after node 3 drained");
                }
                await Eventually.True(() => watchers.All(w => w.Latest.TryGetValue("p1", out var v) && v.Availability == Availability.Busy),
                    TimeSpan.FromSeconds(30), "every watcher (also those drained from node 3) sees a change made on node 1");
                Assert.All(onNode3, w => Assert.Equal(n1.BaseAddress, w.Watcher.CurrentBaseAddress));
                Log($"drained {onNode3.Count} SDK watchers and one SSE stream from node 3 to node 1; total {clock.Elapsed.TotalSeconds:0.0} s");
            }
            finally
            {
                foreach (var w in watchers)
                {
                    await w.Watcher.DisposeAsync();
                }
            }
        });
    }

    private void Log(string line) => _cluster.Log(line);
}
