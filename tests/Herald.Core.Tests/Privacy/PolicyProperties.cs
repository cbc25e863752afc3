using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Herald.Core.Model;
using Herald.Core.Presence;
using Herald.Core.Privacy;

namespace Herald.Core.Tests.Privacy;

/// <summary>Properties of the policy engine and the disclosure function over generated policies, rules, grants and states.</summary>
public sealed class PolicyProperties
{
    private const int Runs = 300;
    private const string PresentityId = "ada";

    private static readonly DateTimeOffset Now = new(2025, 1, 15, 10, 0, 0, TimeSpan.Zero);
    private static readonly RelationshipTier[] Tiers = Enum.GetValues<RelationshipTier>();
    private static readonly SubscriptionStatus[] Statuses = Enum.GetValues<SubscriptionStatus>();
    private static readonly SubscriptionHandling[] Handlings = Enum.GetValues<SubscriptionHandling>();
    private static readonly string?[] WatcherIds = ["bob", "bob", "carol", null];

    /// <summary>Everything one decision depends on, printable as a counterexample.</summary>
    public sealed record Scenario(
        OrgPolicy Org, UserPrivacy User, RelationshipTier Tier, string? WatcherId, SubscriptionStatus Subscription,
        IReadOnlyList<Grant> Grants, PresentityState State)
    {
        public PrivacyContext Context => PolicyEngine.ContextOf(State.Presence);

        public PolicyInput Input => new(Org, User, Tier, WatcherId, false, Subscription, Context, State.Presence.AppearOffline, Grants, Now);

        public DisclosureDecision Decide() => PolicyEngine.Decide(Input);

        public override string ToString() => Describe(this);
    }

    // ---- Generators ----------------------------------------------------------------------------------------------

    private static readonly Gen<bool> AnyBool = Gen.Elements(true, false);

    private static Gen<T?> Maybe<T>(Gen<T> gen, int nullWeight = 1, int valueWeight = 3) where T : class =>
        Gen.Frequency((nullWeight, Gen.Constant<T?>(null)), (valueWeight, gen.Select(v => (T?)v)));

    private static Gen<T?> MaybeValue<T>(Gen<T> gen) where T : struct =>
        Gen.Frequency((1, Gen.Constant<T?>(null)), (3, gen.Select(v => (T?)v)));

    /// <summary>A rule naming a random subset of fields, each at a random level.</summary>
    private static readonly Gen<DisclosureRule> AnyRule =
        from fields in Gen.SubListOf(DisclosureFields.All.ToArray())
        from levels in Gen.CollectToList(fields.Select(f => Gen.Choose(0, DisclosureFields.MaxLevel(f)).Select(l => (f, l))))
        select DisclosureRule.Of(levels.ToArray());

    private static readonly Gen<TierRules> AnyTierRules =
        from any in Maybe(AnyRule)
        from work in Maybe(AnyRule)
        from off in Maybe(AnyRule)
        from dayOff in Maybe(AnyRule)
        select new TierRules(any, work, off, dayOff);

    private static Gen<Dictionary<RelationshipTier, T>> PerTier<T>(Gen<T?> gen) where T : class =>
        Gen.CollectToList(Tiers.Select(t => gen.Select(v => (Tier: t, Value: v))))
            .Select(l => l.Where(x => x.Value is not null).ToDictionary(x => x.Tier, x => x.Value!));

    private static Gen<Dictionary<RelationshipTier, SubscriptionHandling>> HandlingPerTier =>
        Gen.CollectToList(Tiers.Select(t => MaybeValue(Gen.Elements(Handlings)).Select(v => (Tier: t, Value: v))))
            .Select(l => l.Where(x => x.Value is not null).ToDictionary(x => x.Tier, x => x.Value!.Value));

    private static readonly Gen<OrgPolicy> AnyOrg =
        from ceiling in PerTier(Maybe(AnyRule, nullWeight: 1, valueWeight: 4))
        from floor in PerTier(Maybe(AnyTierRules, nullWeight: 1, valueWeight: 2))
        from appearOfflineAllowed in AnyBool
        from minimum in HandlingPerTier
        select OrgPolicy.Default with
        {
            Ceiling = ceiling,
            Floor = floor,
            AppearOfflineAllowed = appearOfflineAllowed,
            SubscriptionMinimum = minimum,
        };

