using Herald.Core.Model;
using Ical.Net;
using Ical.Net.CalendarComponents;
using Ical.Net.DataTypes;

namespace Herald.Server.Calendars;

/// <summary>An uploaded calendar could not be used: malformed, or over a documented limit.</summary>
public sealed class IcsCalendarException(string message, bool tooLarge = false, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>True when the calendar broke a size limit (text or occurrences), as opposed to being malformed.</summary>
    public bool TooLarge { get; } = tooLarge;
}

/// <summary>
/// Reads an iCalendar (.ics) text into the busy intervals that count for presence, using Ical.Net for recurrences
/// (RRULE, RDATE, EXDATE, overridden instances) and time zones (VTIMEZONE / TZID).
/// <para>What counts:</para>
/// <list type="bullet">
/// <item>Out of office (<see cref="Activity.OutOfOffice"/>): <c>X-MICROSOFT-CDO-BUSYSTATUS:OOF</c>, or a category
/// named "Out of office", "OOF", "OOO", "Vacation" or "Holiday" (case-insensitive). The summary is never used to
/// decide, so a meeting titled "Out of office planning" stays a meeting.</item>
/// <item>Busy (<see cref="Activity.InAMeeting"/>): every other opaque, confirmed event.</item>
/// <item>Ignored: <c>STATUS:TENTATIVE</c> or <c>CANCELLED</c>; <c>X-MICROSOFT-CDO-BUSYSTATUS</c> FREE, TENTATIVE or
/// WORKINGELSEWHERE; <c>TRANSP:TRANSPARENT</c> (unless the busy status says BUSY or OOF, which wins); events
/// without a start, and zero-length events.</item>
/// </list>
/// Date-times without a time zone (floating, and all-day dates) are read in the person's time zone.
/// </summary>
public static class IcsCalendar
{
    /// <summary>At most this many characters of .ics text (1 MiB).</summary>
    public const int MaxTextLength = 1024 * 1024;

    /// <summary>At most this many occurrences in the window.</summary>
    public const int MaxOccurrences = 5000;

    /// <summary>How far back the window reaches (entries still running now are kept).</summary>
    public static readonly TimeSpan Lookback = TimeSpan.FromDays(1);

    /// <summary>How far ahead the window reaches.</summary>
    public static readonly TimeSpan Lookahead = TimeSpan.FromDays(14);

    // Occurrences that began this long before the window may still overlap it (multi-day absences).
    private static readonly TimeSpan LongestEvent = TimeSpan.FromDays(31);

    private static readonly HashSet<string> OutOfOfficeCategories =
        new(["out of office", "oof", "ooo", "vacation", "holiday"], StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// The busy and out-of-office intervals overlapping [<paramref name="now"/> − 1 day, <paramref name="now"/> + 14 days],
    /// ordered by start. Throws <see cref="IcsCalendarException"/> for malformed input or a broken limit.
    /// </summary>
    public static IReadOnlyList<CalendarBusy> Parse(string text, DateTimeOffset now, TimeZoneInfo? floatingZone = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length > MaxTextLength)
        {
            throw new IcsCalendarException($"the calendar is larger than {MaxTextLength / 1024 / 1024} MiB", tooLarge: true);
        }
        var zone = floatingZone ?? TimeZoneInfo.Utc;
        var calendar = Load(text);
        var windowStart = now - Lookback;
        var windowEnd = now + Lookahead;
        var from = new CalDateTime((windowStart - LongestEvent).UtcDateTime, CalDateTime.UtcTzId);
        var until = new CalDateTime(windowEnd.UtcDateTime, CalDateTime.UtcTzId);

        var result = new List<CalendarBusy>();
        try
        {
            foreach (var occurrence in calendar.GetOccurrences<CalendarEvent>(from, null).TakeWhileBefore(until))
            {
                if (occurrence.Source is not CalendarEvent evt || Classify(evt) is not { } activity)
                {
                    continue;
                }
                var start = ToOffset(occurrence.Period.StartTime, zone);
                var endTime = occurrence.Period.EffectiveEndTime;
                var end = endTime is null ? start : ToOffset(endTime, zone);
                if (end <= start || end <= windowStart || start >= windowEnd)
                {
                    continue;
                }
                if (result.Count >= MaxOccurrences)
                {
                    throw new IcsCalendarException(
                        $"the calendar has more than {MaxOccurrences} busy occurrences in the next {Lookahead.TotalDays:0} days", tooLarge: true);
                }
                result.Add(new CalendarBusy(start, end, activity, string.IsNullOrWhiteSpace(evt.Summary) ? null : evt.Summary.Trim()));
            }
        }
        catch (Exception ex) when (ex is not IcsCalendarException and not OutOfMemoryException)
        {
            throw new IcsCalendarException($"the calendar could not be expanded: {ex.Message}", inner: ex);
        }
        return [.. result.OrderBy(c => c.Start).ThenBy(c => c.End)];
    }

    private static Ical.Net.Calendar Load(string text)
    {
        if (!text.TrimStart().StartsWith("BEGIN:VCALENDAR", StringComparison.OrdinalIgnoreCase))
        {
            throw new IcsCalendarException("not an iCalendar text: it must start with BEGIN:VCALENDAR");
        }
        Ical.Net.Calendar? calendar;
        try
        {
            calendar = Ical.Net.Calendar.Load(text);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new IcsCalendarException($"malformed iCalendar text: {ex.Message}", inner: ex);
        }
        if (calendar is null)
        {
            throw new IcsCalendarException("malformed iCalendar text: no complete VCALENDAR (missing END:VCALENDAR?)");
        }
        foreach (var evt in calendar.Events)
        {
            if (evt.DtStart is null)
            {
                throw new IcsCalendarException($"malformed iCalendar text: event '{evt.Uid}' has no DTSTART");
            }
        }
        return calendar;
    }

    /// <summary>The activity an event stands for, or null when it does not make the person busy.</summary>
    private static Activity? Classify(CalendarEvent evt)
    {
        var status = evt.Status?.Trim();
        if (string.Equals(status, "TENTATIVE", StringComparison.OrdinalIgnoreCase)
            || string.Equals(status, "CANCELLED", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        var busyStatus = evt.Properties["X-MICROSOFT-CDO-BUSYSTATUS"]?.Value?.ToString()?.Trim().ToUpperInvariant();
        var outOfOffice = busyStatus == "OOF" || evt.Categories.Any(c => OutOfOfficeCategories.Contains(c.Trim()));
        switch (busyStatus)
        {
            case "FREE" or "TENTATIVE" or "WORKINGELSEWHERE":
                return null;
            case "BUSY" or "OOF":
                return outOfOffice ? Activity.OutOfOffice : Activity.InAMeeting;
        }
        if (string.Equals(evt.Transparency?.Trim(), "TRANSPARENT", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        return outOfOffice ? Activity.OutOfOffice : Activity.InAMeeting;
    }

    private static DateTimeOffset ToOffset(CalDateTime t, TimeZoneInfo floatingZone)
    {
        if (!t.IsFloating)
        {
            return new DateTimeOffset(DateTime.SpecifyKind(t.AsUtc, DateTimeKind.Utc));
        }
        var local = DateTime.SpecifyKind(t.HasTime ? t.Value : t.Date.ToDateTime(TimeOnly.MinValue), DateTimeKind.Unspecified);
        if (floatingZone.IsInvalidTime(local))
        {
            local = local.AddHours(1); // a wall-clock time skipped by a DST change: the first valid one after it
        }
        return new DateTimeOffset(local, floatingZone.GetUtcOffset(local));
    }
}
