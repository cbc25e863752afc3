using Herald.Core.Model;
using Herald.Core.Presence;

namespace Herald.Core.Privacy;

/// <summary>
/// A person's presence as one watcher may see it: the only shape that leaves the server on any channel.
/// Fields the watcher may not see are null (or <see cref="Availability.Unknown"/>).
/// </summary>
[GenerateSerializer, Immutable, Alias("herald.PresenceView")]
public sealed record PresenceView(
    [property: Id(0)] string UserId,
    [property: Id(1)] Availability Availability,
    [property: Id(2)] Activity? Activity,
    [property: Id(3)] string? Note,
    [property: Id(4)] DateTimeOffset? NoteUntil,
    [property: Id(5)] Location? Location,
    [property: Id(6)] DateTimeOffset? LastSeen,
    [property: Id(7)] long Sequence,
    [property: Id(8)] IReadOnlyList<DeviceSummary>? Devices,
    [property: Id(9)] IReadOnlyList<ContactMethod>? ContactMethods,
    [property: Id(10)] Provenance? Provenance,
    [property: Id(11)] bool? AppearOffline)
{
    /// <summary>
    /// The calendar entry running now, as the <c>calendar</c> privacy field allows: free/busy gives its start, end
    /// and kind (meeting or out of office); <c>Subject</c> adds the subject. Null when hidden or when none runs.
    /// </summary>
    [Id(12)] public CalendarBusy? Calendar { get; init; }

    /// <summary>True when everything but <see cref="Sequence"/> is equal (lists compared element by element).</summary>
    public bool SameContentAs(PresenceView other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return UserId == other.UserId && Availability == other.Availability && Activity == other.Activity
            && Note == other.Note && NoteUntil == other.NoteUntil && Equals(Location, other.Location) && LastSeen == other.LastSeen
            && Equals(Provenance, other.Provenance) && AppearOffline == other.AppearOffline && Equals(Calendar, other.Calendar)
            && ListEqual(Devices, other.Devices, (a, b) => a.SameAs(b))
            && ListEqual(ContactMethods, other.ContactMethods, (a, b) => a == b);
    }

    private static bool ListEqual<T>(IReadOnlyList<T>? a, IReadOnlyList<T>? b, Func<T, T, bool> same)
    {
        if (ReferenceEquals(a, b))
        {
            return true; // views of one person share their contact lists
        }
        if (a is null || b is null)
        {
            return a is null && b is null;
        }
        if (a.Count != b.Count)
        {
            return false;
        }
        for (var i = 0; i < a.Count; i++)
        {
            if (!same(a[i], b[i]))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>The view of a person nobody may see anything about.</summary>
    public static PresenceView Nothing(string userId, long sequence) =>
        new(userId, Availability.Unknown, null, null, null, null, null, sequence, null, null, null, null);
}
