using Herald.Core.Model;

namespace Herald.Core.Tests.Model;

/// <summary>The vocabulary of docs/presence-model.md: activities, preferred lifetimes, locations, contact methods.</summary>
public sealed class VocabularyTests
{
    private static readonly DateTimeOffset Now = new(2025, 1, 15, 10, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(Activity.InACall, Availability.Busy)]
    [InlineData(Activity.InAConferenceCall, Availability.Busy)]
    [InlineData(Activity.InAMeeting, Availability.Busy)]
    [InlineData(Activity.Presenting, Availability.DoNotDisturb)]
    [InlineData(Activity.Focusing, Availability.DoNotDisturb)]
    [InlineData(Activity.OutOfOffice, Availability.OffWork)]
    [InlineData(Activity.OnVacation, Availability.OffWork)]
    [InlineData(Activity.Commuting, Availability.Away)]
    [InlineData(Activity.Inactive, Availability.Away)]
    public void Each_activity_implies_a_default_availability(Activity activity, Availability implied)
    {
        Assert.Equal(implied, Activities.Implied(activity));
        Assert.Equal(implied, Activities.Info(activity).Implied);
    }

    [Fact]
    public void Every_activity_has_mappings()
    {
        foreach (var activity in Enum.GetValues<Activity>())
        {
            var info = Activities.Info(activity);
            Assert.False(string.IsNullOrWhiteSpace(info.Rpid));
            Assert.False(string.IsNullOrWhiteSpace(info.Xep0108General));
            Assert.False(string.IsNullOrWhiteSpace(info.Xep0108Specific));
        }
    }

    [Fact]
    public void Presenting_is_stronger_than_calls_which_are_stronger_than_meetings()
    {
        var presenting = Activities.Info(Activity.Presenting).Strength;
        var call = Activities.Info(Activity.InACall).Strength;
        var conference = Activities.Info(Activity.InAConferenceCall).Strength;
        var meeting = Activities.Info(Activity.InAMeeting).Strength;

        Assert.True(presenting > call);
        Assert.Equal(call, conference);
        Assert.True(call > meeting);
    }

    [Fact]
    public void Rpid_and_xep_0108_names_follow_the_standards_for_calls()
    {
        var info = Activities.Info(Activity.InACall);

        Assert.Equal("on-the-phone", info.Rpid);
        Assert.Equal("talking", info.Xep0108General);
        Assert.Equal("on_the_phone", info.Xep0108Specific);
    }

    [Fact]
    public void Only_out_of_office_and_vacation_are_a_day_off()
    {
        var dayOff = Enum.GetValues<Activity>().Where(Activities.IsDayOff).ToList();

        Assert.Equal([Activity.OutOfOffice, Activity.OnVacation], dayOff);
    }

    [Theory]
    [InlineData(Availability.Busy, 1)]
    [InlineData(Availability.DoNotDisturb, 1)]
    [InlineData(Availability.Available, 7)]
    [InlineData(Availability.Away, 7)]
    [InlineData(Availability.BeRightBack, 7)]
    [InlineData(Availability.OffWork, 7)]
    [InlineData(Availability.Offline, 7)]
    public void A_preferred_status_lasts_one_day_for_busy_and_do_not_disturb_and_seven_days_otherwise(Availability effective, int days)
    {
        Assert.Equal(TimeSpan.FromDays(days), PreferredStatus.DefaultLifetime(effective));
    }

    [Fact]
    public void A_preferred_status_shows_its_explicit_availability_over_its_activity()
    {
        var status = new PreferredStatus(Availability.Available, Activity.InAMeeting, Now, Now.AddHours(1));

        Assert.Equal(Availability.Available, status.Effective);
        Assert.False(status.IsAppearOffline);
    }

    [Fact]
    public void Preferred_offline_is_appear_offline()
    {
        Assert.True(new PreferredStatus(Availability.Offline, null, Now, Now.AddDays(7)).IsAppearOffline);
        Assert.False(new PreferredStatus(null, Activity.OnVacation, Now, Now.AddDays(7)).IsAppearOffline);
    }

    [Fact]
    public void Every_known_availability_but_unknown_may_be_preferred()
    {
        Assert.False(AvailabilityRules.IsValidForPreferred(Availability.Unknown));
        Assert.All(Enum.GetValues<Availability>().Where(a => a != Availability.Unknown),
            a => Assert.True(AvailabilityRules.IsValidForPreferred(a)));
    }

    [Theory]
    [InlineData(Availability.Available, true)]
    [InlineData(Availability.Away, true)]
    [InlineData(Availability.BeRightBack, true)]
    [InlineData(Availability.Busy, true)]
    [InlineData(Availability.DoNotDisturb, true)]
    [InlineData(Availability.Offline, false)]
    [InlineData(Availability.OffWork, false)]
    [InlineData(Availability.Unknown, false)]
    public void Devices_may_only_report_presence_states(Availability availability, bool valid)
    {
        Assert.Equal(valid, AvailabilityRules.IsValidForDevice(availability));
    }

    [Fact]
    public void Device_rank_puts_do_not_disturb_then_busy_above_the_most_reachable_of_the_rest()
    {
        Availability[] expectedOrder =
            [Availability.DoNotDisturb, Availability.Busy, Availability.Available, Availability.BeRightBack, Availability.Away];

        var byRank = expectedOrder.OrderByDescending(AvailabilityRules.DeviceRank).ToArray();

        Assert.Equal(expectedOrder, byRank);
        Assert.Equal(expectedOrder.Length, expectedOrder.Select(AvailabilityRules.DeviceRank).Distinct().Count());
    }

