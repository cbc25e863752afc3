using Herald.Core.Presence;

namespace Herald.Core.Tests.Presence;

/// <summary>
/// The consumer's direct take (a lone item written at once, never queued): it must keep the mailbox's promises —
/// nothing older than what was taken goes out, and nothing overtakes an item that is pending.
/// </summary>
public sealed class LatestStateMailboxDirectTests
{
    private sealed record Item(string Key, long Seq);

    private static LatestStateMailbox<Item> NewBox() => new(i => i.Key, i => i.Seq);

    [Fact]
    public void A_lone_item_is_taken_directly_and_then_counts_as_taken()
    {
        var box = NewBox();

        Assert.Equal(DirectTake.Taken, box.TryTakeDirect(new Item("ann", 5)));
        Assert.Equal(0, box.Count); // never queued

        Assert.Equal(DirectTake.Stale, box.TryTakeDirect(new Item("ann", 5)));
        Assert.Equal(DirectTake.Stale, box.TryTakeDirect(new Item("ann", 4)));
        Assert.False(box.Offer(new Item("ann", 3))); // an offer behind it is stale too
        Assert.Equal(DirectTake.Taken, box.TryTakeDirect(new Item("ann", 6)));
    }

    [Fact]
    public void Nothing_is_taken_directly_while_items_are_pending()
    {
        var box = NewBox();
        Assert.True(box.Offer(new Item("ann", 1)));

        Assert.Equal(DirectTake.Busy, box.TryTakeDirect(new Item("bea", 1)));
        Assert.Equal(DirectTake.Busy, box.TryTakeDirect(new Item("ann", 2)));

        Assert.True(box.Offer(new Item("bea", 1)));
        Assert.Equal(["ann", "bea"], box.TakeAll().Select(i => i.Key));
        Assert.Equal(DirectTake.Taken, box.TryTakeDirect(new Item("ann", 2)));
    }

    [Fact]
    public void Forgetting_a_person_lets_its_sequence_start_again()
    {
        var box = NewBox();
        Assert.Equal(DirectTake.Taken, box.TryTakeDirect(new Item("ann", 9)));

        box.Forget("ann");

        Assert.Equal(DirectTake.Taken, box.TryTakeDirect(new Item("ann", 1)));
    }

    [Fact]
    public void An_acknowledged_sequence_makes_older_direct_items_stale()
    {
        var box = NewBox();
        box.Acknowledge("ann", 7);

        Assert.Equal(DirectTake.Stale, box.TryTakeDirect(new Item("ann", 7)));
        Assert.Equal(DirectTake.Taken, box.TryTakeDirect(new Item("ann", 8)));
    }
}
