using System.Text;
using Herald.Core.Model;

namespace Herald.Core.Privacy;

/// <summary>The context of the presentity that rules can depend on.</summary>
public enum PrivacyContext
{
    /// <summary>Inside the person's work hours.</summary>
    WorkHours,
    /// <summary>Outside work hours.</summary>
    OffHours,
    /// <summary>A day off: out of office, vacation, or a manual day off.</summary>
    DayOff,
}

/// <summary>How precisely last-seen is disclosed.</summary>
public enum LastSeenPrecision
{
    /// <summary>Not at all.</summary>
    None = 0,
    /// <summary>The day only.</summary>
    Day = 1,
    /// <summary>The hour.</summary>
    Hour = 2,
    /// <summary>The exact instant.</summary>
    Exact = 3,
}

/// <summary>How much of the calendar is disclosed.</summary>
public enum CalendarDetail
{
    /// <summary>Nothing.</summary>
    None = 0,
    /// <summary>Free/busy only.</summary>
    FreeBusy = 1,
    /// <summary>Free/busy and subjects.</summary>
    Subject = 2,
}

/// <summary>Every separately disclosed field. Each has ordered levels from 0 (nothing) to <see cref="DisclosureFields.MaxLevel"/>.</summary>
public enum DisclosureField
{
    /// <summary>Availability (0 hidden, 1 shown).</summary>
    Availability,
    /// <summary>Activity (0/1).</summary>
    Activity,
    /// <summary>Status note (0/1).</summary>
    Note,
    /// <summary>Location, as <see cref="LocationPrecision"/>.</summary>
    Location,
    /// <summary>Devices and capabilities (0/1).</summary>
    Devices,
    /// <summary>Last seen, as <see cref="LastSeenPrecision"/>.</summary>
    LastSeen,
    /// <summary>Calendar, as <see cref="CalendarDetail"/>.</summary>
    Calendar,
    /// <summary>Out-of-office message (0/1).</summary>
    OutOfOffice,
    /// <summary>Work phone (0/1).</summary>
    WorkPhone,
    /// <summary>Mobile phone (0/1).</summary>
    Mobile,
    /// <summary>Home phone (0/1).</summary>
    HomePhone,
    /// <summary>E-mail (0/1).</summary>
    Email,
    /// <summary>Chat address (0/1).</summary>
    Chat,
    /// <summary>Video link (0/1).</summary>
    Video,
    /// <summary>SIP URI (0/1).</summary>
    Sip,
    /// <summary>Other contact addresses (0/1).</summary>
    OtherContact,
}

/// <summary>Facts about <see cref="DisclosureField"/>.</summary>
public static class DisclosureFields
{
    /// <summary>All fields in order.</summary>
    public static IReadOnlyList<DisclosureField> All { get; } = Enum.GetValues<DisclosureField>();

    /// <summary>Number of fields.</summary>
    public const int Count = 16;

    /// <summary>The highest level of <paramref name="field"/>.</summary>
    public static int MaxLevel(DisclosureField field) => field switch
    {
        DisclosureField.Location => (int)LocationPrecision.Exact,
        DisclosureField.LastSeen => (int)LastSeenPrecision.Exact,
        DisclosureField.Calendar => (int)CalendarDetail.Subject,
        _ => 1,
    };

    /// <summary>The field that governs contact methods of <paramref name="kind"/>.</summary>
    public static DisclosureField ForContact(ContactKind kind) => kind switch
    {
        ContactKind.WorkPhone => DisclosureField.WorkPhone,
        ContactKind.Mobile => DisclosureField.Mobile,
        ContactKind.HomePhone => DisclosureField.HomePhone,
        ContactKind.Email => DisclosureField.Email,
        ContactKind.Chat => DisclosureField.Chat,
        ContactKind.Video => DisclosureField.Video,
        ContactKind.Sip => DisclosureField.Sip,
        _ => DisclosureField.OtherContact,
    };

    /// <summary>The JSON name of a field in rules documents (camelCase).</summary>
    public static string Name(DisclosureField field)
    {
        var s = field.ToString();
        return char.ToLowerInvariant(s[0]) + s[1..];
    }

    /// <summary>Finds a field by its JSON name (case-insensitive).</summary>
    public static bool TryParse(string name, out DisclosureField field) =>
        Enum.TryParse(name, ignoreCase: true, out field) && Enum.IsDefined(field);

    /// <summary>The level's name: true/false for binary fields, else the precision's name.</summary>
    public static string LevelName(DisclosureField field, int level) => field switch
    {
        DisclosureField.Location => ((LocationPrecision)level).ToString(),
        DisclosureField.LastSeen => ((LastSeenPrecision)level).ToString(),
        DisclosureField.Calendar => ((CalendarDetail)level).ToString(),
        _ => level > 0 ? "true" : "false",
    };

