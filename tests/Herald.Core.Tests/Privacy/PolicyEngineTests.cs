using Herald.Core.Model;
using Herald.Core.Presence;
using Herald.Core.Privacy;
using F = Herald.Core.Privacy.DisclosureField;

namespace Herald.Core.Tests.Privacy;

/// <summary>Each layer and rule kind of <see cref="PolicyEngine"/> on its own.</summary>
public sealed class PolicyEngineTests
{
    private static readonly DateTimeOffset Now = new(2025, 1, 15, 10, 0, 0, TimeSpan.Zero);
    private const string Bob = "bob";
    private const string Carol = "carol";

    private static PolicyInput Input(
        RelationshipTier tier,
        PrivacyContext context = PrivacyContext.WorkHours,
        OrgPolicy? org = null,
        UserPrivacy? user = null,
        string? watcherId = Bob,
        bool isSelf = false,
        SubscriptionStatus subscription = SubscriptionStatus.Approved,
        bool appearOffline = false,
        IReadOnlyList<Grant>? grants = null,
        DateTimeOffset? now = null) =>
        new(org ?? OrgPolicy.Default, user ?? UserPrivacy.Default, tier, watcherId, isSelf, subscription, context, appearOffline,
            grants ?? [], now ?? Now);

    private static UserPrivacy WithTiers(params (RelationshipTier Tier, TierRules Rules)[] tiers) =>
        UserPrivacy.Default with { Tiers = tiers.ToDictionary(t => t.Tier, t => t.Rules) };

    private static UserPrivacy WithWatchers(UserPrivacy user, params (string Id, WatcherRules Rules)[] watchers) =>
        user with { Watchers = watchers.ToDictionary(w => w.Id, w => w.Rules) };

    private static OrgPolicy WithCeiling(RelationshipTier tier, params (F Field, int Level)[] levels) =>
        OrgPolicy.Default with { Ceiling = new Dictionary<RelationshipTier, DisclosureRule> { [tier] = DisclosureRule.Of(levels) } };

    private static OrgPolicy WithFloor(RelationshipTier tier, TierRules floor) =>
        OrgPolicy.Default with { Floor = new Dictionary<RelationshipTier, TierRules> { [tier] = floor } };

    private static Grant GrantTo(string watcher, DisclosureRule rule, DateTimeOffset? from = null, DateTimeOffset? until = null) =>
        new($"g-{watcher}", watcher, rule, from ?? Now.AddHours(-1), until ?? Now.AddHours(1), "test");

    private static PersonProfile Person(string id, string? team = null, string? manager = null) =>
        new(id, id, null, team, manager, "UTC", null, []);

    private static AggregatedPresence Presence(bool offHours, bool dayOff) =>
        new(Availability.Available, null, null, null, null, new Provenance(SourceKind.None, null, null, null, "test"), [],
            false, offHours, dayOff, null);

    public static TheoryData<RelationshipTier, PrivacyContext> VisibleTiersAndContexts()
    {
        var data = new TheoryData<RelationshipTier, PrivacyContext>();
        foreach (var tier in new[] { RelationshipTier.Trusted, RelationshipTier.Team, RelationshipTier.Colleague, RelationshipTier.External })
        {
            foreach (var context in Enum.GetValues<PrivacyContext>())
            {
                data.Add(tier, context);
            }
        }
        return data;
    }

    // ---- Defaults ------------------------------------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(VisibleTiersAndContexts))]
    public void Without_rules_every_field_is_decided_by_the_default_of_the_tier_and_context(RelationshipTier tier, PrivacyContext context)
    {
        var decision = PolicyEngine.Decide(Input(tier, context));

        Assert.Equal(ViewMode.Normal, decision.Key.Mode);
        Assert.False(decision.Key.IsSelf);
        Assert.Equal(context, decision.Key.Context);
        Assert.Equal(tier, decision.Tier);
        Assert.Equal(context, decision.Context);
        Assert.Equal(DefaultRules.For(tier, context), decision.Key.Levels);
        Assert.Equal(DisclosureMatrix.Expected(tier, context), decision.Key.Levels);
        Assert.All(DisclosureFields.All, f => Assert.Equal(PolicyLayer.Default, decision.DecidedBy[f]));
    }

    [Fact]
    public void A_colleague_by_default_sees_the_city_last_seen_to_the_hour_and_no_devices_or_personal_phones_at_work()
    {
        var d = PolicyEngine.Decide(Input(RelationshipTier.Colleague)).Key.Levels;

        Assert.Equal((int)LocationPrecision.City, d[F.Location]);
        Assert.Equal((int)LastSeenPrecision.Hour, d[F.LastSeen]);
        Assert.Equal(0, d[F.Devices]);
        Assert.Equal(0, d[F.Mobile]);
        Assert.Equal(0, d[F.HomePhone]);
        Assert.Equal(1, d[F.WorkPhone]);
        Assert.Equal(1, d[F.Availability]);
    }

    [Fact]
    public void An_external_watcher_by_default_sees_availability_email_country_and_out_of_office_at_work()
    {
        var d = PolicyEngine.Decide(Input(RelationshipTier.External)).Key.Levels;

        Assert.Equal(Disclosure.Nothing.With(F.Availability, 1).With(F.Email, 1).With(F.Location, (int)LocationPrecision.Country)
            .With(F.OutOfOffice, 1), d);
    }

