using Herald.Cluster.Fanout;
using Herald.Cluster.Presence;
using Herald.Core.Model;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Orleans.TestingHost;

namespace Herald.Cluster.Tests.Fanout;

/// <summary>
/// A person's grain renders one view per disclosure key in use and looks through its watchers' keys only after its
/// rendered views were dropped (a profile change). Watchers registered before the profile change must still get
/// every later change, with the new profile's contact methods.
/// </summary>
public sealed class ViewKeysAfterProfileChangeTests : IAsyncLifetime
{
    private readonly string _db = TestSilos.TempDatabase("viewkeys");
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 2, 10, 0, 0, TimeSpan.Zero)); // a Wednesday, work hours
    private InProcessTestCluster _cluster = null!;

    public async Task InitializeAsync() =>
        // Renewal far away: a renewal re-renders every watcher's key, which would hide what this test looks at.
        _cluster = await TestSilos.Start(_db, 1, ["ada", "w1", "w2"], _time, TimeSpan.FromMinutes(10));

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        TestSilos.DeleteDatabase(_db);
    }

    [Fact]
    public async Task Watchers_registered_before_a_profile_change_get_the_next_change_with_the_new_profile()
    {
        var hub = _cluster.Silos[0].ServiceProvider.GetRequiredService<SiloPresenceHub>();
        RecordingSink first = new("w1"), second = new("w2");
        await hub.Watch(first, "ada");
        await hub.Watch(second, "ada");
        var ada = _cluster.Client.GetGrain<IPersonGrain>("ada");

        await ada.ProfileChanged(PersonProfile.Minimal("ada") with { ContactMethods = [new ContactMethod(ContactKind.Email, "ada@example.org")] });
        await ada.SetStatus(new SetStatus(Availability.Busy, null, "after the profile change", null));

        await Eventually.True(() => new[] { first, second }.All(s => s.Latest.TryGetValue("ada", out var v)
                && v.Note == "after the profile change" && v.ContactMethods is { Count: 1 } c && c[0].Address == "ada@example.org"),
            because: "every watcher's key is rendered again after the profile change");
    }
}
