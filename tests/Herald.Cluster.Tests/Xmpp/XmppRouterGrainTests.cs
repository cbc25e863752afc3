using System.Collections.Concurrent;
using Herald.Cluster.Xmpp;
using Microsoft.Extensions.Time.Testing;
using Orleans.TestingHost;

namespace Herald.Cluster.Tests.Xmpp;

/// <summary>
/// The per-person XMPP resource registry when one resource is bound on two nodes: the newest binding wins, the node of
/// the older one is told (once, by binding), and the older binding's renewals are refused from then on.
/// </summary>
public sealed class XmppRouterGrainTests : IAsyncLifetime
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(1);
    private readonly string _db = TestSilos.TempDatabase("xmpprouter");
    private InProcessTestCluster _cluster = null!;

    public async Task InitializeAsync() =>
        _cluster = await TestSilos.Start(_db, 1, ["ann"], new FakeTimeProvider(new DateTimeOffset(2026, 12, 2, 10, 0, 0, TimeSpan.Zero)), TimeSpan.FromSeconds(1));

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        TestSilos.DeleteDatabase(_db);
    }

    [Fact]
    public async Task A_binding_on_another_node_replaces_the_older_one_and_tells_its_node()
    {
        var router = _cluster.Client.GetGrain<IXmppRouterGrain>("ann");
        var (nodeA, refA) = Node();
        var (nodeB, refB) = Node();

        await router.Bind(new XmppResource("desk", 0, false, "A", "a1"), refA, Lease);
        Assert.True(await router.Renew(new XmppResource("desk", 5, true, "A", "a1"), refA, Lease));

        await router.Bind(new XmppResource("desk", 0, false, "B", "b1"), refB, Lease);
        await Eventually.True(() => nodeA.Replaced.Contains("ann/desk/a1"), because: "node A is told its binding was replaced");

        // The older binding's renewal (sent before it heard, or after a lost notice) changes nothing.
        Assert.False(await router.Renew(new XmppResource("desk", 5, true, "A", "a1"), refA, Lease));
        Assert.Equal("B", Assert.Single(await router.Resources()).NodeId);
        Assert.True(await router.Renew(new XmppResource("desk", 1, true, "B", "b1"), refB, Lease));
        Assert.True(await router.Deliver("desk", "<message/>"));
        Assert.Equal(["ann/desk/<message/>"], nodeB.Delivered);
        Assert.Empty(nodeA.Delivered);

        // The older node's end of that stream does not remove the newer entry.
        await router.Unregister("desk", "A");
        Assert.Equal("b1", Assert.Single(await router.Resources()).Binding);

        // A rebind on the same node is the gateway's to resolve: nobody is told (node B hears of b2's replacement by a
        // later binding on node A, and of nothing before it).
        await router.Bind(new XmppResource("desk", 0, false, "B", "b2"), refB, Lease);
        Assert.False(await router.Renew(new XmppResource("desk", 1, true, "B", "b1"), refB, Lease));
        await router.Bind(new XmppResource("desk", 0, false, "A", "a2"), refA, Lease);
        await Eventually.True(() => nodeB.Replaced.Count > 0, because: "node B is told b2 was replaced");
        Assert.Equal(["ann/desk/b2"], nodeB.Replaced);
        Assert.Equal(["ann/desk/a1"], nodeA.Replaced);
    }

    private (RecordingNode Node, IXmppNodeObserver Ref) Node()
    {
        var node = new RecordingNode();
        return (node, _cluster.Client.CreateObjectReference<IXmppNodeObserver>(node));
    }

    private sealed class RecordingNode : IXmppNodeObserver
    {
        private readonly ConcurrentQueue<string> _replaced = new();
        private readonly ConcurrentQueue<string> _delivered = new();

        public IReadOnlyList<string> Replaced => [.. _replaced];

        public IReadOnlyList<string> Delivered => [.. _delivered];

        public Task<bool> Deliver(string userId, string resource, string stanza)
        {
            _delivered.Enqueue($"{userId}/{resource}/{stanza}");
            return Task.FromResult(true);
        }

        Task IXmppNodeObserver.Replaced(string userId, string resource, string binding)
        {
            _replaced.Enqueue($"{userId}/{resource}/{binding}");
            return Task.CompletedTask;
        }
    }
}
