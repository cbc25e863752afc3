using Herald.Core.Privacy;

namespace Herald.Cluster.Privacy;

/// <summary>
/// The organization policy as every person grain of this silo sees it: loaded once, replaced on change. Grains
/// compare <see cref="Version"/> with the one their decisions were made under and re-decide when it moved.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The semaphore never allocates a wait handle.")]
public sealed class OrgPolicyCache(IOrgPolicyStore store)
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private (OrgPolicy Policy, long Version)? _current;

    /// <summary>The current policy (loads it on first use).</summary>
    public async ValueTask<(OrgPolicy Policy, long Version)> Get(CancellationToken ct = default)
    {
        if (_current is { } c)
        {
            return c;
        }
        await _gate.WaitAsync(ct);
        try
        {
            _current ??= await store.Get(ct);
            return _current.Value;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The version loaded, or -1 before the first load.</summary>
    public long Version => _current?.Version ?? -1;

    /// <summary>Reloads from the store (after an administrator saved a new policy).</summary>
    public async Task Reload(CancellationToken ct = default)
    {
        var fresh = await store.Get(ct);
        _current = fresh;
    }
}
