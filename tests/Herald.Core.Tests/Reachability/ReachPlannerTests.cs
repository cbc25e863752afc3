using Herald.Core.Model;
using Herald.Core.Presence;
using Herald.Core.Privacy;
using Herald.Core.Reachability;
using static Herald.Core.Tests.Presence.SourceBuilder;
using static Herald.Core.Tests.Reachability.ReachFixtures;
using F = Herald.Core.Privacy.DisclosureField;
using K = Herald.Core.Model.ContactKind;

namespace Herald.Core.Tests.Reachability;

/// <summary>The defaults, every rule kind, disclosure filtering and availableAgainAt of <see cref="ReachPlanner"/>.</summary>
public sealed class ReachPlannerTests
{
    private static readonly UserPrivacy TeamSeesMobile = ShowingTeam((F.Mobile, 1));

    // ---- Defaults ------------------------------------------------------------------------------------------------

    [Fact]
    public void Default_available_in_work_hours_offers_work_phone_chat_video_and_email_in_that_order()
    {
        var plan = ReachPlanner.Plan(Ask(AvailableAtDesk(), RelationshipTier.Team));

        Assert.Equal([K.WorkPhone, K.Chat, K.Video, K.Email], Methods(plan));
        Assert.Equal(WorkPhone.Address, plan.Options[0].Address);
        Assert.Equal("Available — work phone preferred", plan.Options[0].Reason);
        Assert.Equal("Available — chat also possible", plan.Options[1].Reason);
        Assert.Null(plan.AvailableAgainAt);
    }

    [Theory]
    [InlineData(Availability.Away)]
    [InlineData(Availability.BeRightBack)]
    public void Default_away_or_be_right_back_in_work_hours_offers_the_same_as_available(Availability availability)
    {
        var plan = ReachPlanner.Plan(Ask(Chosen(availability, Now.AddMinutes(15)), RelationshipTier.Team));

        Assert.Equal([K.WorkPhone, K.Chat, K.Video, K.Email], Methods(plan));
    }

    [Fact]
    public void Default_busy_offers_chat_and_email()
    {
        var plan = ReachPlanner.Plan(Ask(InACallUntil(Now.AddMinutes(30)), RelationshipTier.Team));

        Assert.Equal([K.Chat, K.Email], Methods(plan));
        Assert.Equal("Busy — chat preferred", plan.Options[0].Reason);
    }

    [Fact]
    public void Default_do_not_disturb_offers_email_only()
    {
        var plan = ReachPlanner.Plan(Ask(Chosen(Availability.DoNotDisturb, Now.AddHours(1)), RelationshipTier.Trusted));

        Assert.Equal([K.Email], Methods(plan));
        Assert.Equal("Do not disturb — e-mail preferred", plan.Options[0].Reason);
    }

    public static TheoryData<string> OffStates => new() { "off work", "working late", "offline", "on vacation" };

    private static AggregatedPresence Off(string state) => state switch
    {
        "off work" => OffWorkInTheEvening(),
        "working late" => WorkingLate(),
        "offline" => ReallyOffline(),
        _ => OnVacation(),
    };

    private static DateTimeOffset When(string state) => state is "off work" or "working late" ? Evening : Now;

    [Theory]
    [MemberData(nameof(OffStates))]
    public void Default_off_work_offline_outside_work_hours_and_on_a_day_off_offer_email_only_even_to_trusted(string state)
    {
        var plan = ReachPlanner.Plan(Ask(Off(state), RelationshipTier.Trusted, now: When(state)));

        Assert.Equal([K.Email], Methods(plan));
    }

    [Fact]
    public void Default_urgent_from_trusted_puts_mobile_first_in_do_not_disturb()
    {
        var plan = ReachPlanner.Plan(Ask(Chosen(Availability.DoNotDisturb, Now.AddHours(1)), RelationshipTier.Trusted,
            urgency: Urgency.Urgent));

        Assert.Equal([K.Mobile, K.Email], Methods(plan));
        Assert.Equal(Mobile.Address, plan.Options[0].Address);
        Assert.Equal("urgent: Trusted may call Anna's mobile in Do not disturb", plan.Options[0].Reason);
    }

