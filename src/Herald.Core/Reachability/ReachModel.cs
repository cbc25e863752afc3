using System.Text.Json.Serialization;
using Herald.Core.Model;
using Herald.Core.Presence;
using Herald.Core.Privacy;

namespace Herald.Core.Reachability;

/// <summary>How urgent a contact attempt is.</summary>
public enum Urgency
{
    /// <summary>An ordinary request.</summary>
    Normal = 0,
    /// <summary>Urgent: may break through DoNotDisturb, Busy and off work for tiers the person allows.</summary>
    Urgent = 1,
}

/// <summary>
/// One of a person's preferred-contact rules: "offer <see cref="Method"/> when every condition holds".
/// A condition left null does not restrict; a list condition holds when it contains the current value.
/// </summary>
/// <remarks>
/// <para>
/// <b>Protected situations.</b> While the person is <c>Busy</c>, <c>DoNotDisturb</c> or <c>OffWork</c>, or outside
/// work hours or on a day off, an ordinary rule applies only when it names that situation explicitly: the current
/// availability in <see cref="When"/> or the current context in <see cref="Contexts"/>. So "Available → work phone"
/// and "on mobile only → chat" never apply in DoNotDisturb, and "DoNotDisturb → e-mail" is "e-mail only".
/// </para>
/// <para>
/// <b>Break-through rules</b> (<see cref="BreakThrough"/>) ignore that protection, but apply only to urgent requests
/// from a tier the person lists in <see cref="ReachPreferences.BreakThroughTiers"/> <i>and</i> the organization
/// allows; in a protected situation their options come first.
/// </para>
/// <para>
/// Availability and device conditions are evaluated on the person as the asker may see them (the
/// <see cref="PresenceView"/> of <see cref="DisclosurePolicy"/>): a hidden availability is <c>Unknown</c> (or
/// <c>OffWork</c> outside work hours), hidden devices never satisfy a device condition. A rule therefore never
/// reveals through its options a field the asker may not see.
/// </para>
/// </remarks>
/// <param name="Method">The contact method this rule offers (the person's first address of that kind).</param>
/// <param name="When">The availability states in which the rule applies; null for any unprotected state.</param>
/// <param name="Contexts">The contexts (work hours, off hours, day off) in which it applies; null for work hours.</param>
/// <param name="Tiers">The askers' tiers it applies to; null for every tier.</param>
/// <param name="MinUrgency"><see cref="Urgency.Urgent"/> for urgent-only rules; null or Normal for any request.</param>
/// <param name="DeviceKinds">
/// A condition on the person's live devices: every active (not idle) device is of one of these kinds, and there is at
/// least one. <c>[Mobile]</c> means "on mobile only".
/// </param>
/// <param name="BreakThrough">True for a break-through rule (see remarks).</param>
/// <param name="Reason">The person's own reason text, shown instead of the generated one.</param>
[GenerateSerializer, Immutable, Alias("herald.ReachRule")]
public sealed record ReachRule(
    [property: Id(0)] ContactKind Method,
    [property: Id(1)] IReadOnlyList<Availability>? When = null,
    [property: Id(2)] IReadOnlyList<PrivacyContext>? Contexts = null,
    [property: Id(3)] IReadOnlyList<RelationshipTier>? Tiers = null,
    [property: Id(4)] Urgency? MinUrgency = null,
    [property: Id(5)] IReadOnlyList<DeviceKind>? DeviceKinds = null,
    [property: Id(6)] bool BreakThrough = false,
    [property: Id(7)] string? Reason = null);