    private static readonly Gen<WatcherRules> AnyWatcherRules =
        from tier in MaybeValue(Gen.Elements(Tiers))
        from rules in Maybe(AnyTierRules)
        select new WatcherRules(tier, rules);

    private static readonly Gen<UserPrivacy> AnyUser =
        from tiers in PerTier(Maybe(AnyTierRules, nullWeight: 1, valueWeight: 2))
        from bob in Maybe(AnyWatcherRules)
        from carol in Maybe(AnyWatcherRules)
        from subscriptions in HandlingPerTier
        from appearOfflineTiers in Maybe(Gen.SubListOf(Tiers).Select(l => (IReadOnlyList<RelationshipTier>)l.ToArray()), 1, 1)
        select new UserPrivacy(
            tiers,
            new[] { ("bob", bob), ("carol", carol) }.Where(w => w.Item2 is not null).ToDictionary(w => w.Item1, w => w.Item2!),
            subscriptions,
            appearOfflineTiers);

    /// <summary>A grant to bob or carol that is active now, over, or not yet started.</summary>
    private static readonly Gen<Grant> AnyGrant =
        from watcher in Gen.Elements("bob", "bob", "carol")
        from rule in AnyRule
        from window in Gen.Elements((From: -60, Until: 60), (From: -120, Until: -60), (From: 60, Until: 120), (From: 0, Until: 1), (From: -1, Until: 0))
        select new Grant($"g-{watcher}-{window.From}", watcher, rule, Now.AddMinutes(window.From), Now.AddMinutes(window.Until), null);

    private static readonly Gen<List<Grant>> AnyGrants =
        from count in Gen.Choose(0, 4)
        from grants in Gen.CollectToList(Enumerable.Range(0, count).Select(_ => AnyGrant))
        select grants.ToList();

    private static readonly Gen<Location> AnyLocation =
        from country in Maybe(Gen.Elements("DE", "FR"), 1, 3)
        from city in Maybe(Gen.Elements("Berlin", "Paris"), 1, 3)
        from building in Maybe(Gen.Elements("HQ", "Annex"), 1, 2)
        from floor in Maybe(Gen.Elements("1", "3"), 1, 1)
        from room in Maybe(Gen.Elements("3.14", "1.01"), 2, 1)
        from coordinates in AnyBool
        from text in Maybe(Gen.Elements("by the window"), 2, 1)
        from at in AnyBool
        select new Location(country, city, building, floor, room, coordinates ? 52.52 : null, coordinates ? 13.405 : null, text,
            at ? Now.AddMinutes(-5) : null);

    private static readonly Gen<DateTimeOffset> AnyInstant =
        from seconds in Gen.Choose(0, 3 * 86_400)
        from millis in Gen.Choose(0, 999)
        from whole in Gen.Elements(0, 0, 0, 1, 2) // sometimes on a whole hour or day
        let t = Now.AddSeconds(-seconds).AddMilliseconds(-millis)
        select whole switch
        {
            1 => new DateTimeOffset(t.Year, t.Month, t.Day, t.Hour, 0, 0, TimeSpan.Zero),
            2 => new DateTimeOffset(t.Year, t.Month, t.Day, 0, 0, 0, TimeSpan.Zero),
            _ => t,
        };

    private static Gen<DeviceSummary> AnyDevice(string id) =>
        from kind in Gen.Elements(Enum.GetValues<DeviceKind>())
        from availability in Gen.Elements(Availability.Available, Availability.Away, Availability.Busy, Availability.DoNotDisturb)
        from activity in MaybeValue(Gen.Elements(Enum.GetValues<Activity>()))
        from idle in AnyBool
        select new DeviceSummary(id, kind, availability, activity, idle, idle ? Now.AddMinutes(-10) : null, ["chat"]);

