using Herald.Core.Model;

namespace Herald.Core.Tests.Model;

public sealed class WorkHoursTests
{
    private static readonly TimeZoneInfo Berlin = TimeZones.Find("Europe/Berlin");
    private static readonly TimeZoneInfo NewYork = TimeZones.Find("America/New_York");
    private static readonly TimeZoneInfo Auckland = TimeZones.Find("Pacific/Auckland");

    private static readonly DayOfWeek[] Weekdays =
        [DayOfWeek.Monday, DayOfWeek.Tuesday, DayOfWeek.Wednesday, DayOfWeek.Thursday, DayOfWeek.Friday];

    private static readonly DayOfWeek[] EveryDay = Enum.GetValues<DayOfWeek>();

    /// <summary>Monday to Friday nights, 22:00 to 06:00 the next morning.</summary>
    private static readonly WorkHours NightShift = new(Weekdays, new TimeOnly(22, 0), new TimeOnly(6, 0));

    private static DateTimeOffset Utc(int year, int month, int day, int hour, int minute = 0, int second = 0) =>
        new(year, month, day, hour, minute, second, TimeSpan.Zero);

    // ---- IsWorking in a non-UTC zone -----------------------------------------------------------------------

    [Theory]
    [InlineData(7, 59, false)]  // 08:59 CET
    [InlineData(8, 0, true)]    // 09:00 CET: start is inclusive
    [InlineData(12, 0, true)]
    [InlineData(15, 59, true)]  // 16:59 CET
    [InlineData(16, 0, false)]  // 17:00 CET: end is exclusive
    public void Working_hours_are_read_in_Berlin_winter_time(int utcHour, int utcMinute, bool expected)
    {
        // Wednesday 15 January 2025; Berlin is UTC+1.
        Assert.Equal(expected, WorkHours.Default.IsWorking(Utc(2025, 1, 15, utcHour, utcMinute), Berlin));
    }

    [Theory]
    [InlineData(6, 59, false)]  // 08:59 CEST
    [InlineData(7, 0, true)]    // 09:00 CEST
    [InlineData(14, 59, true)]  // 16:59 CEST
    [InlineData(15, 0, false)]  // 17:00 CEST
    public void Working_hours_follow_Berlin_summer_time(int utcHour, int utcMinute, bool expected)
    {
        // Wednesday 16 July 2025; Berlin is UTC+2.
        Assert.Equal(expected, WorkHours.Default.IsWorking(Utc(2025, 7, 16, utcHour, utcMinute), Berlin));
    }

    [Theory]
    [InlineData(13, 59, false)] // 08:59 EST
    [InlineData(14, 0, true)]   // 09:00 EST
    [InlineData(21, 59, true)]  // 16:59 EST
    [InlineData(22, 0, false)]  // 17:00 EST
    public void Working_hours_are_read_in_New_York_time(int utcHour, int utcMinute, bool expected)
    {
        Assert.Equal(expected, WorkHours.Default.IsWorking(Utc(2025, 1, 15, utcHour, utcMinute), NewYork));
    }

    [Fact]
    public void The_working_day_is_the_local_day_not_the_utc_day()
    {
        // Sunday 20:30 UTC is Monday 09:30 in Auckland (UTC+13); Friday 20:30 UTC is Saturday 09:30 there.
        Assert.True(WorkHours.Default.IsWorking(Utc(2025, 1, 12, 20, 30), Auckland));
        Assert.False(WorkHours.Default.IsWorking(Utc(2025, 1, 17, 20, 30), Auckland));
    }

    [Fact]
    public void The_offset_an_instant_is_written_with_does_not_matter()
    {
        var utc = Utc(2025, 1, 15, 8, 30);
        var sameInstantInKolkata = utc.ToOffset(new TimeSpan(5, 30, 0));

        Assert.Equal(WorkHours.Default.IsWorking(utc, Berlin), WorkHours.Default.IsWorking(sameInstantInKolkata, Berlin));
        Assert.True(WorkHours.Default.IsWorking(sameInstantInKolkata, Berlin));
    }

    [Fact]
    public void Weekends_are_not_working_days_by_default()
    {
        // Saturday 18 January 2025, 11:00 in Berlin.
        Assert.False(WorkHours.Default.IsWorking(Utc(2025, 1, 18, 10, 0), Berlin));
    }

