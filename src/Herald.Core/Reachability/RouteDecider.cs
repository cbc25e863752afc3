using System.Globalization;
using Herald.Core.Model;
using Herald.Core.Privacy;

namespace Herald.Core.Reachability;

/// <summary>
/// Decides what a phone system does with a call to a person: ring, forward, voicemail or busy. Pure.
/// </summary>
/// <remarks>
/// <para>
/// The decision follows the person as the caller may see them (the same <see cref="DisclosurePolicy"/> view as the
/// reach plan): Available → ring the preferred phone; Busy, or DoNotDisturb while visibly in a call, meeting or presenting → busy; plain DoNotDisturb → voicemail with an announcement;
/// Away / BeRightBack / Offline → voicemail; off work, outside work hours or on a day off → voicemail
/// ("… is off work"). An asker the person appears offline to gets exactly what a really offline person gives.
/// </para>
/// <para>
/// Announcements and reasons state only what the caller may see: the activity ("in a call", "presenting") only when
/// activity is disclosed, "until HH:mm" (in the person's time zone) only when availability is disclosed and the end
/// is known. A blocked or unsubscribed caller always gets voicemail with "{Name} cannot take your call". When
/// availability is hidden from the caller, the phone still rings while the person is really available (as a plain
/// phone line would) and otherwise goes to voicemail with the same neutral announcement — never a busy signal.
/// </para>
/// <para>
/// Urgent calls from a tier allowed to break through (the person's <see cref="ReachPreferences.BreakThroughTiers"/>
/// ∩ the organization's allowance) turn any outcome but ring into a forward to the first phone among the person's
/// break-through options (by default the mobile). The number is used by the phone system only: it is the
/// <see cref="RouteDecision.Target"/>, need not be disclosed to the caller, and is never announced. Without that
/// permission urgency changes nothing: DoNotDisturb stays busy, exactly as for a normal call, so the caller learns
/// nothing about who may break through.
/// </para>
/// </remarks>
public static class RouteDecider
{
    /// <summary>The routing decision for a call from the asker described by <paramref name="input"/>.</summary>
    public static RouteDecision Decide(ReachInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var name = input.Profile?.DisplayName ?? throw new ArgumentException("profile is required", nameof(input));
        var evaluation = ReachPlanner.Evaluate(input);
        if (evaluation is null)
        {
            return Neutral(name, "nothing about this person is disclosed to the caller");
        }
        var decision = Base(input, evaluation, name);
        if (decision.Action == RouteAction.Ring || !input.MayBreakThrough)
        {
            return decision;
        }
        var breakThrough = evaluation.Candidates.FirstOrDefault(c => c.Rule.BreakThrough && ReachWording.IsPhone(c.Contact.Kind));
        return breakThrough is null
            ? decision
            : new RouteDecision(RouteAction.Forward, breakThrough.Contact.Address, $"Connecting your urgent call to {name}",
                $"urgent call from {input.Tier}, allowed to break through: forwarded to {ReachWording.Method(breakThrough.Contact.Kind)}");
    }

    private static RouteDecision Base(ReachInput input, ReachPlanner.Evaluation evaluation, string name)
    {
        var view = evaluation.View;
        var seen = view.Availability;
        if (ReachPlanner.IsProtected(input.Key.Context) || seen == Availability.OffWork)
        {
            return new RouteDecision(RouteAction.Voicemail, null, $"{name} is off work", "Off work — voicemail");
        }
        switch (seen)
        {
            case Availability.Available:
                var phone = PreferredPhone(input, evaluation);
                return new RouteDecision(RouteAction.Ring, phone?.Address, $"Calling {name}",
                    $"Available — ringing {(phone is null ? "the dialled number" : ReachWording.Method(phone.Kind))}");
            case Availability.Busy or Availability.DoNotDisturb:
                var until = ReachPlanner.AvailableAgainAt(input, view);
                var announcement = $"{name} {Doing(seen, view.Activity)}{(until is { } u ? " until " + Clock(u, input) : "")}";
                // Engaged right now (a call, a meeting, presenting): a busy answer. Plain Do not disturb or focus
                // time: the call goes to voicemail rather than signalling busy.
                // Judged on what the caller may see, so the choice itself reveals nothing more.
                var engaged = seen == Availability.Busy || view.Activity is Activity.InACall or Activity.InAConferenceCall
                    or Activity.InAMeeting or Activity.Presenting;
                return engaged
                    ? new RouteDecision(RouteAction.Busy, null, announcement, $"{ReachWording.State(seen)} — busy signal")
                    : new RouteDecision(RouteAction.Voicemail, null, announcement, $"{ReachWording.State(seen)} — voicemail");
            case Availability.Away:
                return new RouteDecision(RouteAction.Voicemail, null, $"{name} is away", "Away — voicemail");
            case Availability.BeRightBack:
                return new RouteDecision(RouteAction.Voicemail, null, $"{name} will be right back", "Be right back — voicemail");
            case Availability.Offline:
                return new RouteDecision(RouteAction.Voicemail, null, $"{name} is not available", "Offline — voicemail");
            default:
                // Availability hidden from this caller: ring only what a plain line would ring, state nothing.
                var really = input.Key.Mode == ViewMode.Normal && input.Presence.Availability == Availability.Available;
                if (really)
                {
                    var target = PreferredPhone(input, evaluation);
                    return new RouteDecision(RouteAction.Ring, target?.Address, $"Calling {name}",
                        "ringing (availability not disclosed to the caller)");
                }
                return Neutral(name, "availability not disclosed to the caller");
        }
    }

    private static RouteDecision Neutral(string name, string reason) =>
        new(RouteAction.Voicemail, null, $"{name} cannot take your call", reason);

    /// <summary>The person's preferred ringing phone: the first work phone or SIP option of their rules, else of their profile.</summary>
    private static ContactMethod? PreferredPhone(ReachInput input, ReachPlanner.Evaluation evaluation) =>
        evaluation.Candidates.Select(c => c.Contact).FirstOrDefault(IsDeskPhone)
        ?? input.Profile.ContactMethods.FirstOrDefault(c => c.Kind == ContactKind.WorkPhone)
        ?? input.Profile.ContactMethods.FirstOrDefault(c => c.Kind == ContactKind.Sip);

    private static bool IsDeskPhone(ContactMethod c) => c.Kind is ContactKind.WorkPhone or ContactKind.Sip;

    private static string Doing(Availability seen, Activity? activity) => activity switch
    {
        Activity.InACall or Activity.InAConferenceCall => "is in a call",
        Activity.InAMeeting => "is in a meeting",
        Activity.Presenting => "is presenting",
        Activity.Focusing => "is focusing",
        _ => seen == Availability.DoNotDisturb ? "does not want to be disturbed" : "is busy",
    };

    /// <summary>"15:00" on the same local day, else "Thu 09:00", in the person's time zone.</summary>
    private static string Clock(DateTimeOffset instant, ReachInput input)
    {
        var zone = TimeZones.Find(input.Profile.TimeZone);
        var local = TimeZoneInfo.ConvertTime(instant, zone);
        var today = TimeZoneInfo.ConvertTime(input.Now, zone);
        return local.ToString(local.Date == today.Date ? "HH:mm" : "ddd HH:mm", CultureInfo.InvariantCulture);
    }
}
