using Herald.Core.Model;
using Herald.Core.Presence;
using Herald.Core.Privacy;
using Herald.Core.Reachability;
using static Herald.Core.Tests.Presence.SourceBuilder;
using static Herald.Core.Tests.Reachability.ReachFixtures;
using F = Herald.Core.Privacy.DisclosureField;

namespace Herald.Core.Tests.Reachability;

/// <summary>Ring / forward / voicemail / busy decisions of <see cref="RouteDecider"/>, and what they may say.</summary>
public sealed class RouteDeciderTests
{
    private static readonly DateTimeOffset Three = new(2025, 1, 15, 15, 0, 0, TimeSpan.Zero);

    /// <summary>Anna lets Team break through with the issue's example rules.</summary>
    private static readonly ReachPreferences TeamBreaksThrough = IssueExample;

    private static AggregatedPresence DoNotDisturb() => Chosen(Availability.DoNotDisturb, Now.AddHours(2));

    private static void AssertRevealsNothing(RouteDecision decision)
    {
        Assert.Equal(RouteAction.Voicemail, decision.Action);
        Assert.Null(decision.Target);
        Assert.Equal("Anna cannot take your call", decision.Announcement);
    }

    [Fact]
    public void Available_rings_the_work_phone()
    {
        var decision = RouteDecider.Decide(Ask(AvailableAtDesk(), RelationshipTier.Colleague));

        Assert.Equal(RouteAction.Ring, decision.Action);
        Assert.Equal(WorkPhone.Address, decision.Target);
    }

    [Fact]
    public void Available_rings_the_sip_phone_when_there_is_no_work_phone()
    {
        var decision = RouteDecider.Decide(Ask(AvailableAtDesk(), RelationshipTier.Colleague, profile: Anna([Email, Sip, Mobile])));

        Assert.Equal(RouteAction.Ring, decision.Action);
        Assert.Equal(Sip.Address, decision.Target);
    }

    [Fact]
    public void Available_rings_the_phone_her_rules_prefer()
    {
        var prefs = Rules(new ReachRule(ContactKind.Sip), new ReachRule(ContactKind.WorkPhone));

        var decision = RouteDecider.Decide(Ask(AvailableAtDesk(), RelationshipTier.Colleague, prefs));

        Assert.Equal(Sip.Address, decision.Target);
    }

    [Fact]
    public void In_a_call_is_busy_with_the_end_of_the_call()
    {
        var decision = RouteDecider.Decide(Ask(InACallUntil(Now.AddMinutes(30)), RelationshipTier.Colleague));

        Assert.Equal(RouteAction.Busy, decision.Action);
        Assert.Null(decision.Target);
        Assert.Equal("Anna is in a call until 10:30", decision.Announcement);
    }

    [Fact]
    public void In_a_call_with_activity_hidden_is_just_busy()
    {
        var decision = RouteDecider.Decide(Ask(InACallUntil(Now.AddMinutes(30)), RelationshipTier.Colleague,
            privacy: Hiding(RelationshipTier.Colleague, F.Activity)));

        Assert.Equal(RouteAction.Busy, decision.Action);
        Assert.Equal("Anna is busy until 10:30", decision.Announcement);
    }

    [Fact]
    public void Busy_without_a_known_end_says_only_busy()
    {
        var decision = RouteDecider.Decide(Ask(BusyOnDevice(), RelationshipTier.Colleague));

        Assert.Equal(RouteAction.Busy, decision.Action);
        Assert.Equal("Anna is busy", decision.Announcement);
    }

    [Fact]
    public void Presenting_is_busy_until_three()
    {
        var decision = RouteDecider.Decide(Ask(PresentingUntil(Three), RelationshipTier.Colleague));

        Assert.Equal(RouteAction.Busy, decision.Action);
        Assert.Equal("Anna is presenting until 15:00", decision.Announcement);
    }

    [Fact]
    public void The_time_is_told_in_her_time_zone_and_with_the_day_when_it_is_not_today()
    {
        var profile = Anna() with { TimeZone = "Europe/Berlin" };
        var tomorrow = new DateTimeOffset(2025, 1, 16, 8, 0, 0, TimeSpan.Zero);

        var today = RouteDecider.Decide(Ask(PresentingUntil(Three), RelationshipTier.Colleague, profile: profile));
        var later = RouteDecider.Decide(Ask(Chosen(Availability.DoNotDisturb, tomorrow), RelationshipTier.Colleague, profile: profile));

        Assert.Equal("Anna is presenting until 16:00", today.Announcement);
        Assert.Equal("Anna does not want to be disturbed until Thu 09:00", later.Announcement);
    }