    // ---- Overnight spans -----------------------------------------------------------------------------------

    [Theory]
    [InlineData(2025, 1, 17, 21, 30, true)]  // Friday 22:30 CET: the evening part of Friday
    [InlineData(2025, 1, 18, 2, 0, true)]    // Saturday 03:00 CET: the morning part belongs to Friday
    [InlineData(2025, 1, 18, 4, 59, true)]   // Saturday 05:59 CET
    [InlineData(2025, 1, 18, 5, 0, false)]   // Saturday 06:00 CET: the span has ended
    [InlineData(2025, 1, 18, 21, 30, false)] // Saturday 22:30 CET: Saturday is not a listed day
    [InlineData(2025, 1, 20, 2, 0, false)]   // Monday 03:00 CET: belongs to Sunday, not listed
    [InlineData(2025, 1, 20, 20, 59, false)] // Monday 21:59 CET
    [InlineData(2025, 1, 20, 21, 0, true)]   // Monday 22:00 CET
    [InlineData(2025, 1, 21, 11, 0, false)]  // Tuesday noon
    public void An_overnight_span_runs_past_midnight_and_belongs_to_the_day_it_started(
        int year, int month, int day, int utcHour, int utcMinute, bool expected)
    {
        Assert.Equal(expected, NightShift.IsWorking(Utc(year, month, day, utcHour, utcMinute), Berlin));
    }

    [Fact]
    public void A_span_that_starts_and_ends_at_the_same_time_is_never_working()
    {
        var hours = new WorkHours(EveryDay, new TimeOnly(9, 0), new TimeOnly(9, 0));

        Assert.False(hours.IsWorking(Utc(2025, 1, 15, 9, 0), TimeZoneInfo.Utc));
        Assert.False(hours.IsWorking(Utc(2025, 1, 15, 12, 0), TimeZoneInfo.Utc));
        Assert.Null(hours.NextBoundary(Utc(2025, 1, 15, 12, 0), TimeZoneInfo.Utc));
    }

    [Fact]
    public void A_schedule_without_days_is_never_working_and_never_changes()
    {
        var hours = new WorkHours([], new TimeOnly(9, 0), new TimeOnly(17, 0));

        Assert.False(hours.IsWorking(Utc(2025, 1, 15, 12, 0), Berlin));
        Assert.Null(hours.NextBoundary(Utc(2025, 1, 15, 12, 0), Berlin));
    }

    // ---- NextBoundary --------------------------------------------------------------------------------------

    [Fact]
    public void Next_boundary_while_working_is_the_end_of_the_day()
    {
        Assert.Equal(Utc(2025, 1, 15, 16, 0), WorkHours.Default.NextBoundary(Utc(2025, 1, 15, 10, 0), Berlin));
    }

    [Fact]
    public void Next_boundary_in_the_evening_is_the_next_morning()
    {
        Assert.Equal(Utc(2025, 1, 16, 8, 0), WorkHours.Default.NextBoundary(Utc(2025, 1, 15, 20, 0), Berlin));
    }

    [Fact]
    public void Next_boundary_is_strictly_after_the_instant_even_on_a_boundary()
    {
        Assert.Equal(Utc(2025, 1, 15, 16, 0), WorkHours.Default.NextBoundary(Utc(2025, 1, 15, 8, 0), Berlin));
        Assert.Equal(Utc(2025, 1, 16, 8, 0), WorkHours.Default.NextBoundary(Utc(2025, 1, 15, 16, 0), Berlin));
    }

    [Fact]
    public void Next_boundary_on_friday_evening_skips_the_weekend()
    {
        Assert.Equal(Utc(2025, 1, 20, 8, 0), WorkHours.Default.NextBoundary(Utc(2025, 1, 17, 16, 0), Berlin));
    }

    [Fact]
    public void Next_boundary_across_the_spring_forward_weekend_uses_summer_time_in_Berlin()
    {
        // Friday 28 March 2025 17:00 CET; clocks go forward on Sunday 30 March; Monday 09:00 CEST is 07:00 UTC.
        Assert.Equal(Utc(2025, 3, 31, 7, 0), WorkHours.Default.NextBoundary(Utc(2025, 3, 28, 16, 0), Berlin));
    }

