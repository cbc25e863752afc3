using Herald.Core.Model;
using Herald.Core.Presence;
using Herald.Core.Privacy;
using Xunit;
// Aliases keep the file unambiguous when linked into projects that import other namespaces (System.Diagnostics.Activity…).
using Activity = Herald.Core.Model.Activity;
using Availability = Herald.Core.Model.Availability;
using Location = Herald.Core.Model.Location;

namespace Herald.Core.Tests.Privacy;

/// <summary>
/// The disclosure matrix: what each tier sees of each field in each context under the default policy (no
/// organization ceilings or floors, no rules of the person's own, an approved subscription). This table is the
/// specification, written out by hand; it is deliberately not derived from <see cref="DefaultRules"/>.
/// <para>
/// Self-contained (depends only on Herald.Core and xunit's <see cref="Assert"/>) so that other test projects can
/// link this file and run the same matrix against their channel: publish <see cref="RichState"/>, read the view
/// through the channel as a watcher of a given tier, and call <see cref="AssertViewMatches"/>.
/// </para>
/// </summary>
public static class DisclosureMatrix
{
    // Level names, per kind of field.
    private const int No = 0;
    private const int Yes = 1;
    private const int Country = (int)LocationPrecision.Country;
    private const int City = (int)LocationPrecision.City;
    private const int Building = (int)LocationPrecision.Building;
    private const int Place = (int)LocationPrecision.Exact;
    private const int Hour = (int)LastSeenPrecision.Hour;
    private const int Instant = (int)LastSeenPrecision.Exact;
    private const int FreeBusy = (int)CalendarDetail.FreeBusy;
    private const int Subject = (int)CalendarDetail.Subject;

    /// <summary>The columns of <see cref="Table"/>, in order.</summary>
    private static readonly DisclosureField[] Columns =
    [
        DisclosureField.Availability, DisclosureField.Activity, DisclosureField.Note, DisclosureField.Location,
        DisclosureField.Devices, DisclosureField.LastSeen, DisclosureField.Calendar, DisclosureField.OutOfOffice,
        DisclosureField.WorkPhone, DisclosureField.Mobile, DisclosureField.HomePhone, DisclosureField.Email,
        DisclosureField.Chat, DisclosureField.Video, DisclosureField.Sip, DisclosureField.OtherContact,
    ];

    private static readonly Dictionary<(RelationshipTier Tier, PrivacyContext Context), int[]> Table = new()
    {
        //                                                            avail act  note location devices lastSeen calendar  ooo  work mobile home email chat video sip  other
        [(RelationshipTier.Trusted, PrivacyContext.WorkHours)] =     [Yes,  Yes, Yes, Place,    Yes,    Instant, Subject,  Yes, Yes, Yes,   Yes, Yes,  Yes, Yes,  Yes, Yes],
        [(RelationshipTier.Trusted, PrivacyContext.OffHours)] =      [Yes,  Yes, Yes, Place,    Yes,    Instant, Subject,  Yes, Yes, Yes,   Yes, Yes,  Yes, Yes,  Yes, Yes],
        [(RelationshipTier.Trusted, PrivacyContext.DayOff)] =        [Yes,  Yes, Yes, Place,    Yes,    Instant, Subject,  Yes, Yes, Yes,   Yes, Yes,  Yes, Yes,  Yes, Yes],

        [(RelationshipTier.Team, PrivacyContext.WorkHours)] =        [Yes,  Yes, Yes, Building, Yes,    Instant, FreeBusy, Yes, Yes, No,    No,  Yes,  Yes, Yes,  Yes, Yes],
        [(RelationshipTier.Team, PrivacyContext.OffHours)] =         [No,   No,  No,  No,       No,     No,      No,       Yes, No,  No,    No,  Yes,  No,  No,   No,  No],
        [(RelationshipTier.Team, PrivacyContext.DayOff)] =           [No,   No,  No,  No,       No,     No,      No,       Yes, No,  No,    No,  Yes,  No,  No,   No,  No],

        [(RelationshipTier.Colleague, PrivacyContext.WorkHours)] =   [Yes,  Yes, Yes, City,     No,     Hour,    FreeBusy, Yes, Yes, No,    No,  Yes,  Yes, Yes,  Yes, Yes],
        [(RelationshipTier.Colleague, PrivacyContext.OffHours)] =    [No,   No,  No,  No,       No,     No,      No,       Yes, No,  No,    No,  Yes,  No,  No,   No,  No],
        [(RelationshipTier.Colleague, PrivacyContext.DayOff)] =      [No,   No,  No,  No,       No,     No,      No,       Yes, No,  No,    No,  Yes,  No,  No,   No,  No],

        [(RelationshipTier.External, PrivacyContext.WorkHours)] =    [Yes,  No,  No,  Country,  No,     No,      No,       Yes, No,  No,    No,  Yes,  No,  No,   No,  No],
        [(RelationshipTier.External, PrivacyContext.OffHours)] =     [No,   No,  No,  No,       No,     No,      No,       Yes, No,  No,    No,  No,   No,  No,   No,  No],
        [(RelationshipTier.External, PrivacyContext.DayOff)] =       [No,   No,  No,  No,       No,     No,      No,       Yes, No,  No,    No,  No,   No,  No,   No,  No],

        [(RelationshipTier.Blocked, PrivacyContext.WorkHours)] =     [No,   No,  No,  No,       No,     No,      No,       No,  No,  No,    No,  No,   No,  No,   No,  No],
        [(RelationshipTier.Blocked, PrivacyContext.OffHours)] =      [No,   No,  No,  No,       No,     No,      No,       No,  No,  No,    No,  No,   No,  No,   No,  No],
        [(RelationshipTier.Blocked, PrivacyContext.DayOff)] =        [No,   No,  No,  No,       No,     No,      No,       No,  No,  No,    No,  No,   No,  No,   No,  No],
    };

