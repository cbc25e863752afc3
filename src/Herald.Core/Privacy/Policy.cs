using Herald.Core.Model;

namespace Herald.Core.Privacy;

/// <summary>What happens when someone asks to watch, ordered from most to least open.</summary>
public enum SubscriptionHandling
{
    /// <summary>Granted at once.</summary>
    Allow = 0,
    /// <summary>Pending until the person approves.</summary>
    Confirm = 1,
    /// <summary>The watcher is told nothing and sees Offline forever.</summary>
    PoliteBlock = 2,
    /// <summary>Refused.</summary>
    Block = 3,
}

/// <summary>Which layer decided a field's level.</summary>
public enum PolicyLayer
{
    /// <summary>Herald's built-in default for the tier and context.</summary>
    Default,
    /// <summary>The person's rule for the tier.</summary>
    UserTier,
    /// <summary>The person's rule for this watcher.</summary>
    UserWatcher,
    /// <summary>A time-boxed grant to this watcher.</summary>
    Grant,
    /// <summary>The organization floor (must show).</summary>
    OrganizationFloor,
    /// <summary>The organization ceiling (may never show more).</summary>
    OrganizationCeiling,
    /// <summary>The watcher is the person.</summary>
    Self,
    /// <summary>Blocked, polite block or appear offline: nothing real is shown.</summary>
    Block,
    /// <summary>No subscription yet (pending or not requested under Confirm).</summary>
    Subscription,
}

/// <summary>How a view is rendered.</summary>
public enum ViewMode
{
    /// <summary>The fields the disclosure allows.</summary>
    Normal = 0,
    /// <summary>Offline, exactly as after a real disconnect (appear offline).</summary>
    Offline = 1,
    /// <summary>Nothing at all (no subscription).</summary>
    Nothing = 2,
    /// <summary>A constant "Offline" that never changes, whatever the person does (Blocked tier, polite block).</summary>
    Blocked = 3,
}

/// <summary>Rules for one tier: a rule for any context, overridden per context.</summary>
[GenerateSerializer, Immutable, Alias("herald.TierRules")]
public sealed record TierRules(
    [property: Id(0)] DisclosureRule? Any = null,
    [property: Id(1)] DisclosureRule? WorkHours = null,
    [property: Id(2)] DisclosureRule? OffHours = null,
    [property: Id(3)] DisclosureRule? DayOff = null)
{
    /// <summary>The rule for <paramref name="context"/> (context-specific, else <see cref="Any"/>), for one field.</summary>
    public int? Get(PrivacyContext context, DisclosureField field) =>
        (context switch
        {
            PrivacyContext.WorkHours => WorkHours,
            PrivacyContext.OffHours => OffHours,
            _ => DayOff,
        })?.Get(field) ?? Any?.Get(field);
}

/// <summary>A person's rules for one watcher: another tier and/or field levels.</summary>
[GenerateSerializer, Immutable, Alias("herald.WatcherRules")]
public sealed record WatcherRules(
    [property: Id(0)] RelationshipTier? Tier = null,
    [property: Id(1)] TierRules? Rules = null);

/// <summary>A time-boxed, revocable exception for one watcher (still clamped by the ceiling).</summary>
[GenerateSerializer, Immutable, Alias("herald.Grant")]
public sealed record Grant(
    [property: Id(0)] string Id,
    [property: Id(1)] string WatcherId,
    [property: Id(2)] DisclosureRule Rule,
    [property: Id(3)] DateTimeOffset From,
    [property: Id(4)] DateTimeOffset Until,
    [property: Id(5)] string? Reason)
{
    /// <summary>True while the grant applies.</summary>
    public bool IsActive(DateTimeOffset now) => now >= From && now < Until;
}

