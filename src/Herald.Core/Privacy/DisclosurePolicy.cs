using Herald.Core.Model;
using Herald.Core.Presence;

namespace Herald.Core.Privacy;

/// <summary>Everything the policy needs to know about the presentity at one instant.</summary>
/// <param name="Profile">The directory entry (contact methods, schedule).</param>
/// <param name="Presence">The aggregated presence.</param>
/// <param name="Sequence">The presence sequence number.</param>
public sealed record PresentityState(PersonProfile Profile, AggregatedPresence Presence, long Sequence)
{
    /// <summary>
    /// While the person appears offline to some tiers only: the presence as it would be without appear offline,
    /// rendered for the tiers it does not apply to.
    /// </summary>
    public AggregatedPresence? Unhidden { get; init; }
}

/// <summary>
/// The single disclosure function: renders a presentity's presence for one distinct disclosure
/// (<see cref="DisclosureKey"/>, decided by <see cref="PolicyEngine.Decide"/>). Every channel (REST, batch, search,
/// live streams, webhooks, protocol gateways) gets its views from here; none filters on its own.
/// </summary>
public static class DisclosurePolicy
{
    /// <summary>
    /// The key of <paramref name="watcher"/> under the default organization policy and no rules of the person's own,
    /// with an approved subscription (for previews, tests and benchmarks).
    /// </summary>
    public static DisclosureKey KeyOf(WatcherRelation watcher, PrivacyContext context = PrivacyContext.WorkHours, bool appearOffline = false)
    {
        ArgumentNullException.ThrowIfNull(watcher);
        return PolicyEngine.Decide(new PolicyInput(OrgPolicy.Default, UserPrivacy.Default, watcher.Tier, watcher.WatcherId, watcher.IsSelf,
            SubscriptionStatus.Approved, context, appearOffline, [], DateTimeOffset.UnixEpoch)).Key;
    }

    /// <summary>The view for <paramref name="watcher"/> under the default policy (see <see cref="KeyOf"/>).</summary>
    public static PresenceView Disclose(PresentityState state, WatcherRelation watcher)
    {
        ArgumentNullException.ThrowIfNull(state);
        return Disclose(state, KeyOf(watcher, PolicyEngine.ContextOf(state.Presence), state.Presence.AppearOffline));
    }

    /// <summary>Renders the view for every watcher with <paramref name="key"/>.</summary>
    public static PresenceView Disclose(PresentityState state, DisclosureKey key) => Disclose(state, key, null);

    /// <summary>
    /// Renders the view for every watcher with <paramref name="key"/>. <paramref name="earlier"/>, when given, is a view
    /// rendered before for the same key from the same profile: its contact list (which depends on nothing else) is
    /// reused instead of filtered again, which would allocate a new one on every change of a person whose watchers
    /// see some contact methods but not all.
    /// </summary>
    public static PresenceView Disclose(PresentityState state, DisclosureKey key, PresenceView? earlier)
    {
        ArgumentNullException.ThrowIfNull(state);
        var p = state.Presence;
        var id = state.Profile.Id;
        if (key.IsSelf)
        {
            return new PresenceView(id, p.Availability, p.Activity, p.Note?.Text, p.Note?.Until, p.Location, p.LastSeen,
                state.Sequence, p.Devices, state.Profile.ContactMethods, p.Provenance, p.AppearOffline) { Calendar = p.Calendar };
        }
        if (key.Mode == ViewMode.Nothing)
        {
            return PresenceView.Nothing(id, state.Sequence);
        }
        if (key.Mode == ViewMode.Blocked)
        {
            return new PresenceView(id, Availability.Offline, null, null, null, null, null, state.Sequence, null, [], null, null);
        }
        var d = key.Levels;
        var contacts = earlier?.ContactMethods ?? VisibleContacts(state.Profile.ContactMethods, d);
        var note = d[DisclosureField.Note] > 0 ? p.Note : null;
        var offContext = key.Context != PrivacyContext.WorkHours;
        if (key.Mode == ViewMode.Offline)
        {
            // Exactly what a real disconnect shows this watcher: no activity, location or devices, a frozen last-seen.
            var shown = d[DisclosureField.Availability] > 0
                ? (offContext || p.OffHours ? Availability.OffWork : Availability.Offline)
                : offContext ? Availability.OffWork : Availability.Unknown;
            return new PresenceView(id, shown, null, note?.Text, note?.Until,
                null, Truncate(p.AppearOffline ? p.ApparentLastSeen : null, d), state.Sequence,
                d[DisclosureField.Devices] > 0 ? [] : null, contacts, null, null);
        }
        if (p.AppearOffline && state.Unhidden is { } unhidden)
        {
            // Normal mode while appearing offline: this watcher's tier is exempt, so it sees the real presence.
            p = unhidden;
        }
        var availability = d[DisclosureField.Availability] > 0 ? p.Availability
            : offContext ? Availability.OffWork : Availability.Unknown;
        return new PresenceView(id, availability,
            d[DisclosureField.Activity] > 0 ? p.Activity : null,
            note?.Text, note?.Until,
            p.Location?.ReduceShared((LocationPrecision)d[DisclosureField.Location]),
            Truncate(p.LastSeen, d),
            state.Sequence,
            d[DisclosureField.Devices] > 0 ? p.Devices : null,
            contacts, null, null)
        {
            Calendar = p.Calendar is { } c && (CalendarDetail)d[DisclosureField.Calendar] is var detail && detail >= CalendarDetail.FreeBusy
                ? c with { Subject = detail >= CalendarDetail.Subject ? c.Subject : null }
                : null,
        };
    }

    /// <summary>
    /// The contact methods <paramref name="d"/> shows, in the profile's order: the profile's own (immutable) list when
    /// every one is shown, a shared empty one when none is, else a new array. Runs for every view of every change.
    /// </summary>
    private static IReadOnlyList<ContactMethod> VisibleContacts(IReadOnlyList<ContactMethod> all, Disclosure d)
    {
        var shown = 0;
        for (var i = 0; i < all.Count; i++)
        {
            if (d[DisclosureFields.ForContact(all[i].Kind)] > 0)
            {
                shown++;
            }
        }
        if (shown == all.Count)
        {
            return all;
        }
        if (shown == 0)
        {
            return [];
        }
        var contacts = new ContactMethod[shown];
        var at = 0;
        for (var i = 0; i < all.Count; i++)
        {
            if (d[DisclosureFields.ForContact(all[i].Kind)] > 0)
            {
                contacts[at++] = all[i];
            }
        }
        return contacts;
    }

    private static DateTimeOffset? Truncate(DateTimeOffset? t, Disclosure d)
    {
        if (t is not { } v)
        {
            return null;
        }
        var u = v.ToUniversalTime();
        return (LastSeenPrecision)d[DisclosureField.LastSeen] switch
        {
            LastSeenPrecision.Exact => u,
            LastSeenPrecision.Hour => new DateTimeOffset(u.Year, u.Month, u.Day, u.Hour, 0, 0, TimeSpan.Zero),
            LastSeenPrecision.Day => new DateTimeOffset(u.Year, u.Month, u.Day, 0, 0, 0, TimeSpan.Zero),
            _ => null,
        };
    }
}