    private static Gen<PresentityState> AnyState(string userId) =>
        from availability in Gen.Elements(Enum.GetValues<Availability>())
        from activity in MaybeValue(Gen.Elements(Enum.GetValues<Activity>()))
        from note in Maybe(Gen.Elements(new StatusNote("on a call", Now.AddMinutes(-5), Now.AddHours(1)), new StatusNote("away", Now.AddHours(-1), null)))
        from location in Maybe(AnyLocation)
        from lastSeen in MaybeValue(AnyInstant)
        from apparentLastSeen in MaybeValue(AnyInstant)
        from deviceCount in Gen.Choose(0, 2)
        from devices in Gen.CollectToList(Enumerable.Range(0, deviceCount).Select(i => AnyDevice($"d{i}")))
        from appearOffline in AnyBool
        from offHours in AnyBool
        from dayOff in Gen.Frequency((3, Gen.Constant(false)), (1, Gen.Constant(true)))
        from contacts in Gen.SubListOf(DisclosureMatrix.AllContactMethods.ToArray())
        from calendar in Maybe(Gen.Elements(
            new CalendarBusy(Now.AddMinutes(-10), Now.AddMinutes(20), Activity.InAMeeting, "board meeting"),
            new CalendarBusy(Now.AddHours(-2), Now.AddHours(6), Activity.OutOfOffice, null)))
        from sequence in Gen.Choose(1, 1_000_000)
        select new PresentityState(
            new PersonProfile(userId, userId, null, "platform", null, "UTC", WorkHours.Default, contacts.ToArray()),
            new AggregatedPresence(availability, activity, note, location, lastSeen,
                new Provenance(SourceKind.Device, "d0", Now.AddHours(-1), null, "secret reason"), devices.ToArray(),
                appearOffline, offHours, dayOff, null)
            {
                ApparentLastSeen = apparentLastSeen,
                Calendar = calendar,
            },
            sequence);

    private static Gen<Scenario> Scenarios(Gen<RelationshipTier> tiers, Gen<SubscriptionStatus> statuses) =>
        from org in AnyOrg
        from user in AnyUser
        from tier in tiers
        from watcherId in Gen.Elements(WatcherIds)
        from status in statuses
        from grants in AnyGrants
        from state in AnyState(PresentityId)
        select new Scenario(org, user, tier, watcherId, status, grants, state);

    /// <summary>Mostly tiers that can see something; Blocked now and then.</summary>
    private static readonly Gen<RelationshipTier> AnyTier = Gen.Frequency(
        (4, Gen.Elements(RelationshipTier.Trusted, RelationshipTier.Team, RelationshipTier.Colleague, RelationshipTier.External)),
        (1, Gen.Constant(RelationshipTier.Blocked)));

    /// <summary>Mostly approved (so that fields are rendered); any status now and then.</summary>
    private static readonly Gen<SubscriptionStatus> MostlyApproved = Gen.Frequency(
        (3, Gen.Constant(SubscriptionStatus.Approved)), (2, Gen.Elements(Statuses)));

    private static readonly Gen<Scenario> AnyScenario = Scenarios(AnyTier, MostlyApproved);

    /// <summary>Mostly not approved (so that many views are Nothing).</summary>
    private static readonly Gen<Scenario> UnapprovedScenario = Scenarios(AnyTier, Gen.Frequency(
        (2, Gen.Constant(SubscriptionStatus.Pending)),
        (2, Gen.Constant(SubscriptionStatus.Denied)),
        (3, Gen.Constant(SubscriptionStatus.None)),
        (1, Gen.Elements(Statuses))));

    // ---- Properties ----------------------------------------------------------------------------------------------

