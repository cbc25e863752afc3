using Herald.Core.Model;
using Herald.Core.Privacy;

namespace Herald.Core.Reachability;

/// <summary>
/// Answers "how can this asker reach this person now?": evaluates the person's rules (or the defaults) on the person
/// as the asker may see them, then keeps only the contact methods the asker may see. Pure.
/// </summary>
/// <remarks>
/// Every answer is a disclosure and goes through <see cref="DisclosurePolicy.Disclose(PresentityState, DisclosureKey)"/>:
/// a blocked or unsubscribed asker gets nothing; an asker the person appears offline to gets exactly the plan of a
/// really offline person; reasons and <see cref="ReachPlan.AvailableAgainAt"/> state only what the view shows.
/// </remarks>
public static class ReachPlanner
{
    /// <summary>The ordered options and the end of the current state, for the asker described by <paramref name="input"/>.</summary>
    public static ReachPlan Plan(ReachInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var evaluation = Evaluate(input);
        if (evaluation is null)
        {
            return ReachPlan.Empty;
        }
        var visible = evaluation.View.ContactMethods ?? [];
        var shown = evaluation.Candidates.Where(c => visible.Contains(c.Contact)).ToList();
        var options = new List<ReachOption>(shown.Count);
        for (var i = 0; i < shown.Count; i++)
        {
            options.Add(new ReachOption(shown[i].Contact.Kind, shown[i].Contact.Address, ReasonFor(shown[i], evaluation, input, i == 0)));
        }
        return new ReachPlan(options, AvailableAgainAt(input, evaluation.View));
    }

    /// <summary>
    /// The rules' outcome before contact methods are filtered (the phone system may use a number the caller may not
    /// see); null when the asker may see nothing at all.
    /// </summary>
    internal static Evaluation? Evaluate(ReachInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(input.Profile);
        ArgumentNullException.ThrowIfNull(input.Presence);
        ArgumentNullException.ThrowIfNull(input.Preferences);
        ArgumentNullException.ThrowIfNull(input.OrganizationBreakThroughTiers);
        var key = input.Key;
        if (!key.IsSelf && key.Mode is ViewMode.Nothing or ViewMode.Blocked)
        {
            return null;
        }
        var view = DisclosurePolicy.Disclose(new PresentityState(input.Profile, input.Presence, 0), key);
        var seen = view.Availability;
        var context = key.Context;
        var isProtected = IsProtected(seen) || IsProtected(context);
        var mayBreakThrough = input.MayBreakThrough;

        var candidates = new List<Candidate>();
        foreach (var rule in input.Preferences.EffectiveRules)
        {
            if (rule is null || !ConditionsHold(rule, input, view, context))
            {
                continue;
            }
            if (rule.BreakThrough ? !mayBreakThrough : isProtected && !NamesSituation(rule, seen, context))
            {
                continue;
            }
            if (candidates.Any(c => c.Contact.Kind == rule.Method)
                || input.Profile.ContactMethods.FirstOrDefault(c => c.Kind == rule.Method) is not { } contact)
            {
                continue;
            }
            candidates.Add(new Candidate(contact, rule, rule.BreakThrough && isProtected));
        }
        // Break-through options are the point of an urgent request in a protected situation: they come first.
        var ordered = candidates.Where(c => c.BrokeThrough).Concat(candidates.Where(c => !c.BrokeThrough)).ToList();
        return new Evaluation(view, ordered, isProtected);
    }

    /// <summary>Busy, DoNotDisturb and OffWork: only rules that name them (or break through) apply.</summary>
    internal static bool IsProtected(Availability seen) =>
        seen is Availability.Busy or Availability.DoNotDisturb or Availability.OffWork;

    /// <summary>Off hours and days off: only rules that name them (or break through) apply.</summary>
    internal static bool IsProtected(PrivacyContext context) => context is PrivacyContext.OffHours or PrivacyContext.DayOff;

    private static bool ConditionsHold(ReachRule rule, ReachInput input, PresenceView view, PrivacyContext context)
    {
        if (rule.When is { } when && !when.Contains(view.Availability))
        {
            return false;
        }
        if (rule.Contexts is { } contexts && !contexts.Contains(context))
        {
            return false;
        }
        if (rule.Tiers is { } tiers && !tiers.Contains(input.Tier))
        {
            return false;
        }
        if (rule.MinUrgency == Urgency.Urgent && input.Urgency != Urgency.Urgent)
        {
            return false;
        }
        if (rule.DeviceKinds is { } kinds)
        {
            // Devices the asker may not see never satisfy the condition.
            var active = view.Devices?.Where(d => !d.Idle).ToList() ?? [];
            if (active.Count == 0 || !active.All(d => kinds.Contains(d.Kind)))
            {
                return false;
            }
        }
        return true;
    }