    [Theory]
    [InlineData(RelationshipTier.Team, PrivacyContext.OffHours)]
    [InlineData(RelationshipTier.Team, PrivacyContext.DayOff)]
    [InlineData(RelationshipTier.Colleague, PrivacyContext.OffHours)]
    [InlineData(RelationshipTier.Colleague, PrivacyContext.DayOff)]
    public void Off_work_team_and_colleagues_by_default_see_only_work_email_and_out_of_office(RelationshipTier tier, PrivacyContext context)
    {
        var d = PolicyEngine.Decide(Input(tier, context)).Key.Levels;

        Assert.Equal(Disclosure.Nothing.With(F.Email, 1).With(F.OutOfOffice, 1), d);
    }

    [Theory]
    [InlineData(PrivacyContext.OffHours)]
    [InlineData(PrivacyContext.DayOff)]
    public void Off_work_only_trusted_sees_personal_phones(PrivacyContext context)
    {
        foreach (var tier in Enum.GetValues<RelationshipTier>())
        {
            var d = PolicyEngine.Decide(Input(tier, context)).Key.Levels;
            var expected = tier == RelationshipTier.Trusted ? 1 : 0;
            Assert.Equal(expected, d[F.Mobile]);
            Assert.Equal(expected, d[F.HomePhone]);
        }
    }

    // ---- User tier rules -----------------------------------------------------------------------------------------

    [Fact]
    public void A_user_tier_rule_overrides_the_default_up_or_down_and_is_recorded_as_the_deciding_layer()
    {
        var user = WithTiers((RelationshipTier.Colleague, new TierRules(Any: DisclosureRule.Of(
            (F.Location, (int)LocationPrecision.Exact), (F.Availability, 0)))));

        var decision = PolicyEngine.Decide(Input(RelationshipTier.Colleague, user: user));

        Assert.Equal((int)LocationPrecision.Exact, decision.Key.Levels[F.Location]);
        Assert.Equal(0, decision.Key.Levels[F.Availability]);
        Assert.Equal(PolicyLayer.UserTier, decision.DecidedBy[F.Location]);
        Assert.Equal(PolicyLayer.UserTier, decision.DecidedBy[F.Availability]);
        Assert.Equal((int)LastSeenPrecision.Hour, decision.Key.Levels[F.LastSeen]);
        Assert.Equal(PolicyLayer.Default, decision.DecidedBy[F.LastSeen]);
    }

    [Fact]
    public void A_user_tier_rule_applies_only_to_its_tier()
    {
        var user = WithTiers((RelationshipTier.Colleague, new TierRules(Any: DisclosureRule.Of((F.Devices, 1)))));

        var external = PolicyEngine.Decide(Input(RelationshipTier.External, user: user));

        Assert.Equal(0, external.Key.Levels[F.Devices]);
        Assert.Equal(PolicyLayer.Default, external.DecidedBy[F.Devices]);
    }

    [Fact]
    public void A_context_specific_tier_rule_beats_the_any_rule_and_the_any_rule_fills_in_the_other_contexts()
    {
        var user = WithTiers((RelationshipTier.Team, new TierRules(
            Any: DisclosureRule.Of((F.Location, (int)LocationPrecision.Country), (F.Mobile, 1)),
            WorkHours: DisclosureRule.Of((F.Location, (int)LocationPrecision.Exact)),
            DayOff: DisclosureRule.Of((F.Mobile, 0)))));

        var work = PolicyEngine.Decide(Input(RelationshipTier.Team, PrivacyContext.WorkHours, user: user));
        var off = PolicyEngine.Decide(Input(RelationshipTier.Team, PrivacyContext.OffHours, user: user));
        var dayOff = PolicyEngine.Decide(Input(RelationshipTier.Team, PrivacyContext.DayOff, user: user));

        Assert.Equal((int)LocationPrecision.Exact, work.Key.Levels[F.Location]);
        Assert.Equal((int)LocationPrecision.Country, off.Key.Levels[F.Location]);
        Assert.Equal((int)LocationPrecision.Country, dayOff.Key.Levels[F.Location]);
        // The WorkHours rule does not name Mobile, so the Any rule still decides it per field.
        Assert.Equal(1, work.Key.Levels[F.Mobile]);
        Assert.Equal(PolicyLayer.UserTier, work.DecidedBy[F.Mobile]);
        Assert.Equal(1, off.Key.Levels[F.Mobile]);
        Assert.Equal(0, dayOff.Key.Levels[F.Mobile]);
        Assert.Equal(PolicyLayer.UserTier, dayOff.DecidedBy[F.Mobile]);
    }

    // ---- Per-watcher rules ---------------------------------------------------------------------------------------