    [Fact]
    public void Next_boundary_across_the_fall_back_weekend_uses_winter_time_in_Berlin()
    {
        // Friday 24 October 2025 17:00 CEST; clocks go back on Sunday 26 October; Monday 09:00 CET is 08:00 UTC.
        Assert.Equal(Utc(2025, 10, 27, 8, 0), WorkHours.Default.NextBoundary(Utc(2025, 10, 24, 15, 0), Berlin));
    }

    [Fact]
    public void Next_boundary_across_the_spring_forward_weekend_uses_daylight_time_in_New_York()
    {
        // Friday 7 March 2025 17:00 EST; clocks go forward on Sunday 9 March; Monday 09:00 EDT is 13:00 UTC.
        Assert.Equal(Utc(2025, 3, 10, 13, 0), WorkHours.Default.NextBoundary(Utc(2025, 3, 7, 22, 0), NewYork));
    }

    [Fact]
    public void Next_boundary_across_the_fall_back_weekend_uses_standard_time_in_New_York()
    {
        // Friday 31 October 2025 17:00 EDT; clocks go back on Sunday 2 November; Monday 09:00 EST is 14:00 UTC.
        Assert.Equal(Utc(2025, 11, 3, 14, 0), WorkHours.Default.NextBoundary(Utc(2025, 10, 31, 21, 0), NewYork));
    }

    [Fact]
    public void Next_boundaries_on_the_day_clocks_go_forward_use_the_new_offset()
    {
        var everyMorning = new WorkHours(EveryDay, new TimeOnly(8, 0), new TimeOnly(12, 0));

        // Sunday 30 March 2025, 01:00 CET (before the change at 02:00 CET).
        var start = everyMorning.NextBoundary(Utc(2025, 3, 30, 0, 0), Berlin);
        Assert.Equal(Utc(2025, 3, 30, 6, 0), start); // 08:00 CEST
        Assert.Equal(Utc(2025, 3, 30, 10, 0), everyMorning.NextBoundary(start!.Value, Berlin)); // 12:00 CEST
    }

    [Fact]
    public void Next_boundaries_on_the_day_clocks_go_back_use_the_new_offset()
    {
        var everyMorning = new WorkHours(EveryDay, new TimeOnly(8, 0), new TimeOnly(12, 0));

        // Sunday 26 October 2025, 01:00 CEST (before the change at 03:00 CEST).
        var start = everyMorning.NextBoundary(Utc(2025, 10, 25, 23, 0), Berlin);
        Assert.Equal(Utc(2025, 10, 26, 7, 0), start); // 08:00 CET
        Assert.Equal(Utc(2025, 10, 26, 11, 0), everyMorning.NextBoundary(start!.Value, Berlin)); // 12:00 CET
    }

    [Fact]
    public void Next_boundary_of_an_overnight_span_while_working_after_midnight_is_the_morning_end()
    {
        // Tuesday 21 January 2025, 03:00 CET (the morning part of Monday's night).
        Assert.Equal(Utc(2025, 1, 21, 5, 0), NightShift.NextBoundary(Utc(2025, 1, 21, 2, 0), Berlin));
    }

    [Fact]
    public void Next_boundary_of_an_overnight_span_on_saturday_is_monday_night()
    {
        // Saturday 18 January 2025, 08:00 CET → Monday 20 January, 22:00 CET.
        Assert.Equal(Utc(2025, 1, 20, 21, 0), NightShift.NextBoundary(Utc(2025, 1, 18, 7, 0), Berlin));
    }

