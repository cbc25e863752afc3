using Herald.Cluster.Fanout;
using Herald.Cluster.Storage;
using Microsoft.Extensions.Time.Testing;
using Herald.Cluster.Hosting;
using Herald.Cluster.Presence;
using Herald.Core.Model;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.Runtime;
using Orleans.Runtime.Placement;
using Orleans.TestingHost;

namespace Herald.Cluster.Tests.Fanout;

public sealed class MultiSiloFanoutTests : IAsyncLifetime
{
    private readonly string _db = TestSilos.TempDatabase("fanout");
    private InProcessTestCluster _cluster = null!;

    // Wednesday 10:00 UTC: inside default work hours, so colleagues see availability.
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 2, 10, 0, 0, TimeSpan.Zero));

    public async Task InitializeAsync()
    {
        // Everyone involved is a colleague in the directory.
        _cluster = await TestSilos.Start(_db, 3, new[] { "watcher", "w", "solo" }.Concat(Enumerable.Range(0, 24).Select(i => $"p{i}")), _time,
            TimeSpan.FromMilliseconds(300),
            builder => builder.ConfigureHost(host => host.Services.Configure<ClusterMembershipOptions>(o =>
            {
                o.ProbeTimeout = TimeSpan.FromSeconds(1);
                o.NumMissedProbesLimit = 2;
                o.NumVotesForDeathDeclaration = 1;
            })),
            silo => silo.Services.AddSingleton<PlacementStrategy, HashBasedPlacement>()); // spread grains by id hash so that people land on every silo
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        TestSilos.DeleteDatabase(_db);
    }

    [Fact]
    public async Task A_watcher_on_one_silo_sees_people_on_other_silos_and_keeps_seeing_them_after_a_silo_is_killed()
    {
        var people = Enumerable.Range(0, 24).Select(i => $"p{i}").ToArray();
        var watcherSilo = _cluster.Silos[0];
        var hub = watcherSilo.ServiceProvider.GetRequiredService<SiloPresenceHub>();
        var sink = new RecordingSink("watcher");
        foreach (var p in people)
        {
            var initial = await hub.Watch(sink, p);
            Assert.Equal(Availability.Offline, initial.Availability);
        }

        var hosts = await GrainHosts();
        Assert.Contains(people, p => hosts[p] != watcherSilo.SiloAddress);

        await SetAll(people, Availability.DoNotDisturb);
        await Eventually.True(() => people.All(p => sink.Latest.TryGetValue(p, out var v) && v.Availability == Availability.DoNotDisturb),
            because: "every change reaches the watcher's silo");

        // Kill a silo that hosts some of the people but not the watcher.
        var victim = _cluster.Silos.First(s => s != watcherSilo && hosts.ContainsValue(s.SiloAddress));
        await _cluster.KillSiloAsync(victim);
        await _cluster.WaitForLivenessToStabilizeAsync(didKill: true);

        await SetAll(people, Availability.Busy);
        await Eventually.True(() => people.All(p => sink.Latest.TryGetValue(p, out var v) && v.Availability == Availability.Busy),
            because: "after the silo loss, grains reactivate elsewhere and the renewal re-registers the watcher");

        // Sequences only grow per person, across the reactivation.
        foreach (var group in sink.All.GroupBy(v => v.UserId))
        {
            var seqs = group.Select(v => v.Sequence).ToList();
            Assert.Equal(seqs.Order(), seqs);
        }
    }

    [Fact]
    public async Task A_silo_without_watchers_receives_nothing()
    {
        var hubs = _cluster.Silos.Select(s => s.ServiceProvider.GetRequiredService<SiloPresenceHub>()).ToArray();
        var sink = new RecordingSink("w");
        await hubs[0].Watch(sink, "solo");
        var before = hubs.Select(h => h.Deliveries).ToArray();
        await _cluster.Client.GetGrain<IPersonGrain>("solo").SetStatus(new SetStatus(Availability.Away, null, "brb", null));
        // Wait for the change itself: the periodic renewal (300 ms here) also re-hands the current view to the
        // watching silo, so "some delivery arrived" is not yet "the change arrived".
        await Eventually.True(() => sink.Latest.TryGetValue("solo", out var v) && v.Note == "brb",
            because: "the change reaches the watching silo");
        Assert.True(hubs[0].Deliveries > before[0]);
        Assert.Equal(before[1], hubs[1].Deliveries);
        Assert.Equal(before[2], hubs[2].Deliveries);
    }

    [Fact]
    public async Task Several_sinks_of_one_watcher_each_get_every_change_until_each_unwatches()
    {
        // One watcher with three connections on one silo: the hub holds one entry for the watcher with three sinks
        // (a single sink is held without a list; a second makes an array).
        var hub = _cluster.Silos[0].ServiceProvider.GetRequiredService<SiloPresenceHub>();
        var grain = _cluster.Client.GetGrain<IPersonGrain>("p7");
        RecordingSink a = new("watcher"), b = new("watcher"), c = new("watcher");
        foreach (var sink in new[] { a, b, c })
        {
            await hub.Watch(sink, "p7");
        }
        await grain.SetStatus(new SetStatus(Availability.Busy, null, "one", null));
        await Eventually.True(() => new[] { a, b, c }.All(s => s.Latest.TryGetValue("p7", out var v) && v.Note == "one"),
            because: "every sink of the watcher gets the change");

        hub.Unwatch(b, "p7"); // the middle one of three
        await hub.Watch(c, "p7", alreadyAttached: true); // a resume: c is not added a second time
        await grain.SetStatus(new SetStatus(Availability.Busy, null, "two", null));
        await Eventually.True(() => new[] { a, c }.All(s => s.Latest.TryGetValue("p7", out var v) && v.Note == "two"),
            because: "the remaining sinks get the change");
        Assert.DoesNotContain(b.All, v => v.Note == "two"); // delivered to all sinks in one pass: b would have it by now

        hub.Unwatch(c, "p7"); // once is enough: the resume above did not add it twice
        await grain.SetStatus(new SetStatus(Availability.Busy, null, "three", null));
        await Eventually.True(() => a.Latest.TryGetValue("p7", out var v) && v.Note == "three", because: "the last sink still gets changes");
        Assert.DoesNotContain(c.All, v => v.Note == "three");

        hub.Unwatch(a, "p7");
        // The last sink left: the watcher is not watching now, at once, though its registration lingers on this silo.
        Assert.DoesNotContain("watcher", (await grain.GetWatchers()).Where(w => w.Live).Select(w => w.WatcherId));
        Assert.Empty(hub.ConnectedWatchers("p7"));
        hub.Unwatch(a, "p7"); // unwatching again is a no-op
        _time.Advance(hub.Options.WatcherLinger);
        hub.ExpireLingering();
        Assert.DoesNotContain("p7", hub.WatchedPersonIds());
        hub.Unwatch(a, "p7"); // and after the linger too
        Assert.DoesNotContain("p7", hub.WatchedPersonIds());
    }

    [Fact]
    public async Task After_a_renewal_rebuilds_the_watcher_maps_every_watcher_still_gets_changes_with_its_own_disclosure()
    {
        // 20 watchers registered one at a time (the maps grow by doubling), then a renewal: the grain rebuilds its map
        // of that silo's watchers at their exact number and the hub trims its map. Nothing may be lost or mixed up.
        var hub = _cluster.Silos[0].ServiceProvider.GetRequiredService<SiloPresenceHub>();
        // p11 itself among them (the owner's view), the others colleagues.
        var sinks = Enumerable.Range(0, 20).Select(i => new RecordingSink(i == 0 ? "p11" : $"p{(i < 11 ? i : i + 1)}")).ToList();
        foreach (var sink in sinks)
        {
            await hub.Watch(sink, "p11");
        }
        await hub.RenewAll(CancellationToken.None);
        await hub.RenewAll(CancellationToken.None); // a second round finds the maps at their size
        var grain = _cluster.Client.GetGrain<IPersonGrain>("p11");
        await grain.SetStatus(new SetStatus(Availability.DoNotDisturb, null, "after renewal", null));
        await Eventually.True(() => sinks.All(s => s.Latest.TryGetValue("p11", out var v) && v.Availability == Availability.DoNotDisturb),
            because: "every watcher gets the change after the maps were rebuilt");
        var expected = await Task.WhenAll(sinks.Select(s => grain.GetViewFor(s.WatcherId, "live")));
        for (var i = 0; i < sinks.Count; i++)
        {
            Assert.Equal(expected[i].Note, sinks[i].Latest["p11"].Note); // each watcher's view is its own disclosure
        }
        hub.Unwatch(sinks[5], "p11");
        Assert.DoesNotContain("p5", (await grain.GetWatchers()).Where(w => w.Live).Select(w => w.WatcherId)); // at once
        await hub.RenewAll(CancellationToken.None);
        Assert.Contains("p4", (await grain.GetWatchers()).Where(w => w.Live).Select(w => w.WatcherId));
        Assert.DoesNotContain("p5", (await grain.GetWatchers()).Where(w => w.Live).Select(w => w.WatcherId));
    }

    [Fact]
    public async Task Who_watches_now_comes_from_the_watchers_silos_and_drops_at_once_when_the_last_sink_leaves()
    {
        // Watchers on two silos; the person's grain asks the other silo's hub (one call) and its own in process.
        var people = Enumerable.Range(12, 12).Select(i => $"p{i}").ToArray();
        RecordingSink on0 = new("p1"), on1 = new("p2");
        var hubs = _cluster.Silos.Take(2).Select(s => s.ServiceProvider.GetRequiredService<SiloPresenceHub>()).ToArray();
        foreach (var p in people)
        {
            await hubs[0].Watch(on0, p);
            await hubs[1].Watch(on1, p);
        }
        var hosts = await GrainHosts();
        Assert.Contains(people, p => hosts[p] != _cluster.Silos[0].SiloAddress);
        Assert.Contains(people, p => hosts[p] != _cluster.Silos[1].SiloAddress);
        foreach (var p in people)
        {
            Assert.Equal(["p1", "p2"], await LiveWatchers(p));
        }

        foreach (var p in people)
        {
            hubs[0].Unwatch(on0, p);
        }
        foreach (var p in people)
        {
            Assert.Equal(["p2"], await LiveWatchers(p)); // at once, wherever the grain is
        }

        foreach (var p in people)
        {
            await hubs[0].Watch(new RecordingSink("p1"), p); // back within the linger
        }
        foreach (var p in people)
        {
            Assert.Equal(["p1", "p2"], await LiveWatchers(p));
        }
    }

    [Fact]
    public async Task Resolved_person_references_equal_GetGrain_and_reach_the_same_grain_from_every_silo()
    {
        foreach (var silo in _cluster.Silos)
        {
            var grains = silo.ServiceProvider.GetRequiredService<IGrainFactory>();
            foreach (var id in new[] { "p1", "p2", "a person/with:odd chars" })
            {
                var expected = grains.GetGrain<IPersonGrain>(id);
                var resolved = grains.Person(id);
                Assert.Equal(expected.GetGrainId(), resolved.GetGrainId());
                Assert.Equal(expected, resolved);
            }
        }
        await _cluster.Silos[1].ServiceProvider.GetRequiredService<IGrainFactory>().Person("p3").SetStatus(new SetStatus(Availability.Busy, null, "via ref", null));
        var view = await _cluster.Client.GetGrain<IPersonGrain>("p3").GetViewFor("p3", "snapshot");
        Assert.Equal("via ref", view.Note);
        Assert.Throws<ArgumentException>(() => _cluster.Client.Person(" "));
    }

    private async Task SetAll(IEnumerable<string> people, Availability availability)
    {
        foreach (var p in people)
        {
            await _cluster.Client.GetGrain<IPersonGrain>(p).SetStatus(new SetStatus(availability, null, null, null));
        }
    }

    private async Task<string[]> LiveWatchers(string person) =>
        [.. (await _cluster.Client.GetGrain<IPersonGrain>(person).GetWatchers()).Where(w => w.Live).Select(w => w.WatcherId).Order(StringComparer.Ordinal)];

    private async Task<Dictionary<string, SiloAddress>> GrainHosts()
    {
        var mgmt = _cluster.Client.GetGrain<IManagementGrain>(0);
        var stats = (await mgmt.GetDetailedGrainStatistics()).Where(s => s.GrainType.Contains(nameof(PersonGrain), StringComparison.Ordinal));
        var hosts = stats.ToDictionary(s => s.GrainId.Key.ToString()!, s => s.SiloAddress);
        Assert.True(hosts.Count > 0, "management statistics list the person grains: " + string.Join(",", stats.Select(s => s.GrainId.ToString())));
        return hosts;
    }
}