    [Fact]
    public void A_per_watcher_rule_beats_the_tier_rule_for_that_watcher_only()
    {
        var user = WithWatchers(
            WithTiers((RelationshipTier.Colleague, new TierRules(Any: DisclosureRule.Of((F.Location, (int)LocationPrecision.Country))))),
            (Bob, new WatcherRules(Rules: new TierRules(Any: DisclosureRule.Of((F.Location, (int)LocationPrecision.Exact))))));

        var bob = PolicyEngine.Decide(Input(RelationshipTier.Colleague, user: user, watcherId: Bob));
        var carol = PolicyEngine.Decide(Input(RelationshipTier.Colleague, user: user, watcherId: Carol));

        Assert.Equal((int)LocationPrecision.Exact, bob.Key.Levels[F.Location]);
        Assert.Equal(PolicyLayer.UserWatcher, bob.DecidedBy[F.Location]);
        Assert.Equal((int)LocationPrecision.Country, carol.Key.Levels[F.Location]);
        Assert.Equal(PolicyLayer.UserTier, carol.DecidedBy[F.Location]);
    }

    [Fact]
    public void A_per_watcher_rule_can_also_lower_a_field_and_follows_contexts()
    {
        var user = WithWatchers(UserPrivacy.Default,
            (Bob, new WatcherRules(Rules: new TierRules(WorkHours: DisclosureRule.Of((F.Availability, 0)), OffHours: DisclosureRule.Of((F.Mobile, 1))))));

        var work = PolicyEngine.Decide(Input(RelationshipTier.Team, PrivacyContext.WorkHours, user: user));
        var off = PolicyEngine.Decide(Input(RelationshipTier.Team, PrivacyContext.OffHours, user: user));

        Assert.Equal(0, work.Key.Levels[F.Availability]);
        Assert.Equal(PolicyLayer.UserWatcher, work.DecidedBy[F.Availability]);
        Assert.Equal(0, work.Key.Levels[F.Mobile]);
        Assert.Equal(1, off.Key.Levels[F.Mobile]);
        Assert.Equal(PolicyLayer.UserWatcher, off.DecidedBy[F.Mobile]);
    }

    [Fact]
    public void A_tier_preview_without_a_watcher_ignores_per_watcher_rules()
    {
        var user = WithWatchers(UserPrivacy.Default,
            (Bob, new WatcherRules(Rules: new TierRules(Any: DisclosureRule.Of((F.Devices, 1))))));

        var preview = PolicyEngine.Decide(Input(RelationshipTier.Colleague, user: user, watcherId: null));

        Assert.Equal(0, preview.Key.Levels[F.Devices]);
        Assert.Equal(PolicyLayer.Default, preview.DecidedBy[F.Devices]);
    }

    [Fact]
    public void A_per_watcher_tier_placement_changes_the_tier_from_the_directory()
    {
        var ada = Person("ada", team: "platform");
        var bob = Person(Bob, team: "sales");
        var user = WithWatchers(UserPrivacy.Default, (Bob, new WatcherRules(Tier: RelationshipTier.Trusted)));

        Assert.Equal(RelationshipTier.Colleague, PolicyEngine.TierOf(ada, bob, Bob, UserPrivacy.Default));
        Assert.Equal(RelationshipTier.Trusted, PolicyEngine.TierOf(ada, bob, Bob, user));
        Assert.Equal(RelationshipTier.Colleague, PolicyEngine.TierOf(ada, Person(Carol), Carol, user));

        var blocked = WithWatchers(UserPrivacy.Default, (Bob, new WatcherRules(Tier: RelationshipTier.Blocked)));
        Assert.Equal(RelationshipTier.Blocked, PolicyEngine.TierOf(ada, Person(Bob, team: "platform"), Bob, blocked));
        // Unknown to the directory, yet placed by the person.
        Assert.Equal(RelationshipTier.Team, PolicyEngine.TierOf(ada, null, Bob,
            WithWatchers(UserPrivacy.Default, (Bob, new WatcherRules(Tier: RelationshipTier.Team)))));
    }

    [Fact]
    public void Per_watcher_rules_without_a_placement_keep_the_directory_tier()
    {
        var user = WithWatchers(UserPrivacy.Default, (Bob, new WatcherRules(Rules: new TierRules(Any: DisclosureRule.Of((F.Devices, 1))))));

        Assert.Equal(RelationshipTier.Team, PolicyEngine.TierOf(Person("ada", team: "platform"), Person(Bob, team: "platform"), Bob, user));
    }

    // ---- Directory tier ------------------------------------------------------------------------------------------

    [Fact]
    public void The_directory_puts_the_same_team_and_managers_and_reports_in_team_and_everyone_else_in_colleague()
    {
        var ada = Person("ada", team: "platform", manager: "grace");

        Assert.Equal(RelationshipTier.Team, PolicyEngine.DirectoryTier(ada, Person(Bob, team: "platform")));
        Assert.Equal(RelationshipTier.Team, PolicyEngine.DirectoryTier(ada, Person("grace", team: "leadership")));
        Assert.Equal(RelationshipTier.Team, PolicyEngine.DirectoryTier(ada, Person("alan", team: "research", manager: "ada")));
        Assert.Equal(RelationshipTier.Colleague, PolicyEngine.DirectoryTier(ada, Person(Carol, team: "sales", manager: "grace")));
        Assert.Equal(RelationshipTier.Colleague, PolicyEngine.DirectoryTier(ada, Person(Carol)));
        Assert.Equal(RelationshipTier.External, PolicyEngine.DirectoryTier(ada, null));
    }

    [Fact]
    public void Two_people_without_a_team_are_not_in_the_same_team()
    {
        Assert.Equal(RelationshipTier.Colleague, PolicyEngine.DirectoryTier(Person("ada"), Person(Bob)));
    }