    /// <summary>Parses a level name for <paramref name="field"/>: true/false, or the precision's name.</summary>
    public static bool TryParseLevel(DisclosureField field, string text, out int level)
    {
        level = 0;
        switch (field)
        {
            case DisclosureField.Location when Enum.TryParse<LocationPrecision>(text, true, out var l) && Enum.IsDefined(l) && !char.IsDigit(text[0]):
                level = (int)l;
                return true;
            case DisclosureField.LastSeen when Enum.TryParse<LastSeenPrecision>(text, true, out var s) && Enum.IsDefined(s) && !char.IsDigit(text[0]):
                level = (int)s;
                return true;
            case DisclosureField.Calendar when Enum.TryParse<CalendarDetail>(text, true, out var c) && Enum.IsDefined(c) && !char.IsDigit(text[0]):
                level = (int)c;
                return true;
            case DisclosureField.Location or DisclosureField.LastSeen or DisclosureField.Calendar:
                return false;
            default:
                if (bool.TryParse(text, out var b))
                {
                    level = b ? 1 : 0;
                    return true;
                }
                return false;
        }
    }
}

/// <summary>
/// A complete disclosure: one level per field. Immutable, compact (packed into a 64-bit value, 3 bits per field),
/// and comparable, so it can key caches of views.
/// </summary>
[GenerateSerializer, Immutable, Alias("herald.Disclosure")]
public readonly record struct Disclosure([property: Id(0)] ulong Packed)
{
    /// <summary>Nothing disclosed.</summary>
    public static Disclosure Nothing { get; } = new(0);

    /// <summary>Everything at the highest level.</summary>
    public static Disclosure Everything { get; } = From(f => DisclosureFields.MaxLevel(f));

    /// <summary>The level of <paramref name="field"/>.</summary>
    public int this[DisclosureField field] => (int)((Packed >> ((int)field * 3)) & 0b111);

    /// <summary>A disclosure from a level per field (clamped to the field's range).</summary>
    public static Disclosure From(Func<DisclosureField, int> level)
    {
        ArgumentNullException.ThrowIfNull(level);
        ulong packed = 0;
        foreach (var f in DisclosureFields.All)
        {
            var v = Math.Clamp(level(f), 0, DisclosureFields.MaxLevel(f));
            packed |= (ulong)v << ((int)f * 3);
        }
        return new Disclosure(packed);
    }

    /// <summary>This disclosure with one field changed.</summary>
    public Disclosure With(DisclosureField field, int level)
    {
        var v = (ulong)Math.Clamp(level, 0, DisclosureFields.MaxLevel(field));
        var shift = (int)field * 3;
        return new Disclosure((Packed & ~(0b111UL << shift)) | (v << shift));
    }

    /// <summary>True when every field of this is at most that of <paramref name="other"/>.</summary>
    public bool IsWithin(Disclosure other)
    {
        foreach (var f in DisclosureFields.All)
        {
            if (this[f] > other[f])
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Compact text for logs and audit: <c>availability,location=City,…</c> (fields above 0 only).</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        foreach (var f in DisclosureFields.All)
        {
            var level = this[f];
            if (level == 0)
            {
                continue;
            }
            if (sb.Length > 0)
            {
                sb.Append(',');
            }
            sb.Append(DisclosureFields.Name(f));
            if (DisclosureFields.MaxLevel(f) > 1)
            {
                sb.Append('=').Append(DisclosureFields.LevelName(f, level));
            }
        }
        return sb.ToString();
    }
}

/// <summary>
/// A partial disclosure: levels for some fields only (a rule, a grant, a ceiling or floor entry). Fields it does
/// not name are left to other layers.
/// </summary>
[GenerateSerializer, Immutable, Alias("herald.DisclosureRule")]
public sealed record DisclosureRule([property: Id(0)] IReadOnlyDictionary<DisclosureField, int> Levels)
{
    /// <summary>A rule naming no field.</summary>
    public static DisclosureRule Empty { get; } = new(new Dictionary<DisclosureField, int>());

    /// <summary>A rule from field/level pairs.</summary>
    public static DisclosureRule Of(params (DisclosureField Field, int Level)[] levels) =>
        new(levels.ToDictionary(l => l.Field, l => Math.Clamp(l.Level, 0, DisclosureFields.MaxLevel(l.Field))));

    /// <summary>The level this rule sets for <paramref name="field"/>, if any.</summary>
    public int? Get(DisclosureField field) => Levels.TryGetValue(field, out var v) ? v : null;

    /// <summary>A rule that sets every field to the levels of <paramref name="d"/>.</summary>
    public static DisclosureRule All(Disclosure d) => new(DisclosureFields.All.ToDictionary(f => f, f => d[f]));
}
