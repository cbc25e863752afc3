using Herald.Core.Model;
using Herald.Core.Presence;
using static Herald.Core.Tests.Presence.SourceBuilder;

namespace Herald.Core.Tests.Presence;

/// <summary>One test per precedence rule of docs/presence-model.md.</summary>
public sealed class AggregationPrecedenceTests
{
    private static AggregatedPresence Aggregate(PresenceSources sources, DateTimeOffset? at = null, AggregationSettings? settings = null) =>
        PresenceAggregator.Aggregate(sources, settings ?? Settings, at ?? Now);

    // ---- 1. Preferred status -------------------------------------------------------------------------------

    [Fact]
    public void Preferred_do_not_disturb_beats_an_available_device()
    {
        var result = Aggregate(Sources(
            preferred: Preferred(Availability.DoNotDisturb),
            devices: [Device("desk", Availability.Available)]));

        Assert.Equal(Availability.DoNotDisturb, result.Availability);
        Assert.Equal(SourceKind.Preferred, result.Provenance.Source);
    }

    [Fact]
    public void Preferred_available_beats_a_live_integration_call()
    {
        var result = Aggregate(Sources(
            preferred: Preferred(Availability.Available),
            leases: [Lease("phone", Activity.InACall, Now.AddMinutes(-2))]));

        Assert.Equal(Availability.Available, result.Availability);
        Assert.Equal(SourceKind.Preferred, result.Provenance.Source);
        Assert.Null(result.Activity);
    }

    [Fact]
    public void Preferred_away_beats_a_busy_device_even_though_busy_is_ranked_higher_among_devices()
    {
        var result = Aggregate(Sources(
            preferred: Preferred(Availability.Away),
            devices: [Device("desk", Availability.Busy)]));

        Assert.Equal(Availability.Away, result.Availability);
    }

    [Fact]
    public void Integration_call_beats_a_device_reporting_available()
    {
        var result = Aggregate(Sources(
            devices: [Device("desk", Availability.Available)],
            leases: [Lease("phone", Activity.InACall, Now.AddMinutes(-2))]));

        Assert.Equal(Availability.Busy, result.Availability);
        Assert.Equal(Activity.InACall, result.Activity);
        Assert.Equal(SourceKind.Integration, result.Provenance.Source);
    }

    [Fact]
    public void Integration_meeting_beats_a_device_reporting_do_not_disturb()
    {
        var result = Aggregate(Sources(
            devices: [Device("desk", Availability.DoNotDisturb)],
            leases: [Lease("conf", Activity.InAMeeting, Now.AddMinutes(-2))]));

        Assert.Equal(Availability.Busy, result.Availability);
        Assert.Equal(Activity.InAMeeting, result.Activity);
        Assert.Equal(SourceKind.Integration, result.Provenance.Source);
    }

    [Fact]
    public void Integration_activity_counts_without_any_live_device()
    {
        var result = Aggregate(Sources(leases: [Lease("phone", Activity.InACall, Now.AddMinutes(-2))]));

        Assert.Equal(Availability.Busy, result.Availability);
        Assert.Empty(result.Devices);
        Assert.Null(result.LastSeen);
    }

    [Fact]
    public void Expired_preferred_status_never_wins()
    {
        var result = Aggregate(Sources(
            preferred: Preferred(Availability.DoNotDisturb, until: Now.AddMinutes(-1)),
            devices: [Device("desk", Availability.Available)]));

        Assert.Equal(Availability.Available, result.Availability);
        Assert.Equal(SourceKind.Device, result.Provenance.Source);
    }

    [Fact]
    public void Preferred_status_expires_exactly_at_its_until_instant()
    {
        var result = Aggregate(Sources(
            preferred: Preferred(Availability.DoNotDisturb, until: Now),
            devices: [Device("desk", Availability.Available)]));

        Assert.Equal(Availability.Available, result.Availability);
    }

    [Fact]
    public void Preferred_status_still_holds_one_tick_before_its_until_instant()
    {
        var result = Aggregate(Sources(
            preferred: Preferred(Availability.DoNotDisturb, until: Now.AddTicks(1)),
            devices: [Device("desk", Availability.Available)]));

        Assert.Equal(Availability.DoNotDisturb, result.Availability);
    }

    [Fact]
    public void Expired_appear_offline_lets_a_live_device_show_again()
    {
        var result = Aggregate(Sources(
            preferred: Preferred(Availability.Offline, until: Now.AddSeconds(-1)),
            devices: [Device("desk", Availability.Available)]));

        Assert.Equal(Availability.Available, result.Availability);
        Assert.False(result.AppearOffline);
        Assert.Null(result.ApparentLastSeen);
    }

    [Theory]
    [InlineData(Activity.Focusing, Availability.DoNotDisturb)]
    [InlineData(Activity.InAMeeting, Availability.Busy)]
    [InlineData(Activity.Commuting, Availability.Away)]
    public void Preferred_activity_without_availability_shows_the_availability_the_activity_implies(Activity activity, Availability expected)
    {
        var result = Aggregate(Sources(preferred: Preferred(null, activity)));

        Assert.Equal(expected, result.Availability);
        Assert.Equal(activity, result.Activity);
    }

    [Fact]
    public void Preferred_status_with_neither_availability_nor_activity_shows_available()
    {
        var result = Aggregate(Sources(preferred: Preferred(null)));

        Assert.Equal(Availability.Available, result.Availability);
    }

