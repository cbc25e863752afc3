using Herald.Cluster.Presence;

namespace Herald.Cluster.Huddles;

/// <summary>
/// The durable list of open huddles and when each expires (one grain, key <see cref="OpenHuddlesGrain.Key"/>). A
/// huddle's own timer announces its expiry while the huddle grain is active; this list is what finds the huddles
/// whose grain is not active when they expire (after a restart, or the loss of the node that held them), so that
/// their expiry is still announced, within one sweep interval.
/// </summary>
[Alias("herald.IOpenHuddlesGrain")]
public interface IOpenHuddlesGrain : IGrainWithIntegerKey
{
    /// <summary>Adds an open huddle (idempotent). Fails when <see cref="OpenHuddlesGrain.MaxOpen"/> are open.</summary>
    [Alias("Register")]
    Task Register(string huddleId, DateTimeOffset expiresAt);

    /// <summary>Wakes every huddle whose expiry is due at <paramref name="now"/> and forgets those that are closed; returns how many were closed.</summary>
    [Alias("Sweep")]
    Task<int> Sweep(DateTimeOffset now);

    /// <summary>How many huddles are open.</summary>
    [Alias("Count")]
    Task<int> Count();
}

/// <summary>The durable state of <see cref="OpenHuddlesGrain"/>.</summary>
[GenerateSerializer, Alias("herald.OpenHuddlesState")]
public sealed class OpenHuddlesState
{
    /// <summary>Expiry by huddle id.</summary>
    [Id(0)] public Dictionary<string, DateTimeOffset> Open { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>The list of open huddles; see <see cref="IOpenHuddlesGrain"/>.</summary>
public sealed class OpenHuddlesGrain(
    [PersistentState("open-huddles", HeraldStorage.ProviderName)] IPersistentState<OpenHuddlesState> state) : Grain, IOpenHuddlesGrain
{
    /// <summary>The one key of the grain.</summary>
    public const long Key = 0;

    /// <summary>Most huddles open at once in the whole organization (each lives at most a few hours).</summary>
    public const int MaxOpen = 100_000;

    /// <summary>Most huddles woken per sweep (the rest wait for the next one).</summary>
    public const int MaxPerSweep = 1_000;

    /// <inheritdoc />
    public async Task Register(string huddleId, DateTimeOffset expiresAt)
    {
        ArgumentException.ThrowIfNullOrEmpty(huddleId);
        if (state.State.Open.TryGetValue(huddleId, out var known) && known == expiresAt)
        {
            return;
        }
        if (state.State.Open.Count >= MaxOpen && !state.State.Open.ContainsKey(huddleId))
        {
            throw new InvalidOperationException($"too many open huddles (at most {MaxOpen})");
        }
        state.State.Open[huddleId] = expiresAt;
        await state.WriteStateAsync();
    }

    /// <inheritdoc />
    public async Task<int> Sweep(DateTimeOffset now)
    {
        var due = state.State.Open.Where(e => e.Value <= now).OrderBy(e => e.Value).Take(MaxPerSweep).Select(e => e.Key).ToList();
        var closed = 0;
        foreach (var id in due)
        {
            if (await GrainFactory.GetGrain<IHuddleGrain>(id).Wake())
            {
                state.State.Open.Remove(id);
                closed++;
            }
        }
        if (closed > 0)
        {
            await state.WriteStateAsync();
        }
        return closed;
    }

    /// <inheritdoc />
    public Task<int> Count() => Task.FromResult(state.State.Open.Count);
}
