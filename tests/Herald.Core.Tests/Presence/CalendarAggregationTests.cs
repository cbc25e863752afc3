using Herald.Core.Model;
using Herald.Core.Presence;
using static Herald.Core.Tests.Presence.SourceBuilder;

namespace Herald.Core.Tests.Presence;

/// <summary>Precedence slot 3: the calendar, below preferred status and integrations, above devices.</summary>
public sealed class CalendarAggregationTests
{
    private static readonly DateTimeOffset MeetingStart = Now.AddMinutes(-10);
    private static readonly DateTimeOffset MeetingEnd = Now.AddMinutes(20);

    private static CalendarBusy Meeting(DateTimeOffset? start = null, DateTimeOffset? end = null, string? subject = "Standup") =>
        new(start ?? MeetingStart, end ?? MeetingEnd, Activity.InAMeeting, subject);

    private static CalendarBusy Ooo(DateTimeOffset start, DateTimeOffset end) => new(start, end, Activity.OutOfOffice, "Vacation");

    private static PresenceSources WithCalendar(PresenceSources sources, params CalendarBusy[] entries) =>
        sources with { Calendar = entries };

    private static AggregatedPresence Aggregate(PresenceSources sources, DateTimeOffset? at = null) =>
        PresenceAggregator.Aggregate(sources, Settings, at ?? Now);

    [Fact]
    public void A_meeting_containing_now_beats_an_available_device()
    {
        var result = Aggregate(WithCalendar(Sources(devices: [Device("desk", Availability.Available)]), Meeting()));

        Assert.Equal(Availability.Busy, result.Availability);
        Assert.Equal(Activity.InAMeeting, result.Activity);
        Assert.Equal(SourceKind.Calendar, result.Provenance.Source);
        Assert.Null(result.Provenance.SourceId);
        Assert.Equal(MeetingStart, result.Provenance.Since);
        Assert.Equal(MeetingEnd, result.Provenance.Until);
        Assert.Equal("In a meeting (calendar)", result.Provenance.Reason);
        Assert.DoesNotContain("Standup", result.Provenance.Reason, StringComparison.Ordinal);
        Assert.False(result.DayOff);
    }

    [Fact]
    public void A_meeting_applies_without_any_device()
    {
        var result = Aggregate(WithCalendar(Sources(), Meeting()));

        Assert.Equal(Availability.Busy, result.Availability);
        Assert.Equal(SourceKind.Calendar, result.Provenance.Source);
    }

    [Fact]
    public void Preferred_status_beats_the_calendar()
    {
        var result = Aggregate(WithCalendar(Sources(preferred: Preferred(Availability.Available)), Meeting()));

        Assert.Equal(Availability.Available, result.Availability);
        Assert.Equal(SourceKind.Preferred, result.Provenance.Source);
        Assert.Null(result.Activity);
    }

    [Fact]
    public void An_integration_call_beats_a_calendar_meeting()
    {
        var result = Aggregate(WithCalendar(Sources(leases: [Lease("pbx", Activity.InACall, Now.AddMinutes(-1))]), Meeting()));

        Assert.Equal(Activity.InACall, result.Activity);
        Assert.Equal(SourceKind.Integration, result.Provenance.Source);
    }

    [Fact]
    public void Out_of_office_beats_an_overlapping_meeting_and_is_a_day_off()
    {
        var day = new DateTimeOffset(2025, 1, 15, 0, 0, 0, TimeSpan.Zero);
        var result = Aggregate(WithCalendar(Sources(devices: [Device("desk")]), Meeting(), Ooo(day, day.AddDays(1))));

        Assert.Equal(Activity.OutOfOffice, result.Activity);
        Assert.Equal(Availability.OffWork, result.Availability);
        Assert.Equal("Out of office (calendar)", result.Provenance.Reason);
        Assert.True(result.DayOff);
    }

    [Fact]
    public void A_live_out_of_office_entry_marks_a_day_off_even_under_a_preferred_status()
    {
        var day = new DateTimeOffset(2025, 1, 15, 0, 0, 0, TimeSpan.Zero);
        var result = Aggregate(WithCalendar(Sources(preferred: Preferred(Availability.Available)), Ooo(day, day.AddDays(1))));

        Assert.Equal(SourceKind.Preferred, result.Provenance.Source);
        Assert.True(result.DayOff);
    }

    [Fact]
    public void Boundaries_are_start_inclusive_and_end_exclusive()
    {
        var sources = WithCalendar(Sources(devices: [Device("desk", expiresAt: Now.AddHours(2))]), Meeting());

        Assert.Equal(SourceKind.Device, Aggregate(sources, MeetingStart.AddTicks(-1)).Provenance.Source);
        Assert.Equal(SourceKind.Calendar, Aggregate(sources, MeetingStart).Provenance.Source);
        Assert.Equal(SourceKind.Calendar, Aggregate(sources, MeetingEnd.AddTicks(-1)).Provenance.Source);
        Assert.Equal(SourceKind.Device, Aggregate(sources, MeetingEnd).Provenance.Source);
    }

    [Fact]
    public void Entries_in_the_past_or_future_are_ignored()
    {
        var result = Aggregate(WithCalendar(Sources(devices: [Device("desk")]),
            Meeting(Now.AddHours(-2), Now.AddHours(-1)), Meeting(Now.AddHours(1), Now.AddHours(2))));

        Assert.Equal(Availability.Available, result.Availability);
        Assert.Equal(SourceKind.Device, result.Provenance.Source);
    }

    [Fact]
    public void Next_change_is_the_end_of_the_current_entry_or_the_start_of_the_next()
    {
        var later = Meeting(Now.AddMinutes(5), Now.AddMinutes(45));
        Assert.Equal(Now.AddMinutes(5), Aggregate(WithCalendar(Sources(), later)).NextChangeAt);
        Assert.Equal(MeetingEnd, Aggregate(WithCalendar(Sources(), Meeting())).NextChangeAt);
        Assert.Equal(MeetingEnd, Aggregate(WithCalendar(Sources(), Meeting(), later), Now.AddMinutes(10)).NextChangeAt);
        Assert.Null(Aggregate(WithCalendar(Sources(), Meeting(Now.AddHours(-2), Now.AddHours(-1)))).NextChangeAt);
    }

    [Fact]
    public void No_calendar_changes_nothing()
    {
        var without = Aggregate(Sources(devices: [Device("desk")]));
        var empty = Aggregate(WithCalendar(Sources(devices: [Device("desk")])));

        Assert.Equal(without.Availability, empty.Availability);
        Assert.Equal(without.Provenance, empty.Provenance);
        Assert.Equal(without.NextChangeAt, empty.NextChangeAt);
    }

    [Fact]
    public void Prune_keeps_the_calendar()
    {
        var sources = WithCalendar(Sources(devices: [Device("old", expiresAt: Now.AddHours(-1))]), Meeting());
        var pruned = PresenceAggregator.Prune(sources, Settings, Now);

        Assert.NotSame(sources, pruned);
        Assert.Same(sources.Calendar, pruned.Calendar);
    }
}