    // ---- Appear offline ------------------------------------------------------------------------------------

    [Fact]
    public void Appear_offline_yields_offline_flagged_as_appear_offline_with_apparent_last_seen_at_the_moment_it_was_set()
    {
        var setAt = Now.AddMinutes(-20);
        var result = Aggregate(Sources(
            preferred: Preferred(Availability.Offline, setAt: setAt, until: Now.AddDays(6)),
            devices: [Device("desk", Availability.Available)],
            leases: [Lease("phone", Activity.InACall, Now.AddMinutes(-1))]));

        Assert.Equal(Availability.Offline, result.Availability);
        Assert.True(result.AppearOffline);
        Assert.Equal(setAt, result.ApparentLastSeen);
        Assert.Null(result.Activity);
        Assert.Equal(SourceKind.Preferred, result.Provenance.Source);
        Assert.Equal(setAt, result.Provenance.Since);
    }

    [Fact]
    public void Appear_offline_hides_the_activity_chosen_with_it()
    {
        var result = Aggregate(Sources(preferred: Preferred(Availability.Offline, Activity.Focusing)));

        Assert.Equal(Availability.Offline, result.Availability);
        Assert.Null(result.Activity);
    }

    [Fact]
    public void Appear_offline_set_while_already_disconnected_keeps_the_real_last_seen()
    {
        var lastHeartbeat = Now.AddHours(-3);
        var setAt = Now.AddHours(-1);
        // The grain freezes the last-seen it had when the person chose appear offline (LastSeenAtSet).
        var result = Aggregate(Sources(
            preferred: Preferred(Availability.Offline, setAt: setAt) with { LastSeenAtSet = lastHeartbeat },
            lastSeen: lastHeartbeat));

        Assert.True(result.AppearOffline);
        Assert.Equal(lastHeartbeat, result.ApparentLastSeen);
    }

    [Fact]
    public void Appear_offline_apparent_last_seen_never_moves_past_the_moment_it_was_set()
    {
        var setAt = Now.AddHours(-1);
        // The device disconnected after the person chose to appear offline.
        var result = Aggregate(Sources(
            preferred: Preferred(Availability.Offline, setAt: setAt),
            devices: [Device("desk", lastHeartbeat: Now.AddMinutes(-30))]));

        Assert.Equal(setAt, result.ApparentLastSeen);
    }

    [Fact]
    public void Appear_offline_apparent_last_seen_stays_frozen_when_a_device_connects_later()
    {
        var lastHeartbeat = Now.AddHours(-3);
        var setAt = Now.AddHours(-1);
        var preferred = Preferred(Availability.Offline, setAt: setAt) with { LastSeenAtSet = lastHeartbeat };

        var beforeConnect = Aggregate(Sources(preferred: preferred, lastSeen: lastHeartbeat));
        var afterConnect = Aggregate(Sources(preferred: preferred, lastSeen: lastHeartbeat, devices: [Device("desk")]));

        Assert.Equal(lastHeartbeat, beforeConnect.ApparentLastSeen);
        Assert.Equal(beforeConnect.ApparentLastSeen, afterConnect.ApparentLastSeen);
    }

    // ---- 2. Integration activities -------------------------------------------------------------------------

    [Fact]
    public void Presenting_beats_a_call_that_started_later()
    {
        var result = Aggregate(Sources(leases:
        [
            Lease("conf", Activity.Presenting, Now.AddMinutes(-20)),
            Lease("phone", Activity.InACall, Now.AddMinutes(-1)),
        ]));

        Assert.Equal(Activity.Presenting, result.Activity);
        Assert.Equal(Availability.DoNotDisturb, result.Availability);
        Assert.Equal("conf", result.Provenance.SourceId);
    }

    [Fact]
    public void A_call_beats_a_meeting_that_started_later()
    {
        var result = Aggregate(Sources(leases:
        [
            Lease("calendar-room", Activity.InAMeeting, Now.AddMinutes(-1)),
            Lease("phone", Activity.InACall, Now.AddMinutes(-20)),
        ]));

        Assert.Equal(Activity.InACall, result.Activity);
        Assert.Equal(Availability.Busy, result.Availability);
        Assert.Equal("phone", result.Provenance.SourceId);
    }

    [Fact]
    public void A_conference_call_beats_a_meeting()
    {
        var result = Aggregate(Sources(leases:
        [
            Lease("room", Activity.InAMeeting, Now.AddMinutes(-1)),
            Lease("bridge", Activity.InAConferenceCall, Now.AddMinutes(-30)),
        ]));

        Assert.Equal(Activity.InAConferenceCall, result.Activity);
    }

    [Fact]
    public void Presenting_beats_a_call_beats_a_meeting_whatever_order_they_are_listed_in()
    {
        ActivityLease[] leases =
        [
            Lease("room", Activity.InAMeeting, Now.AddMinutes(-3)),
            Lease("phone", Activity.InACall, Now.AddMinutes(-2)),
            Lease("screen", Activity.Presenting, Now.AddMinutes(-1)),
        ];

        Assert.Equal(Activity.Presenting, Aggregate(Sources(leases: leases)).Activity);
        Assert.Equal(Activity.Presenting, Aggregate(Sources(leases: leases.Reverse())).Activity);
        Assert.Equal(Activity.InACall, Aggregate(Sources(leases: leases[..2])).Activity);
        Assert.Equal(Activity.InACall, Aggregate(Sources(leases: leases[..2].Reverse())).Activity);
    }

