using Herald.Core.Model;
using Herald.Core.Presence;
using Herald.Core.Privacy;
using static Herald.Core.Tests.Presence.SourceBuilder;

namespace Herald.Core.Tests.Privacy;

public sealed class DisclosurePolicyTests
{
    private static readonly ContactMethod WorkPhone = new(ContactKind.WorkPhone, "+49 30 1234 100");
    private static readonly ContactMethod Mobile = new(ContactKind.Mobile, "+49 170 555 0101");
    private static readonly ContactMethod HomePhone = new(ContactKind.HomePhone, "+49 30 555 0202");
    private static readonly ContactMethod Email = new(ContactKind.Email, "ada@example.org");
    private static readonly ContactMethod Chat = new(ContactKind.Chat, "ada@chat.example.org");

    private static readonly WatcherRelation Colleague = new("grace", false, RelationshipTier.Colleague);
    private static readonly WatcherRelation Blocked = new("mallory", false, RelationshipTier.Blocked);

    public static TheoryData<RelationshipTier> NonOwnerTiers => new()
    {
        RelationshipTier.Team,
        RelationshipTier.Colleague,
        RelationshipTier.External,
    };

    private static PersonProfile Profile(string id) =>
        new(id, id, $"{id}@example.org", "platform", null, "UTC", WorkHours.Default,
            [WorkPhone, Mobile, HomePhone, Email, Chat]);

    private static PresentityState State(PresenceSources sources, string id = "ada", long sequence = 42,
        DateTimeOffset? at = null, AggregationSettings? settings = null) =>
        new(Profile(id), PresenceAggregator.Aggregate(sources, settings ?? Settings, at ?? Now), sequence);

    /// <summary>Someone in a call on their desktop, with a note and a location.</summary>
    private static PresenceSources BusyAtTheOffice(PreferredStatus? preferred = null) => Sources(
        preferred: preferred,
        note: new StatusNote("on the quarterly call", Now.AddMinutes(-20), Now.AddHours(1)),
        devices:
        [
            Device("desk", Availability.Available, location: new Location("DE", "Berlin", "HQ", "3", "3.14", 52.52, 13.40, At: Now.AddMinutes(-5))),
            Device("phone", Availability.Away, kind: DeviceKind.Mobile),
        ],
        leases: [Lease("pbx", Activity.InACall, Now.AddMinutes(-3), name: "Office PBX")]);

    /// <summary>Compares two views ignoring who they are about and their sequence numbers.</summary>
    private static void AssertSameApartFromIdentity(PresenceView expected, PresenceView actual)
    {
        var normalized = actual with { UserId = expected.UserId, Sequence = expected.Sequence };
        Assert.True(expected.SameContentAs(normalized), $"expected {Render(expected)}\nactual   {Render(normalized)}");
    }

    private static string Render(PresenceView v) =>
        $"{v} devices=[{string.Join(", ", v.Devices ?? [])}] contacts=[{string.Join(", ", v.ContactMethods ?? [])}]";

    // ---- Owner ---------------------------------------------------------------------------------------------

    [Fact]
    public void The_owner_sees_provenance_and_every_contact_method_including_personal_ones()
    {
        var state = State(BusyAtTheOffice());

        var view = DisclosurePolicy.Disclose(state, WatcherRelation.Self("ada"));

        Assert.Equal(state.Presence.Provenance, view.Provenance);
        Assert.Equal(SourceKind.Integration, view.Provenance!.Source);
        Assert.Equal([WorkPhone, Mobile, HomePhone, Email, Chat], view.ContactMethods!);
        Assert.Equal(Availability.Busy, view.Availability);
        Assert.Equal(Activity.InACall, view.Activity);
        Assert.Equal(2, view.Devices!.Count);
        Assert.Equal(state.Presence.Location, view.Location);
        Assert.False(view.AppearOffline);
    }

    [Fact]
    public void The_owner_sees_that_they_only_appear_offline_and_still_sees_their_devices()
    {
        var state = State(BusyAtTheOffice(Preferred(Availability.Offline, setAt: Now.AddMinutes(-30))));

        var view = DisclosurePolicy.Disclose(state, WatcherRelation.Self("ada"));

        Assert.Equal(Availability.Offline, view.Availability);
        Assert.True(view.AppearOffline);
        Assert.Equal(SourceKind.Preferred, view.Provenance!.Source);
        Assert.Equal(2, view.Devices!.Count);
    }