    [Theory]
    [MemberData(nameof(OffStates))]
    public void Default_urgent_from_trusted_puts_mobile_first_when_off_work(string state)
    {
        var plan = ReachPlanner.Plan(Ask(Off(state), RelationshipTier.Trusted, urgency: Urgency.Urgent, now: When(state)));

        Assert.Equal([K.Mobile, K.Email], Methods(plan));
    }

    [Fact]
    public void Default_urgent_from_trusted_while_available_also_puts_mobile_first()
    {
        var plan = ReachPlanner.Plan(Ask(AvailableAtDesk(), RelationshipTier.Trusted, urgency: Urgency.Urgent));

        Assert.Equal([K.Mobile, K.WorkPhone, K.Chat, K.Video, K.Email], Methods(plan));
        Assert.Equal("urgent: Trusted may call Anna's mobile", plan.Options[0].Reason);
    }

    [Fact]
    public void Default_lets_only_trusted_break_through_so_urgent_team_gets_email_only_in_do_not_disturb()
    {
        var plan = ReachPlanner.Plan(Ask(Chosen(Availability.DoNotDisturb, Now.AddHours(1)), RelationshipTier.Team,
            urgency: Urgency.Urgent, privacy: TeamSeesMobile));

        Assert.Equal([K.Email], Methods(plan));
        Assert.Equal([RelationshipTier.Trusted], ReachPreferences.Default.BreakThroughTiers);
    }

    [Fact]
    public void Default_normal_urgency_from_trusted_does_not_break_through()
    {
        var plan = ReachPlanner.Plan(Ask(Chosen(Availability.DoNotDisturb, Now.AddHours(1)), RelationshipTier.Trusted));

        Assert.DoesNotContain(K.Mobile, Methods(plan));
    }

    [Fact]
    public void Defaults_apply_when_the_person_set_no_rules_but_chose_break_through_tiers()
    {
        var prefs = new ReachPreferences([], [RelationshipTier.Team]);

        var plan = ReachPlanner.Plan(Ask(Chosen(Availability.DoNotDisturb, Now.AddHours(1)), RelationshipTier.Team, prefs,
            Urgency.Urgent, TeamSeesMobile));

        Assert.Equal(ReachPreferences.DefaultRules, prefs.EffectiveRules);
        Assert.Equal([K.Mobile, K.Email], Methods(plan));
    }

    // ---- Rule kinds: the issue's example ------------------------------------------------------------------------

    [Fact]
    public void Availability_condition_available_gives_the_work_phone()
    {
        var plan = ReachPlanner.Plan(Ask(AvailableAtDesk(), RelationshipTier.Team, IssueExample));

        Assert.Equal([K.WorkPhone], Methods(plan));
        Assert.Equal("Available — work phone preferred", plan.Options[0].Reason);
    }

    [Fact]
    public void Availability_condition_does_not_match_other_states()
    {
        var plan = ReachPlanner.Plan(Ask(Chosen(Availability.Away, Now.AddMinutes(20)), RelationshipTier.Team, IssueExample));

        Assert.Empty(plan.Options);
    }

    [Fact]
    public void Device_condition_on_mobile_only_adds_chat()
    {
        var plan = ReachPlanner.Plan(Ask(OnMobileOnly(), RelationshipTier.Team, IssueExample));

        Assert.Equal([K.WorkPhone, K.Chat], Methods(plan));
        Assert.Equal("Available, on mobile only — chat also possible", plan.Options[1].Reason);
    }

    [Fact]
    public void Device_condition_fails_when_any_active_device_is_not_mobile()
    {
        var presence = Aggregate(Sources(devices:
            [Device("phone", kind: DeviceKind.Mobile), Device("desk", kind: DeviceKind.Desktop)]));

        var plan = ReachPlanner.Plan(Ask(presence, RelationshipTier.Team, IssueExample));

        Assert.Equal([K.WorkPhone], Methods(plan));
    }

    [Fact]
    public void Device_condition_ignores_idle_devices()
    {
        var presence = Aggregate(Sources(devices:
            [Device("phone", kind: DeviceKind.Mobile), Device("desk", idleSince: Now.AddMinutes(-20))]));

        var plan = ReachPlanner.Plan(Ask(presence, RelationshipTier.Team, IssueExample));

        Assert.Equal([K.WorkPhone, K.Chat], Methods(plan));
    }

