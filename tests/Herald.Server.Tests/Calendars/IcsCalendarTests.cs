using Herald.Core.Model;
using Herald.Core.Presence;
using Herald.Server.Calendars;

namespace Herald.Server.Tests.Calendars;

public sealed class IcsCalendarTests
{
    /// <summary>Wednesday 25 March 2026, 08:00 UTC: Berlin switches to summer time on Sunday 29 March.</summary>
    private static readonly DateTimeOffset Now = new(2026, 3, 25, 8, 0, 0, TimeSpan.Zero);

    private const string BerlinZone = """
        BEGIN:VTIMEZONE
        TZID:Europe/Berlin
        BEGIN:DAYLIGHT
        TZOFFSETFROM:+0100
        TZOFFSETTO:+0200
        TZNAME:CEST
        DTSTART:19700329T020000
        RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
        END:DAYLIGHT
        BEGIN:STANDARD
        TZOFFSETFROM:+0200
        TZOFFSETTO:+0100
        TZNAME:CET
        DTSTART:19701025T030000
        RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
        END:STANDARD
        END:VTIMEZONE
        """;

    private static string Ics(params string[] events) =>
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Herald tests//EN\r\n"
        + string.Join("\r\n", events).ReplaceLineEndings("\r\n") + "\r\nEND:VCALENDAR\r\n";

    private static string Event(string uid, string body) => $"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260301T000000Z\r\n{body.ReplaceLineEndings("\r\n").Trim()}\r\nEND:VEVENT";

    private static DateTimeOffset Utc(int month, int day, int hour, int minute = 0) => new(2026, month, day, hour, minute, 0, TimeSpan.Zero);

    private static AggregatedPresence At(IReadOnlyList<CalendarBusy> entries, DateTimeOffset at) =>
        PresenceAggregator.Aggregate(PresenceSources.Empty with { Calendar = entries }, AggregationSettings.Default, at);

    [Fact]
    public void A_weekly_berlin_meeting_is_busy_exactly_during_each_occurrence_across_the_dst_change()
    {
        var ics = Ics(BerlinZone, Event("weekly-1", """
            SUMMARY:Team sync
            DTSTART;TZID=Europe/Berlin:20260304T100000
            DTEND;TZID=Europe/Berlin:20260304T110000
            RRULE:FREQ=WEEKLY
            """));

        var entries = IcsCalendar.Parse(ics, Now);

        // 10:00 Berlin is 09:00 UTC in winter time and 08:00 UTC in summer time; 8 April 08:00 UTC is past the window.
        Assert.Equal(
            [
                new CalendarBusy(Utc(3, 25, 9), Utc(3, 25, 10), Activity.InAMeeting, "Team sync"),
                new CalendarBusy(Utc(4, 1, 8), Utc(4, 1, 9), Activity.InAMeeting, "Team sync"),
            ],
            entries);
        Assert.Null(At(entries, Utc(3, 25, 9).AddTicks(-1)).Activity);
        Assert.Equal(SourceKind.None, At(entries, Utc(3, 25, 9).AddTicks(-1)).Provenance.Source);
        Assert.Equal(Activity.InAMeeting, At(entries, Utc(3, 25, 9)).Activity);
        Assert.Equal(Availability.Busy, At(entries, Utc(3, 25, 9, 59)).Availability);
        Assert.Null(At(entries, Utc(3, 25, 10)).Activity);
        Assert.Null(At(entries, Utc(4, 1, 7, 59)).Activity);
        Assert.Equal(Activity.InAMeeting, At(entries, Utc(4, 1, 8)).Activity);
        Assert.Null(At(entries, Utc(4, 1, 9)).Activity);
        Assert.Equal(Utc(3, 25, 9), At(entries, Now).NextChangeAt);
    }

    [Fact]
    public void A_zone_known_only_by_its_tzid_is_resolved()
    {
        var entries = IcsCalendar.Parse(Ics(Event("x", """
            DTSTART;TZID=Europe/Berlin:20260401T100000
            DURATION:PT30M
            """)), Now);

        Assert.Equal([new CalendarBusy(Utc(4, 1, 8), Utc(4, 1, 8, 30), Activity.InAMeeting, null)], entries);
    }