    /// <summary>Every tier, most trusted first.</summary>
    public static IReadOnlyList<RelationshipTier> Tiers { get; } =
        [RelationshipTier.Trusted, RelationshipTier.Team, RelationshipTier.Colleague, RelationshipTier.External, RelationshipTier.Blocked];

    /// <summary>Every context.</summary>
    public static IReadOnlyList<PrivacyContext> Contexts { get; } =
        [PrivacyContext.WorkHours, PrivacyContext.OffHours, PrivacyContext.DayOff];

    /// <summary>Every field, in the order of the table's columns.</summary>
    public static IReadOnlyList<DisclosureField> Fields => Columns;

    /// <summary>The level <paramref name="tier"/> sees of <paramref name="field"/> in <paramref name="context"/> by default.</summary>
    public static int ExpectedLevel(RelationshipTier tier, PrivacyContext context, DisclosureField field)
    {
        var row = Table[(tier, context)];
        var column = Array.IndexOf(Columns, field);
        Assert.True(column >= 0, $"the matrix has no column for {field}");
        return row[column];
    }

    /// <summary>The whole default disclosure of <paramref name="tier"/> in <paramref name="context"/>.</summary>
    public static Disclosure Expected(RelationshipTier tier, PrivacyContext context) =>
        Disclosure.From(f => ExpectedLevel(tier, context, f));

    /// <summary>True when the tier is shown a constant "Offline" instead of the fields (the Blocked tier).</summary>
    public static bool SeesConstantOffline(RelationshipTier tier) => tier == RelationshipTier.Blocked;

    /// <summary>Every cell: tier, context, field and expected level.</summary>
    public static IEnumerable<(RelationshipTier Tier, PrivacyContext Context, DisclosureField Field, int Level)> Cells() =>
        from tier in Tiers
        from context in Contexts
        from field in Columns
        select (tier, context, field, ExpectedLevel(tier, context, field));

    /// <summary>The instant of <see cref="RichState"/>: Wednesday 15 January 2025, 10:00 UTC.</summary>
    public static DateTimeOffset Now { get; } = new(2025, 1, 15, 10, 0, 0, TimeSpan.Zero);

    /// <summary>Last seen in <see cref="RichState"/>: deliberately not on a whole hour or day.</summary>
    public static DateTimeOffset LastSeen { get; } = new DateTimeOffset(2025, 1, 15, 9, 37, 42, TimeSpan.Zero).AddMilliseconds(513);

    /// <summary>One contact method of every kind.</summary>
    public static IReadOnlyList<ContactMethod> AllContactMethods { get; } =
    [
        new(ContactKind.WorkPhone, "+49 30 1234 100"),
        new(ContactKind.Mobile, "+49 170 555 0101"),
        new(ContactKind.HomePhone, "+49 30 555 0202"),
        new(ContactKind.Email, "ada@example.org"),
        new(ContactKind.Chat, "ada@chat.example.org"),
        new(ContactKind.Video, "https://video.example.org/ada"),
        new(ContactKind.Sip, "sip:ada@example.org"),
        new(ContactKind.Other, "https://ada.example.org"),
    ];