    [Fact]
    public void Do_not_disturb_urgent_from_team_with_break_through_forwards_to_the_mobile()
    {
        var decision = RouteDecider.Decide(Ask(DoNotDisturb(), RelationshipTier.Team, TeamBreaksThrough, Urgency.Urgent));

        Assert.Equal(RouteAction.Forward, decision.Action);
        Assert.Equal(Mobile.Address, decision.Target);
        Assert.Equal("Connecting your urgent call to Anna", decision.Announcement);
    }

    [Fact]
    public void Forwarding_needs_no_disclosure_of_the_number_and_never_announces_it()
    {
        // Team does not see the mobile by default: the phone system gets it, the caller does not.
        var input = Ask(DoNotDisturb(), RelationshipTier.Team, TeamBreaksThrough, Urgency.Urgent);

        var decision = RouteDecider.Decide(input);

        Assert.Equal(0, input.Key.Levels[F.Mobile]);
        Assert.Equal(Mobile.Address, decision.Target);
        Assert.DoesNotContain(Mobile.Address, decision.Announcement, StringComparison.Ordinal);
        Assert.DoesNotContain(Mobile.Address, decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Do_not_disturb_urgent_from_team_without_break_through_goes_to_voicemail_as_for_a_normal_call()
    {
        var prefs = TeamBreaksThrough with { BreakThroughTiers = [] };

        var urgent = RouteDecider.Decide(Ask(DoNotDisturb(), RelationshipTier.Team, prefs, Urgency.Urgent));
        var normal = RouteDecider.Decide(Ask(DoNotDisturb(), RelationshipTier.Team, prefs));

        Assert.Equal(RouteAction.Voicemail, urgent.Action);
        Assert.Equal(normal, urgent);
    }

    [Fact]
    public void Do_not_disturb_urgent_from_team_goes_to_voicemail_when_the_organization_forbids_break_through()
    {
        var decision = RouteDecider.Decide(Ask(DoNotDisturb(), RelationshipTier.Team, TeamBreaksThrough, Urgency.Urgent,
            organization: [RelationshipTier.Trusted]));

        Assert.Equal(RouteAction.Voicemail, decision.Action);
    }

    [Fact]
    public void Do_not_disturb_normal_call_from_team_goes_to_voicemail_even_with_break_through()
    {
        var decision = RouteDecider.Decide(Ask(DoNotDisturb(), RelationshipTier.Team, TeamBreaksThrough));

        Assert.Equal(RouteAction.Voicemail, decision.Action);
        Assert.Equal("Anna does not want to be disturbed until 12:00", decision.Announcement);
    }

    [Fact]
    public void Break_through_without_a_phone_among_the_options_does_not_forward()
    {
        var prefs = new ReachPreferences([new ReachRule(ContactKind.Chat, BreakThrough: true)], [RelationshipTier.Team]);

        var decision = RouteDecider.Decide(Ask(DoNotDisturb(), RelationshipTier.Team, prefs, Urgency.Urgent));

        Assert.Equal(RouteAction.Voicemail, decision.Action);
    }

    [Fact]
    public void Urgent_does_not_forward_a_call_that_would_ring()
    {
        var decision = RouteDecider.Decide(Ask(AvailableAtDesk(), RelationshipTier.Trusted, urgency: Urgency.Urgent));

        Assert.Equal(RouteAction.Ring, decision.Action);
        Assert.Equal(WorkPhone.Address, decision.Target);
    }

    [Fact]
    public void Off_work_goes_to_voicemail()
    {
        var decision = RouteDecider.Decide(Ask(OffWorkInTheEvening(), RelationshipTier.Team, now: Evening));

        Assert.Equal(RouteAction.Voicemail, decision.Action);
        Assert.Null(decision.Target);
        Assert.Equal("Anna is off work", decision.Announcement);
    }

    [Theory]
    [InlineData(RelationshipTier.Trusted)]
    [InlineData(RelationshipTier.Colleague)]
    public void Working_late_still_goes_to_voicemail_outside_work_hours(RelationshipTier tier)
    {
        var decision = RouteDecider.Decide(Ask(WorkingLate(), tier, now: Evening));

        Assert.Equal(RouteAction.Voicemail, decision.Action);
        Assert.Equal("Anna is off work", decision.Announcement);
    }

    [Fact]
    public void A_day_off_goes_to_voicemail()
    {
        var decision = RouteDecider.Decide(Ask(OnVacation(), RelationshipTier.Colleague));

        Assert.Equal(RouteAction.Voicemail, decision.Action);
        Assert.Equal("Anna is off work", decision.Announcement);
    }

    [Fact]
    public void Off_work_urgent_from_trusted_forwards_to_the_mobile_by_default()
    {
        var decision = RouteDecider.Decide(Ask(OffWorkInTheEvening(), RelationshipTier.Trusted, urgency: Urgency.Urgent, now: Evening));

        Assert.Equal(RouteAction.Forward, decision.Action);
        Assert.Equal(Mobile.Address, decision.Target);
    }

    [Theory]
    [InlineData(Availability.Away, "Anna is away")]
    [InlineData(Availability.BeRightBack, "Anna will be right back")]
    public void Away_goes_to_voicemail(Availability availability, string announcement)
    {
        var decision = RouteDecider.Decide(Ask(Chosen(availability, Now.AddMinutes(20)), RelationshipTier.Colleague));

        Assert.Equal(RouteAction.Voicemail, decision.Action);
        Assert.Equal(announcement, decision.Announcement);
    }

    [Theory]
    [InlineData(RelationshipTier.Trusted, Urgency.Normal)]
    [InlineData(RelationshipTier.Trusted, Urgency.Urgent)]
    [InlineData(RelationshipTier.Team, Urgency.Normal)]
    [InlineData(RelationshipTier.Team, Urgency.Urgent)]
    [InlineData(RelationshipTier.Colleague, Urgency.Normal)]
    [InlineData(RelationshipTier.External, Urgency.Normal)]
    public void Appear_offline_routes_exactly_like_really_offline(RelationshipTier tier, Urgency urgency)
    {
        var pretending = RouteDecider.Decide(Ask(AppearingOffline(), tier, TeamBreaksThrough, urgency));
        var really = RouteDecider.Decide(Ask(ReallyOffline(), tier, TeamBreaksThrough, urgency));

        Assert.Equal(really, pretending);
        Assert.NotEqual(RouteAction.Ring, pretending.Action);
    }

    [Fact]
    public void Offline_goes_to_voicemail()
    {
        var decision = RouteDecider.Decide(Ask(ReallyOffline(), RelationshipTier.Colleague));

        Assert.Equal(RouteAction.Voicemail, decision.Action);
        Assert.Equal("Anna is not available", decision.Announcement);
    }

    [Theory]
    [InlineData(Urgency.Normal)]
    [InlineData(Urgency.Urgent)]
    public void A_blocked_caller_gets_a_neutral_voicemail_whatever_her_state(Urgency urgency)
    {
        var prefs = TeamBreaksThrough with { BreakThroughTiers = Enum.GetValues<RelationshipTier>() };
        var states = new[] { AvailableAtDesk(), InACallUntil(Now.AddMinutes(30)), PresentingUntil(Three), DoNotDisturb(), ReallyOffline() };

        foreach (var state in states)
        {
            var decision = RouteDecider.Decide(Ask(state, RelationshipTier.Blocked, prefs, urgency));

            AssertRevealsNothing(decision);
        }
    }

    [Fact]
    public void A_caller_without_a_subscription_gets_a_neutral_voicemail()
    {
        var decision = RouteDecider.Decide(Ask(PresentingUntil(Three), RelationshipTier.External, subscription: SubscriptionStatus.Pending));

        AssertRevealsNothing(decision);
    }

    [Fact]
    public void A_caller_who_may_not_see_availability_gets_no_busy_signal_and_no_state()
    {
        var privacy = Hiding(RelationshipTier.Colleague, F.Availability);

        var presenting = RouteDecider.Decide(Ask(PresentingUntil(Three), RelationshipTier.Colleague, privacy: privacy));
        var available = RouteDecider.Decide(Ask(AvailableAtDesk(), RelationshipTier.Colleague, privacy: privacy));

        AssertRevealsNothing(presenting);
        Assert.DoesNotContain("15:00", presenting.Reason, StringComparison.Ordinal);
        Assert.Equal(RouteAction.Ring, available.Action);
        Assert.Equal(WorkPhone.Address, available.Target);
    }
}
