using Herald.Core.Model;
using Herald.Core.Presence;

namespace Herald.Core.Privacy;

/// <summary>Everything the policy needs to decide one watcher's disclosure.</summary>
/// <param name="Org">The organization policy.</param>
/// <param name="User">The presentity's own rules.</param>
/// <param name="Tier">The watcher's tier.</param>
/// <param name="WatcherId">The watcher, or null for a tier preview.</param>
/// <param name="IsSelf">True when the watcher is the presentity.</param>
/// <param name="Subscription">The watcher's subscription status.</param>
/// <param name="Context">The presentity's context.</param>
/// <param name="AppearOffline">True while the presentity appears offline.</param>
/// <param name="Grants">The presentity's grants (all; only the watcher's active ones count).</param>
/// <param name="Now">The instant of the decision.</param>
public sealed record PolicyInput(
    OrgPolicy Org, UserPrivacy User, RelationshipTier Tier, string? WatcherId, bool IsSelf, SubscriptionStatus Subscription,
    PrivacyContext Context, bool AppearOffline, IReadOnlyList<Grant> Grants, DateTimeOffset Now);

/// <summary>
/// The layered policy: effective = clamp(user rules + grants, organization floor, organization ceiling), per field,
/// with the deciding layer recorded. Pure.
/// </summary>
public static class PolicyEngine
{
    /// <summary>The tier the directory implies: same team, or manager / direct report → Team; else Colleague.</summary>
    public static RelationshipTier DirectoryTier(PersonProfile presentity, PersonProfile? watcher)
    {
        ArgumentNullException.ThrowIfNull(presentity);
        if (watcher is null)
        {
            return RelationshipTier.External;
        }
        var sameTeam = presentity.Team is not null && presentity.Team == watcher.Team;
        var managerLink = presentity.Manager == watcher.Id || watcher.Manager == presentity.Id;
        return sameTeam || managerLink ? RelationshipTier.Team : RelationshipTier.Colleague;
    }

    /// <summary>The watcher's tier: the person's own placement, else the directory's.</summary>
    public static RelationshipTier TierOf(PersonProfile presentity, PersonProfile? watcher, string watcherId, UserPrivacy user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return user.Watchers.TryGetValue(watcherId, out var w) && w.Tier is { } t ? t : DirectoryTier(presentity, watcher);
    }

    /// <summary>The presentity's context: DayOff beats OffHours beats WorkHours.</summary>
    public static PrivacyContext ContextOf(AggregatedPresence presence)
    {
        ArgumentNullException.ThrowIfNull(presence);
        return presence.DayOff ? PrivacyContext.DayOff : presence.OffHours ? PrivacyContext.OffHours : PrivacyContext.WorkHours;
    }

    /// <summary>What happens when someone of <paramref name="tier"/> asks to watch: the person's choice, never more open than the organization's minimum.</summary>
    public static SubscriptionHandling HandlingFor(RelationshipTier tier, OrgPolicy org, UserPrivacy user)
    {
        ArgumentNullException.ThrowIfNull(org);
        ArgumentNullException.ThrowIfNull(user);
        var chosen = user.Subscriptions.TryGetValue(tier, out var u) ? u
            : org.SubscriptionDefaults.TryGetValue(tier, out var d) ? d : SubscriptionHandling.Confirm;
        return org.SubscriptionMinimum.TryGetValue(tier, out var min) && min > chosen ? min : chosen;
    }

    /// <summary>Decides the disclosure for one watcher (or a tier preview).</summary>
    public static DisclosureDecision Decide(PolicyInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.IsSelf)
        {
            return new DisclosureDecision(DisclosureKey.Self(input.Context), input.Tier, input.Context, AllLayers(PolicyLayer.Self));
        }
        if (input.Tier == RelationshipTier.Blocked)
        {
            return Blocked(input, PolicyLayer.Block, ViewMode.Blocked);
        }
        var handling = HandlingFor(input.Tier, input.Org, input.User);
        var mode = (input.Subscription, handling) switch
        {
            (SubscriptionStatus.Approved, _) => ViewMode.Normal,
            (SubscriptionStatus.PoliteBlocked, _) => ViewMode.Blocked,
            (SubscriptionStatus.Pending or SubscriptionStatus.Denied, _) => ViewMode.Nothing,
            (_, SubscriptionHandling.Allow) => ViewMode.Normal,
            (_, SubscriptionHandling.PoliteBlock) => ViewMode.Blocked,
            _ => ViewMode.Nothing,
        };
        if (mode == ViewMode.Nothing)
        {
            return Blocked(input, PolicyLayer.Subscription, ViewMode.Nothing);
        }
        if (mode == ViewMode.Blocked)
        {
            return Blocked(input, PolicyLayer.Block, ViewMode.Blocked);
        }