    // ---- Grants --------------------------------------------------------------------------------------------------

    [Fact]
    public void An_active_grant_raises_a_field_for_its_watcher_and_is_recorded_as_the_deciding_layer()
    {
        var grants = new[] { GrantTo(Bob, DisclosureRule.Of((F.Location, (int)LocationPrecision.Exact))) };

        var bob = PolicyEngine.Decide(Input(RelationshipTier.Colleague, grants: grants, watcherId: Bob));
        var carol = PolicyEngine.Decide(Input(RelationshipTier.Colleague, grants: grants, watcherId: Carol));
        var preview = PolicyEngine.Decide(Input(RelationshipTier.Colleague, grants: grants, watcherId: null));

        Assert.Equal((int)LocationPrecision.Exact, bob.Key.Levels[F.Location]);
        Assert.Equal(PolicyLayer.Grant, bob.DecidedBy[F.Location]);
        Assert.Equal(PolicyLayer.Default, bob.DecidedBy[F.LastSeen]);
        Assert.Equal((int)LocationPrecision.City, carol.Key.Levels[F.Location]);
        Assert.Equal(PolicyLayer.Default, carol.DecidedBy[F.Location]);
        Assert.Equal((int)LocationPrecision.City, preview.Key.Levels[F.Location]);
    }

    [Theory]
    [InlineData(-61, false)]
    [InlineData(-60, true)] // From is inclusive
    [InlineData(0, true)]
    [InlineData(59, true)]
    [InlineData(60, false)] // Until is exclusive
    [InlineData(600, false)]
    public void A_grant_applies_only_from_its_start_until_just_before_its_end(int minutesFromNow, bool active)
    {
        var grant = GrantTo(Bob, DisclosureRule.Of((F.Devices, 1)), from: Now.AddMinutes(-60), until: Now.AddMinutes(60));

        var decision = PolicyEngine.Decide(Input(RelationshipTier.Colleague, grants: [grant], now: Now.AddMinutes(minutesFromNow)));

        Assert.Equal(active ? 1 : 0, decision.Key.Levels[F.Devices]);
        Assert.Equal(active ? PolicyLayer.Grant : PolicyLayer.Default, decision.DecidedBy[F.Devices]);
    }

    [Fact]
    public void A_grant_never_lowers_a_field()
    {
        var grants = new[]
        {
            GrantTo(Bob, DisclosureRule.Of((F.Location, (int)LocationPrecision.Country), (F.Availability, 0), (F.LastSeen, (int)LastSeenPrecision.Hour))),
        };

        var decision = PolicyEngine.Decide(Input(RelationshipTier.Team, grants: grants));

        Assert.Equal((int)LocationPrecision.Building, decision.Key.Levels[F.Location]);
        Assert.Equal(1, decision.Key.Levels[F.Availability]);
        Assert.Equal((int)LastSeenPrecision.Exact, decision.Key.Levels[F.LastSeen]);
        Assert.Equal(PolicyLayer.Default, decision.DecidedBy[F.Location]);
        Assert.Equal(PolicyLayer.Default, decision.DecidedBy[F.Availability]);
        Assert.Equal(PolicyLayer.Default, decision.DecidedBy[F.LastSeen]);
    }

    [Fact]
    public void A_grant_raises_above_a_user_rule_that_lowered_the_field_and_the_highest_of_several_grants_wins()
    {
        var user = WithTiers((RelationshipTier.Colleague, new TierRules(Any: DisclosureRule.Of((F.Location, 0)))));
        var grants = new[]
        {
            GrantTo(Bob, DisclosureRule.Of((F.Location, (int)LocationPrecision.City))),
            GrantTo(Bob, DisclosureRule.Of((F.Location, (int)LocationPrecision.Building))),
            GrantTo(Bob, DisclosureRule.Of((F.Location, (int)LocationPrecision.Exact)), from: Now.AddHours(1), until: Now.AddHours(2)),
        };

        var decision = PolicyEngine.Decide(Input(RelationshipTier.Colleague, user: user, grants: grants));

        Assert.Equal((int)LocationPrecision.Building, decision.Key.Levels[F.Location]);
        Assert.Equal(PolicyLayer.Grant, decision.DecidedBy[F.Location]);
    }

    // ---- Organization floor --------------------------------------------------------------------------------------

    [Fact]
    public void The_floor_raises_a_field_in_its_context_and_is_recorded_as_the_deciding_layer()
    {
        var org = WithFloor(RelationshipTier.Colleague, new TierRules(WorkHours: DisclosureRule.Of((F.Devices, 1))));

        var work = PolicyEngine.Decide(Input(RelationshipTier.Colleague, PrivacyContext.WorkHours, org: org));
        var off = PolicyEngine.Decide(Input(RelationshipTier.Colleague, PrivacyContext.OffHours, org: org));
        var external = PolicyEngine.Decide(Input(RelationshipTier.External, PrivacyContext.WorkHours, org: org));

        Assert.Equal(1, work.Key.Levels[F.Devices]);
        Assert.Equal(PolicyLayer.OrganizationFloor, work.DecidedBy[F.Devices]);
        Assert.Equal(0, off.Key.Levels[F.Devices]);
        Assert.Equal(PolicyLayer.Default, off.DecidedBy[F.Devices]);
        Assert.Equal(0, external.Key.Levels[F.Devices]);
    }