    [Fact]
    public void The_owner_is_recognised_by_is_self_whatever_tier_is_recorded()
    {
        var state = State(BusyAtTheOffice());

        var view = DisclosurePolicy.Disclose(state, new WatcherRelation("ada", true, RelationshipTier.Blocked));

        Assert.NotNull(view.Provenance);
        Assert.Contains(Mobile, view.ContactMethods!);
        Assert.Equal(DisclosureKey.Self(PrivacyContext.WorkHours),
            DisclosurePolicy.KeyOf(new WatcherRelation("ada", true, RelationshipTier.Blocked)));
    }

    // ---- Colleagues ----------------------------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(NonOwnerTiers))]
    public void A_colleague_never_sees_mobile_or_home_phone(RelationshipTier tier)
    {
        var view = DisclosurePolicy.Disclose(State(BusyAtTheOffice()), new WatcherRelation("grace", false, tier));

        Assert.DoesNotContain(view.ContactMethods!, c => c.Kind is ContactKind.Mobile or ContactKind.HomePhone);
        // During work hours Team and Colleague see every work address; External sees the e-mail only.
        ContactMethod[] expected = tier == RelationshipTier.External ? [Email] : [WorkPhone, Email, Chat];
        Assert.Equal(expected, view.ContactMethods!);
    }

    [Theory]
    [MemberData(nameof(NonOwnerTiers))]
    public void A_colleague_never_sees_provenance_nor_whether_the_person_appears_offline(RelationshipTier tier)
    {
        var watcher = new WatcherRelation("grace", false, tier);

        var live = DisclosurePolicy.Disclose(State(BusyAtTheOffice()), watcher);
        var appearing = DisclosurePolicy.Disclose(State(BusyAtTheOffice(Preferred(Availability.Offline))), watcher);
        var offline = DisclosurePolicy.Disclose(State(Sources(lastSeen: Now.AddHours(-1))), watcher);

        Assert.All(new[] { live, appearing, offline }, v =>
        {
            Assert.Null(v.Provenance);
            Assert.Null(v.AppearOffline);
        });
    }

    [Fact]
    public void A_colleague_sees_availability_activity_note_and_the_city_but_not_devices()
    {
        var state = State(BusyAtTheOffice());

        var view = DisclosurePolicy.Disclose(state, Colleague);

        Assert.Equal("ada", view.UserId);
        Assert.Equal(42, view.Sequence);
        Assert.Equal(Availability.Busy, view.Availability);
        Assert.Equal(Activity.InACall, view.Activity);
        Assert.Equal("on the quarterly call", view.Note);
        Assert.Equal(Now.AddHours(1), view.NoteUntil);
        // Colleagues get the location down to the city only, and no devices.
        Assert.Equal(new Location("DE", "Berlin"), view.Location);
        Assert.Null(view.Devices);
    }

    [Fact]
    public void A_colleague_sees_an_offline_person_last_seen()
    {
        var lastSeen = Now.AddHours(-3);

        var view = DisclosurePolicy.Disclose(State(Sources(lastSeen: lastSeen)), Colleague);

        Assert.Equal(Availability.Offline, view.Availability);
        // Colleagues see last seen to the hour, and no devices.
        Assert.Equal(new DateTimeOffset(2025, 1, 15, 7, 0, 0, TimeSpan.Zero), view.LastSeen);
        Assert.Null(view.Devices);
    }

    [Fact]
    public void A_heartbeat_that_only_renews_a_device_lease_changes_nothing_a_colleague_sees()
    {
        var before = State(Sources(devices: [Device("desk", lastHeartbeat: Now.AddSeconds(-50))]), sequence: 1);
        var after = State(Sources(devices: [Device("desk", lastHeartbeat: Now.AddSeconds(-2))]), sequence: 2);

        Assert.True(DisclosurePolicy.Disclose(before, Colleague).SameContentAs(DisclosurePolicy.Disclose(after, Colleague)));
        Assert.True(DisclosurePolicy.Disclose(before, WatcherRelation.Self("ada"))
            .SameContentAs(DisclosurePolicy.Disclose(after, WatcherRelation.Self("ada"))));
    }