/// <summary>A person's reachability preferences: ordered rules and who may break through.</summary>
/// <param name="Rules">The person's rules in order; empty for <see cref="DefaultRules"/>.</param>
/// <param name="BreakThroughTiers">
/// The tiers whose urgent requests may break through DoNotDisturb, Busy and off work (still bounded by the
/// organization's allowance). Blocked is never honoured.
/// </param>
[GenerateSerializer, Immutable, Alias("herald.ReachPreferences")]
public sealed record ReachPreferences(
    [property: Id(0)] IReadOnlyList<ReachRule> Rules,
    [property: Id(1)] IReadOnlyList<RelationshipTier> BreakThroughTiers)
{
    /// <summary>The most rules a person may set.</summary>
    public const int MaxRules = 32;

    /// <summary>The most characters of a rule's own reason.</summary>
    public const int MaxReasonLength = 200;

    private static readonly Availability[] AnyAvailability = Enum.GetValues<Availability>();
    private static readonly PrivacyContext[] AnyContext = Enum.GetValues<PrivacyContext>();
    private static readonly Availability[] AtWork = [Availability.Available, Availability.Away, Availability.BeRightBack];
    private static readonly PrivacyContext[] WorkHoursOnly = [PrivacyContext.WorkHours];

    /// <summary>
    /// The rules of a person who has set none:
    /// urgent from a break-through tier → mobile first, in any state;
    /// Available / Away / BeRightBack in work hours → work phone, chat, video, e-mail;
    /// Busy in work hours → chat, e-mail; anything else (DoNotDisturb, OffWork, Offline, off hours, day off,
    /// availability not disclosed) → e-mail only.
    /// </summary>
    public static IReadOnlyList<ReachRule> DefaultRules { get; } =
    [
        new(ContactKind.Mobile, BreakThrough: true),
        new(ContactKind.WorkPhone, When: AtWork, Contexts: WorkHoursOnly),
        new(ContactKind.Chat, When: [.. AtWork, Availability.Busy], Contexts: WorkHoursOnly),
        new(ContactKind.Video, When: AtWork, Contexts: WorkHoursOnly),
        new(ContactKind.Email, When: AnyAvailability, Contexts: AnyContext),
    ];

    /// <summary>No rules of one's own (so <see cref="DefaultRules"/>); only Trusted may break through.</summary>
    public static ReachPreferences Default { get; } = new([], [RelationshipTier.Trusted]);

    /// <summary>The rules that apply: the person's own, else <see cref="DefaultRules"/>.</summary>
    [JsonIgnore]
    public IReadOnlyList<ReachRule> EffectiveRules => Rules.Count == 0 ? DefaultRules : Rules;

    /// <summary>Problems with <paramref name="preferences"/> as a person submitted them; empty when valid.</summary>
    public static IReadOnlyList<string> Validate(ReachPreferences preferences)
    {
        ArgumentNullException.ThrowIfNull(preferences);
        var errors = new List<string>();
        if (preferences.Rules is null || preferences.BreakThroughTiers is null)
        {
            errors.Add("rules and breakThroughTiers are required");
            return errors;
        }
        if (preferences.Rules.Count > MaxRules)
        {
            errors.Add($"at most {MaxRules} rules");
        }
        if (preferences.BreakThroughTiers.Contains(RelationshipTier.Blocked))
        {
            errors.Add("breakThroughTiers: Blocked may never break through");
        }
        if (preferences.BreakThroughTiers.Any(t => !Enum.IsDefined(t)))
        {
            errors.Add("breakThroughTiers: unknown tier");
        }
        for (var i = 0; i < preferences.Rules.Count; i++)
        {
            var r = preferences.Rules[i];
            if (r is null)
            {
                errors.Add($"rules[{i}]: missing");
                continue;
            }
            if (!Enum.IsDefined(r.Method))
            {
                errors.Add($"rules[{i}].method: unknown contact kind");
            }
            CheckList(errors, i, "when", r.When);
            CheckList(errors, i, "contexts", r.Contexts);
            CheckList(errors, i, "tiers", r.Tiers);
            CheckList(errors, i, "deviceKinds", r.DeviceKinds);
            if (r.MinUrgency is { } u && !Enum.IsDefined(u))
            {
                errors.Add($"rules[{i}].minUrgency: unknown urgency");
            }
            if (r.Reason is { Length: > MaxReasonLength })
            {
                errors.Add($"rules[{i}].reason: at most {MaxReasonLength} characters");
            }
        }
        return errors;
    }

    private static void CheckList<T>(List<string> errors, int index, string name, IReadOnlyList<T>? values) where T : struct, Enum
    {
        if (values is null)
        {
            return;
        }
        if (values.Count == 0)
        {
            errors.Add($"rules[{index}].{name}: empty list never matches; omit it to mean any");
        }
        else if (values.Any(v => !Enum.IsDefined(v)))
        {
            errors.Add($"rules[{index}].{name}: unknown value");
        }
    }
}

/// <summary>One way to reach a person, as the asker may see it.</summary>
/// <param name="Method">The kind of contact method.</param>
/// <param name="Address">The address (number, e-mail, chat id, link).</param>
/// <param name="Reason">Short human text saying why this option is offered; states nothing the asker may not see.</param>
[GenerateSerializer, Immutable, Alias("herald.ReachOption")]
public sealed record ReachOption(
    [property: Id(0)] ContactKind Method,
    [property: Id(1)] string Address,
    [property: Id(2)] string Reason);

