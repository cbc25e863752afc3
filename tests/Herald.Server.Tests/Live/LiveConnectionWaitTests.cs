using Herald.Core.Model;
using Herald.Core.Privacy;
using Herald.Server.Live;

namespace Herald.Server.Tests.Live;

/// <summary>The connection's wake-up: no lost signal, no allocation per wait, cancellation wakes the waiter.</summary>
public sealed class LiveConnectionWaitTests
{
    [Fact]
    public async Task A_delivery_before_the_wait_is_not_lost_and_several_collapse_into_one_wake_up()
    {
        var c = new LiveConnection("c1", "ann");
        c.Deliver(PresenceView.Nothing("bob", 1) with { Availability = Availability.Busy });
        c.Deliver(PresenceView.Nothing("cleo", 1) with { Availability = Availability.Busy });
        var wait = c.WaitAsync(CancellationToken.None);
        Assert.True(wait.IsCompleted);
        await wait;
        var views = new List<PresenceView>();
        Assert.Equal(2, c.TakeAll(views));
        Assert.False(c.HasPending);
        var second = c.WaitAsync(CancellationToken.None).AsTask();
        Assert.False(second.IsCompleted, "both deliveries were one wake-up");
        c.Deliver(PresenceView.Nothing("bob", 2) with { Availability = Availability.Away });
        await second.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_waiting_pump_is_woken_by_a_delivery_from_another_thread_every_time()
    {
        var c = new LiveConnection("c1", "ann");
        var views = new List<PresenceView>();
        for (var i = 1; i <= 200; i++)
        {
            var wait = c.WaitAsync(CancellationToken.None);
            var seq = i;
            _ = Task.Run(() => c.Deliver(PresenceView.Nothing("bob", seq) with { Availability = Availability.Busy }));
            await wait.AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            // A wake-up may have come from the previous round's spare signal: wait until this round's view is there.
            while (c.TakeAll(views) == 0)
            {
                await c.WaitAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            }
            Assert.Equal(seq, Assert.Single(views).Sequence);
        }
    }

    [Fact]
    public async Task Cancelling_the_token_wakes_the_waiter_with_an_OperationCanceledException()
    {
        var c = new LiveConnection("c1", "ann");
        using var cts = new CancellationTokenSource();
        var wait = c.WaitAsync(cts.Token).AsTask();
        Assert.False(wait.IsCompleted);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task The_timed_wait_reports_false_when_nothing_arrived_and_true_when_something_did()
    {
        var c = new LiveConnection("c1", "ann");
        Assert.False(await c.WaitAsync(TimeSpan.FromMilliseconds(20), CancellationToken.None));
        c.DeliverEvent(new Herald.Cluster.Presence.UserEvent("ann", "huddle.updated", "{}"));
        Assert.True(await c.WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None));
    }
}