    [Fact]
    public void Device_condition_never_holds_for_an_asker_who_may_not_see_devices()
    {
        // Colleagues do not see devices by default: the chat option must not reveal "on mobile only".
        var plan = ReachPlanner.Plan(Ask(OnMobileOnly(), RelationshipTier.Colleague, IssueExample));

        Assert.Equal([K.WorkPhone], Methods(plan));
    }

    [Fact]
    public void Do_not_disturb_rule_gives_email_only_and_unconditioned_rules_stay_out_of_do_not_disturb()
    {
        var plan = ReachPlanner.Plan(Ask(OnMobileOnly(Availability.DoNotDisturb), RelationshipTier.Team, IssueExample));

        Assert.Equal([K.Email], Methods(plan));
    }

    [Fact]
    public void Break_through_rule_urgent_team_gets_mobile_first_in_do_not_disturb()
    {
        var plan = ReachPlanner.Plan(Ask(Chosen(Availability.DoNotDisturb, Now.AddHours(1)), RelationshipTier.Team,
            IssueExample, Urgency.Urgent, TeamSeesMobile));

        Assert.Equal([K.Mobile, K.Email], Methods(plan));
        Assert.Equal("urgent: Team may call Anna's mobile in Do not disturb", plan.Options[0].Reason);
    }

    [Fact]
    public void Break_through_rule_keeps_rule_order_when_nothing_is_protected()
    {
        var plan = ReachPlanner.Plan(Ask(AvailableAtDesk(), RelationshipTier.Team, IssueExample, Urgency.Urgent, TeamSeesMobile));

        Assert.Equal([K.WorkPhone, K.Mobile], Methods(plan));
    }

    [Fact]
    public void Break_through_rule_needs_urgency()
    {
        var plan = ReachPlanner.Plan(Ask(Chosen(Availability.DoNotDisturb, Now.AddHours(1)), RelationshipTier.Team,
            IssueExample, Urgency.Normal, TeamSeesMobile));

        Assert.Equal([K.Email], Methods(plan));
    }

    [Fact]
    public void Break_through_rule_needs_the_tier_among_the_persons_break_through_tiers()
    {
        var prefs = IssueExample with { BreakThroughTiers = [RelationshipTier.Trusted] };

        var plan = ReachPlanner.Plan(Ask(Chosen(Availability.DoNotDisturb, Now.AddHours(1)), RelationshipTier.Team,
            prefs, Urgency.Urgent, TeamSeesMobile));

        Assert.Equal([K.Email], Methods(plan));
    }

    [Fact]
    public void Break_through_is_bounded_by_the_organization()
    {
        var plan = ReachPlanner.Plan(Ask(Chosen(Availability.DoNotDisturb, Now.AddHours(1)), RelationshipTier.Team,
            IssueExample, Urgency.Urgent, TeamSeesMobile, organization: [RelationshipTier.Trusted]));

        Assert.Equal([K.Email], Methods(plan));
    }

    [Fact]
    public void Break_through_rule_respects_its_own_tier_condition()
    {
        var prefs = IssueExample with { BreakThroughTiers = [RelationshipTier.Team, RelationshipTier.Trusted] };

        var plan = ReachPlanner.Plan(Ask(Chosen(Availability.DoNotDisturb, Now.AddHours(1)), RelationshipTier.Trusted,
            prefs, Urgency.Urgent));

        Assert.Equal([K.Email], Methods(plan));
    }

    // ---- Rule kinds: one condition at a time ----------------------------------------------------------------------

    [Fact]
    public void Context_condition_offers_a_method_only_in_that_context()
    {
        var prefs = Rules(
            new ReachRule(K.HomePhone, Contexts: [PrivacyContext.OffHours]),
            new ReachRule(K.WorkPhone));

        var evening = ReachPlanner.Plan(Ask(WorkingLate(), RelationshipTier.Trusted, prefs, now: Evening));
        var day = ReachPlanner.Plan(Ask(AvailableAtDesk(), RelationshipTier.Trusted, prefs));

        Assert.Equal([K.HomePhone], Methods(evening));
        Assert.Equal([K.WorkPhone], Methods(day));
    }

    [Fact]
    public void Naming_a_protected_availability_is_enough_to_apply_outside_work_hours()
    {
        var prefs = Rules(new ReachRule(K.Email, When: [Availability.OffWork]));

        var plan = ReachPlanner.Plan(Ask(OffWorkInTheEvening(), RelationshipTier.Colleague, prefs, now: Evening));

        Assert.Equal([K.Email], Methods(plan));
        Assert.Equal("Off work — e-mail preferred", plan.Options[0].Reason);
    }

