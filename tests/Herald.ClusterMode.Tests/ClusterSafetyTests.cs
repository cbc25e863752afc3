using System.Net;
using System.Text.RegularExpressions;
using Herald.Cluster.Directory;
using Herald.Cluster.Hosting;
using Herald.Cluster.Presence;
using Herald.Core.Model;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using Orleans.Storage;
using Xunit.Abstractions;

namespace Herald.ClusterMode.Tests;

/// <summary>
/// Cluster-mode safety: the Redis grain storage's ETags keep a stale duplicate activation from overwriting an
/// acknowledged write; the first account is created by exactly one of several nodes starting at once; a draining
/// node reports unhealthy.
/// </summary>
public sealed partial class ClusterSafetyTests(RedisFixture fixture, ITestOutputHelper output) : IClassFixture<RedisFixture>
{
    [RedisFact]
    public async Task Redis_grain_storage_rejects_a_stale_activations_write_so_an_acknowledged_write_is_never_overwritten()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.UseOrleans(silo => silo
            .AddHeraldRedisCluster(new RedisClusterSettings(fixture.Redis.ConnectionString, "g" + Guid.NewGuid().ToString("N")[..10],
                Ports.Free(), 0, IPAddress.Loopback, TimeSpan.FromSeconds(1), 2))
            .AddHeraldPresence());
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var storage = host.Services.GetRequiredKeyedService<IGrainStorage>(HeraldStorage.ProviderName);
            var id = GrainId.Create("person", "ann");
            var t0 = new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);

            // Two activations of one person read the same stored state.
            var seed = new GrainState<PersonState>();
            await storage.ReadStateAsync("person", id, seed);
            seed.State!.Note = new StatusNote("seed", t0, null);
            await storage.WriteStateAsync("person", id, seed);
            var live = new GrainState<PersonState>();
            var stale = new GrainState<PersonState>();
            await storage.ReadStateAsync("person", id, live);
            await storage.ReadStateAsync("person", id, stale);
            Assert.Equal(live.ETag, stale.ETag);

            // One acknowledges a write...
            live.State!.Note = new StatusNote("acknowledged", t0, null);
            await storage.WriteStateAsync("person", id, live);
            // ...the other's write, with the ETag it read before, is rejected.
            stale.State!.Note = new StatusNote("stale", t0, null);
            await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("person", id, stale));
            // So is a write that believes there is no record yet (an activation that never read one).
            var blind = new GrainState<PersonState>(new PersonState { Note = new StatusNote("blind", t0, null) });
            await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("person", id, blind));

            var check = new GrainState<PersonState>();
            await storage.ReadStateAsync("person", id, check);
            Assert.Equal("acknowledged", check.State!.Note!.Text);
            Assert.Equal(live.ETag, check.ETag);
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [RedisTheory, InlineData("sqlite"), InlineData("redis")]
    public async Task The_first_account_is_created_by_exactly_one_of_many_concurrent_callers(string kind)
    {
        await using var s = new Stores(kind, fixture);
        var credential = new PasswordCredential(4096, new byte[16], new byte[32]);
        var results = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => Task.Run(() =>
            s.Accounts.CreateFirstAccount(new Account("admin", [Roles.Admin, $"r{i}"], credential)))));
        var winner = Assert.Single(results.Select((created, i) => (created, i)), r => r.created).i;
        Assert.Equal(1, await s.Accounts.CountAccounts());
        Assert.Contains($"r{winner}", (await s.Accounts.GetAccount("admin"))!.Roles);
        Assert.False(await s.Accounts.CreateFirstAccount(new Account("other", [Roles.User], credential)));
        Assert.Null(await s.Accounts.GetAccount("other"));
    }

    [RedisFact]
    public async Task Nodes_starting_at_once_without_an_admin_password_create_one_admin_and_a_draining_node_reports_unhealthy()
    {
        var clusterId = "b" + Guid.NewGuid().ToString("N")[..10];
        string[] extra = ["--Herald:Bootstrap:AdminPassword=", "--Herald:Cluster:DrainTimeout=00:00:20"];
        var cluster = new ClusterDiagnostics(output);
        await using var n1 = cluster.Node("b1", fixture.Redis, clusterId, extra);
        await using var n2 = cluster.Node("b2", fixture.Redis, clusterId, extra);
        await using var n3 = cluster.Node("b3", fixture.Redis, clusterId, extra);
        var nodes = new[] { n1, n2, n3 };
        await cluster.Run(async () =>
        {
            await Task.WhenAll(nodes.Select(n => n.StartAsync()));

            // Exactly one node created the admin account and printed its generated password; it works on every node.
            string? password = null;
            await Eventually.True(() => (password = nodes.SelectMany(n => n.Output).Select(l => GeneratedPassword().Match(l))
                .FirstOrDefault(m => m.Success)?.Groups[1].Value) is not null, TimeSpan.FromSeconds(30), "a node prints the generated admin password");
            var tokens = new List<string>();
            foreach (var n in nodes)
            {
                tokens.Add(await n.Login("admin", password!));
            }
            Assert.Single(nodes, n => n.Output.Any(l => GeneratedPassword().IsMatch(l)));
            output.WriteLine($"admin created by {nodes.Single(n => n.Output.Any(l => GeneratedPassword().IsMatch(l))).Name}");

            // A live connection that ignores the drain's `reconnect` keeps node 1 draining (up to its DrainTimeout):
            // meanwhile its /healthz answers 503, while the other nodes stay healthy.
            await using var hub = new HubConnectionBuilder()
                .WithUrl(new Uri(n1.BaseAddress, "hubs/presence"), o => o.AccessTokenProvider = () => Task.FromResult<string?>(tokens[0]))
                .Build();
            await hub.StartAsync();
            using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            Assert.Equal(HttpStatusCode.OK, (await probe.GetAsync(new Uri(n1.BaseAddress, "healthz"))).StatusCode);
            await n1.SignalTermAsync();
            await Eventually.True(async () =>
            {
                try
                {
                    return (await probe.GetAsync(new Uri(n1.BaseAddress, "healthz"))).StatusCode == HttpStatusCode.ServiceUnavailable;
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                    return false;
                }
            }, TimeSpan.FromSeconds(15), "the draining node's /healthz answers 503");
            Assert.Equal(HttpStatusCode.OK, (await probe.GetAsync(new Uri(n2.BaseAddress, "healthz"))).StatusCode);
            await hub.DisposeAsync(); // the last live connection leaves: the drain ends and the node exits
            await n1.WaitForExitAsync(TimeSpan.FromSeconds(30));
        });
    }

    [GeneratedRegex("created account 'admin' with generated password: (\\S+)")]
    private static partial Regex GeneratedPassword();
}