    [Fact]
    public void Equally_strong_activities_are_decided_by_the_latest_start()
    {
        var result = Aggregate(Sources(leases:
        [
            Lease("phone", Activity.InACall, Now.AddMinutes(-10)),
            Lease("bridge", Activity.InAConferenceCall, Now.AddMinutes(-2)),
        ]));

        Assert.Equal(Activity.InAConferenceCall, result.Activity);
        Assert.Equal("bridge", result.Provenance.SourceId);
    }

    [Fact]
    public void Two_meetings_are_decided_by_the_latest_start()
    {
        var result = Aggregate(Sources(leases:
        [
            Lease("room-b", Activity.InAMeeting, Now.AddMinutes(-1)),
            Lease("room-a", Activity.InAMeeting, Now.AddMinutes(-30)),
        ]));

        Assert.Equal("room-b", result.Provenance.SourceId);
        Assert.Equal(Now.AddMinutes(-1), result.Provenance.Since);
    }

    [Fact]
    public void Lapsed_integration_lease_no_longer_counts()
    {
        var result = Aggregate(Sources(
            devices: [Device("desk", Availability.Available)],
            leases: [Lease("phone", Activity.InACall, Now.AddMinutes(-10), expiresAt: Now)]));

        Assert.Equal(Availability.Available, result.Availability);
        Assert.Equal(SourceKind.Device, result.Provenance.Source);
    }

    [Fact]
    public void A_lapsed_call_does_not_beat_a_live_meeting()
    {
        var result = Aggregate(Sources(leases:
        [
            Lease("phone", Activity.InACall, Now.AddMinutes(-10), expiresAt: Now.AddSeconds(-1)),
            Lease("room", Activity.InAMeeting, Now.AddMinutes(-30)),
        ]));

        Assert.Equal(Activity.InAMeeting, result.Activity);
        Assert.Equal("room", result.Provenance.SourceId);
    }

    // ---- 4. Devices ----------------------------------------------------------------------------------------

    [Theory]
    [InlineData(Availability.DoNotDisturb)]
    [InlineData(Availability.Busy)]
    public void Busy_or_do_not_disturb_from_any_active_device_beats_available_devices(Availability disruption)
    {
        var result = Aggregate(Sources(devices:
        [
            Device("a-desk", Availability.Available, lastHeartbeat: Now.AddSeconds(-1)),
            Device("b-phone", disruption, lastHeartbeat: Now.AddSeconds(-50)),
            Device("c-web", Availability.Available, lastHeartbeat: Now.AddSeconds(-2)),
        ]));

        Assert.Equal(disruption, result.Availability);
        Assert.Equal("b-phone", result.Provenance.SourceId);
    }

    [Fact]
    public void Do_not_disturb_beats_busy_across_devices()
    {
        var result = Aggregate(Sources(devices:
        [
            Device("desk", Availability.Busy, lastHeartbeat: Now.AddSeconds(-1)),
            Device("phone", Availability.DoNotDisturb, lastHeartbeat: Now.AddSeconds(-30)),
        ]));

        Assert.Equal(Availability.DoNotDisturb, result.Availability);
        Assert.Equal("phone", result.Provenance.SourceId);
    }

    [Theory]
    [InlineData(new[] { Availability.Away, Availability.BeRightBack, Availability.Available }, Availability.Available)]
    [InlineData(new[] { Availability.Available, Availability.Away }, Availability.Available)]
    [InlineData(new[] { Availability.Away, Availability.BeRightBack }, Availability.BeRightBack)]
    [InlineData(new[] { Availability.BeRightBack, Availability.Away }, Availability.BeRightBack)]
    [InlineData(new[] { Availability.Away, Availability.Away }, Availability.Away)]
    public void The_most_reachable_active_device_decides_among_available_be_right_back_and_away(Availability[] reported, Availability expected)
    {
        var devices = reported.Select((a, i) => Device($"device-{i}", a, lastHeartbeat: Now.AddSeconds(-1 - i)));

        Assert.Equal(expected, Aggregate(Sources(devices: devices)).Availability);
    }

    [Fact]
    public void Among_equally_reachable_devices_the_latest_heartbeat_wins()
    {
        var result = Aggregate(Sources(devices:
        [
            Device("a-desk", Availability.Available, lastHeartbeat: Now.AddSeconds(-40)),
            Device("b-phone", Availability.Available, lastHeartbeat: Now.AddSeconds(-5)),
        ]));

        Assert.Equal("b-phone", result.Provenance.SourceId);
    }

    [Fact]
    public void An_idle_device_counts_as_away()
    {
        var idleSince = Now.AddMinutes(-6);
        var result = Aggregate(Sources(devices: [Device("desk", Availability.Available, idleSince: idleSince)]));

        Assert.Equal(Availability.Away, result.Availability);
        var summary = Assert.Single(result.Devices);
        Assert.True(summary.Idle);
        Assert.Equal(Availability.Away, summary.Availability);
        Assert.Equal(idleSince, summary.IdleSince);
    }