    [Fact]
    public void The_floor_overrides_a_user_rule_that_hides_the_field()
    {
        var org = WithFloor(RelationshipTier.Colleague, new TierRules(Any: DisclosureRule.Of((F.Availability, 1))));
        var user = WithWatchers(WithTiers((RelationshipTier.Colleague, new TierRules(Any: DisclosureRule.Of((F.Availability, 0))))),
            (Bob, new WatcherRules(Rules: new TierRules(Any: DisclosureRule.Of((F.Availability, 0))))));

        var decision = PolicyEngine.Decide(Input(RelationshipTier.Colleague, PrivacyContext.OffHours, org: org, user: user));

        Assert.Equal(1, decision.Key.Levels[F.Availability]);
        Assert.Equal(PolicyLayer.OrganizationFloor, decision.DecidedBy[F.Availability]);
    }

    [Fact]
    public void The_floor_never_lowers_a_field()
    {
        var org = WithFloor(RelationshipTier.Team, new TierRules(Any: DisclosureRule.Of((F.Location, (int)LocationPrecision.Country))));

        var decision = PolicyEngine.Decide(Input(RelationshipTier.Team, org: org));

        Assert.Equal((int)LocationPrecision.Building, decision.Key.Levels[F.Location]);
        Assert.Equal(PolicyLayer.Default, decision.DecidedBy[F.Location]);
    }

    // ---- Organization ceiling ------------------------------------------------------------------------------------

    [Fact]
    public void The_ceiling_clamps_a_user_tier_rule()
    {
        var org = WithCeiling(RelationshipTier.External, (F.Location, (int)LocationPrecision.City));
        var user = WithTiers((RelationshipTier.External, new TierRules(Any: DisclosureRule.Of((F.Location, (int)LocationPrecision.Exact)))));

        var decision = PolicyEngine.Decide(Input(RelationshipTier.External, org: org, user: user));

        Assert.Equal((int)LocationPrecision.City, decision.Key.Levels[F.Location]);
        Assert.Equal(PolicyLayer.OrganizationCeiling, decision.DecidedBy[F.Location]);
    }

    [Fact]
    public void The_ceiling_clamps_a_per_watcher_rule_and_a_grant()
    {
        var org = WithCeiling(RelationshipTier.Colleague, (F.HomePhone, 0), (F.LastSeen, (int)LastSeenPrecision.Day));
        var user = WithWatchers(UserPrivacy.Default, (Bob, new WatcherRules(Rules: new TierRules(Any: DisclosureRule.Of((F.HomePhone, 1))))));
        var grants = new[] { GrantTo(Bob, DisclosureRule.Of((F.LastSeen, (int)LastSeenPrecision.Exact))) };

        var decision = PolicyEngine.Decide(Input(RelationshipTier.Colleague, org: org, user: user, grants: grants));

        Assert.Equal(0, decision.Key.Levels[F.HomePhone]);
        Assert.Equal(PolicyLayer.OrganizationCeiling, decision.DecidedBy[F.HomePhone]);
        Assert.Equal((int)LastSeenPrecision.Day, decision.Key.Levels[F.LastSeen]);
        Assert.Equal(PolicyLayer.OrganizationCeiling, decision.DecidedBy[F.LastSeen]);
    }

    [Fact]
    public void The_ceiling_clamps_defaults_and_wins_over_the_floor()
    {
        var org = WithCeiling(RelationshipTier.Team, (F.Location, (int)LocationPrecision.Country), (F.Devices, 0)) with
        {
            Floor = new Dictionary<RelationshipTier, TierRules> { [RelationshipTier.Team] = new(Any: DisclosureRule.Of((F.Devices, 1))) },
        };

        var decision = PolicyEngine.Decide(Input(RelationshipTier.Team, org: org));

        Assert.Equal((int)LocationPrecision.Country, decision.Key.Levels[F.Location]);
        Assert.Equal(PolicyLayer.OrganizationCeiling, decision.DecidedBy[F.Location]);
        Assert.Equal(0, decision.Key.Levels[F.Devices]);
        Assert.Equal(PolicyLayer.OrganizationCeiling, decision.DecidedBy[F.Devices]);
    }

    [Fact]
    public void A_ceiling_applies_only_to_its_tier_and_a_field_below_it_keeps_its_layer()
    {
        var org = WithCeiling(RelationshipTier.External, (F.Location, 0), (F.Email, 1));

        var colleague = PolicyEngine.Decide(Input(RelationshipTier.Colleague, org: org));
        var external = PolicyEngine.Decide(Input(RelationshipTier.External, org: org));

        Assert.Equal((int)LocationPrecision.City, colleague.Key.Levels[F.Location]);
        Assert.Equal(PolicyLayer.Default, colleague.DecidedBy[F.Location]);
        Assert.Equal(1, external.Key.Levels[F.Email]);
        Assert.Equal(PolicyLayer.Default, external.DecidedBy[F.Email]);
    }