    [Fact]
    public void Next_boundary_always_flips_is_working()
    {
        var instants = new[]
        {
            Utc(2025, 1, 15, 10, 0), Utc(2025, 1, 17, 23, 0), Utc(2025, 3, 29, 12, 0), Utc(2025, 10, 25, 12, 0),
            Utc(2025, 11, 1, 12, 0), Utc(2025, 3, 8, 12, 0),
        };
        foreach (var zone in new[] { Berlin, NewYork, Auckland, TimeZoneInfo.Utc })
        {
            foreach (var hours in new[] { WorkHours.Default, NightShift })
            {
                foreach (var instant in instants)
                {
                    var next = hours.NextBoundary(instant, zone);
                    Assert.NotNull(next);
                    Assert.True(next > instant);
                    Assert.NotEqual(hours.IsWorking(instant, zone), hours.IsWorking(next.Value, zone));
                    // Nothing changes in between (sampled every ten minutes, and one tick before the boundary).
                    for (var t = instant; t < next.Value; t = t.AddMinutes(10))
                    {
                        Assert.Equal(hours.IsWorking(instant, zone), hours.IsWorking(t, zone));
                    }
                    Assert.Equal(hours.IsWorking(instant, zone), hours.IsWorking(next.Value.AddTicks(-1), zone));
                }
            }
        }
    }

    [Fact]
    public void Next_boundary_for_a_start_inside_the_spring_forward_gap_is_the_end_of_the_gap()
    {
        var hours = new WorkHours(EveryDay, new TimeOnly(2, 30), new TimeOnly(10, 0));
        var before = Utc(2025, 3, 30, 0, 0); // 01:00 CET, not working

        // At 01:00 UTC local time jumps from 02:00 CET to 03:00 CEST, already past the 02:30 start.
        Assert.False(hours.IsWorking(Utc(2025, 3, 30, 0, 59, 59), Berlin));
        Assert.True(hours.IsWorking(Utc(2025, 3, 30, 1, 0), Berlin));
        Assert.Equal(Utc(2025, 3, 30, 1, 0), hours.NextBoundary(before, Berlin));
    }

    [Fact]
    public void Next_boundary_for_a_start_inside_the_repeated_fall_back_hour_is_its_first_occurrence()
    {
        var hours = new WorkHours(EveryDay, new TimeOnly(1, 30), new TimeOnly(9, 0));
        var before = Utc(2025, 11, 2, 4, 0); // 00:00 EDT, not working

        // 05:30 UTC is 01:30 EDT, the first time the clock shows 01:30 that night.
        Assert.False(hours.IsWorking(Utc(2025, 11, 2, 5, 29), NewYork));
        Assert.True(hours.IsWorking(Utc(2025, 11, 2, 5, 30), NewYork));
        Assert.Equal(Utc(2025, 11, 2, 5, 30), hours.NextBoundary(before, NewYork));
    }

    // ---- Time zone lookup ----------------------------------------------------------------------------------

    [Theory]
    [InlineData("Mars/Olympus_Mons")]
    [InlineData("Not a zone")]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(null)]
    public void An_unknown_time_zone_id_falls_back_to_utc(string? id)
    {
        Assert.Same(TimeZoneInfo.Utc, TimeZones.Find(id));
        Assert.False(TimeZones.IsKnown(id));
    }

    [Theory]
    [InlineData("Europe/Berlin")]
    [InlineData("America/New_York")]
    [InlineData("UTC")]
    public void A_known_iana_time_zone_id_is_found(string id)
    {
        Assert.True(TimeZones.IsKnown(id));
        Assert.Equal(id, TimeZones.Find(id).Id);
    }

    [Fact]
    public void A_windows_time_zone_id_is_found_too()
    {
        var zone = TimeZones.Find("W. Europe Standard Time");

        Assert.Equal(TimeSpan.FromHours(1), zone.BaseUtcOffset);
    }

    [Fact]
    public void Work_hours_in_an_unknown_zone_are_read_in_utc()
    {
        var zone = TimeZones.Find("Atlantis/Capital");

        Assert.False(WorkHours.Default.IsWorking(Utc(2025, 1, 15, 8, 59), zone));
        Assert.True(WorkHours.Default.IsWorking(Utc(2025, 1, 15, 9, 0), zone));
        Assert.Equal(Utc(2025, 1, 15, 17, 0), WorkHours.Default.NextBoundary(Utc(2025, 1, 15, 9, 0), zone));
    }

    [Fact]
    public void Default_work_hours_are_monday_to_friday_nine_to_five()
    {
        Assert.Equal(Weekdays, WorkHours.Default.Days);
        Assert.Equal(new TimeOnly(9, 0), WorkHours.Default.Start);
        Assert.Equal(new TimeOnly(17, 0), WorkHours.Default.End);
    }
}