    [Fact]
    public void An_idle_device_never_downgrades_an_active_one()
    {
        var result = Aggregate(Sources(devices:
        [
            Device("desk", Availability.Available, idleSince: Now.AddMinutes(-30), lastHeartbeat: Now.AddSeconds(-1)),
            Device("phone", Availability.BeRightBack, lastHeartbeat: Now.AddSeconds(-40)),
        ]));

        Assert.Equal(Availability.BeRightBack, result.Availability);
        Assert.Equal("phone", result.Provenance.SourceId);
    }

    [Fact]
    public void An_idle_device_reporting_do_not_disturb_does_not_override_an_active_available_device()
    {
        var result = Aggregate(Sources(devices:
        [
            Device("desk", Availability.DoNotDisturb, idleSince: Now.AddMinutes(-30)),
            Device("phone", Availability.Available),
        ]));

        Assert.Equal(Availability.Available, result.Availability);
        Assert.Equal("phone", result.Provenance.SourceId);
    }

    [Fact]
    public void A_device_idle_for_exactly_the_threshold_counts_as_idle()
    {
        var result = Aggregate(Sources(devices: [Device("desk", Availability.Available, idleSince: Now - Settings.IdleThreshold)]));

        Assert.Equal(Availability.Away, result.Availability);
        Assert.True(Assert.Single(result.Devices).Idle);
    }

    [Fact]
    public void A_device_idle_for_less_than_the_threshold_is_still_active()
    {
        var result = Aggregate(Sources(devices:
            [Device("desk", Availability.Available, idleSince: Now - Settings.IdleThreshold + TimeSpan.FromSeconds(1))]));

        Assert.Equal(Availability.Available, result.Availability);
        Assert.False(Assert.Single(result.Devices).Idle);
    }

    [Fact]
    public void All_devices_idle_yields_away_decided_by_the_most_recently_idle_device()
    {
        var result = Aggregate(Sources(devices:
        [
            Device("desk", Availability.DoNotDisturb, idleSince: Now.AddMinutes(-40)),
            Device("phone", Availability.Available, idleSince: Now.AddMinutes(-7)),
        ]));

        Assert.Equal(Availability.Away, result.Availability);
        Assert.Null(result.Activity);
        Assert.Equal(SourceKind.Device, result.Provenance.Source);
        Assert.Equal("phone", result.Provenance.SourceId);
        Assert.Equal(Now.AddMinutes(-7), result.Provenance.Since);
        Assert.Null(result.LastSeen);
    }

    [Fact]
    public void A_device_in_a_call_implies_busy()
    {
        var result = Aggregate(Sources(devices:
        [
            Device("desk", Availability.Available),
            Device("softphone", availability: null, activity: Activity.InACall),
        ]));

        Assert.Equal(Availability.Busy, result.Availability);
        Assert.Equal(Activity.InACall, result.Activity);
        Assert.Equal("softphone", result.Provenance.SourceId);
    }

    [Fact]
    public void A_device_presenting_implies_do_not_disturb()
    {
        var result = Aggregate(Sources(devices: [Device("desk", availability: null, activity: Activity.Presenting)]));

        Assert.Equal(Availability.DoNotDisturb, result.Availability);
        Assert.Equal(Activity.Presenting, result.Activity);
    }

    [Fact]
    public void A_device_with_neither_availability_nor_activity_reports_available()
    {
        var result = Aggregate(Sources(devices: [Device("desk", availability: null)]));

        Assert.Equal(Availability.Available, result.Availability);
    }

    [Fact]
    public void A_device_explicit_availability_is_stronger_than_the_one_its_activity_implies()
    {
        var result = Aggregate(Sources(devices: [Device("desk", Availability.Available, Activity.InACall)]));

        Assert.Equal(Availability.Available, result.Availability);
        Assert.Equal(Activity.InACall, result.Activity);
    }

    // ---- Grace window --------------------------------------------------------------------------------------

    [Fact]
    public void A_device_past_its_lease_but_within_the_grace_window_still_counts()
    {
        var expiresAt = Now.AddSeconds(-10); // grace is 15 s
        var result = Aggregate(Sources(devices: [Device("desk", Availability.Busy, lastHeartbeat: expiresAt - Ttl, expiresAt: expiresAt)]));

        Assert.Equal(Availability.Busy, result.Availability);
        Assert.Equal(SourceKind.Device, result.Provenance.Source);
        Assert.Equal("desk", Assert.Single(result.Devices).DeviceId);
    }

    [Fact]
    public void A_device_at_the_end_of_its_grace_window_no_longer_counts()
    {
        var expiresAt = Now - Settings.GraceWindow;
        var result = Aggregate(Sources(devices: [Device("desk", Availability.Busy, lastHeartbeat: expiresAt - Ttl, expiresAt: expiresAt)]));

        Assert.Equal(Availability.Offline, result.Availability);
        Assert.Empty(result.Devices);
    }

    [Fact]
    public void A_longer_grace_window_keeps_a_lapsed_device_alive()
    {
        var expiresAt = Now.AddSeconds(-30);
        var sources = Sources(devices: [Device("desk", lastHeartbeat: expiresAt - Ttl, expiresAt: expiresAt)]);

        Assert.Equal(Availability.Offline, Aggregate(sources).Availability);
        Assert.Equal(Availability.Available,
            Aggregate(sources, settings: Settings with { GraceWindow = TimeSpan.FromMinutes(1) }).Availability);
    }