/// <summary>A person's privacy rules (the layer between the organization's floor and ceiling).</summary>
[GenerateSerializer, Immutable, Alias("herald.UserPrivacy")]
public sealed record UserPrivacy(
    [property: Id(0)] IReadOnlyDictionary<RelationshipTier, TierRules> Tiers,
    [property: Id(1)] IReadOnlyDictionary<string, WatcherRules> Watchers,
    [property: Id(2)] IReadOnlyDictionary<RelationshipTier, SubscriptionHandling> Subscriptions,
    [property: Id(3)] IReadOnlyList<RelationshipTier>? AppearOfflineTiers)
{
    /// <summary>No rules of one's own: defaults everywhere, appear offline to everyone.</summary>
    public static UserPrivacy Default { get; } = new(
        new Dictionary<RelationshipTier, TierRules>(), new Dictionary<string, WatcherRules>(),
        new Dictionary<RelationshipTier, SubscriptionHandling>(), null);

    /// <summary>True when appear offline applies to <paramref name="tier"/> (all tiers unless narrowed).</summary>
    public bool AppearsOfflineTo(RelationshipTier tier) => AppearOfflineTiers is null || AppearOfflineTiers.Contains(tier);
}

/// <summary>The organization's policy: ceilings, floors and switches.</summary>
[GenerateSerializer, Immutable, Alias("herald.OrgPolicy")]
public sealed record OrgPolicy(
    [property: Id(0)] IReadOnlyDictionary<RelationshipTier, DisclosureRule> Ceiling,
    [property: Id(1)] IReadOnlyDictionary<RelationshipTier, TierRules> Floor,
    [property: Id(2)] bool AppearOfflineAllowed,
    [property: Id(3)] IReadOnlyDictionary<RelationshipTier, SubscriptionHandling> SubscriptionDefaults,
    [property: Id(4)] IReadOnlyDictionary<RelationshipTier, SubscriptionHandling> SubscriptionMinimum,
    [property: Id(5)] int AuditRetentionDays,
    [property: Id(6)] WorkHours DefaultWorkHours)
{
    /// <summary>
    /// The default: no ceilings or floors beyond the defaults, appear offline allowed, Allow for Trusted, Team and
    /// Colleague, Confirm for External, PoliteBlock for Blocked; audit kept 180 days; Mon–Fri 09:00–17:00.
    /// </summary>
    public static OrgPolicy Default { get; } = new(
        new Dictionary<RelationshipTier, DisclosureRule>(),
        new Dictionary<RelationshipTier, TierRules>(),
        true,
        new Dictionary<RelationshipTier, SubscriptionHandling>
        {
            [RelationshipTier.Trusted] = SubscriptionHandling.Allow,
            [RelationshipTier.Team] = SubscriptionHandling.Allow,
            [RelationshipTier.Colleague] = SubscriptionHandling.Allow,
            [RelationshipTier.External] = SubscriptionHandling.Confirm,
            [RelationshipTier.Blocked] = SubscriptionHandling.PoliteBlock,
        },
        new Dictionary<RelationshipTier, SubscriptionHandling>(),
        180,
        WorkHours.Default);

    /// <summary>
    /// The tiers whose urgent calls a person may let break through Do not disturb (null: every tier but Blocked).
    /// </summary>
    [Id(7)] public IReadOnlyList<RelationshipTier>? BreakThroughTiers { get; init; }

    /// <summary>The ceiling of <paramref name="tier"/> as a complete disclosure (everything where none is set).</summary>
    public int CeilingOf(RelationshipTier tier, DisclosureField field) =>
        Ceiling.TryGetValue(tier, out var r) && r.Get(field) is { } v ? v : DisclosureFields.MaxLevel(field);

    /// <summary>The floor of <paramref name="tier"/> in <paramref name="context"/> (nothing where none is set).</summary>
    public int FloorOf(RelationshipTier tier, PrivacyContext context, DisclosureField field) =>
        Floor.TryGetValue(tier, out var r) ? r.Get(context, field) ?? 0 : 0;
}

/// <summary>The outcome of the policy for one watcher: levels per field and the layer that decided each.</summary>
public sealed record DisclosureDecision(
    DisclosureKey Key,
    RelationshipTier Tier,
    PrivacyContext Context,
    IReadOnlyDictionary<DisclosureField, PolicyLayer> DecidedBy);