    [Fact]
    public void Ceiling_and_floor_of_a_tier_read_as_everything_and_nothing_where_unset()
    {
        var org = WithCeiling(RelationshipTier.External, (F.Location, (int)LocationPrecision.City));

        Assert.Equal((int)LocationPrecision.City, org.CeilingOf(RelationshipTier.External, F.Location));
        Assert.Equal((int)LastSeenPrecision.Exact, org.CeilingOf(RelationshipTier.External, F.LastSeen));
        Assert.Equal((int)CalendarDetail.Subject, org.CeilingOf(RelationshipTier.Team, F.Calendar));
        Assert.Equal(0, org.FloorOf(RelationshipTier.External, PrivacyContext.WorkHours, F.Availability));
    }

    // ---- Subscriptions -------------------------------------------------------------------------------------------

    [Fact]
    public void Handling_defaults_to_the_organization_and_then_to_confirm()
    {
        var user = UserPrivacy.Default;

        Assert.Equal(SubscriptionHandling.Allow, PolicyEngine.HandlingFor(RelationshipTier.Trusted, OrgPolicy.Default, user));
        Assert.Equal(SubscriptionHandling.Allow, PolicyEngine.HandlingFor(RelationshipTier.Team, OrgPolicy.Default, user));
        Assert.Equal(SubscriptionHandling.Allow, PolicyEngine.HandlingFor(RelationshipTier.Colleague, OrgPolicy.Default, user));
        Assert.Equal(SubscriptionHandling.Confirm, PolicyEngine.HandlingFor(RelationshipTier.External, OrgPolicy.Default, user));
        Assert.Equal(SubscriptionHandling.PoliteBlock, PolicyEngine.HandlingFor(RelationshipTier.Blocked, OrgPolicy.Default, user));

        var bare = OrgPolicy.Default with { SubscriptionDefaults = new Dictionary<RelationshipTier, SubscriptionHandling>() };
        Assert.Equal(SubscriptionHandling.Confirm, PolicyEngine.HandlingFor(RelationshipTier.Colleague, bare, user));
    }

    [Theory]
    [InlineData(SubscriptionHandling.Allow, null, SubscriptionHandling.Allow)]
    [InlineData(SubscriptionHandling.Allow, SubscriptionHandling.Confirm, SubscriptionHandling.Confirm)]
    [InlineData(SubscriptionHandling.Allow, SubscriptionHandling.Block, SubscriptionHandling.Block)]
    [InlineData(SubscriptionHandling.Confirm, SubscriptionHandling.Allow, SubscriptionHandling.Confirm)]
    [InlineData(SubscriptionHandling.PoliteBlock, SubscriptionHandling.Confirm, SubscriptionHandling.PoliteBlock)]
    [InlineData(SubscriptionHandling.Block, SubscriptionHandling.PoliteBlock, SubscriptionHandling.Block)]
    [InlineData(SubscriptionHandling.Confirm, SubscriptionHandling.PoliteBlock, SubscriptionHandling.PoliteBlock)]
    public void The_users_choice_holds_unless_the_organization_minimum_is_stricter(
        SubscriptionHandling chosen, SubscriptionHandling? minimum, SubscriptionHandling expected)
    {
        var user = UserPrivacy.Default with { Subscriptions = new Dictionary<RelationshipTier, SubscriptionHandling> { [RelationshipTier.Colleague] = chosen } };
        var org = OrgPolicy.Default with
        {
            SubscriptionMinimum = minimum is { } m
                ? new Dictionary<RelationshipTier, SubscriptionHandling> { [RelationshipTier.Colleague] = m }
                : new Dictionary<RelationshipTier, SubscriptionHandling>(),
        };

        Assert.Equal(expected, PolicyEngine.HandlingFor(RelationshipTier.Colleague, org, user));
    }

    public static TheoryData<SubscriptionStatus, SubscriptionHandling, ViewMode> SubscriptionModes() => new()
    {
        { SubscriptionStatus.Approved, SubscriptionHandling.Allow, ViewMode.Normal },
        { SubscriptionStatus.Approved, SubscriptionHandling.Confirm, ViewMode.Normal },
        { SubscriptionStatus.Approved, SubscriptionHandling.PoliteBlock, ViewMode.Normal },
        { SubscriptionStatus.Approved, SubscriptionHandling.Block, ViewMode.Normal },
        { SubscriptionStatus.None, SubscriptionHandling.Allow, ViewMode.Normal },
        { SubscriptionStatus.None, SubscriptionHandling.Confirm, ViewMode.Nothing },
        { SubscriptionStatus.None, SubscriptionHandling.PoliteBlock, ViewMode.Blocked },
        { SubscriptionStatus.None, SubscriptionHandling.Block, ViewMode.Nothing },
        { SubscriptionStatus.Pending, SubscriptionHandling.Allow, ViewMode.Nothing },
        { SubscriptionStatus.Pending, SubscriptionHandling.Confirm, ViewMode.Nothing },
        { SubscriptionStatus.Pending, SubscriptionHandling.PoliteBlock, ViewMode.Nothing },
        { SubscriptionStatus.Pending, SubscriptionHandling.Block, ViewMode.Nothing },
        { SubscriptionStatus.Denied, SubscriptionHandling.Allow, ViewMode.Nothing },
        { SubscriptionStatus.Denied, SubscriptionHandling.Confirm, ViewMode.Nothing },
        { SubscriptionStatus.Denied, SubscriptionHandling.PoliteBlock, ViewMode.Nothing },
        { SubscriptionStatus.Denied, SubscriptionHandling.Block, ViewMode.Nothing },
        { SubscriptionStatus.PoliteBlocked, SubscriptionHandling.Allow, ViewMode.Blocked },
        { SubscriptionStatus.PoliteBlocked, SubscriptionHandling.Confirm, ViewMode.Blocked },
        { SubscriptionStatus.PoliteBlocked, SubscriptionHandling.PoliteBlock, ViewMode.Blocked },
        { SubscriptionStatus.PoliteBlocked, SubscriptionHandling.Block, ViewMode.Blocked },
    };