    [Fact]
    public void Tier_condition_offers_a_method_only_to_those_tiers()
    {
        var prefs = Rules(new ReachRule(K.Video, Tiers: [RelationshipTier.Team]), new ReachRule(K.Email));

        var team = ReachPlanner.Plan(Ask(AvailableAtDesk(), RelationshipTier.Team, prefs));
        var colleague = ReachPlanner.Plan(Ask(AvailableAtDesk(), RelationshipTier.Colleague, prefs));

        Assert.Equal([K.Video, K.Email], Methods(team));
        Assert.Equal([K.Email], Methods(colleague));
    }

    [Fact]
    public void Urgency_condition_offers_a_method_only_to_urgent_requests()
    {
        var prefs = Rules(new ReachRule(K.WorkPhone, MinUrgency: Urgency.Urgent), new ReachRule(K.Chat));

        var urgent = ReachPlanner.Plan(Ask(AvailableAtDesk(), RelationshipTier.Colleague, prefs, Urgency.Urgent));
        var normal = ReachPlanner.Plan(Ask(AvailableAtDesk(), RelationshipTier.Colleague, prefs));

        Assert.Equal([K.WorkPhone, K.Chat], Methods(urgent));
        Assert.Equal([K.Chat], Methods(normal));
    }

    [Fact]
    public void Several_conditions_must_all_hold()
    {
        var prefs = Rules(new ReachRule(K.Video, When: [Availability.Available], Tiers: [RelationshipTier.Team],
            Contexts: [PrivacyContext.WorkHours]));

        Assert.Equal([K.Video], Methods(ReachPlanner.Plan(Ask(AvailableAtDesk(), RelationshipTier.Team, prefs))));
        Assert.Empty(ReachPlanner.Plan(Ask(AvailableAtDesk(), RelationshipTier.Colleague, prefs)).Options);
        Assert.Empty(ReachPlanner.Plan(Ask(Chosen(Availability.Away, Now.AddMinutes(5)), RelationshipTier.Team, prefs)).Options);
    }

    [Fact]
    public void Matching_rules_contribute_in_order_and_a_method_appears_once()
    {
        var prefs = Rules(
            new ReachRule(K.Chat, When: [Availability.Available], Reason: "ping me first"),
            new ReachRule(K.Email),
            new ReachRule(K.Chat));

        var plan = ReachPlanner.Plan(Ask(AvailableAtDesk(), RelationshipTier.Team, prefs));

        Assert.Equal([K.Chat, K.Email], Methods(plan));
        Assert.Equal("ping me first", plan.Options[0].Reason);
    }

    [Fact]
    public void A_rule_for_a_method_the_person_has_no_address_for_is_skipped()
    {
        var prefs = Rules(new ReachRule(K.Video), new ReachRule(K.Chat));

        var plan = ReachPlanner.Plan(Ask(AvailableAtDesk(), RelationshipTier.Team, prefs, profile: Anna([Email, Chat])));

        Assert.Equal([K.Chat], Methods(plan));
    }

    // ---- Disclosure filtering -------------------------------------------------------------------------------------

    private static readonly ReachPreferences EverythingToEveryone =
        Rules([.. Enum.GetValues<K>().Select(k => new ReachRule(k))]);

    [Fact]
    public void A_colleague_never_gets_mobile_or_home_phone_by_default()
    {
        var plan = ReachPlanner.Plan(Ask(AvailableAtDesk(), RelationshipTier.Colleague, EverythingToEveryone));

        Assert.DoesNotContain(K.Mobile, Methods(plan));
        Assert.DoesNotContain(K.HomePhone, Methods(plan));
        Assert.Contains(K.WorkPhone, Methods(plan));
    }

    [Fact]
    public void A_grant_lets_a_colleague_get_the_mobile_and_nothing_more()
    {
        var plan = ReachPlanner.Plan(Ask(AvailableAtDesk(), RelationshipTier.Colleague, EverythingToEveryone,
            grants: [GrantToAsker((F.Mobile, 1))]));

        Assert.Contains(K.Mobile, Methods(plan));
        Assert.DoesNotContain(K.HomePhone, Methods(plan));
    }

