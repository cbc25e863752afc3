using System.Collections.Concurrent;
using Herald.Cluster.Fanout;
using Herald.Cluster.Presence;
using Herald.Core.Model;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Orleans.TestingHost;

namespace Herald.Cluster.Tests.Fanout;

/// <summary>
/// A departed watcher's registration lingers on the silo (<see cref="PresenceOptions.WatcherLinger"/>): a reconnect
/// within it costs no grain call, the departed watcher is not "watching now" from the moment it left, gets nothing
/// meanwhile, and a revocation meanwhile still applies on its return. Grain calls are counted by a silo call filter.
/// </summary>
public sealed class WatcherLingerTests : IAsyncLifetime
{
    private readonly string _db = TestSilos.TempDatabase("linger");

    // Wednesday 10:00 UTC: inside default work hours, so colleagues see availability and note.
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 2, 10, 0, 0, TimeSpan.Zero));
    private InProcessTestCluster? _cluster;

    private SiloPresenceHub Hub => _cluster!.Silos[0].ServiceProvider.GetRequiredService<SiloPresenceHub>();

    private PersonCallCounter Calls => _cluster!.Silos[0].ServiceProvider.GetRequiredService<PersonCallCounter>();

    private IPersonGrain Person(string id) => _cluster!.Client.GetGrain<IPersonGrain>(id);

    public Task InitializeAsync() => Task.CompletedTask; // each test starts its cluster with its own options

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
        TestSilos.DeleteDatabase(_db);
    }

    [Fact]
    public async Task A_watcher_who_reconnects_within_the_linger_costs_no_grain_call_and_gets_the_current_view()
    {
        await Start();
        await Person("ada").SetStatus(new SetStatus(Availability.Busy, null, "before", null));
        var first = new RecordingSink("bob");
        Assert.Equal("before", (await Hub.Watch(first, "ada")).Note);
        await Hub.Watch(first, "cy");
        Assert.True(await IsLive("ada", "bob"));
        var (watches, unwatches) = (Calls.Count("WatchFromSilo"), Calls.Count("UnwatchFromSilo"));

        // Disconnect: the registrations stay, but bob is not watching now, at once.
        Hub.Unwatch(first, "ada");
        Hub.Unwatch(first, "cy");
        Assert.False(await IsLive("ada", "bob"));
        Assert.False(await IsLive("cy", "bob"));

        // Nothing reaches the departed watcher (the local hub takes the broadcast within the grain's turn).
        var delivered = first.All.Count;
        await Person("ada").SetStatus(new SetStatus(Availability.DoNotDisturb, null, "while away", null));
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(delivered, first.All.Count);

        // Reconnect within the linger: the current view at once, from the hub.
        var again = new RecordingSink("bob");
        var view = await Hub.Watch(again, "ada");
        Assert.Equal((Availability.DoNotDisturb, "while away"), (view.Availability, view.Note));
        await Hub.Watch(again, "cy");
        Assert.True(await IsLive("ada", "bob"));

        Assert.Equal(watches, Calls.Count("WatchFromSilo"));
        Assert.Equal(unwatches, Calls.Count("UnwatchFromSilo"));

        // And the returned watcher gets changes again.
        await Person("ada").SetStatus(new SetStatus(Availability.Available, null, "back", null));
        await Eventually.True(() => again.Latest.TryGetValue("ada", out var v) && v.Note == "back", because: "the returned watcher gets the change");
        Assert.Equal(delivered, first.All.Count);
    }

    [Fact]
    public async Task The_linger_ends_after_its_time_and_a_later_return_registers_again()
    {
        await Start();
        var first = new RecordingSink("bob");
        await Hub.Watch(first, "ada");
        var (watches, unwatches) = (Calls.Count("WatchFromSilo"), Calls.Count("UnwatchFromSilo"));
        Hub.Unwatch(first, "ada");
        Assert.Equal(1, Hub.LingeringWatchers);

        _time.Advance(Hub.Options.WatcherLinger - TimeSpan.FromSeconds(1));
        Assert.Equal(0, Hub.ExpireLingering());
        Assert.Contains("ada", Hub.WatchedPersonIds());

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, Hub.ExpireLingering());
        Assert.DoesNotContain("ada", Hub.WatchedPersonIds());
        Assert.Equal(0, Hub.LingeringWatchers);
        // Nobody else watches ada here: the silo unregisters (one call, after the linger instead of at the departure).
        await Eventually.True(() => Calls.Count("UnwatchFromSilo") == unwatches + 1, because: "the expired registration is dropped");
        Assert.False(await IsLive("ada", "bob"));

        // A return after the linger registers again, as a first watch does.
        var again = new RecordingSink("bob");
        await Hub.Watch(again, "ada");
        Assert.Equal(watches + 1, Calls.Count("WatchFromSilo"));
        Assert.True(await IsLive("ada", "bob"));
    }

    [Fact]
    public async Task An_expired_watcher_of_a_person_still_watched_here_leaves_with_the_next_renewal_without_a_call()
    {
        await Start();
        RecordingSink bob = new("bob"), dee = new("dee");
        await Hub.Watch(bob, "ada");
        await Hub.Watch(dee, "ada");
        var unwatches = Calls.Count("UnwatchFromSilo");
        Hub.Unwatch(bob, "ada");

        _time.Advance(Hub.Options.WatcherLinger);
        await Hub.RenewAll(CancellationToken.None); // sweeps first, then renews naming dee only
        Assert.Equal(0, Hub.LingeringWatchers);
        Assert.Equal(unwatches, Calls.Count("UnwatchFromSilo"));
        Assert.Equal(["dee"], (await Person("ada").GetWatchers()).Where(w => w.Live).Select(w => w.WatcherId));

        // bob's return is a first watch again.
        var watches = Calls.Count("WatchFromSilo");
        await Hub.Watch(new RecordingSink("bob"), "ada");
        Assert.Equal(watches + 1, Calls.Count("WatchFromSilo"));
    }

    [Fact]
    public async Task A_watcher_revoked_while_lingering_gets_nothing_of_the_person_on_return()
    {
        await Start();
        await Person("ada").SetStatus(new SetStatus(Availability.Busy, null, "secret", null));
        var first = new RecordingSink("bob");
        Assert.Equal("secret", (await Hub.Watch(first, "ada")).Note);
        Hub.Unwatch(first, "ada");

        Assert.True(await Person("ada").RevokeWatcher("bob"));
        await Person("ada").SetStatus(new SetStatus(Availability.DoNotDisturb, null, "later secret", null));

        var again = new RecordingSink("bob");
        var view = await Hub.Watch(again, "ada");
        // What any watcher without permission gets, decided now by the grain (not a cached view from before).
        var denied = await Person("ada").GetViewFor("bob", "rest");
        Assert.Null(view.Note);
        Assert.Equal((denied.Availability, denied.Note, denied.Activity), (view.Availability, view.Note, view.Activity));
        Assert.NotEqual(Availability.DoNotDisturb, view.Availability);
        Assert.NotEqual(Availability.Busy, view.Availability);

        await Person("ada").SetStatus(new SetStatus(Availability.Available, null, "still secret", null));
        Assert.DoesNotContain(again.All, v => v.Note is not null);
        Assert.DoesNotContain(first.All, v => v.Note is not null);
    }

    [Fact]
    public async Task Soon_after_a_membership_change_a_return_asks_the_grain_which_may_not_have_re_keyed_the_lingering_entry()
    {
        await Start();
        await Person("ada").SetStatus(new SetStatus(Availability.Busy, null, "secret", null));
        var first = new RecordingSink("bob");
        Assert.Equal("secret", (await Hub.Watch(first, "ada")).Note);
        Hub.Unwatch(first, "ada");

        // As after a node loss: ada's new activation has none of this silo's registrations, so her revocation re-keys
        // nothing here, and the hub still holds bob's old key and view.
        await Person("ada").UnwatchFromSilo(_cluster!.Silos[0].SiloAddress, null);
        Assert.True(await Person("ada").RevokeWatcher("bob"));
        _cluster.Silos[0].ServiceProvider.GetRequiredService<MembershipChanges>().Changed();

        var watches = Calls.Count("WatchFromSilo");
        var view = await Hub.Watch(new RecordingSink("bob"), "ada");
        Assert.Null(view.Note);
        Assert.NotEqual(Availability.Busy, view.Availability);
        Assert.Equal(watches + 1, Calls.Count("WatchFromSilo"));
    }

    [Fact]
    public async Task Past_the_bound_a_departure_unregisters_at_once()
    {
        await Start(o => o.MaxLingeringWatchers = 2);
        var sinks = new[] { "bob", "cy", "dee" }.Select(id => new RecordingSink(id)).ToList();
        foreach (var sink in sinks)
        {
            await Hub.Watch(sink, "ada");
        }
        var unwatches = Calls.Count("UnwatchFromSilo");
        foreach (var sink in sinks)
        {
            Hub.Unwatch(sink, "ada");
        }
        Assert.Equal(2, Hub.LingeringWatchers);
        await Eventually.True(() => Calls.Count("UnwatchFromSilo") == unwatches + 1, because: "the third departure is unregistered at once");
        Assert.DoesNotContain(await Person("ada").GetWatchers(), w => w.Live);
    }

    [Fact]
    public async Task A_zero_linger_unregisters_at_once_as_before()
    {
        await Start(o => o.WatcherLinger = TimeSpan.Zero);
        var bob = new RecordingSink("bob");
        await Hub.Watch(bob, "ada");
        var (watches, unwatches) = (Calls.Count("WatchFromSilo"), Calls.Count("UnwatchFromSilo"));
        Hub.Unwatch(bob, "ada");
        Assert.Equal(0, Hub.LingeringWatchers);
        Assert.DoesNotContain("ada", Hub.WatchedPersonIds());
        await Eventually.True(() => Calls.Count("UnwatchFromSilo") == unwatches + 1, because: "the departure is unregistered at once");
        await Hub.Watch(new RecordingSink("bob"), "ada");
        Assert.Equal(watches + 1, Calls.Count("WatchFromSilo"));
    }

    private async Task Start(Action<PresenceOptions>? configure = null)
    {
        // A long renewal period: the background renewal must not add registrations to the counts while a test runs.
        _cluster = await TestSilos.Start(_db, 1, ["ada", "bob", "cy", "dee"], _time, TimeSpan.FromMinutes(10), silo: silo =>
        {
            silo.Services.AddSingleton<PersonCallCounter>();
            silo.Services.AddSingleton<IIncomingGrainCallFilter>(sp => sp.GetRequiredService<PersonCallCounter>());
            if (configure is not null)
            {
                silo.Services.Configure(configure);
            }
        });
    }

    private async Task<bool> IsLive(string person, string watcher) =>
        (await Person(person).GetWatchers()).Any(w => w.WatcherId == watcher && w.Live);

    /// <summary>Counts the calls of each <see cref="IPersonGrain"/> method; a renewal (<c>replace</c>) counts apart.</summary>
    private sealed class PersonCallCounter : IIncomingGrainCallFilter
    {
        private readonly ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);

        public int Count(string method) => _counts.GetValueOrDefault(method);

        public Task Invoke(IIncomingGrainCallContext context)
        {
            if (context.InterfaceMethod?.DeclaringType == typeof(IPersonGrain))
            {
                var name = context.InterfaceMethod.Name;
                if (name == nameof(IPersonGrain.WatchFromSilo) && context.Request.GetArgument(3) is true)
                {
                    name += " (renewal)";
                }
                _counts.AddOrUpdate(name, 1, static (_, n) => n + 1);
            }
            return context.Invoke();
        }
    }
}
