using Herald.Server.Live;

namespace Herald.Server.Tests.Live;

public sealed class LiveConnectionWatchingTests
{
    [Fact]
    public void Start_watching_reports_who_was_watched_already_and_stop_watching_forgets_once()
    {
        var c = new LiveConnection("c1", "ann");
        Assert.Equal([false, false], c.StartWatching(["bob", "cat"]));
        Assert.Equal([true, false], c.StartWatching(["bob", "dan"]));
        Assert.Equal(3, c.WatchingCount);
        Assert.True(c.IsWatching("cat"));
        Assert.Equal(["bob", "cat", "dan"], c.WatchingNow().Order(StringComparer.Ordinal));

        Assert.True(c.StopWatching("cat"));
        Assert.False(c.StopWatching("cat"));
        Assert.False(c.IsWatching("cat"));
        Assert.Equal(2, c.WatchingCount);
        Assert.Equal([false], c.StartWatching(["cat"])); // watched again after stopping
    }

    [Fact]
    public void Ids_differing_only_in_case_are_different_people()
    {
        var c = new LiveConnection("c1", "ann");
        Assert.Equal([false, false], c.StartWatching(["bob", "Bob"]));
        Assert.Equal(2, c.WatchingCount);
    }
}
