using Herald.Core.Model;
using Herald.Core.Presence;

namespace Herald.Core.Privacy;

/// <summary>Everything the policy needs to know about the presentity at one instant.</summary>
/// <param name="Profile">The directory entry (contact methods, schedule).</param>
/// <param name="Presence">The aggregated presence.</param>
/// <param name="Sequence">The presence sequence number.</param>
public sealed record PresentityState(PersonProfile Profile, AggregatedPresence Presence, long Sequence);

/// <summary>
/// The single disclosure function: what a watcher gets of a presentity's presence. Every channel (REST, batch,
/// search, live streams, webhooks, protocol gateways) calls it; none filters on its own.
/// First version: the owner sees everything including provenance; anyone else in the organization sees everything
/// except personal contact methods (mobile, home phone), devices' expiry details and provenance; Blocked sees a
/// plain Offline; appear offline is rendered exactly like a real disconnect.
/// </summary>
public static class DisclosurePolicy
{
    /// <summary>The disclosure key of <paramref name="watcher"/>: watchers with equal keys get equal views.</summary>
    public static DisclosureKey KeyOf(WatcherRelation watcher)
    {
        ArgumentNullException.ThrowIfNull(watcher);
        return new DisclosureKey(watcher.IsSelf, watcher.IsSelf ? RelationshipTier.Trusted : watcher.Tier);
    }

    /// <summary>The view for <paramref name="watcher"/>.</summary>
    public static PresenceView Disclose(PresentityState state, WatcherRelation watcher) => Disclose(state, KeyOf(watcher));

    /// <summary>The view for every watcher with <paramref name="key"/>.</summary>
    public static PresenceView Disclose(PresentityState state, DisclosureKey key)
    {
        ArgumentNullException.ThrowIfNull(state);
        var p = state.Presence;
        var id = state.Profile.Id;
        if (key.IsSelf)
        {
            return new PresenceView(id, p.Availability, p.Activity, p.Note?.Text, p.Note?.Until, p.Location, p.LastSeen,
                state.Sequence, p.Devices, state.Profile.ContactMethods, p.Provenance, p.AppearOffline);
        }
        var contacts = state.Profile.ContactMethods.Where(c => !c.IsPersonal).ToList();
        if (key.Tier == RelationshipTier.Blocked)
        {
            return new PresenceView(id, Availability.Offline, null, null, null, null, null, state.Sequence, [], null, null, null);
        }
        if (p.AppearOffline)
        {
            // Exactly what a real disconnect would show: no activity, location or devices, a frozen last-seen.
            return new PresenceView(id, p.OffHours ? Availability.OffWork : Availability.Offline, null, p.Note?.Text,
                p.Note?.Until, null, p.ApparentLastSeen, state.Sequence, [], contacts, null, null);
        }
        return new PresenceView(id, p.Availability, p.Activity, p.Note?.Text, p.Note?.Until, p.Location, p.LastSeen,
            state.Sequence, p.Devices, contacts, null, null);
    }
}
