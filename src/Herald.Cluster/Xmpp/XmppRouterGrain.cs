using System.Diagnostics;
using Orleans.Concurrency;

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

    /// <summary>
    /// The local session of <paramref name="userId"/>'s <paramref name="resource"/> with binding
    /// <paramref name="binding"/> was replaced by a newer binding of the same resource on another node: end it with
    /// the <c>conflict</c> stream error (RFC 6120 section 7.7.2.2). Nothing happens when that session is gone.
    /// </summary>
    [Alias("Replaced"), OneWay]
    Task Replaced(string userId, string resource, string binding);
}

/// <summary>
/// One bound XMPP resource of a person, on some node. <see cref="Binding"/> names the session that bound it (unique
/// per binding; null from nodes of the previous version).
/// </summary>
[GenerateSerializer, Immutable, Alias("herald.XmppResource")]
public sealed record XmppResource(
    [property: Id(0)] string Resource,
    [property: Id(1)] int Priority,
    [property: Id(2)] bool Available,
    [property: Id(3)] string NodeId,
    [property: Id(4)] string? Binding = null);

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
    /// <summary>
    /// A session bound a resource: the newest binding wins. When the entry belonged to another binding on another
    /// node, that node is told to end the older session with <c>conflict</c> (on one node the gateway does it itself).
    /// </summary>
    [Alias("Bind")]
    Task Bind(XmppResource resource, IXmppNodeObserver node, TimeSpan lease);

    /// <summary>
    /// Updates (availability, priority) or renews the entry of a binding. False, changing nothing, when another
    /// binding holds the resource now: the caller's session was replaced and ends with <c>conflict</c> (this also
    /// covers a lost <see cref="IXmppNodeObserver.Replaced"/>).
    /// </summary>
    [Alias("Renew")]
    Task<bool> Renew(XmppResource resource, IXmppNodeObserver node, TimeSpan lease);

    /// <summary>
    /// Registers or renews a resource, replacing any entry without telling its node: the call of nodes of the
    /// previous version, kept so that both versions route during a rolling upgrade.
    /// </summary>
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
    public Task Bind(XmppResource resource, IXmppNodeObserver node, TimeSpan lease)
    {
        ArgumentNullException.ThrowIfNull(resource);
        Expire();
        if (_entries.TryGetValue(resource.Resource, out var older) && older.Resource.Binding is { } binding
            && binding != resource.Binding && older.Resource.NodeId != resource.NodeId)
        {
            // One-way: the binding node does not wait for the older one (which may be gone; its entry is replaced
            // anyway, and its next renewal is refused if this call is lost).
            try
            {
                older.Node.Replaced(this.GetPrimaryKeyString(), resource.Resource, binding);
            }
            catch (Exception ex) when (ex is OrleansException or InvalidOperationException or ObjectDisposedException)
            {
            }
        }
        Store(resource, node, lease);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<bool> Renew(XmppResource resource, IXmppNodeObserver node, TimeSpan lease)
    {
        ArgumentNullException.ThrowIfNull(resource);
        Expire();
        if (_entries.TryGetValue(resource.Resource, out var current) && current.Resource.Binding != resource.Binding)
        {
            return Task.FromResult(false);
        }
        // No entry (it expired, or this grain moved and is rebuilding): the renewing session is the binding.
        Store(resource, node, lease);
        return Task.FromResult(true);
    }

    /// <inheritdoc />
    public Task Register(XmppResource resource, IXmppNodeObserver node, TimeSpan lease)
    {
        ArgumentNullException.ThrowIfNull(resource);
        Expire();
        Store(resource, node, lease);
        return Task.CompletedTask;
    }

    private void Store(XmppResource resource, IXmppNodeObserver node, TimeSpan lease)
    {
        if (_entries.Count >= MaxResources && !_entries.ContainsKey(resource.Resource))
        {
            throw new InvalidOperationException($"more than {MaxResources} XMPP resources of one person");
        }
        _entries[resource.Resource] = new Entry(resource, node, Stopwatch.GetTimestamp() + (long)(lease.TotalSeconds * Stopwatch.Frequency));
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