    [Fact]
    public void Transparent_free_tentative_and_cancelled_events_are_ignored()
    {
        var ics = Ics(
            Event("transparent", "SUMMARY:Reminder\r\nDTSTART:20260325T090000Z\r\nDTEND:20260325T100000Z\r\nTRANSP:TRANSPARENT"),
            Event("free", "SUMMARY:Lunch\r\nDTSTART:20260325T110000Z\r\nDTEND:20260325T120000Z\r\nX-MICROSOFT-CDO-BUSYSTATUS:FREE"),
            Event("tentative-ms", "SUMMARY:Maybe\r\nDTSTART:20260325T120000Z\r\nDTEND:20260325T130000Z\r\nX-MICROSOFT-CDO-BUSYSTATUS:TENTATIVE"),
            Event("tentative", "SUMMARY:Maybe too\r\nDTSTART:20260325T130000Z\r\nDTEND:20260325T140000Z\r\nSTATUS:TENTATIVE"),
            Event("cancelled", "SUMMARY:Called off\r\nDTSTART:20260325T140000Z\r\nDTEND:20260325T150000Z\r\nSTATUS:CANCELLED"),
            Event("busy", "SUMMARY:Real one\r\nDTSTART:20260325T150000Z\r\nDTEND:20260325T160000Z\r\nSTATUS:CONFIRMED\r\nTRANSP:OPAQUE"));

        var entries = IcsCalendar.Parse(ics, Now);

        Assert.Equal([new CalendarBusy(Utc(3, 25, 15), Utc(3, 25, 16), Activity.InAMeeting, "Real one")], entries);
    }

    [Fact]
    public void An_out_of_office_all_day_event_is_out_of_office_for_the_whole_day_in_the_persons_zone()
    {
        var ics = Ics(Event("ooo", """
            SUMMARY:Away
            DTSTART;VALUE=DATE:20260326
            DTEND;VALUE=DATE:20260327
            TRANSP:TRANSPARENT
            X-MICROSOFT-CDO-BUSYSTATUS:OOF
            """));
        var berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");

        var entries = IcsCalendar.Parse(ics, Now, berlin);

        Assert.Equal([new CalendarBusy(Utc(3, 25, 23), Utc(3, 26, 23), Activity.OutOfOffice, "Away")], entries);
        var presence = At(entries, Utc(3, 26, 12));
        Assert.Equal(Activity.OutOfOffice, presence.Activity);
        Assert.True(presence.DayOff);
    }

    [Fact]
    public void An_out_of_office_category_counts_but_a_summary_alone_does_not()
    {
        var ics = Ics(
            Event("cat", "SUMMARY:Trip\r\nDTSTART:20260325T090000Z\r\nDTEND:20260325T170000Z\r\nCATEGORIES:Travel,Out of Office"),
            Event("title", "SUMMARY:Out of office planning\r\nDTSTART:20260326T090000Z\r\nDTEND:20260326T100000Z"));

        var entries = IcsCalendar.Parse(ics, Now);

        Assert.Equal([Activity.OutOfOffice, Activity.InAMeeting], entries.Select(e => e.Activity));
    }

    [Fact]
    public void Only_the_window_is_kept_and_exceptions_are_respected()
    {
        var ics = Ics(Event("daily", """
            SUMMARY:Standup
            DTSTART:20260101T090000Z
            DTEND:20260101T091500Z
            RRULE:FREQ=DAILY
            EXDATE:20260326T090000Z
            """));

        var entries = IcsCalendar.Parse(ics, Now);

        Assert.All(entries, e => Assert.InRange(e.Start, Now - IcsCalendar.Lookback, Now + IcsCalendar.Lookahead));
        Assert.Equal(Utc(3, 24, 9), entries[0].Start);
        Assert.Equal(Utc(4, 7, 9), entries[^1].Start);
        Assert.DoesNotContain(entries, e => e.Start == Utc(3, 26, 9));
        Assert.Equal(14, entries.Count);
    }

    [Fact]
    public void A_long_absence_that_began_weeks_ago_still_counts()
    {
        var entries = IcsCalendar.Parse(Ics(Event("leave", """
            DTSTART;VALUE=DATE:20260310
            DTEND;VALUE=DATE:20260330
            X-MICROSOFT-CDO-BUSYSTATUS:OOF
            """)), Now);

        Assert.Single(entries);
        Assert.Equal(Activity.OutOfOffice, At(entries, Now).Activity);
    }

    [Theory]
    [InlineData("hello, world")]
    [InlineData("")]
    [InlineData("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nDTSTART:not-a-date\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")]
    [InlineData("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nSUMMARY:no start\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")]
    public void Malformed_input_is_a_clear_error(string text)
    {
        var ex = Assert.Throws<IcsCalendarException>(() => IcsCalendar.Parse(text, Now));
        Assert.False(ex.TooLarge);
        Assert.False(string.IsNullOrWhiteSpace(ex.Message));
    }

    [Fact]
    public void Limits_are_enforced()
    {
        var big = Ics(Event("big", "DESCRIPTION:" + new string('x', IcsCalendar.MaxTextLength) + "\r\nDTSTART:20260325T090000Z"));
        Assert.True(Assert.Throws<IcsCalendarException>(() => IcsCalendar.Parse(big, Now)).TooLarge);

        var many = Ics(Event("often", "DTSTART:20260320T000000Z\r\nDURATION:PT1M\r\nRRULE:FREQ=MINUTELY;INTERVAL=2"));
        Assert.True(Assert.Throws<IcsCalendarException>(() => IcsCalendar.Parse(many, Now)).TooLarge);
    }
}