    [Property(MaxTest = Runs)]
    public Property Nothing_beyond_the_ceiling_is_ever_decided_or_rendered()
    {
        return Prop.ForAll(AnyScenario.ToArbitrary(), s =>
        {
            var decision = s.Decide();
            var key = decision.Key;
            var org = s.Org;
            var tier = s.Tier;
            foreach (var f in DisclosureFields.All)
            {
                Assert.True(key.Levels[f] <= org.CeilingOf(tier, f),
                    $"{f} decided at {key.Levels[f]} above the ceiling {org.CeilingOf(tier, f)} (by {decision.DecidedBy[f]})");
            }

            var view = DisclosurePolicy.Disclose(s.State, key);
            Assert.False(key.IsSelf);
            Assert.Null(view.Provenance);
            Assert.Null(view.AppearOffline);
            foreach (var c in view.ContactMethods ?? [])
            {
                Assert.True(org.CeilingOf(tier, DisclosureFields.ForContact(c.Kind)) > 0, $"{c.Kind} shown though its ceiling is 0 ({key.Mode})");
            }
            var location = PrecisionOf(view.Location);
            Assert.True((int)location <= org.CeilingOf(tier, DisclosureField.Location),
                $"location {view.Location} ({location}) above the ceiling {org.CeilingOf(tier, DisclosureField.Location)} ({key.Mode})");
            var lastSeen = PrecisionOf(view.LastSeen);
            Assert.True((int)lastSeen <= org.CeilingOf(tier, DisclosureField.LastSeen),
                $"last seen {view.LastSeen:O} ({lastSeen}) above the ceiling {org.CeilingOf(tier, DisclosureField.LastSeen)} ({key.Mode})");
            var calendar = view.Calendar is null ? CalendarDetail.None : view.Calendar.Subject is null ? CalendarDetail.FreeBusy : CalendarDetail.Subject;
            Assert.True((int)calendar <= org.CeilingOf(tier, DisclosureField.Calendar),
                $"calendar {view.Calendar} ({calendar}) above the ceiling {org.CeilingOf(tier, DisclosureField.Calendar)} ({key.Mode})");
            if (org.CeilingOf(tier, DisclosureField.Devices) == 0)
            {
                Assert.True(view.Devices is null or { Count: 0 }, $"devices shown though their ceiling is 0 ({key.Mode})");
            }
            if (org.CeilingOf(tier, DisclosureField.Activity) == 0)
            {
                Assert.Null(view.Activity);
            }
            if (org.CeilingOf(tier, DisclosureField.Note) == 0)
            {
                Assert.Null(view.Note);
                Assert.Null(view.NoteUntil);
            }
            if (org.CeilingOf(tier, DisclosureField.Availability) == 0 && key.Mode != ViewMode.Blocked)
            {
                // Hidden availability reads Unknown, or OffWork outside work hours: never the real one.
                Assert.Contains(view.Availability, new[] { Availability.Unknown, Availability.OffWork });
            }
        });
    }

    [Property(MaxTest = Runs)]
    public Property Every_fields_level_and_deciding_layer_match_a_plain_evaluation_of_the_layers()
    {
        // The reference: the layers applied one after another in a dictionary, as privacy.md states them (defaults,
        // tier rules, watcher rules, grants that raise, floor, ceiling; appear-offline marks its fields as blocked).
        return Prop.ForAll(AnyScenario.ToArbitrary(), s =>
        {
            var decision = s.Decide();
            if (decision.Key.Mode is not (ViewMode.Normal or ViewMode.Offline))
            {
                Assert.All(DisclosureFields.All, f => Assert.Equal(decision.DecidedBy[DisclosureFields.All[0]], decision.DecidedBy[f]));
                return;
            }
            var expected = new Dictionary<DisclosureField, (int Level, PolicyLayer Layer)>();
            var defaults = DefaultRules.For(s.Tier, s.Context);
            var tierRules = s.User.Tiers.GetValueOrDefault(s.Tier);
            var watcherRules = s.WatcherId is not null && s.User.Watchers.TryGetValue(s.WatcherId, out var w) ? w.Rules : null;
            foreach (var f in DisclosureFields.All)
            {
                var (level, layer) = (defaults[f], PolicyLayer.Default);
                if (tierRules?.Get(s.Context, f) is { } t) { (level, layer) = (t, PolicyLayer.UserTier); }
                if (watcherRules?.Get(s.Context, f) is { } wr) { (level, layer) = (wr, PolicyLayer.UserWatcher); }
                foreach (var g in s.Grants.Where(g => s.WatcherId is not null && g.WatcherId == s.WatcherId && g.IsActive(Now)))
                {
                    if (g.Rule.Get(f) is { } gl && gl > level) { (level, layer) = (gl, PolicyLayer.Grant); }
                }
                if (level < s.Org.FloorOf(s.Tier, s.Context, f)) { (level, layer) = (s.Org.FloorOf(s.Tier, s.Context, f), PolicyLayer.OrganizationFloor); }
                if (level > s.Org.CeilingOf(s.Tier, f)) { (level, layer) = (s.Org.CeilingOf(s.Tier, f), PolicyLayer.OrganizationCeiling); }
                expected[f] = (level, layer);
            }
            if (decision.Key.Mode == ViewMode.Offline)
            {
                foreach (var f in new[] { DisclosureField.Availability, DisclosureField.Activity, DisclosureField.Location, DisclosureField.Devices })
                {
                    expected[f] = (expected[f].Level, PolicyLayer.Block);
                }
            }
            Assert.Equal(DisclosureFields.Count, decision.DecidedBy.Count);
            Assert.Equal(DisclosureFields.All, decision.DecidedBy.Keys);
            foreach (var f in DisclosureFields.All)
            {
                Assert.Equal(expected[f].Level, decision.Key.Levels[f]);
                Assert.Equal(expected[f].Layer, decision.DecidedBy[f]);
                Assert.True(decision.DecidedBy.TryGetValue(f, out var viaTry) && viaTry == expected[f].Layer);
            }
        });
    }