    /// <summary>
    /// A presentity with every field populated (Busy, InACall, a note, a location with every part, two devices, a
    /// last-seen time, a provenance and every kind of contact method), in <paramref name="context"/>.
    /// </summary>
    public static PresentityState RichState(PrivacyContext context, string userId = "ada", long sequence = 42)
    {
        var profile = new PersonProfile(userId, "Ada", $"{userId}@example.org", "platform", "grace", "UTC", WorkHours.Default,
            AllContactMethods);
        var location = new Location("DE", "Berlin", "HQ", "3", "3.14", 52.5200, 13.4050, "by the window", Now.AddMinutes(-5));
        IReadOnlyList<DeviceSummary> devices =
        [
            new("desk", DeviceKind.Desktop, Availability.Busy, Activity.InACall, false, null, ["audio", "video", "chat"]),
            new("phone", DeviceKind.Mobile, Availability.Away, null, true, Now.AddMinutes(-12), ["chat"]),
        ];
        var presence = new AggregatedPresence(
            Availability.Busy,
            Activity.InACall,
            new StatusNote("quarterly review", Now.AddMinutes(-20), Now.AddHours(1)),
            location,
            LastSeen,
            new Provenance(SourceKind.Integration, "pbx", Now.AddMinutes(-3), Now.AddMinutes(5), "InACall published by Office PBX"),
            devices,
            AppearOffline: false,
            OffHours: context == PrivacyContext.OffHours,
            DayOff: context == PrivacyContext.DayOff,
            NextChangeAt: null)
        {
            ApparentLastSeen = LastSeen,
            Calendar = new CalendarBusy(Now.AddMinutes(-10), Now.AddMinutes(20), Activity.InAMeeting, "Acquisition of Initech"),
        };
        return new PresentityState(profile, presence, sequence);
    }

    /// <summary>
    /// Asserts that <paramref name="view"/> of <paramref name="state"/> is exactly what <paramref name="tier"/> may
    /// see in <paramref name="context"/>: every field at its expected level, nothing more and nothing less. The view's
    /// sequence is not checked (channels may renumber).
    /// </summary>
    public static void AssertViewMatches(PresenceView view, RelationshipTier tier, PrivacyContext context, PresentityState state)
    {
        ArgumentNullException.ThrowIfNull(view);
        ArgumentNullException.ThrowIfNull(state);
        Assert.Equal(state.Profile.Id, view.UserId);
        Assert.Null(view.Provenance);
        Assert.Null(view.AppearOffline);
        foreach (var field in Columns)
        {
            AssertFieldMatches(view, tier, context, field, state);
        }
    }

