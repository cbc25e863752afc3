namespace Herald.Core.Privacy;

/// <summary>The relationship between a presentity and a watcher, most trusted first.</summary>
public enum RelationshipTier
{
    /// <summary>Chosen by the person: family, assistant, delegate.</summary>
    Trusted,
    /// <summary>Same team, or manager / direct report.</summary>
    Team,
    /// <summary>Same organization.</summary>
    Colleague,
    /// <summary>Anyone else allowed to ask.</summary>
    External,
    /// <summary>Chosen by the person: sees nothing real.</summary>
    Blocked,
}

/// <summary>Who is asking, as the policy sees them.</summary>
/// <param name="WatcherId">The watcher's person id, or null for an anonymous tier preview.</param>
/// <param name="IsSelf">True when the watcher is the presentity.</param>
/// <param name="Tier">The watcher's tier for this presentity.</param>
[GenerateSerializer, Immutable, Alias("herald.WatcherRelation")]
public sealed record WatcherRelation(
    [property: Id(0)] string? WatcherId,
    [property: Id(1)] bool IsSelf,
    [property: Id(2)] RelationshipTier Tier)
{
    /// <summary>The owner looking at themselves.</summary>
    public static WatcherRelation Self(string id) => new(id, true, RelationshipTier.Trusted);
}

/// <summary>
/// Identifies one distinct disclosure: every watcher with the same key receives the same view, so the policy runs
/// once per key and update, never once per watcher. Two watchers whose tiers, rules and grants end in the same
/// levels share a key.
/// </summary>
[GenerateSerializer, Immutable, Alias("herald.DisclosureKey")]
public readonly record struct DisclosureKey(
    [property: Id(0)] bool IsSelf,
    [property: Id(1)] ViewMode Mode,
    [property: Id(2)] PrivacyContext Context,
    [property: Id(3)] Disclosure Levels)
{
    /// <summary>The owner's key.</summary>
    public static DisclosureKey Self(PrivacyContext context) => new(true, ViewMode.Normal, context, Disclosure.Everything);

    /// <summary>Field-wise equality written out (keys are compared and hashed on every change of every person).</summary>
    public bool Equals(DisclosureKey other) =>
        Levels.Packed == other.Levels.Packed && IsSelf == other.IsSelf && Mode == other.Mode && Context == other.Context;

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var packed = Levels.Packed;
        var small = (IsSelf ? 1UL : 0UL) | (unchecked((ulong)(uint)(int)Mode) << 1) | (unchecked((ulong)(uint)(int)Context) << 17);
        var mixed = (packed ^ (small * 0x9E3779B97F4A7C15UL)) * 0xBF58476D1CE4E5B9UL;
        return (int)(mixed ^ (mixed >> 31));
    }
}

/// <summary>Where a watcher's subscription to a person stands.</summary>
public enum SubscriptionStatus
{
    /// <summary>Never asked.</summary>
    None,
    /// <summary>Asked; waiting for the person.</summary>
    Pending,
    /// <summary>Granted.</summary>
    Approved,
    /// <summary>Denied or revoked by the person.</summary>
    Denied,
    /// <summary>Polite-blocked: the watcher believes the person is offline.</summary>
    PoliteBlocked,
}