    [Property(MaxTest = Runs)]
    public Property The_floor_is_honoured_in_a_normal_view_wherever_it_is_within_the_ceiling()
    {
        return Prop.ForAll(AnyScenario.ToArbitrary(), s =>
        {
            var decision = s.Decide();
            if (decision.Key.Mode != ViewMode.Normal)
            {
                return;
            }
            var view = DisclosurePolicy.Disclose(s.State, decision.Key);
            foreach (var f in DisclosureFields.All)
            {
                var floor = s.Org.FloorOf(s.Tier, s.Context, f);
                var ceiling = s.Org.CeilingOf(s.Tier, f);
                if (floor > ceiling)
                {
                    continue;
                }
                Assert.True(decision.Key.Levels[f] >= floor, $"{f} decided at {decision.Key.Levels[f]} below the floor {floor} (by {decision.DecidedBy[f]})");
                if (floor > 0 && f is not (DisclosureField.Location or DisclosureField.LastSeen or DisclosureField.Calendar or DisclosureField.OutOfOffice
                    or DisclosureField.Availability or DisclosureField.Activity or DisclosureField.Note or DisclosureField.Devices))
                {
                    foreach (var c in s.State.Profile.ContactMethods.Where(c => DisclosureFields.ForContact(c.Kind) == f))
                    {
                        Assert.Contains(c, view.ContactMethods!);
                    }
                }
                if (floor > 0 && f == DisclosureField.Availability)
                {
                    Assert.Equal(s.State.Presence.Availability, view.Availability);
                }
            }
        });
    }

    [Property(MaxTest = Runs)]
    public Property A_blocked_watcher_gets_the_identical_view_whatever_the_persons_state()
    {
        var gen =
            from scenario in Scenarios(Gen.Constant(RelationshipTier.Blocked), Gen.Elements(Statuses))
            from other in AnyState(PresentityId)
            select (Scenario: scenario, Other: other);
        return Prop.ForAll(gen.ToArbitrary(), pair =>
        {
            var (s, other) = pair;
            var first = DisclosurePolicy.Disclose(s.State, s.Decide().Key);
            var second = DisclosurePolicy.Disclose(other, (s with { State = other }).Decide().Key);

            Assert.Equal(ViewMode.Blocked, s.Decide().Key.Mode);
            Assert.True(first.SameContentAs(second), $"{Render(first)}\n{Render(second)}");
            Assert.Equal(Availability.Offline, first.Availability);
            Assert.Equal(s.State.Sequence, first.Sequence);
        });
    }