    [Fact]
    public void Urgent_break_through_does_not_reveal_a_mobile_the_asker_may_not_see()
    {
        var prefs = IssueExample;

        var plan = ReachPlanner.Plan(Ask(Chosen(Availability.DoNotDisturb, Now.AddHours(1)), RelationshipTier.Team,
            prefs, Urgency.Urgent));

        Assert.Equal([K.Email], Methods(plan));
    }

    [Fact]
    public void Off_hours_colleagues_get_the_off_work_plan_even_while_she_works_late()
    {
        var prefs = Rules(
            new ReachRule(K.WorkPhone, Contexts: [PrivacyContext.OffHours]),
            new ReachRule(K.Email, When: [Availability.OffWork]));

        var colleague = ReachPlanner.Plan(Ask(WorkingLate(), RelationshipTier.Colleague, prefs, now: Evening));
        var trusted = ReachPlanner.Plan(Ask(WorkingLate(), RelationshipTier.Trusted, prefs, now: Evening));

        Assert.Equal([K.Email], Methods(colleague));
        Assert.Equal("Off work — e-mail preferred", colleague.Options[0].Reason);
        Assert.Equal([K.WorkPhone], Methods(trusted));
        Assert.Equal("Available — work phone preferred", trusted.Options[0].Reason);
    }

    [Fact]
    public void Unconditioned_rules_stay_out_of_off_hours()
    {
        var plan = ReachPlanner.Plan(Ask(WorkingLate(), RelationshipTier.Trusted, EverythingToEveryone, now: Evening));

        Assert.Empty(plan.Options);
    }

    public static TheoryData<RelationshipTier, Urgency> VisibleTiers()
    {
        var data = new TheoryData<RelationshipTier, Urgency>();
        foreach (var tier in new[] { RelationshipTier.Trusted, RelationshipTier.Team, RelationshipTier.Colleague, RelationshipTier.External })
        {
            data.Add(tier, Urgency.Normal);
            data.Add(tier, Urgency.Urgent);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(VisibleTiers))]
    public void Appear_offline_gives_exactly_the_plan_of_a_really_offline_person(RelationshipTier tier, Urgency urgency)
    {
        foreach (var prefs in new[] { ReachPreferences.Default, IssueExample, EverythingToEveryone })
        {
            var pretending = ReachPlanner.Plan(Ask(AppearingOffline(), tier, prefs, urgency));
            var really = ReachPlanner.Plan(Ask(ReallyOffline(), tier, prefs, urgency));

            Assert.Equal(really.Options, pretending.Options);
            Assert.Null(pretending.AvailableAgainAt);
        }
    }

    [Fact]
    public void Appear_offline_never_offers_the_live_state_options()
    {
        var plan = ReachPlanner.Plan(Ask(AppearingOffline(), RelationshipTier.Team));

        Assert.Equal([K.Email], Methods(plan));
        Assert.Equal("Offline — e-mail preferred", plan.Options[0].Reason);
    }

    [Theory]
    [InlineData(Urgency.Normal)]
    [InlineData(Urgency.Urgent)]
    public void A_blocked_asker_gets_nothing(Urgency urgency)
    {
        var prefs = EverythingToEveryone with { BreakThroughTiers = Enum.GetValues<RelationshipTier>() };

        var plan = ReachPlanner.Plan(Ask(Chosen(Availability.Busy, Now.AddHours(1)), RelationshipTier.Blocked, prefs, urgency));

        Assert.Empty(plan.Options);
        Assert.Null(plan.AvailableAgainAt);
    }

    [Fact]
    public void An_asker_without_a_subscription_gets_nothing()
    {
        var plan = ReachPlanner.Plan(Ask(Chosen(Availability.Busy, Now.AddHours(1)), RelationshipTier.External,
            subscription: SubscriptionStatus.Pending));

        Assert.Equal(ReachPlan.Empty, plan);
    }

    [Fact]
    public void A_hidden_availability_does_not_leak_through_the_options_or_reasons()
    {
        var privacy = Hiding(RelationshipTier.Colleague, F.Availability);

        var dnd = ReachPlanner.Plan(Ask(Chosen(Availability.DoNotDisturb, Now.AddHours(1)), RelationshipTier.Colleague, privacy: privacy));
        var available = ReachPlanner.Plan(Ask(AvailableAtDesk(), RelationshipTier.Colleague, privacy: privacy));

        Assert.Equal(available.Options, dnd.Options);
        Assert.Equal([K.Email], Methods(dnd));
        Assert.Equal("E-mail preferred", dnd.Options[0].Reason);
        Assert.Null(dnd.AvailableAgainAt);
    }

