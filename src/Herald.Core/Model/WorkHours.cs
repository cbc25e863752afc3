namespace Herald.Core.Model;

/// <summary>
/// A weekly work schedule: the same span on each listed day, in the person's own time zone.
/// A span whose end is before its start runs past midnight.
/// </summary>
[GenerateSerializer, Immutable, Alias("herald.WorkHours")]
public sealed record WorkHours(
    [property: Id(0)] IReadOnlyList<DayOfWeek> Days,
    [property: Id(1)] TimeOnly Start,
    [property: Id(2)] TimeOnly End)
{
    /// <summary>Monday to Friday, 09:00 to 17:00.</summary>
    public static WorkHours Default { get; } =
        new([DayOfWeek.Monday, DayOfWeek.Tuesday, DayOfWeek.Wednesday, DayOfWeek.Thursday, DayOfWeek.Friday],
            new TimeOnly(9, 0), new TimeOnly(17, 0));

    /// <summary>True if <paramref name="instant"/> falls inside work hours in <paramref name="zone"/>.</summary>
    public bool IsWorking(DateTimeOffset instant, TimeZoneInfo zone)
    {
        var local = TimeZoneInfo.ConvertTime(instant, zone);
        var t = TimeOnly.FromDateTime(local.DateTime);
        if (Start == End)
        {
            return false;
        }
        if (Start < End)
        {
            return Days.Contains(local.DayOfWeek) && t >= Start && t < End;
        }
        // Overnight span: evening part belongs to the listed day, the morning part to the day before.
        return (Days.Contains(local.DayOfWeek) && t >= Start)
            || (Days.Contains(local.AddDays(-1).DayOfWeek) && t < End);
    }

    /// <summary>
    /// The next instant after <paramref name="instant"/> at which <see cref="IsWorking"/> changes, searched
    /// for up to eight days; null when it never changes.
    /// </summary>
    public DateTimeOffset? NextBoundary(DateTimeOffset instant, TimeZoneInfo zone)
    {
        var state = IsWorking(instant, zone);
        var local = TimeZoneInfo.ConvertTime(instant, zone);
        // Candidate boundaries are the start and end times on each of the next eight local dates.
        for (var d = -1; d <= 8; d++)
        {
            var date = DateOnly.FromDateTime(local.DateTime).AddDays(d);
            // The two times in order, without allocating (this runs on every change of every person).
            var (first, second) = Start <= End ? (Start, End) : (End, Start);
            var candidate = ToInstant(date, first, zone);
            if (candidate > instant && IsWorking(candidate, zone) != state)
            {
                return candidate;
            }
            candidate = ToInstant(date, second, zone);
            if (candidate > instant && IsWorking(candidate, zone) != state)
            {
                return candidate;
            }
        }
        return null;
    }

    private static DateTimeOffset ToInstant(DateOnly date, TimeOnly time, TimeZoneInfo zone)
    {
        var local = date.ToDateTime(time, DateTimeKind.Unspecified);
        if (zone.IsInvalidTime(local))
        {
            // Inside a spring-forward gap: the boundary is the first valid local minute after the gap.
            var steps = 0;
            while (zone.IsInvalidTime(local) && steps++ < 24 * 60)
            {
                local = local.AddMinutes(1);
            }
            local = new DateTime(local.Year, local.Month, local.Day, local.Hour, local.Minute, 0, DateTimeKind.Unspecified);
        }
        if (zone.IsAmbiguousTime(local))
        {
            // Inside a repeated fall-back hour: the first occurrence has the larger offset.
            return new DateTimeOffset(local, zone.GetAmbiguousTimeOffsets(local).Max());
        }
        return new DateTimeOffset(local, zone.GetUtcOffset(local));
    }
}

/// <summary>Time zone lookup that never throws for bad ids.</summary>
public static class TimeZones
{
    /// <summary>The zone named <paramref name="id"/> (IANA or Windows id), or UTC when unknown.</summary>
    public static TimeZoneInfo Find(string? id)
    {
        if (string.IsNullOrWhiteSpace(id))
        {
            return TimeZoneInfo.Utc;
        }
        return TimeZoneInfo.TryFindSystemTimeZoneById(id, out var zone) ? zone : TimeZoneInfo.Utc;
    }

    /// <summary>True when <paramref name="id"/> names a zone this machine knows.</summary>
    public static bool IsKnown(string? id) =>
        !string.IsNullOrWhiteSpace(id) && TimeZoneInfo.TryFindSystemTimeZoneById(id, out _);
}
