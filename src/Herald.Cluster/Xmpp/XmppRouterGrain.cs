using System.Diagnostics;

namespace Herald.Cluster.Xmpp;

/// <summary>The XMPP gateway of one server process, as a target for stanzas routed from other processes.</summary>
[Alias("herald.IXmppNodeObserver")]
public interface IXmppNodeObserver : IGrainObserver
{
    /// <summary>
    /// Hands a complete stanza (already addressed and stamped with the sender's full JID by the sending gateway) to
    /// the local resource <paramref name="resource"/> of <paramref name="userId"/>; false when that resource is not here.
    /// </summary>
    [Alias("Deliver")]
    Task<bool> Deliver(string userId, string resource, string stanza);
}

/// <summary>One bound XMPP resource of a person, on some node.</summary>
[GenerateSerializer, Immutable, Alias("herald.XmppResource")]
public sealed record XmppResource(
    [property: Id(0)] string Resource,
    [property: Id(1)] int Priority,
    [property: Id(2)] bool Available,
    [property: Id(3)] string NodeId);

/// <summary>
/// Where one person's XMPP resources are bound (key = user id), so that a message, an IQ or a directed presence for
/// them reaches a resource connected to another server process. Soft state: entries are leases that the owning
/// gateway renews (every third of the lease) and removes when the stream ends; an entry whose node does not answer is
/// dropped at the first failed delivery. Nothing is persisted: after this grain moves, the registry rebuilds itself
/// within one renewal round.
/// </summary>
[Alias("herald.IXmppRouterGrain")]
public interface IXmppRouterGrain : IGrainWithStringKey
{
    /// <summary>Registers or renews a resource on a node (a resource re-bound on another node replaces the old entry).</summary>
    [Alias("Register")]
    Task Register(XmppResource resource, IXmppNodeObserver node, TimeSpan lease);

    /// <summary>Removes a resource, if it is still the one of <paramref name="nodeId"/>.</summary>
    [Alias("Unregister")]
    Task Unregister(string resource, string nodeId);

    /// <summary>The person's live resources on every node.</summary>
    [Alias("Resources")]
    Task<IReadOnlyList<XmppResource>> Resources();

    /// <summary>Delivers a stanza to one resource on its node; false when it is gone (the entry is then removed).</summary>
    [Alias("Deliver")]
    Task<bool> Deliver(string resource, string stanza);
}

/// <summary>The per-person XMPP resource registry (see <see cref="IXmppRouterGrain"/>).</summary>
public sealed class XmppRouterGrain : Grain, IXmppRouterGrain
{
    /// <summary>Most resources one person may have registered (more are refused, oldest kept).</summary>
    public const int MaxResources = 64;

    /// <summary>How long a delivery to another node may take before the entry is considered gone.</summary>
    public static readonly TimeSpan DeliveryTimeout = TimeSpan.FromSeconds(5);

    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public Task Register(XmppResource resource, IXmppNodeObserver node, TimeSpan lease)
    {
        ArgumentNullException.ThrowIfNull(resource);
        Expire();
        if (_entries.Count >= MaxResources && !_entries.ContainsKey(resource.Resource))
        {
            throw new InvalidOperationException($"more than {MaxResources} XMPP resources of one person");
        }
        _entries[resource.Resource] = new Entry(resource, node, Stopwatch.GetTimestamp() + (long)(lease.TotalSeconds * Stopwatch.Frequency));
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task Unregister(string resource, string nodeId)
    {
        if (_entries.TryGetValue(resource, out var e) && e.Resource.NodeId == nodeId)
        {
            _entries.Remove(resource);
        }
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<XmppResource>> Resources()
    {
        Expire();
        return Task.FromResult<IReadOnlyList<XmppResource>>([.. _entries.Values.Select(e => e.Resource)]);
    }

    /// <inheritdoc />
    public async Task<bool> Deliver(string resource, string stanza)
    {
        Expire();
        if (!_entries.TryGetValue(resource, out var e))
        {
            return false;
        }
        bool delivered;
        try
        {
            delivered = await e.Node.Deliver(this.GetPrimaryKeyString(), resource, stanza).WaitAsync(DeliveryTimeout);
        }
        catch (Exception ex) when (ex is TimeoutException or OrleansException or InvalidOperationException or ObjectDisposedException)
        {
            delivered = false;
        }
        if (!delivered && _entries.TryGetValue(resource, out var now) && ReferenceEquals(now, e))
        {
            _entries.Remove(resource);
        }
        return delivered;
    }

    private void Expire()
    {
        var now = Stopwatch.GetTimestamp();
        foreach (var (key, e) in _entries.Where(kv => kv.Value.ExpiresAt < now).ToList())
        {
            _entries.Remove(key);
        }
    }

    private sealed record Entry(XmppResource Resource, IXmppNodeObserver Node, long ExpiresAt);
}
