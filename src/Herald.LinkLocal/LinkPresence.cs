using Herald.Core.Model;
using Herald.Core.Presence;
using Herald.Core.Privacy;

namespace Herald.LinkLocal;

/// <summary>The user's own status on the link, as they set it.</summary>
/// <param name="Availability">The chosen availability.</param>
/// <param name="Note">The status note, or null.</param>
/// <param name="Until">When the chosen availability (and its note) ends and the user is back to Available; null = open-ended.</param>
/// <param name="SetAt">When it was set.</param>
public sealed record LocalStatus(Availability Availability, string? Note, DateTimeOffset? Until, DateTimeOffset SetAt)
{
    /// <summary>Longest note accepted (characters); longer notes are cut.</summary>
    public const int MaxNoteLength = 200;

    /// <summary>The status in force at <paramref name="now"/>: after <see cref="Until"/> the user is Available with no note.</summary>
    public LocalStatus At(DateTimeOffset now) =>
        Until is { } u && u <= now ? new LocalStatus(Availability.Available, null, null, u) : this;
}

/// <summary>
/// What the link may learn: the user's status rendered by Herald.Core's one disclosure function for the unknown
/// audience of the link (the External tier, in work-hours context, no watcher id) under the user's own rules.
/// </summary>
public static class LinkDisclosure
{
    /// <summary>The tier everyone on the link is treated as: anyone can read mDNS TXT records or open a stream.</summary>
    public const RelationshipTier Audience = RelationshipTier.External;

    /// <summary>
    /// The user's rules for serverless mode: by default none (Herald's defaults: availability only);
    /// <paramref name="shareNote"/> adds a rule showing the note (and when the status ends) to the link audience.
    /// </summary>
    public static UserPrivacy Rules(bool shareNote) => !shareNote ? UserPrivacy.Default : UserPrivacy.Default with
    {
        Tiers = new Dictionary<RelationshipTier, TierRules>
        {
            [Audience] = new TierRules(Any: DisclosureRule.Of((DisclosureField.Note, 1))),
        },
    };

    /// <summary>The user's presence as a Herald presence at <paramref name="now"/>.</summary>
    public static AggregatedPresence Presence(LocalStatus status, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(status);
        var s = status.At(now);
        var note = string.IsNullOrEmpty(s.Note) ? null : new StatusNote(s.Note, s.SetAt, s.Until);
        return new AggregatedPresence(s.Availability, null, note, null, now,
            new Provenance(SourceKind.Preferred, null, s.SetAt, s.Until, "Set on the link"), [], false, false, false, s.Until);
    }

    /// <summary>The view the link audience gets, computed by <see cref="DisclosurePolicy.Disclose(PresentityState, DisclosureKey)"/>.</summary>
    public static PresenceView View(string userId, LocalStatus status, UserPrivacy rules, DateTimeOffset now, long sequence = 0)
    {
        var presence = Presence(status, now);
        var decision = PolicyEngine.Decide(new PolicyInput(OrgPolicy.Default, rules, Audience, null, false, SubscriptionStatus.Approved,
            PolicyEngine.ContextOf(presence), false, [], now));
        return DisclosurePolicy.Disclose(new PresentityState(PersonProfile.Minimal(userId), presence, sequence), decision.Key);
    }
}

/// <summary>The answer to a direct contact attempt.</summary>
/// <param name="Deliver">True: the message is delivered and shown.</param>
/// <param name="Availability">The availability the sender may see (Unknown when not disclosed).</param>
/// <param name="Note">The note the sender may see, or null.</param>
/// <param name="Back">When the user is expected back, if the sender may see it.</param>
/// <param name="Text">A human-readable refusal text (null when delivered).</param>
public sealed record BusyAnswer(bool Deliver, Availability Availability, string? Note, DateTimeOffset? Back, string? Text)
{
    /// <summary>The availabilities that refuse direct contact at once.</summary>
    public static bool Refuses(Availability a) =>
        a is Availability.Busy or Availability.DoNotDisturb or Availability.Away or Availability.OffWork;

    /// <summary>
    /// Decides on the user's real status at <paramref name="now"/> (a hidden Do not disturb still refuses) and
    /// fills the answer only from the link audience's view (what it may learn).
    /// </summary>
    public static BusyAnswer Decide(string userId, LocalStatus status, UserPrivacy rules, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(status);
        ArgumentNullException.ThrowIfNull(time);
        var now = time.GetUtcNow();
        if (!Refuses(status.At(now).Availability))
        {
            return new BusyAnswer(true, Availability.Available, null, null, null);
        }
        var view = LinkDisclosure.View(userId, status, rules, now);
        var text = view.Availability switch
        {
            Availability.Unknown => $"{userId} cannot take messages right now",
            var a => $"{userId} is {Describe(a)}",
        };
        if (view.Note is { } n)
        {
            text += ": " + n;
        }
        if (view.NoteUntil is { } b)
        {
            text += $" (back at {b.UtcDateTime:yyyy-MM-dd HH:mm} UTC)";
        }
        return new BusyAnswer(false, view.Availability, view.Note, view.NoteUntil, text);
    }

    /// <summary>Words for an availability.</summary>
    public static string Describe(Availability a) => a switch
    {
        Availability.DoNotDisturb => "not to be disturbed",
        Availability.Busy => "busy",
        Availability.Away => "away",
        Availability.OffWork => "off work",
        Availability.BeRightBack => "briefly away",
        Availability.Available => "available",
        Availability.Offline => "offline",
        _ => "unknown",
    };
}
