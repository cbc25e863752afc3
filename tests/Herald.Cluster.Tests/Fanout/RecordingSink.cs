using System.Collections.Concurrent;
using Herald.Cluster.Fanout;
using Herald.Core.Privacy;

namespace Herald.Cluster.Tests.Fanout;

internal sealed class RecordingSink(string watcherId) : IPresenceSink
{
    public string WatcherId { get; } = watcherId;

    public ConcurrentDictionary<string, PresenceView> Latest { get; } = new();

    public ConcurrentQueue<PresenceView> All { get; } = new();

    public void Deliver(PresenceView view)
    {
        All.Enqueue(view);
        Latest.AddOrUpdate(view.UserId, view, (_, old) => old.Sequence >= view.Sequence ? old : view);
    }
}