    [Fact]
    public void A_device_past_the_grace_window_gives_way_to_a_less_reachable_live_device()
    {
        var result = Aggregate(Sources(devices:
        [
            Device("desk", Availability.DoNotDisturb, lastHeartbeat: Now.AddMinutes(-5), expiresAt: Now.AddMinutes(-4)),
            Device("phone", Availability.Away),
        ]));

        Assert.Equal(Availability.Away, result.Availability);
        Assert.Equal("phone", result.Provenance.SourceId);
        Assert.Equal("phone", Assert.Single(result.Devices).DeviceId);
    }

    [Fact]
    public void A_heartbeat_that_only_renews_the_lease_changes_nothing_anyone_sees()
    {
        var before = Aggregate(Sources(devices: [Device("desk", Availability.Busy, lastHeartbeat: Now.AddSeconds(-50))]));
        var after = Aggregate(Sources(devices: [Device("desk", Availability.Busy, lastHeartbeat: Now.AddSeconds(-1))]));

        Assert.True(before.SameStateAs(after));
        Assert.NotEqual(before.NextChangeAt, after.NextChangeAt);
    }

    // ---- 5. No live source ---------------------------------------------------------------------------------

    [Fact]
    public void No_live_source_yields_offline_with_last_seen_at_the_last_heartbeat()
    {
        var lastHeartbeat = Now.AddMinutes(-10);
        var result = Aggregate(Sources(
            devices: [Device("desk", lastHeartbeat: lastHeartbeat)],
            lastSeen: Now.AddDays(-1)));

        Assert.Equal(Availability.Offline, result.Availability);
        Assert.Equal(lastHeartbeat, result.LastSeen);
        Assert.Equal(lastHeartbeat, result.ApparentLastSeen);
        Assert.Equal(SourceKind.None, result.Provenance.Source);
        Assert.Null(result.Provenance.SourceId);
        Assert.Equal(lastHeartbeat, result.Provenance.Since);
        Assert.False(result.AppearOffline);
        Assert.Null(result.Activity);
    }

    [Fact]
    public void No_live_source_keeps_a_recorded_last_seen_later_than_any_remaining_heartbeat()
    {
        var recorded = Now.AddMinutes(-3);
        var result = Aggregate(Sources(
            devices: [Device("desk", lastHeartbeat: Now.AddMinutes(-10))],
            lastSeen: recorded));

        Assert.Equal(recorded, result.LastSeen);
    }

    [Fact]
    public void No_source_at_all_yields_offline_without_last_seen()
    {
        var result = Aggregate(PresenceSources.Empty);

        Assert.Equal(Availability.Offline, result.Availability);
        Assert.Null(result.LastSeen);
        Assert.Equal(SourceKind.None, result.Provenance.Source);
        Assert.Null(result.NextChangeAt);
        Assert.Empty(result.Devices);
        Assert.False(result.OffHours);
        Assert.False(result.DayOff);
    }

    [Fact]
    public void Live_sources_show_no_last_seen()
    {
        var result = Aggregate(Sources(devices: [Device("desk")], lastSeen: Now.AddDays(-1)));

        Assert.Null(result.LastSeen);
        Assert.Null(result.ApparentLastSeen);
    }

    [Fact]
    public void Outside_work_hours_with_no_live_source_yields_off_work_with_schedule_provenance()
    {
        var evening = new DateTimeOffset(2025, 1, 15, 20, 0, 0, TimeSpan.Zero); // Wednesday
        var lastSeen = evening.AddHours(-3);
        var settings = Settings with { WorkHours = WorkHours.Default };

        var result = Aggregate(Sources(lastSeen: lastSeen), evening, settings);

        Assert.Equal(Availability.OffWork, result.Availability);
        Assert.True(result.OffHours);
        Assert.Equal(SourceKind.Schedule, result.Provenance.Source);
        Assert.Null(result.Provenance.SourceId);
        Assert.Equal(new DateTimeOffset(2025, 1, 16, 9, 0, 0, TimeSpan.Zero), result.Provenance.Until);
        Assert.Equal(lastSeen, result.LastSeen);
    }

    [Fact]
    public void Outside_work_hours_in_the_person_time_zone_yields_off_work()
    {
        // 07:30 UTC is 08:30 in Berlin: not yet working there.
        var instant = new DateTimeOffset(2025, 1, 15, 7, 30, 0, TimeSpan.Zero);
        var settings = Settings with { WorkHours = WorkHours.Default, TimeZone = TimeZones.Find("Europe/Berlin") };

        var result = Aggregate(PresenceSources.Empty, instant, settings);

        Assert.Equal(Availability.OffWork, result.Availability);
        Assert.Equal(new DateTimeOffset(2025, 1, 15, 8, 0, 0, TimeSpan.Zero), result.Provenance.Until);
    }

    [Fact]
    public void Inside_work_hours_with_no_live_source_yields_offline()
    {
        var settings = Settings with { WorkHours = WorkHours.Default };

        var result = Aggregate(PresenceSources.Empty, settings: settings);

        Assert.Equal(Availability.Offline, result.Availability);
        Assert.False(result.OffHours);
    }

    [Fact]
    public void Outside_work_hours_a_live_device_still_decides_but_the_person_is_flagged_off_hours()
    {
        var evening = new DateTimeOffset(2025, 1, 15, 20, 0, 0, TimeSpan.Zero);
        var settings = Settings with { WorkHours = WorkHours.Default };

        var result = Aggregate(Sources(devices: [Device("desk", lastHeartbeat: evening.AddSeconds(-5))]), evening, settings);

        Assert.Equal(Availability.Available, result.Availability);
        Assert.True(result.OffHours);
        Assert.Equal(SourceKind.Device, result.Provenance.Source);
    }