/// <summary>The answer to "how can I reach this person now?".</summary>
/// <param name="Options">The options, best first.</param>
/// <param name="AvailableAgainAt">When the person's current Busy / DoNotDisturb / Away state ends, when known and disclosed.</param>
[GenerateSerializer, Immutable, Alias("herald.ReachPlan")]
public sealed record ReachPlan(
    [property: Id(0)] IReadOnlyList<ReachOption> Options,
    [property: Id(1)] DateTimeOffset? AvailableAgainAt)
{
    /// <summary>No options, nothing known.</summary>
    public static ReachPlan Empty { get; } = new([], null);
}

/// <summary>What a phone system should do with a call.</summary>
public enum RouteAction
{
    /// <summary>Ring the person's phone.</summary>
    Ring,
    /// <summary>Forward the call to <see cref="RouteDecision.Target"/>.</summary>
    Forward,
    /// <summary>Send the caller to voicemail.</summary>
    Voicemail,
    /// <summary>Reject with a busy signal and the announcement.</summary>
    Busy,
}

/// <summary>A call routing decision for a phone system.</summary>
/// <param name="Action">What to do.</param>
/// <param name="Target">
/// The number to ring or forward to, for the phone system only: it is never part of <see cref="Announcement"/>
/// and need not be disclosed to the caller.
/// </param>
/// <param name="Announcement">What the caller hears; states nothing the caller may not see.</param>
/// <param name="Reason">Short explanation for logs and integrators; states nothing the caller may not see.</param>
[GenerateSerializer, Immutable, Alias("herald.RouteDecision")]
public sealed record RouteDecision(
    [property: Id(0)] RouteAction Action,
    [property: Id(1)] string? Target,
    [property: Id(2)] string Announcement,
    [property: Id(3)] string Reason);

/// <summary>Everything the reach planner and the route decider need. The context is the one carried by <see cref="Key"/>.</summary>
/// <param name="Profile">The presentity's directory entry (display name, contact methods, time zone).</param>
/// <param name="Presence">
/// The presentity's full aggregated presence. While the person appears offline to some tiers only, pass the presence
/// without appear offline for an asker whose key is <see cref="ViewMode.Normal"/> (an exempt tier); an
/// <see cref="ViewMode.Offline"/> key renders offline whichever is passed. Passing the hidden presence to an exempt
/// asker errs on the safe side: they get the offline answer.
/// </param>
/// <param name="Preferences">The presentity's reachability preferences.</param>
/// <param name="Tier">The asker's tier for this presentity.</param>
/// <param name="Key">The asker's disclosure, from <see cref="PolicyEngine.Decide"/> in the presentity's current context.</param>
/// <param name="OrganizationBreakThroughTiers">The tiers the organization lets break through at most.</param>
/// <param name="Urgency">The urgency of the request.</param>
/// <param name="Now">The instant of the request.</param>
[GenerateSerializer, Immutable, Alias("herald.ReachInput")]
public sealed record ReachInput(
    [property: Id(0)] PersonProfile Profile,
    [property: Id(1)] AggregatedPresence Presence,
    [property: Id(2)] ReachPreferences Preferences,
    [property: Id(3)] RelationshipTier Tier,
    [property: Id(4)] DisclosureKey Key,
    [property: Id(5)] IReadOnlyList<RelationshipTier> OrganizationBreakThroughTiers,
    [property: Id(6)] Urgency Urgency,
    [property: Id(7)] DateTimeOffset Now)
{
    /// <summary>An organization allowance that leaves break-through entirely to each person (every tier but Blocked).</summary>
    public static IReadOnlyList<RelationshipTier> AnyTierMayBreakThrough { get; } =
        [RelationshipTier.Trusted, RelationshipTier.Team, RelationshipTier.Colleague, RelationshipTier.External];

    /// <summary>True when the asker's urgent request may break through: person's choice ∩ organization allowance.</summary>
    [JsonIgnore]
    public bool MayBreakThrough =>
        Urgency == Urgency.Urgent && Tier != RelationshipTier.Blocked
        && Preferences.BreakThroughTiers.Contains(Tier) && OrganizationBreakThroughTiers.Contains(Tier);
}