    [Fact]
    public void Watchers_with_the_same_key_get_the_same_view()
    {
        var state = State(BusyAtTheOffice());
        var grace = new WatcherRelation("grace", false, RelationshipTier.Colleague);
        var alan = new WatcherRelation("alan", false, RelationshipTier.Colleague);

        Assert.Equal(DisclosurePolicy.KeyOf(grace), DisclosurePolicy.KeyOf(alan));
        Assert.True(DisclosurePolicy.Disclose(state, grace).SameContentAs(DisclosurePolicy.Disclose(state, alan)));
        Assert.True(DisclosurePolicy.Disclose(state, grace)
            .SameContentAs(DisclosurePolicy.Disclose(state, DisclosurePolicy.KeyOf(grace))));
    }

    [Fact]
    public void Disclose_rejects_missing_arguments()
    {
        Assert.Throws<ArgumentNullException>(() => DisclosurePolicy.Disclose(null!, Colleague));
        Assert.Throws<ArgumentNullException>(() => DisclosurePolicy.KeyOf(null!));
    }

    // ---- Blocked -------------------------------------------------------------------------------------------

    [Fact]
    public void Blocked_sees_offline_and_nothing_else()
    {
        var view = DisclosurePolicy.Disclose(State(BusyAtTheOffice(), sequence: 7), Blocked);

        Assert.Equal("ada", view.UserId);
        Assert.Equal(7, view.Sequence);
        Assert.Equal(Availability.Offline, view.Availability);
        Assert.Null(view.Activity);
        Assert.Null(view.Note);
        Assert.Null(view.NoteUntil);
        Assert.Null(view.Location);
        Assert.Null(view.LastSeen);
        Assert.Empty(view.Devices ?? []);
        Assert.Empty(view.ContactMethods ?? []);
        Assert.Null(view.Provenance);
        Assert.Null(view.AppearOffline);
    }

    [Fact]
    public void Blocked_sees_the_same_thing_whatever_the_person_is_doing()
    {
        var busy = DisclosurePolicy.Disclose(State(BusyAtTheOffice(), sequence: 1), Blocked);
        var offline = DisclosurePolicy.Disclose(State(Sources(lastSeen: Now.AddDays(-2)), sequence: 2), Blocked);
        var appearing = DisclosurePolicy.Disclose(State(BusyAtTheOffice(Preferred(Availability.Offline)), sequence: 3), Blocked);
        var offHours = DisclosurePolicy.Disclose(State(Sources(), sequence: 4, at: new DateTimeOffset(2025, 1, 18, 12, 0, 0, TimeSpan.Zero),
            settings: Settings with { WorkHours = WorkHours.Default }), Blocked);

        AssertSameApartFromIdentity(busy, offline);
        AssertSameApartFromIdentity(busy, appearing);
        AssertSameApartFromIdentity(busy, offHours);
    }

    [Fact]
    public void Nobody_view_is_unknown_rather_than_offline()
    {
        var view = PresenceView.Nothing("ada", 9);

        Assert.Equal(Availability.Unknown, view.Availability);
        Assert.Equal(9, view.Sequence);
        Assert.Null(view.Devices);
        Assert.Null(view.ContactMethods);
    }

    // ---- Appear offline ------------------------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(NonOwnerTiers))]
    public void Appearing_offline_renders_exactly_like_a_person_who_is_really_offline(RelationshipTier tier)
    {
        var wentOffline = Now.AddMinutes(-40);
        var note = new StatusNote("back tomorrow", Now.AddHours(-2), Now.AddHours(20));
        var watcher = new WatcherRelation("grace", false, tier);

        // Ada really disconnected at L; Bob chose "appear offline" at L and is still online, in a call, with a location.
        var reallyOffline = State(Sources(note: note, lastSeen: wentOffline), "ada", sequence: 100);
        var appearingOffline = State(Sources(
            preferred: Preferred(Availability.Offline, setAt: wentOffline, until: Now.AddDays(6)),
            note: note,
            devices:
            [
                Device("desk", Availability.Available, location: new Location("DE", "Berlin", At: Now.AddMinutes(-1))),
                Device("phone", Availability.DoNotDisturb, kind: DeviceKind.Mobile),
            ],
            leases: [Lease("pbx", Activity.InACall, Now.AddMinutes(-2))]), "bob", sequence: 7_000);

        var real = DisclosurePolicy.Disclose(reallyOffline, watcher);
        var pretend = DisclosurePolicy.Disclose(appearingOffline, watcher);

        // Last seen is shown at the tier's precision: Team exactly, Colleague to the hour, External not at all.
        DateTimeOffset? expectedLastSeen = tier switch
        {
            RelationshipTier.Team => wentOffline,
            RelationshipTier.Colleague => new DateTimeOffset(2025, 1, 15, 9, 0, 0, TimeSpan.Zero),
            _ => null,
        };
        Assert.Equal(Availability.Offline, real.Availability);
        Assert.Equal(expectedLastSeen, real.LastSeen);
        AssertSameApartFromIdentity(real, pretend);
    }