    [Property(MaxTest = Runs)]
    public Property A_nothing_view_contains_nothing_but_the_user_id_and_sequence()
    {
        return Prop.ForAll(UnapprovedScenario.ToArbitrary(), s =>
        {
            var key = s.Decide().Key;
            if (key.Mode != ViewMode.Nothing)
            {
                return;
            }
            var view = DisclosurePolicy.Disclose(s.State, key);

            Assert.Equal(new PresenceView(PresentityId, Availability.Unknown, null, null, null, null, null, s.State.Sequence, null, null, null, null),
                view);
            Assert.Equal(Disclosure.Nothing, key.Levels);
        });
    }

    // ---- Helpers -------------------------------------------------------------------------------------------------

    private static LocationPrecision PrecisionOf(Location? l) => l switch
    {
        null => LocationPrecision.None,
        { Floor: not null } or { Room: not null } or { Latitude: not null } or { Longitude: not null } or { Text: not null } or { At: not null }
            => LocationPrecision.Exact,
        { Building: not null } => LocationPrecision.Building,
        { City: not null } => LocationPrecision.City,
        { Country: not null } => LocationPrecision.Country,
        _ => LocationPrecision.None,
    };

    private static LastSeenPrecision PrecisionOf(DateTimeOffset? t)
    {
        if (t is not { } v)
        {
            return LastSeenPrecision.None;
        }
        var ticks = v.UtcTicks;
        return ticks % TimeSpan.TicksPerDay == 0 ? LastSeenPrecision.Day
            : ticks % TimeSpan.TicksPerHour == 0 ? LastSeenPrecision.Hour
            : LastSeenPrecision.Exact;
    }

    private static string Render(PresenceView v) =>
        $"{v} devices=[{string.Join(", ", v.Devices ?? [])}] contacts=[{string.Join(", ", v.ContactMethods ?? [])}]";

    private static string Rule(DisclosureRule? r) =>
        r is null ? "-" : "{" + string.Join(",", r.Levels.OrderBy(l => l.Key).Select(l => $"{l.Key}={DisclosureFields.LevelName(l.Key, l.Value)}")) + "}";

    private static string Rules(TierRules? t) =>
        t is null ? "-" : $"any={Rule(t.Any)} work={Rule(t.WorkHours)} off={Rule(t.OffHours)} dayOff={Rule(t.DayOff)}";

    private static string Describe(Scenario s)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"tier={s.Tier} watcher={s.WatcherId ?? "(preview)"} subscription={s.Subscription} context={s.Context} appearOffline={s.State.Presence.AppearOffline}");
        foreach (var (tier, rule) in s.Org.Ceiling)
        {
            sb.AppendLine($"  ceiling[{tier}] {Rule(rule)}");
        }
        foreach (var (tier, rules) in s.Org.Floor)
        {
            sb.AppendLine($"  floor[{tier}] {Rules(rules)}");
        }
        sb.AppendLine($"  minimum {string.Join(",", s.Org.SubscriptionMinimum.Select(m => $"{m.Key}={m.Value}"))}");
        foreach (var (tier, rules) in s.User.Tiers)
        {
            sb.AppendLine($"  user[{tier}] {Rules(rules)}");
        }
        foreach (var (watcher, rules) in s.User.Watchers)
        {
            sb.AppendLine($"  watcher[{watcher}] tier={rules.Tier} {Rules(rules.Rules)}");
        }
        sb.AppendLine($"  subscriptions {string.Join(",", s.User.Subscriptions.Select(m => $"{m.Key}={m.Value}"))} appearOfflineTiers={(s.User.AppearOfflineTiers is { } a ? string.Join(",", a) : "all")}");
        foreach (var g in s.Grants)
        {
            sb.AppendLine($"  grant to {g.WatcherId} {g.From:HH:mm}-{g.Until:HH:mm} {Rule(g.Rule)}");
        }
        var p = s.State.Presence;
        sb.Append($"  state {p.Availability}/{p.Activity} note={p.Note?.Text} location={p.Location} lastSeen={p.LastSeen:O} apparent={p.ApparentLastSeen:O} devices={p.Devices.Count} offHours={p.OffHours} dayOff={p.DayOff} contacts=[{string.Join(",", s.State.Profile.ContactMethods.Select(c => c.Kind))}]");
        return sb.ToString();
    }
}
