using Herald.Cluster.Presence;
using Herald.Core.Model;
using Herald.Core.Privacy;
using Herald.Server.Live;

namespace Herald.Server.Tests.Huddles;

public sealed class LiveConnectionEventTests
{
    [Fact]
    public async Task Huddle_events_are_never_coalesced_and_a_connection_that_falls_behind_keeps_the_newest_thousand()
    {
        var c = new LiveConnection("c1", "ann");
        for (var i = 0; i < LiveConnection.MaxPendingEvents + 5; i++)
        {
            c.DeliverEvent(new UserEvent("ann", "huddle.updated", $$"""{"n":{{i}}}"""));
        }
        c.Deliver(PresenceView.Nothing("bob", 1) with { Availability = Availability.Busy });
        c.Deliver(PresenceView.Nothing("bob", 2) with { Availability = Availability.Available });

        Assert.True(await c.WaitAsync(TimeSpan.FromSeconds(1), CancellationToken.None));
        var events = c.TakeEvents();
        Assert.Equal(LiveConnection.MaxPendingEvents, events.Count);
        Assert.Equal("""{"n":5}""", events[0].Json);
        Assert.Equal($$"""{"n":{{LiveConnection.MaxPendingEvents + 4}}}""", events[^1].Json);
        Assert.Equal(5, c.DroppedEvents);
        Assert.Empty(c.TakeEvents());
        // Presence still coalesces on its own: the newest view per person.
        Assert.Equal(Availability.Available, Assert.Single(c.TakeAll()).Availability);
    }
}