    [Fact]
    public void Appearing_offline_outside_work_hours_renders_exactly_like_being_really_off_work()
    {
        var saturday = new DateTimeOffset(2025, 1, 18, 12, 0, 0, TimeSpan.Zero);
        var wentOffline = saturday.AddHours(-1);
        var settings = Settings with { WorkHours = WorkHours.Default };

        var reallyOffline = State(Sources(lastSeen: wentOffline), "ada", at: saturday, settings: settings);
        var appearingOffline = State(Sources(
            preferred: Preferred(Availability.Offline, setAt: wentOffline, until: saturday.AddDays(6)),
            devices: [Device("desk", lastHeartbeat: saturday.AddSeconds(-5))]), "bob", at: saturday, settings: settings);

        var real = DisclosurePolicy.Disclose(reallyOffline, Colleague);
        var pretend = DisclosurePolicy.Disclose(appearingOffline, Colleague);

        Assert.Equal(Availability.OffWork, real.Availability);
        AssertSameApartFromIdentity(real, pretend);
    }

    [Fact]
    public void Appearing_offline_does_not_refresh_last_seen_when_the_device_really_disconnects_later()
    {
        var setAt = Now.AddMinutes(-40);
        var preferred = Preferred(Availability.Offline, setAt: setAt, until: Now.AddDays(6));

        var stillOnline = State(Sources(preferred: preferred, devices: [Device("desk")]), sequence: 1);
        var later = Now.AddMinutes(30);
        var disconnected = State(Sources(preferred: preferred, devices: [Device("desk")]), sequence: 2, at: later);

        var before = DisclosurePolicy.Disclose(stillOnline, Colleague);
        var after = DisclosurePolicy.Disclose(disconnected, Colleague);

        // Frozen at the moment appear offline was chosen (09:20), shown to a colleague to the hour.
        Assert.Equal(new DateTimeOffset(2025, 1, 15, 9, 0, 0, TimeSpan.Zero), before.LastSeen);
        AssertSameApartFromIdentity(before, after);
    }

    [Fact]
    public void Appearing_offline_does_not_refresh_last_seen_when_a_device_connects()
    {
        var lastHeartbeat = Now.AddHours(-3);
        var preferred = Preferred(Availability.Offline, setAt: Now.AddHours(-1), until: Now.AddDays(6)) with { LastSeenAtSet = lastHeartbeat };

        var disconnected = State(Sources(preferred: preferred, lastSeen: lastHeartbeat), sequence: 1);
        var connected = State(Sources(preferred: preferred, lastSeen: lastHeartbeat, devices: [Device("desk")]), sequence: 2);

        var before = DisclosurePolicy.Disclose(disconnected, Colleague);
        var after = DisclosurePolicy.Disclose(connected, Colleague);

        Assert.Equal(lastHeartbeat, before.LastSeen);
        AssertSameApartFromIdentity(before, after);
    }

    public static TheoryData<RelationshipTier, ViewMode> EveryTierAndMode()
    {
        var data = new TheoryData<RelationshipTier, ViewMode>();
        foreach (var tier in Enum.GetValues<RelationshipTier>())
        {
            foreach (var mode in Enum.GetValues<ViewMode>())
            {
                data.Add(tier, mode);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(EveryTierAndMode))]
    public void A_view_rendered_with_an_earlier_view_of_the_same_key_equals_one_rendered_from_scratch(RelationshipTier tier, ViewMode mode)
    {
        // The person's grain passes the previous view of a key (same profile) so that its contact list is reused.
        var key = DisclosurePolicy.KeyOf(new WatcherRelation("grace", false, tier)) with { Mode = mode };
        var earlier = DisclosurePolicy.Disclose(State(Sources()), key);
        var now = State(BusyAtTheOffice(), sequence: 43);

        var reused = DisclosurePolicy.Disclose(now, key, earlier);
        var fresh = DisclosurePolicy.Disclose(now, key);

        Assert.True(fresh.SameContentAs(reused), $"{tier}/{mode}: {fresh} vs {reused}");
        Assert.Equal(fresh.Sequence, reused.Sequence);
    }
}
