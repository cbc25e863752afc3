using Herald.Core.Model;
using Herald.Core.Presence;
using Herald.Core.Privacy;
using Herald.Core.Reachability;
using static Herald.Core.Tests.Presence.SourceBuilder;

namespace Herald.Core.Tests.Reachability;

/// <summary>Anna, her addresses, her states at fixed instants, and askers whose keys come from <see cref="PolicyEngine"/>.</summary>
internal static class ReachFixtures
{
    /// <summary>Wednesday 15 January 2025, 20:00 UTC: outside Anna's work hours.</summary>
    public static readonly DateTimeOffset Evening = new(2025, 1, 15, 20, 0, 0, TimeSpan.Zero);

    public static readonly ContactMethod WorkPhone = new(ContactKind.WorkPhone, "+49 30 1234 100");
    public static readonly ContactMethod Mobile = new(ContactKind.Mobile, "+49 170 555 0101");
    public static readonly ContactMethod HomePhone = new(ContactKind.HomePhone, "+49 30 555 0202");
    public static readonly ContactMethod Email = new(ContactKind.Email, "anna@example.org");
    public static readonly ContactMethod Chat = new(ContactKind.Chat, "anna@chat.example.org");
    public static readonly ContactMethod Video = new(ContactKind.Video, "https://meet.example.org/anna");
    public static readonly ContactMethod Sip = new(ContactKind.Sip, "sip:anna@example.org");

    public const string Asker = "bob";

    public static PersonProfile Anna(IReadOnlyList<ContactMethod>? contacts = null) =>
        new("anna", "Anna", "anna@example.org", "platform", null, "UTC", WorkHours.Default,
            contacts ?? [WorkPhone, Mobile, HomePhone, Email, Chat, Video, Sip]);

    /// <summary>Mon–Fri 09:00–17:00 UTC.</summary>
    public static AggregationSettings WithSchedule => AggregationSettings.Default with { WorkHours = WorkHours.Default };

    public static AggregatedPresence Aggregate(PresenceSources sources, DateTimeOffset? at = null) =>
        PresenceAggregator.Aggregate(sources, WithSchedule, at ?? Now);

    // ---- Anna's states (work hours unless said otherwise) ------------------------------------------------------

    public static AggregatedPresence AvailableAtDesk() => Aggregate(Sources(devices: [Device("desk")]));

    public static AggregatedPresence OnMobileOnly(Availability availability = Availability.Available) =>
        Aggregate(Sources(devices: [Device("phone", availability, kind: DeviceKind.Mobile)]));

    public static AggregatedPresence InACallUntil(DateTimeOffset until) => Aggregate(Sources(
        devices: [Device("desk")],
        leases: [Lease("pbx", Activity.InACall, Now.AddMinutes(-3), until, "Office PBX")]));

    public static AggregatedPresence PresentingUntil(DateTimeOffset until) => Aggregate(Sources(
        devices: [Device("desk")],
        leases: [Lease("conf", Activity.Presenting, Now.AddMinutes(-10), until, "Conferencing")]));

    public static AggregatedPresence Chosen(Availability availability, DateTimeOffset until, DeviceKind device = DeviceKind.Desktop) =>
        Aggregate(Sources(preferred: Preferred(availability, until: until), devices: [Device("d", kind: device)]));

    /// <summary>Busy reported by a device: no known end.</summary>
    public static AggregatedPresence BusyOnDevice() => Aggregate(Sources(devices: [Device("desk", Availability.Busy)]));

    public static AggregatedPresence ReallyOffline() => Aggregate(Sources(lastSeen: Now.AddHours(-1)));

    /// <summary>Appear offline, chosen until 18:00 while her desktop is live.</summary>
    public static AggregatedPresence AppearingOffline() => Aggregate(Sources(
        preferred: Preferred(Availability.Offline, setAt: Now.AddMinutes(-30), until: Now.AddHours(8)),
        devices: [Device("desk")]));

    /// <summary>20:00, nothing live: OffWork in off hours.</summary>
    public static AggregatedPresence OffWorkInTheEvening() => Aggregate(Sources(lastSeen: Evening.AddHours(-3)), Evening);

