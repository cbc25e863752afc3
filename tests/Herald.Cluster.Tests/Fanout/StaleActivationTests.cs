using Herald.Cluster.Fanout;
using Herald.Cluster.Hosting;
using Herald.Cluster.Presence;
using Herald.Cluster.Storage;
using Herald.Core.Model;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Orleans.Runtime;
using Orleans.Storage;
using Orleans.TestingHost;

namespace Herald.Cluster.Tests.Fanout;

/// <summary>
/// What a person's grain does when another activation of the same person (a duplicate during a membership change)
/// wrote behind its back: the other activation's write is simulated by writing the stored state directly, with its
/// ETag, as that activation would.
/// </summary>
public sealed class StaleActivationTests : IAsyncLifetime
{
    private readonly string _db = TestSilos.TempDatabase("stale");
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 2, 10, 0, 0, TimeSpan.Zero));
    private InProcessTestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _cluster = await TestSilos.Start(_db, 1, ["ann", "w"], _time, TimeSpan.FromMilliseconds(200));
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        TestSilos.DeleteDatabase(_db);
    }

    private IServiceProvider Silo => _cluster.Silos[0].ServiceProvider;

    private IPersonGrain Ann => _cluster.Client.GetGrain<IPersonGrain>("ann");

    /// <summary>The other activation's acknowledged write: read the stored state, change it, write it with its ETag.</summary>
    private async Task<string?> WriteBehindTheGrain(Availability availability, string note)
    {
        var storage = Silo.GetRequiredKeyedService<IGrainStorage>(HeraldStorage.ProviderName);
        var id = Ann.GetGrainId();
        var state = new GrainState<PersonState>();
        await storage.ReadStateAsync("person", id, state);
        var now = _time.GetUtcNow();
        state.State!.Preferred = new PreferredStatus(availability, null, now, now.AddDays(1));
        state.State.Note = new StatusNote(note, now, null);
        await storage.WriteStateAsync("person", id, state);
        return state.ETag;
    }

    private async Task<PersonState> Stored()
    {
        var storage = Silo.GetRequiredKeyedService<IGrainStorage>(HeraldStorage.ProviderName);
        var state = new GrainState<PersonState>();
        await storage.ReadStateAsync("person", Ann.GetGrainId(), state);
        return state.State!;
    }

    [Fact]
    public async Task A_write_from_a_stale_activation_is_not_acknowledged_never_overwrites_the_stored_state_and_watchers_get_the_stored_state()
    {
        var hub = Silo.GetRequiredService<SiloPresenceHub>();
        var sink = new RecordingSink("w");
        await hub.Watch(sink, "ann");
        await Ann.SetStatus(new SetStatus(Availability.Busy, null, "mine", null));
        await Eventually.True(() => sink.Latest.TryGetValue("ann", out var v) && v.Note == "mine");
        var before = sink.Latest["ann"].Sequence;

        await WriteBehindTheGrain(Availability.Away, "other"); // acknowledged by the other activation

        // This activation's write carries the old ETag: rejected, so not acknowledged...
        await Assert.ThrowsAnyAsync<Exception>(() => Ann.SetStatus(new SetStatus(Availability.DoNotDisturb, null, "stale", null)).AsTask());
        // ...and the other activation's acknowledged write is still what is stored.
        var stored = await Stored();
        Assert.Equal("other", stored.Note!.Text);
        Assert.Equal(Availability.Away, stored.Preferred!.Availability);
        // Watchers registered with this activation moved to the stored state, under a higher sequence.
        await Eventually.True(() => sink.Latest.TryGetValue("ann", out var v) && v.Note == "other" && v.Availability == Availability.Away,
            because: "the activation adopted the stored state and re-broadcast it");
        Assert.True(sink.Latest["ann"].Sequence > before);

        // The caller's retry is acknowledged and reaches the watcher.
        _time.Advance(TimeSpan.FromSeconds(1)); // real clocks move on; sequences are at least the time in microseconds
        await Ann.SetStatus(new SetStatus(Availability.DoNotDisturb, null, "retry", null));
        Assert.Equal("retry", (await Stored()).Note!.Text);
        await Eventually.True(() => sink.Latest.TryGetValue("ann", out var v) && v.Note == "retry",
            because: "the retried write is broadcast (or caught up by the renewal if the activation was replaced)");
    }

    [Fact]
    public async Task Around_a_membership_change_an_activation_that_never_writes_adopts_the_stored_state_at_the_next_renewal()
    {
        var hub = Silo.GetRequiredService<SiloPresenceHub>();
        var sink = new RecordingSink("w");
        await hub.Watch(sink, "ann");
        await Ann.SetStatus(new SetStatus(Availability.Busy, null, "mine", null));
        await Eventually.True(() => sink.Latest.TryGetValue("ann", out var v) && v.Note == "mine");
        var before = sink.Latest["ann"].Sequence;

        Silo.GetRequiredService<MembershipChanges>().Changed(); // e.g. a node was just SIGKILLed
        await WriteBehindTheGrain(Availability.Away, "other");

        // No write reaches this activation; the silo's renewal does, and the watcher catches up.
        await Eventually.True(() => sink.Latest.TryGetValue("ann", out var v) && v.Note == "other" && v.Availability == Availability.Away,
            because: "the renewal made the activation compare with storage and adopt the newer state");
        Assert.True(sink.Latest["ann"].Sequence > before);
        Assert.Equal("other", (await Ann.GetViewFor("ann", "rest")).Note);
    }

    [Fact]
    public async Task A_single_silo_never_sees_a_membership_change_so_calls_do_not_read_storage()
    {
        await Ann.SetStatus(new SetStatus(Availability.Busy, null, "mine", null));
        Assert.False(Silo.GetRequiredService<MembershipChanges>().Recent);
    }
}