    [Theory]
    [MemberData(nameof(SubscriptionModes))]
    public void The_subscription_status_and_handling_decide_the_view_mode(
        SubscriptionStatus status, SubscriptionHandling handling, ViewMode expected)
    {
        var user = UserPrivacy.Default with { Subscriptions = new Dictionary<RelationshipTier, SubscriptionHandling> { [RelationshipTier.Colleague] = handling } };

        var decision = PolicyEngine.Decide(Input(RelationshipTier.Colleague, PrivacyContext.OffHours, user: user, subscription: status));

        Assert.Equal(expected, decision.Key.Mode);
        switch (expected)
        {
            case ViewMode.Normal:
                Assert.Equal(DefaultRules.For(RelationshipTier.Colleague, PrivacyContext.OffHours), decision.Key.Levels);
                Assert.Equal(PrivacyContext.OffHours, decision.Key.Context);
                break;
            default:
                // Nothing real: no levels, and a context that does not follow the person's day.
                Assert.Equal(Disclosure.Nothing, decision.Key.Levels);
                Assert.Equal(PrivacyContext.WorkHours, decision.Key.Context);
                Assert.Equal(PrivacyContext.OffHours, decision.Context);
                var layer = expected == ViewMode.Nothing ? PolicyLayer.Subscription : PolicyLayer.Block;
                Assert.All(DisclosureFields.All, f => Assert.Equal(layer, decision.DecidedBy[f]));
                break;
        }
    }

    [Fact]
    public void An_organization_minimum_makes_an_unrequested_watcher_wait_for_confirmation()
    {
        var org = OrgPolicy.Default with
        {
            SubscriptionMinimum = new Dictionary<RelationshipTier, SubscriptionHandling> { [RelationshipTier.Colleague] = SubscriptionHandling.Confirm },
        };

        var allowed = PolicyEngine.Decide(Input(RelationshipTier.Colleague, subscription: SubscriptionStatus.None));
        var confirmed = PolicyEngine.Decide(Input(RelationshipTier.Colleague, org: org, subscription: SubscriptionStatus.None));

        Assert.Equal(ViewMode.Normal, allowed.Key.Mode);
        Assert.Equal(ViewMode.Nothing, confirmed.Key.Mode);
        Assert.Equal(PolicyLayer.Subscription, confirmed.DecidedBy[F.Availability]);
    }

    // ---- Blocked tier --------------------------------------------------------------------------------------------

    [Fact]
    public void The_blocked_tier_is_blocked_whatever_rules_grants_floors_subscription_or_context_say()
    {
        var everything = DisclosureRule.All(Disclosure.Everything);
        var user = WithWatchers(
            WithTiers((RelationshipTier.Blocked, new TierRules(Any: everything))) with
            {
                Subscriptions = new Dictionary<RelationshipTier, SubscriptionHandling> { [RelationshipTier.Blocked] = SubscriptionHandling.Allow },
            },
            (Bob, new WatcherRules(Rules: new TierRules(Any: everything))));
        var org = WithFloor(RelationshipTier.Blocked, new TierRules(Any: everything));
        var grants = new[] { GrantTo(Bob, everything) };

        var keys = new HashSet<DisclosureKey>();
        foreach (var context in Enum.GetValues<PrivacyContext>())
        {
            foreach (var status in Enum.GetValues<SubscriptionStatus>())
            {
                foreach (var appearOffline in new[] { false, true })
                {
                    var decision = PolicyEngine.Decide(Input(RelationshipTier.Blocked, context, org, user, subscription: status,
                        appearOffline: appearOffline, grants: grants));

                    Assert.Equal(ViewMode.Blocked, decision.Key.Mode);
                    Assert.Equal(Disclosure.Nothing, decision.Key.Levels);
                    Assert.Equal(RelationshipTier.Blocked, decision.Tier);
                    Assert.All(DisclosureFields.All, f => Assert.Equal(PolicyLayer.Block, decision.DecidedBy[f]));
                    keys.Add(decision.Key);
                }
            }
        }
        Assert.Single(keys);
    }

    // ---- Appear offline ------------------------------------------------------------------------------------------

    [Theory]
    [InlineData(RelationshipTier.Trusted)]
    [InlineData(RelationshipTier.Team)]
    [InlineData(RelationshipTier.Colleague)]
    [InlineData(RelationshipTier.External)]
    public void Appearing_offline_without_narrowing_applies_to_every_tier_and_keeps_the_levels(RelationshipTier tier)
    {
        var normal = PolicyEngine.Decide(Input(tier));
        var offline = PolicyEngine.Decide(Input(tier, appearOffline: true));

        Assert.Null(UserPrivacy.Default.AppearOfflineTiers);
        Assert.Equal(ViewMode.Normal, normal.Key.Mode);
        Assert.Equal(ViewMode.Offline, offline.Key.Mode);
        Assert.Equal(normal.Key.Levels, offline.Key.Levels);
        foreach (var f in DisclosureFields.All)
        {
            var hidden = f is F.Availability or F.Activity or F.Location or F.Devices;
            Assert.Equal(hidden ? PolicyLayer.Block : normal.DecidedBy[f], offline.DecidedBy[f]);
        }
    }