    private static bool NamesSituation(ReachRule rule, Availability seen, PrivacyContext context) =>
        (IsProtected(seen) && rule.When?.Contains(seen) == true)
        || (IsProtected(context) && rule.Contexts?.Contains(context) == true);

    /// <summary>The end of the Busy / DoNotDisturb / Away / BRB state the asker sees, when known; null otherwise.</summary>
    internal static DateTimeOffset? AvailableAgainAt(ReachInput input, PresenceView view)
    {
        // The view shows Busy/DoNotDisturb/Away/BRB only to an asker who may see availability, and never while the
        // person appears offline; a schedule's end of off work is not an "available again".
        if (view.Availability is not (Availability.Busy or Availability.DoNotDisturb or Availability.Away or Availability.BeRightBack))
        {
            return null;
        }
        return input.Presence.Provenance?.Until is { } until && until > input.Now ? until : null;
    }

    private static string ReasonFor(Candidate candidate, Evaluation evaluation, ReachInput input, bool first)
    {
        var rule = candidate.Rule;
        if (!string.IsNullOrWhiteSpace(rule.Reason))
        {
            return rule.Reason;
        }
        var method = ReachWording.Method(candidate.Contact.Kind);
        if (rule.BreakThrough)
        {
            var verb = ReachWording.IsPhone(candidate.Contact.Kind) ? "call" : "use";
            var situation = evaluation.IsProtected ? ReachWording.Situation(evaluation.View.Availability) : null;
            return $"urgent: {input.Tier} may {verb} {input.Profile.DisplayName}'s {method}{(situation is null ? "" : " " + situation)}";
        }
        var lead = ReachWording.State(evaluation.View.Availability);
        if (rule.DeviceKinds is { } kinds)
        {
            var only = $"on {string.Join(" or ", kinds.Select(ReachWording.Device))} only";
            lead = lead is null ? only : $"{lead}, {only}";
        }
        var tail = first ? $"{method} preferred" : $"{method} also possible";
        return lead is null ? char.ToUpperInvariant(tail[0]) + tail[1..] : $"{lead} — {tail}";
    }

    /// <summary>One option before disclosure filtering.</summary>
    /// <param name="Contact">The person's address for the rule's method.</param>
    /// <param name="Rule">The rule that produced it.</param>
    /// <param name="BrokeThrough">True when a break-through rule pierced a protected situation.</param>
    internal sealed record Candidate(ContactMethod Contact, ReachRule Rule, bool BrokeThrough);

    /// <summary>The rules' outcome for one asker.</summary>
    /// <param name="View">The person as the asker may see them.</param>
    /// <param name="Candidates">The options in order, not yet filtered by contact disclosure.</param>
    /// <param name="IsProtected">True in Busy / DoNotDisturb / OffWork / off hours / day off, as the asker sees it.</param>
    internal sealed record Evaluation(PresenceView View, IReadOnlyList<Candidate> Candidates, bool IsProtected);
}

/// <summary>Short human wording shared by the planner and the route decider.</summary>
internal static class ReachWording
{
    public static string Method(ContactKind kind) => kind switch
    {
        ContactKind.WorkPhone => "work phone",
        ContactKind.Mobile => "mobile",
        ContactKind.HomePhone => "home phone",
        ContactKind.Email => "e-mail",
        ContactKind.Chat => "chat",
        ContactKind.Video => "video",
        ContactKind.Sip => "SIP phone",
        _ => "other contact",
    };

    public static bool IsPhone(ContactKind kind) =>
        kind is ContactKind.WorkPhone or ContactKind.Mobile or ContactKind.HomePhone or ContactKind.Sip;

    /// <summary>The state as a label, or null when it is not disclosed.</summary>
    public static string? State(Availability availability) => availability switch
    {
        Availability.Available => "Available",
        Availability.Busy => "Busy",
        Availability.DoNotDisturb => "Do not disturb",
        Availability.Away => "Away",
        Availability.BeRightBack => "Be right back",
        Availability.OffWork => "Off work",
        Availability.Offline => "Offline",
        _ => null,
    };

    /// <summary>"in Do not disturb", "while busy", "while off work"; null when nothing is disclosed.</summary>
    public static string? Situation(Availability availability) => availability switch
    {
        Availability.DoNotDisturb => "in Do not disturb",
        Availability.Busy => "while busy",
        Availability.OffWork => "while off work",
        Availability.Unknown => null,
        _ => "outside work hours",
    };

    public static string Device(DeviceKind kind) => kind switch
    {
        DeviceKind.DeskPhone => "desk phone",
        DeviceKind.RoomSystem => "room system",
        _ => kind.ToString().ToLowerInvariant(),
    };
}
