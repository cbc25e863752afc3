using Herald.Core.Model;
using Herald.Core.Privacy;
using Herald.Server.Webhooks;

namespace Herald.Server.Tests.Webhooks;

/// <summary>Which views a webhook's sink turns into <c>presence.changed</c> events.</summary>
public sealed class WebhookSinkTests
{
    private readonly List<PendingEvent> _offered = [];
    private readonly WebhookSink _sink;

    /// <summary>Creates a sink that records what it offers to the outbox.</summary>
    public WebhookSinkTests() =>
        _sink = new WebhookSink("wh_1", "owner", _offered.Add, () => DateTimeOffset.UnixEpoch);

    private static PresenceView View(long sequence, Availability availability, string? note = null) =>
        new("ada", availability, null, note, null, null, null, sequence, null, null, null, null);

    [Fact]
    public void A_change_after_the_snapshot_is_offered_once()
    {
        _sink.BeginAttach("ada");
        _sink.Seen(View(5, Availability.Available));
        _sink.Deliver(View(6, Availability.Busy));
        _sink.Deliver(View(6, Availability.Busy));

        var e = Assert.Single(_offered);
        Assert.Equal(WebhookEvents.PresenceChanged, e.Type);
        Assert.Equal(Availability.Busy, ((PresenceView)e.Data).Availability);
    }

    [Fact]
    public void The_same_presence_with_a_new_sequence_is_not_a_change()
    {
        // A person grain that reactivates after a restart re-broadcasts what it already showed.
        _sink.BeginAttach("ada");
        _sink.Seen(View(5, Availability.Busy, "in a call"));
        _sink.Deliver(View(9, Availability.Busy, "in a call"));
        Assert.Empty(_offered);

        _sink.Deliver(View(10, Availability.Busy, "back at 3"));
        Assert.Equal("back at 3", ((PresenceView)Assert.Single(_offered).Data).Note);
    }

    [Fact]
    public void Older_views_are_dropped()
    {
        _sink.BeginAttach("ada");
        _sink.Seen(View(5, Availability.Available));
        _sink.Deliver(View(4, Availability.Away));
        Assert.Empty(_offered);
    }

    [Fact]
    public void A_view_arriving_while_attaching_is_compared_with_the_snapshot()
    {
        // Same content as the snapshot: nothing.
        _sink.BeginAttach("ada");
        _sink.Deliver(View(7, Availability.Available));
        _sink.Seen(View(6, Availability.Available));
        Assert.Empty(_offered);

        // A real change racing the snapshot: offered once, after the snapshot.
        _sink.BeginAttach("bob");
        _sink.Deliver(View(3, Availability.DoNotDisturb) with { UserId = "bob" });
        Assert.Empty(_offered);
        _sink.Seen(View(2, Availability.Available) with { UserId = "bob" });
        Assert.Equal(Availability.DoNotDisturb, ((PresenceView)Assert.Single(_offered).Data).Availability);
    }

    [Fact]
    public void A_stopped_sink_offers_nothing()
    {
        _sink.Stopped = true;
        _sink.Deliver(View(1, Availability.Busy));
        Assert.Empty(_offered);
    }
}