    [Fact]
    public void Availability_is_ordered_from_least_to_most_reachable_with_unknown_apart()
    {
        Availability[] ordered =
        [
            Availability.Offline, Availability.OffWork, Availability.Away, Availability.BeRightBack,
            Availability.DoNotDisturb, Availability.Busy, Availability.Available,
        ];

        Assert.Equal(ordered, ordered.Order());
        Assert.True(Availability.Unknown < Availability.Offline);
    }

    // ---- Device sessions -----------------------------------------------------------------------------------

    private static DeviceSession Session(DateTimeOffset expiresAt, DateTimeOffset? idleSince = null) =>
        new("desk", DeviceKind.Desktop, null, null, idleSince, [], null, TimeSpan.FromSeconds(60),
            Now.AddHours(-1), expiresAt.AddSeconds(-60), expiresAt, Now.AddHours(-1));

    [Fact]
    public void A_device_lease_lives_until_its_expiry_plus_the_grace_window()
    {
        var grace = TimeSpan.FromSeconds(15);
        var session = Session(Now);

        Assert.True(session.IsLive(Now, grace));
        Assert.True(session.IsLive(Now.AddSeconds(15).AddTicks(-1), grace));
        Assert.False(session.IsLive(Now.AddSeconds(15), grace));
        Assert.False(session.IsLive(Now, TimeSpan.Zero));
    }

    [Fact]
    public void A_device_is_idle_once_idle_for_the_threshold()
    {
        var threshold = TimeSpan.FromMinutes(5);

        Assert.False(Session(Now.AddMinutes(1)).IsIdle(Now, threshold));
        Assert.False(Session(Now.AddMinutes(1), Now.AddMinutes(-5).AddTicks(1)).IsIdle(Now, threshold));
        Assert.True(Session(Now.AddMinutes(1), Now.AddMinutes(-5)).IsIdle(Now, threshold));
    }

    [Fact]
    public void An_activity_lease_lives_until_its_expiry()
    {
        var lease = new ActivityLease("pbx", "PBX", Activity.InACall, Now.AddMinutes(-5), Now);

        Assert.True(lease.IsLive(Now.AddTicks(-1)));
        Assert.False(lease.IsLive(Now));
        Assert.Equal("pbx/InACall", lease.Key);
    }

    // ---- Contact methods -----------------------------------------------------------------------------------

    [Theory]
    [InlineData(ContactKind.Mobile, true)]
    [InlineData(ContactKind.HomePhone, true)]
    [InlineData(ContactKind.WorkPhone, false)]
    [InlineData(ContactKind.Email, false)]
    [InlineData(ContactKind.Chat, false)]
    [InlineData(ContactKind.Video, false)]
    [InlineData(ContactKind.Sip, false)]
    [InlineData(ContactKind.Other, false)]
    public void Only_mobile_and_home_phone_are_personal(ContactKind kind, bool personal)
    {
        Assert.Equal(personal, new ContactMethod(kind, "x").IsPersonal);
    }

    // ---- Location ------------------------------------------------------------------------------------------

    private static readonly Location Office =
        new("DE", "Berlin", "HQ", "3", "3.14", 52.5200, 13.4050, "by the window", Now);

    [Fact]
    public void Location_reduced_to_none_is_nothing()
    {
        Assert.Null(Office.Reduce(LocationPrecision.None));
    }

    [Fact]
    public void Location_reduced_to_country_keeps_only_the_country()
    {
        Assert.Equal(new Location(Country: "DE"), Office.Reduce(LocationPrecision.Country));
    }

    [Fact]
    public void Location_reduced_to_city_keeps_country_and_city()
    {
        Assert.Equal(new Location(Country: "DE", City: "Berlin"), Office.Reduce(LocationPrecision.City));
    }

    [Fact]
    public void Location_reduced_to_building_drops_floor_room_coordinates_text_and_time()
    {
        Assert.Equal(new Location(Country: "DE", City: "Berlin", Building: "HQ"), Office.Reduce(LocationPrecision.Building));
    }

    [Fact]
    public void Location_at_exact_precision_is_kept_whole()
    {
        Assert.Equal(Office, Office.Reduce(LocationPrecision.Exact));
    }

    [Fact]
    public void Reducing_a_location_that_has_nothing_at_that_precision_gives_nothing()
    {
        var coordinatesOnly = new Location(Latitude: 1.0, Longitude: 2.0);

        Assert.Null(coordinatesOnly.Reduce(LocationPrecision.Country));
        Assert.Null(coordinatesOnly.Reduce(LocationPrecision.City));
        Assert.Null(coordinatesOnly.Reduce(LocationPrecision.Building));
        Assert.Null(new Location(City: "Berlin").Reduce(LocationPrecision.Country));
    }

    [Fact]
    public void Reducing_never_adds_precision()
    {
        var cityOnly = new Location(City: "Berlin", Room: "3.14");

        Assert.Equal(new Location(City: "Berlin"), cityOnly.Reduce(LocationPrecision.City));
        Assert.Equal(new Location(City: "Berlin"), cityOnly.Reduce(LocationPrecision.Building));
    }
}