    // ---- Provenance ----------------------------------------------------------------------------------------

    [Fact]
    public void Provenance_of_a_preferred_status_names_when_it_was_set_and_until_when_it_holds()
    {
        var setAt = Now.AddMinutes(-45);
        var until = Now.AddHours(5);
        var result = Aggregate(Sources(preferred: Preferred(Availability.Busy, setAt: setAt, until: until)));

        Assert.Equal(SourceKind.Preferred, result.Provenance.Source);
        Assert.Null(result.Provenance.SourceId);
        Assert.Equal(setAt, result.Provenance.Since);
        Assert.Equal(until, result.Provenance.Until);
        Assert.False(string.IsNullOrWhiteSpace(result.Provenance.Reason));
    }

    [Fact]
    public void Provenance_of_an_integration_names_the_integration_its_start_and_its_lease_expiry()
    {
        var started = Now.AddMinutes(-12);
        var expires = Now.AddMinutes(3);
        var result = Aggregate(Sources(leases: [Lease("pbx-1", Activity.InACall, started, expires, "Office PBX")]));

        Assert.Equal(SourceKind.Integration, result.Provenance.Source);
        Assert.Equal("pbx-1", result.Provenance.SourceId);
        Assert.Equal(started, result.Provenance.Since);
        Assert.Equal(expires, result.Provenance.Until);
        Assert.Contains("Office PBX", result.Provenance.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Provenance_of_a_device_names_the_device_and_since_when_it_reports_its_state()
    {
        var stateSince = Now.AddMinutes(-17);
        var result = Aggregate(Sources(devices:
        [
            Device("laptop-7", Availability.Busy, stateSince: stateSince, kind: DeviceKind.Desktop),
            Device("phone-2", Availability.Available, stateSince: Now.AddMinutes(-2), kind: DeviceKind.Mobile),
        ]));

        Assert.Equal(SourceKind.Device, result.Provenance.Source);
        Assert.Equal("laptop-7", result.Provenance.SourceId);
        Assert.Equal(stateSince, result.Provenance.Since);
        Assert.Contains("laptop-7", result.Provenance.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_device_reason_always_names_that_device_its_kind_and_its_state_even_after_many_other_devices()
    {
        // The aggregator keeps recently built reasons; across hundreds of devices, kinds and states (more than its
        // slots, so entries are replaced and collide) each reason must still be the winning device's own.
        var availabilities = new[] { Availability.Available, Availability.Busy, Availability.DoNotDisturb };
        var kinds = new[] { DeviceKind.Desktop, DeviceKind.Mobile, DeviceKind.DeskPhone };
        for (var round = 0; round < 3; round++)
        {
            for (var i = 0; i < 300; i++)
            {
                var availability = availabilities[(i + round) % availabilities.Length];
                var kind = kinds[(i / 3 + round) % kinds.Length];
                var id = $"device-{i % 150}";
                var result = Aggregate(Sources(devices: [Device(id, availability, kind: kind)]));

                Assert.Equal($"{availability} reported by {kind} device '{id}'", result.Provenance.Reason);
            }
        }
    }

    [Fact]
    public void Provenance_of_an_offline_person_names_no_source_and_since_when_they_were_last_seen()
    {
        var lastSeen = Now.AddHours(-2);
        var result = Aggregate(Sources(lastSeen: lastSeen));

        Assert.Equal(new Provenance(SourceKind.None, null, lastSeen, null, result.Provenance.Reason), result.Provenance);
    }

    // ---- NextChangeAt --------------------------------------------------------------------------------------

    [Fact]
    public void Next_change_is_the_earliest_future_expiry_among_all_sources()
    {
        var deviceExpiry = Now.AddSeconds(50);
        var result = Aggregate(Sources(
            preferred: Preferred(Availability.Busy, until: Now.AddHours(1)),
            note: new StatusNote("lunch", Now.AddMinutes(-5), Now.AddMinutes(30)),
            devices: [Device("desk", expiresAt: deviceExpiry)],
            leases: [Lease("phone", Activity.InACall, Now.AddMinutes(-1), Now.AddMinutes(2))]));

        Assert.Equal(deviceExpiry + Settings.GraceWindow, result.NextChangeAt);
    }

    [Fact]
    public void Next_change_ignores_expiries_already_in_the_past()
    {
        var leaseExpiry = Now.AddMinutes(2);
        var result = Aggregate(Sources(
            preferred: Preferred(Availability.Busy, until: Now.AddHours(-1)),
            note: new StatusNote("gone", Now.AddHours(-2), Now.AddMinutes(-1)),
            leases: [Lease("phone", Activity.InACall, Now.AddMinutes(-1), leaseExpiry)]));

        Assert.Equal(leaseExpiry, result.NextChangeAt);
    }

    [Fact]
    public void Next_change_includes_the_moment_a_device_becomes_idle()
    {
        var idleSince = Now.AddMinutes(-4); // crosses the 5 min threshold in one minute
        var result = Aggregate(Sources(devices: [Device("desk", idleSince: idleSince, expiresAt: Now.AddMinutes(10))]));

        Assert.Equal(Availability.Available, result.Availability);
        Assert.Equal(idleSince + Settings.IdleThreshold, result.NextChangeAt);
    }

    [Fact]
    public void Next_change_includes_the_note_expiry()
    {
        var noteUntil = Now.AddMinutes(1);
        var result = Aggregate(Sources(
            preferred: Preferred(Availability.Away, until: Now.AddDays(1)),
            note: new StatusNote("back soon", Now.AddMinutes(-5), noteUntil)));

        Assert.Equal(noteUntil, result.NextChangeAt);
    }

    [Fact]
    public void Next_change_includes_the_next_work_hours_boundary()
    {
        var settings = Settings with { WorkHours = WorkHours.Default };
        var result = Aggregate(Sources(preferred: Preferred(Availability.Away, until: Now.AddDays(1))), settings: settings);

        Assert.Equal(new DateTimeOffset(2025, 1, 15, 17, 0, 0, TimeSpan.Zero), result.NextChangeAt);
    }

    [Fact]
    public void Next_change_is_the_preferred_expiry_when_nothing_ends_sooner()
    {
        var until = Now.AddMinutes(90);
        var result = Aggregate(Sources(preferred: Preferred(Availability.DoNotDisturb, until: until)));

        Assert.Equal(until, result.NextChangeAt);
    }

    // ---- Note ----------------------------------------------------------------------------------------------

    [Fact]
    public void A_note_without_expiry_is_shown()
    {
        var note = new StatusNote("working from Lyon", Now.AddDays(-3), null);

        var result = Aggregate(Sources(note: note, devices: [Device("desk")]));

        Assert.Equal(note, result.Note);
    }

    [Fact]
    public void A_note_is_shown_until_its_expiry_and_not_from_it()
    {
        var note = new StatusNote("lunch", Now.AddMinutes(-30), Now.AddMinutes(5));
        var sources = Sources(note: note);

        Assert.Equal(note, Aggregate(sources).Note);
        Assert.Equal(note, Aggregate(sources, Now.AddMinutes(5).AddTicks(-1)).Note);
        Assert.Null(Aggregate(sources, Now.AddMinutes(5)).Note);
        Assert.Null(Aggregate(sources, Now.AddHours(1)).Note);
    }

    [Fact]
    public void A_note_never_changes_availability()
    {
        var result = Aggregate(Sources(note: new StatusNote("do not disturb please", Now, null)));

        Assert.Equal(Availability.Offline, result.Availability);
        Assert.NotNull(result.Note);
    }

    // ---- Day off -------------------------------------------------------------------------------------------

    [Theory]
    [InlineData(Activity.OutOfOffice)]
    [InlineData(Activity.OnVacation)]
    public void A_preferred_day_off_activity_shows_off_work_and_flags_a_day_off(Activity activity)
    {
        var result = Aggregate(Sources(preferred: Preferred(null, activity), devices: [Device("phone")]));

        Assert.Equal(Availability.OffWork, result.Availability);
        Assert.Equal(activity, result.Activity);
        Assert.True(result.DayOff);
    }

    [Theory]
    [InlineData(Activity.OutOfOffice)]
    [InlineData(Activity.OnVacation)]
    public void A_live_integration_day_off_activity_flags_a_day_off(Activity activity)
    {
        var result = Aggregate(Sources(leases: [Lease("hr", activity, Now.AddHours(-8), Now.AddHours(8))]));

        Assert.Equal(Availability.OffWork, result.Availability);
        Assert.True(result.DayOff);
    }

    [Fact]
    public void A_live_day_off_lease_flags_a_day_off_even_when_a_preferred_status_wins()
    {
        var result = Aggregate(Sources(
            preferred: Preferred(Availability.Available),
            leases: [Lease("hr", Activity.OnVacation, Now.AddHours(-8), Now.AddHours(8))]));

        Assert.Equal(Availability.Available, result.Availability);
        Assert.True(result.DayOff);
    }

    [Fact]
    public void A_device_reporting_out_of_office_flags_a_day_off()
    {
        var result = Aggregate(Sources(devices: [Device("phone", availability: null, activity: Activity.OutOfOffice)]));

        Assert.True(result.DayOff);
    }

    [Fact]
    public void A_lapsed_day_off_lease_no_longer_flags_a_day_off()
    {
        var result = Aggregate(Sources(
            devices: [Device("desk")],
            leases: [Lease("hr", Activity.OnVacation, Now.AddDays(-3), Now.AddMinutes(-1))]));

        Assert.False(result.DayOff);
    }

    [Theory]
    [InlineData(Activity.InAMeeting)]
    [InlineData(Activity.Focusing)]
    [InlineData(Activity.Commuting)]
    public void Other_activities_are_not_a_day_off(Activity activity)
    {
        var result = Aggregate(Sources(preferred: Preferred(null, activity)));

        Assert.False(result.DayOff);
    }

    // ---- Devices and location in the result ----------------------------------------------------------------

    [Fact]
    public void Device_summaries_list_only_live_devices_ordered_by_id()
    {
        var result = Aggregate(Sources(devices:
        [
            Device("z-web"),
            Device("a-desk", Availability.Busy),
            Device("m-gone", lastHeartbeat: Now.AddHours(-1)),
        ]));

        Assert.Equal(["a-desk", "z-web"], result.Devices.Select(d => d.DeviceId));
        Assert.Equal(Availability.Busy, result.Devices[0].Availability);
    }

    [Fact]
    public void Location_comes_from_the_live_device_that_reported_it_most_recently()
    {
        var berlin = new Location("DE", "Berlin", At: Now.AddMinutes(-2));
        var paris = new Location("FR", "Paris", At: Now.AddMinutes(-40));
        var tokyo = new Location("JP", "Tokyo", At: Now.AddMinutes(-1));
        var result = Aggregate(Sources(devices:
        [
            Device("desk", location: paris),
            Device("phone", location: berlin),
            Device("gone", location: tokyo, lastHeartbeat: Now.AddHours(-1)),
        ]));

        Assert.Equal(berlin, result.Location);
    }

    // ---- Prune ---------------------------------------------------------------------------------------------

    [Fact]
    public void Prune_returns_the_same_instance_when_nothing_expired()
    {
        var sources = Sources(
            preferred: Preferred(Availability.Busy),
            note: new StatusNote("hi", Now, null),
            devices: [Device("desk"), Device("lapsed-in-grace", lastHeartbeat: Now.AddSeconds(-65), expiresAt: Now.AddSeconds(-5))],
            leases: [Lease("phone", Activity.InACall, Now.AddMinutes(-1))]);

        Assert.Same(sources, PresenceAggregator.Prune(sources, Settings, Now));
    }

    [Fact]
    public void Prune_returns_the_same_empty_instance()
    {
        Assert.Same(PresenceSources.Empty, PresenceAggregator.Prune(PresenceSources.Empty, Settings, Now));
    }

    [Fact]
    public void Prune_folds_expired_device_heartbeats_into_last_seen()
    {
        var older = Now.AddMinutes(-30);
        var newer = Now.AddMinutes(-10);
        var sources = Sources(
            devices: [Device("desk", lastHeartbeat: older), Device("phone", lastHeartbeat: newer), Device("web")],
            lastSeen: Now.AddDays(-2));

        var pruned = PresenceAggregator.Prune(sources, Settings, Now);

        Assert.Equal(newer, pruned.LastSeen);
        Assert.Equal(["web"], pruned.Devices.Keys);
    }

    [Fact]
    public void Prune_never_moves_last_seen_backwards()
    {
        var recorded = Now.AddMinutes(-1);
        var sources = Sources(devices: [Device("desk", lastHeartbeat: Now.AddMinutes(-30))], lastSeen: recorded);

        Assert.Equal(recorded, PresenceAggregator.Prune(sources, Settings, Now).LastSeen);
    }

    [Fact]
    public void Prune_drops_lapsed_leases_expired_preferred_status_and_expired_note_but_keeps_live_ones()
    {
        var live = Lease("phone", Activity.InACall, Now.AddMinutes(-1));
        var sources = Sources(
            preferred: Preferred(Availability.Busy, until: Now),
            note: new StatusNote("old", Now.AddHours(-1), Now.AddMinutes(-1)),
            devices: [Device("desk")],
            leases: [live, Lease("room", Activity.InAMeeting, Now.AddHours(-1), Now.AddSeconds(-1))],
            lastSeen: Now.AddDays(-1));

        var pruned = PresenceAggregator.Prune(sources, Settings, Now);

        Assert.Null(pruned.Preferred);
        Assert.Null(pruned.Note);
        Assert.Equal(live, Assert.Single(pruned.Activities).Value);
        Assert.Same(sources.Devices, pruned.Devices);
        Assert.Equal(Now.AddDays(-1), pruned.LastSeen);
    }

    [Fact]
    public void Prune_keeps_a_device_that_is_still_within_its_grace_window()
    {
        var sources = Sources(devices: [Device("desk", lastHeartbeat: Now.AddSeconds(-70), expiresAt: Now.AddSeconds(-10))], lastSeen: null);

        var pruned = PresenceAggregator.Prune(sources, Settings, Now);

        Assert.Same(sources, pruned);
        Assert.Null(pruned.LastSeen);
    }

    [Fact]
    public void Aggregating_pruned_sources_gives_the_same_presence()
    {
        var sources = Sources(
            preferred: Preferred(Availability.Busy, until: Now.AddMinutes(-1)),
            note: new StatusNote("old", Now.AddHours(-1), Now.AddMinutes(-1)),
            devices: [Device("desk", lastHeartbeat: Now.AddMinutes(-20)), Device("phone", Availability.Away)],
            leases: [Lease("room", Activity.InAMeeting, Now.AddHours(-1), Now.AddSeconds(-1))],
            lastSeen: Now.AddDays(-1));

        var direct = PresenceAggregator.Aggregate(sources, Settings, Now);
        var pruned = PresenceAggregator.Aggregate(PresenceAggregator.Prune(sources, Settings, Now), Settings, Now);

        Assert.True(direct.SameStateAs(pruned));
    }

    [Fact]
    public void Aggregating_pruned_sources_of_an_offline_person_keeps_the_last_seen()
    {
        var sources = Sources(devices: [Device("desk", lastHeartbeat: Now.AddMinutes(-20))], lastSeen: Now.AddDays(-1));

        var direct = PresenceAggregator.Aggregate(sources, Settings, Now);
        var pruned = PresenceAggregator.Aggregate(PresenceAggregator.Prune(sources, Settings, Now), Settings, Now);

        Assert.Equal(Now.AddMinutes(-20), pruned.LastSeen);
        Assert.True(direct.SameStateAs(pruned));
    }
}