    [Fact]
    public void The_person_sees_her_own_plan_unfiltered()
    {
        var presence = AvailableAtDesk();
        var input = Ask(presence, RelationshipTier.Trusted, EverythingToEveryone) with { Key = DisclosureKey.Self(PrivacyContext.WorkHours) };

        var plan = ReachPlanner.Plan(input);

        Assert.Equal(Enum.GetValues<K>().Where(k => k != K.Other), Methods(plan));
    }

    // ---- availableAgainAt -----------------------------------------------------------------------------------------

    [Theory]
    [InlineData(Availability.DoNotDisturb)]
    [InlineData(Availability.Busy)]
    [InlineData(Availability.Away)]
    [InlineData(Availability.BeRightBack)]
    public void Available_again_at_is_the_end_of_a_chosen_status(Availability availability)
    {
        var until = Now.AddMinutes(45);

        var plan = ReachPlanner.Plan(Ask(Chosen(availability, until), RelationshipTier.Colleague));

        Assert.Equal(until, plan.AvailableAgainAt);
    }

    [Fact]
    public void Available_again_at_is_the_end_of_a_call_lease()
    {
        var until = Now.AddMinutes(30);

        var plan = ReachPlanner.Plan(Ask(InACallUntil(until), RelationshipTier.Team));

        Assert.Equal(until, plan.AvailableAgainAt);
    }

    [Fact]
    public void Available_again_at_is_null_when_the_end_is_unknown()
    {
        Assert.Null(ReachPlanner.Plan(Ask(BusyOnDevice(), RelationshipTier.Team)).AvailableAgainAt);
    }

    [Fact]
    public void Available_again_at_is_null_while_available()
    {
        var presence = Aggregate(Sources(preferred: Preferred(Availability.Available, until: Now.AddHours(1)), devices: [Device("desk")]));

        Assert.Null(ReachPlanner.Plan(Ask(presence, RelationshipTier.Team)).AvailableAgainAt);
    }

    [Fact]
    public void Available_again_at_is_null_when_off_work_even_though_the_schedule_knows_the_next_start()
    {
        var presence = OffWorkInTheEvening();

        var plan = ReachPlanner.Plan(Ask(presence, RelationshipTier.Trusted, now: Evening));

        Assert.NotNull(presence.Provenance.Until);
        Assert.Null(plan.AvailableAgainAt);
    }

    [Fact]
    public void Available_again_at_is_null_for_an_asker_who_may_not_see_availability()
    {
        var plan = ReachPlanner.Plan(Ask(InACallUntil(Now.AddMinutes(30)), RelationshipTier.Colleague,
            privacy: Hiding(RelationshipTier.Colleague, F.Availability)));

        Assert.Null(plan.AvailableAgainAt);
    }

    [Fact]
    public void Available_again_at_is_null_once_the_end_has_passed()
    {
        var presence = Chosen(Availability.DoNotDisturb, Now.AddMinutes(30));

        var plan = ReachPlanner.Plan(Ask(presence, RelationshipTier.Team, now: Now.AddMinutes(31)));

        Assert.Null(plan.AvailableAgainAt);
    }

    // ---- Preferences validation -----------------------------------------------------------------------------------

    [Fact]
    public void Validation_accepts_the_defaults_and_the_issue_example()
    {
        Assert.Empty(ReachPreferences.Validate(ReachPreferences.Default));
        Assert.Empty(ReachPreferences.Validate(IssueExample));
        Assert.Empty(ReachPreferences.Validate(new ReachPreferences(ReachPreferences.DefaultRules, [])));
    }

    [Fact]
    public void Validation_rejects_blocked_break_through_empty_lists_and_too_many_rules()
    {
        var errors = ReachPreferences.Validate(new ReachPreferences(
            [.. Enumerable.Repeat(new ReachRule(K.Email, When: []), ReachPreferences.MaxRules + 1)],
            [RelationshipTier.Blocked]));

        Assert.Contains(errors, e => e.Contains("Blocked", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("rules[0].when", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains($"at most {ReachPreferences.MaxRules}", StringComparison.Ordinal));
    }
}