        var defaults = DefaultRules.For(input.Tier, input.Context);
        var tierRules = input.User.Tiers.GetValueOrDefault(input.Tier);
        var watcherRules = input.WatcherId is not null && input.User.Watchers.TryGetValue(input.WatcherId, out var w) ? w.Rules : null;
        var grants = input.WatcherId is null ? null : ActiveGrants(input.Grants, input.WatcherId, input.Now);
        ulong layers = 0;
        var levels = Disclosure.Nothing;
        for (var i = 0; i < DisclosureFields.Count; i++)
        {
            var f = (DisclosureField)i;
            var level = defaults[f];
            var layer = PolicyLayer.Default;
            if (tierRules?.Get(input.Context, f) is { } t)
            {
                (level, layer) = (t, PolicyLayer.UserTier);
            }
            if (watcherRules?.Get(input.Context, f) is { } wr)
            {
                (level, layer) = (wr, PolicyLayer.UserWatcher);
            }
            if (grants is not null)
            {
                foreach (var g in grants)
                {
                    if (g.Rule.Get(f) is { } gl && gl > level)
                    {
                        (level, layer) = (gl, PolicyLayer.Grant);
                    }
                }
            }
            var floor = input.Org.FloorOf(input.Tier, input.Context, f);
            if (level < floor)
            {
                (level, layer) = (floor, PolicyLayer.OrganizationFloor);
            }
            var ceiling = input.Org.CeilingOf(input.Tier, f);
            if (level > ceiling)
            {
                (level, layer) = (ceiling, PolicyLayer.OrganizationCeiling);
            }
            levels = levels.With(f, level);
            layers = FieldLayerDictionary.With(layers, f, layer);
        }
        if (input.AppearOffline && input.User.AppearsOfflineTo(input.Tier))
        {
            foreach (var f in AppearOfflineFields)
            {
                layers = FieldLayerDictionary.With(layers, f, PolicyLayer.Block);
            }
            return new DisclosureDecision(new DisclosureKey(false, ViewMode.Offline, input.Context, levels), input.Tier, input.Context,
                FieldLayerDictionary.FromPacked(layers));
        }
        return new DisclosureDecision(new DisclosureKey(false, ViewMode.Normal, input.Context, levels), input.Tier, input.Context,
            FieldLayerDictionary.FromPacked(layers));
    }

    private static readonly DisclosureField[] AppearOfflineFields =
        [DisclosureField.Availability, DisclosureField.Activity, DisclosureField.Location, DisclosureField.Devices];

    /// <summary>The grants to <paramref name="watcherId"/> active at <paramref name="now"/>; null when none (the usual case).</summary>
    private static List<Grant>? ActiveGrants(IReadOnlyList<Grant> all, string watcherId, DateTimeOffset now)
    {
        List<Grant>? active = null;
        for (var i = 0; i < all.Count; i++)
        {
            var g = all[i];
            if (g.WatcherId == watcherId && g.IsActive(now))
            {
                (active ??= []).Add(g);
            }
        }
        return active;
    }

    private static DisclosureDecision Blocked(PolicyInput input, PolicyLayer layer, ViewMode mode) =>
        // The context is not part of a blocked or empty view: it must not change when the person's day does.
        new(new DisclosureKey(false, mode, PrivacyContext.WorkHours, Disclosure.Nothing), input.Tier, input.Context, AllLayers(layer));

    private static FieldLayerDictionary AllLayers(PolicyLayer layer) => FieldLayerDictionary.All(layer);
}