    /// <summary>20:00, at her desk anyway: Available, but the context is off hours.</summary>
    public static AggregatedPresence WorkingLate() => Aggregate(Sources(devices:
        [Device("desk", lastHeartbeat: Evening.AddSeconds(-10), stateSince: Evening.AddHours(-1))]), Evening);

    /// <summary>On vacation (a day off) during work hours.</summary>
    public static AggregatedPresence OnVacation() =>
        Aggregate(Sources(preferred: Preferred(null, Activity.OnVacation, until: Now.AddDays(3))));

    // ---- Askers -----------------------------------------------------------------------------------------------

    public static UserPrivacy ShowingTeam(params (DisclosureField Field, int Level)[] levels) =>
        UserPrivacy.Default with
        {
            Tiers = new Dictionary<RelationshipTier, TierRules> { [RelationshipTier.Team] = new(Any: DisclosureRule.Of(levels)) },
        };

    public static UserPrivacy Hiding(RelationshipTier tier, params DisclosureField[] fields) =>
        UserPrivacy.Default with
        {
            Tiers = new Dictionary<RelationshipTier, TierRules>
            {
                [tier] = new(Any: DisclosureRule.Of([.. fields.Select(f => (f, 0))])),
            },
        };

    public static Grant GrantToAsker(params (DisclosureField Field, int Level)[] levels) =>
        new("g-bob", Asker, DisclosureRule.Of(levels), Now.AddHours(-1), Now.AddHours(1), "test");

    /// <summary>The key <see cref="PolicyEngine.Decide"/> gives the asker for <paramref name="presence"/>.</summary>
    public static DisclosureKey KeyFor(
        AggregatedPresence presence,
        RelationshipTier tier,
        UserPrivacy? privacy = null,
        IReadOnlyList<Grant>? grants = null,
        SubscriptionStatus subscription = SubscriptionStatus.Approved,
        DateTimeOffset? now = null) =>
        PolicyEngine.Decide(new PolicyInput(OrgPolicy.Default, privacy ?? UserPrivacy.Default, tier, Asker, false, subscription,
            PolicyEngine.ContextOf(presence), presence.AppearOffline, grants ?? [], now ?? Now)).Key;

    public static ReachInput Ask(
        AggregatedPresence presence,
        RelationshipTier tier,
        ReachPreferences? preferences = null,
        Urgency urgency = Urgency.Normal,
        UserPrivacy? privacy = null,
        IReadOnlyList<Grant>? grants = null,
        SubscriptionStatus subscription = SubscriptionStatus.Approved,
        IReadOnlyList<RelationshipTier>? organization = null,
        PersonProfile? profile = null,
        DateTimeOffset? now = null) =>
        new(profile ?? Anna(), presence, preferences ?? ReachPreferences.Default, tier,
            KeyFor(presence, tier, privacy, grants, subscription, now), organization ?? ReachInput.AnyTierMayBreakThrough,
            urgency, now ?? Now);

    /// <summary>
    /// The issue's example: "Available → work phone; on mobile only → chat; DoNotDisturb → e-mail only;
    /// urgent and Team → mobile even in DoNotDisturb".
    /// </summary>
    public static ReachPreferences IssueExample { get; } = new(
    [
        new ReachRule(ContactKind.WorkPhone, When: [Availability.Available]),
        new ReachRule(ContactKind.Chat, DeviceKinds: [DeviceKind.Mobile]),
        new ReachRule(ContactKind.Email, When: [Availability.DoNotDisturb]),
        new ReachRule(ContactKind.Mobile, Tiers: [RelationshipTier.Team], MinUrgency: Urgency.Urgent, BreakThrough: true),
    ], [RelationshipTier.Team]);

    public static ReachPreferences Rules(params ReachRule[] rules) => new(rules, [RelationshipTier.Trusted]);

    public static ContactKind[] Methods(ReachPlan plan) => [.. plan.Options.Select(o => o.Method)];
}