    [Fact]
    public void Appearing_offline_narrowed_to_some_tiers_applies_only_to_them()
    {
        var user = UserPrivacy.Default with { AppearOfflineTiers = [RelationshipTier.Colleague, RelationshipTier.External] };

        Assert.Equal(ViewMode.Offline, PolicyEngine.Decide(Input(RelationshipTier.Colleague, user: user, appearOffline: true)).Key.Mode);
        Assert.Equal(ViewMode.Offline, PolicyEngine.Decide(Input(RelationshipTier.External, user: user, appearOffline: true)).Key.Mode);
        Assert.Equal(ViewMode.Normal, PolicyEngine.Decide(Input(RelationshipTier.Team, user: user, appearOffline: true)).Key.Mode);
        Assert.Equal(ViewMode.Normal, PolicyEngine.Decide(Input(RelationshipTier.Trusted, user: user, appearOffline: true)).Key.Mode);
        Assert.Equal(ViewMode.Normal, PolicyEngine.Decide(Input(RelationshipTier.Colleague, user: user, appearOffline: false)).Key.Mode);
    }

    [Fact]
    public void Appearing_offline_to_an_empty_list_of_tiers_applies_to_nobody()
    {
        var user = UserPrivacy.Default with { AppearOfflineTiers = [] };

        Assert.All(new[] { RelationshipTier.Trusted, RelationshipTier.Team, RelationshipTier.Colleague, RelationshipTier.External },
            tier => Assert.Equal(ViewMode.Normal, PolicyEngine.Decide(Input(tier, user: user, appearOffline: true)).Key.Mode));
        Assert.False(user.AppearsOfflineTo(RelationshipTier.Colleague));
        Assert.True(UserPrivacy.Default.AppearsOfflineTo(RelationshipTier.Colleague));
    }

    [Fact]
    public void Appearing_offline_does_not_open_a_view_the_subscription_keeps_closed()
    {
        var pending = PolicyEngine.Decide(Input(RelationshipTier.External, subscription: SubscriptionStatus.Pending, appearOffline: true));

        Assert.Equal(ViewMode.Nothing, pending.Key.Mode);
    }

    // ---- Self ----------------------------------------------------------------------------------------------------

    [Theory]
    [InlineData(RelationshipTier.Trusted, SubscriptionStatus.Approved, false)]
    [InlineData(RelationshipTier.Blocked, SubscriptionStatus.None, true)]
    [InlineData(RelationshipTier.External, SubscriptionStatus.Denied, true)]
    [InlineData(RelationshipTier.Colleague, SubscriptionStatus.PoliteBlocked, false)]
    public void The_person_sees_everything_decided_by_the_self_layer(RelationshipTier tier, SubscriptionStatus status, bool appearOffline)
    {
        var org = WithCeiling(tier, (F.Location, 0), (F.Mobile, 0));

        foreach (var context in Enum.GetValues<PrivacyContext>())
        {
            var decision = PolicyEngine.Decide(Input(tier, context, org: org, watcherId: "ada", isSelf: true, subscription: status,
                appearOffline: appearOffline));

            Assert.Equal(DisclosureKey.Self(context), decision.Key);
            Assert.True(decision.Key.IsSelf);
            Assert.Equal(Disclosure.Everything, decision.Key.Levels);
            Assert.All(DisclosureFields.All, f => Assert.Equal(PolicyLayer.Self, decision.DecidedBy[f]));
        }
    }

    // ---- Context -------------------------------------------------------------------------------------------------

    [Theory]
    [InlineData(false, false, PrivacyContext.WorkHours)]
    [InlineData(true, false, PrivacyContext.OffHours)]
    [InlineData(false, true, PrivacyContext.DayOff)]
    [InlineData(true, true, PrivacyContext.DayOff)]
    public void The_context_is_day_off_before_off_hours_before_work_hours(bool offHours, bool dayOff, PrivacyContext expected)
    {
        Assert.Equal(expected, PolicyEngine.ContextOf(Presence(offHours, dayOff)));
    }

    // ---- Arguments -----------------------------------------------------------------------------------------------

    [Fact]
    public void The_engine_rejects_missing_arguments()
    {
        Assert.Throws<ArgumentNullException>(() => PolicyEngine.Decide(null!));
        Assert.Throws<ArgumentNullException>(() => PolicyEngine.ContextOf(null!));
        Assert.Throws<ArgumentNullException>(() => PolicyEngine.DirectoryTier(null!, null));
        Assert.Throws<ArgumentNullException>(() => PolicyEngine.TierOf(Person("ada"), null, Bob, null!));
        Assert.Throws<ArgumentNullException>(() => PolicyEngine.HandlingFor(RelationshipTier.Team, null!, UserPrivacy.Default));
        Assert.Throws<ArgumentNullException>(() => PolicyEngine.HandlingFor(RelationshipTier.Team, OrgPolicy.Default, null!));
    }
}