    /// <summary>Asserts that <paramref name="view"/> shows <paramref name="field"/> exactly at the tier's expected level.</summary>
    public static void AssertFieldMatches(PresenceView view, RelationshipTier tier, PrivacyContext context, DisclosureField field,
        PresentityState state)
    {
        ArgumentNullException.ThrowIfNull(view);
        ArgumentNullException.ThrowIfNull(state);
        var p = state.Presence;
        var level = ExpectedLevel(tier, context, field);
        var where = $"{tier} in {context}, {field} at level {DisclosureFields.LevelName(field, level)}";

        if (SeesConstantOffline(tier))
        {
            AssertConstantOffline(view, field, where);
            return;
        }

        switch (field)
        {
            case DisclosureField.Availability:
                // Hidden availability reads OffWork outside work hours and on days off, else Unknown.
                var hidden = context == PrivacyContext.WorkHours ? Availability.Unknown : Availability.OffWork;
                Assert.True((level > 0 ? p.Availability : hidden) == view.Availability, $"{where}: availability {view.Availability}");
                break;
            case DisclosureField.Activity:
                Assert.True((level > 0 ? p.Activity : null) == view.Activity, $"{where}: activity {view.Activity}");
                break;
            case DisclosureField.Note:
                Assert.True((level > 0 ? p.Note?.Text : null) == view.Note, $"{where}: note '{view.Note}'");
                Assert.True((level > 0 ? p.Note?.Until : null) == view.NoteUntil, $"{where}: note until {view.NoteUntil}");
                break;
            case DisclosureField.Location:
                AssertLocation(view.Location, p.Location!, (LocationPrecision)level, where);
                break;
            case DisclosureField.Devices:
                if (level > 0)
                {
                    Assert.True(view.Devices is { } d && d.Count == p.Devices.Count && d.Zip(p.Devices).All(x => x.First.SameAs(x.Second)),
                        $"{where}: devices [{string.Join(", ", view.Devices ?? [])}]");
                }
                else
                {
                    Assert.True(view.Devices is null, $"{where}: devices [{string.Join(", ", view.Devices ?? [])}]");
                }
                break;
            case DisclosureField.LastSeen:
                Assert.True((p.LastSeen is { } seen ? TruncateUtc(seen, (LastSeenPrecision)level) : null) == view.LastSeen,
                    $"{where}: last seen {view.LastSeen:O}");
                break;
            case DisclosureField.Calendar:
                var slot = p.Calendar;
                var expectedSlot = slot is null ? null : (CalendarDetail)level switch
                {
                    CalendarDetail.Subject => slot,
                    CalendarDetail.FreeBusy => slot with { Subject = null },
                    _ => null,
                };
                Assert.True(Equals(expectedSlot, view.Calendar), $"{where}: calendar {view.Calendar}");
                break;
            case DisclosureField.OutOfOffice:
                // Not part of PresenceView: there is nothing in a view that could carry it.
                break;
            default:
                var kinds = Enum.GetValues<ContactKind>().Where(k => DisclosureFields.ForContact(k) == field).ToHashSet();
                var expected = level > 0 ? state.Profile.ContactMethods.Where(c => kinds.Contains(c.Kind)).ToList() : [];
                var actual = (view.ContactMethods ?? []).Where(c => kinds.Contains(c.Kind)).ToList();
                Assert.True(view.ContactMethods is not null, $"{where}: contact methods missing");
                Assert.True(expected.SequenceEqual(actual), $"{where}: contact methods [{string.Join(", ", actual)}]");
                break;
        }
    }

    /// <summary>Blocked sees a constant Offline: nothing of any field.</summary>
    private static void AssertConstantOffline(PresenceView view, DisclosureField field, string where)
    {
        switch (field)
        {
            case DisclosureField.Availability:
                Assert.True(view.Availability == Availability.Offline, $"{where}: availability {view.Availability}");
                break;
            case DisclosureField.Activity:
                Assert.True(view.Activity is null, $"{where}: activity {view.Activity}");
                break;
            case DisclosureField.Note:
                Assert.True(view.Note is null && view.NoteUntil is null, $"{where}: note '{view.Note}'");
                break;
            case DisclosureField.Location:
                Assert.True(view.Location is null, $"{where}: location {view.Location}");
                break;
            case DisclosureField.Calendar:
                Assert.True(view.Calendar is null, $"{where}: calendar {view.Calendar}");
                break;
            case DisclosureField.Devices:
                Assert.True(view.Devices is null or { Count: 0 }, $"{where}: devices [{string.Join(", ", view.Devices ?? [])}]");
                break;
            case DisclosureField.LastSeen:
                Assert.True(view.LastSeen is null, $"{where}: last seen {view.LastSeen:O}");
                break;
            case DisclosureField.OutOfOffice:
                break;
            default:
                Assert.True(!(view.ContactMethods ?? []).Any(c => DisclosureFields.ForContact(c.Kind) == field),
                    $"{where}: contact methods [{string.Join(", ", view.ContactMethods ?? [])}]");
                break;
        }
    }

    private static void AssertLocation(Location? actual, Location full, LocationPrecision precision, string where)
    {
        var expected = precision switch
        {
            LocationPrecision.None => null,
            LocationPrecision.Country => new Location(Country: full.Country),
            LocationPrecision.City => new Location(Country: full.Country, City: full.City),
            LocationPrecision.Building => new Location(Country: full.Country, City: full.City, Building: full.Building),
            _ => full,
        };
        Assert.True(Equals(expected, actual), $"{where}: location {actual}");
    }

    /// <summary>Last seen at a precision, truncated in UTC.</summary>
    private static DateTimeOffset? TruncateUtc(DateTimeOffset t, LastSeenPrecision precision)
    {
        var u = t.ToUniversalTime();
        return precision switch
        {
            LastSeenPrecision.None => null,
            LastSeenPrecision.Day => new DateTimeOffset(u.Year, u.Month, u.Day, 0, 0, 0, TimeSpan.Zero),
            LastSeenPrecision.Hour => new DateTimeOffset(u.Year, u.Month, u.Day, u.Hour, 0, 0, TimeSpan.Zero),
            _ => u,
        };
    }
}
