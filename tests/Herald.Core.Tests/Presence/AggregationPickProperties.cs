using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Herald.Core.Model;
using Herald.Core.Presence;
using static Herald.Core.Tests.Presence.SourceBuilder;

namespace Herald.Core.Tests.Presence;

/// <summary>
/// The aggregator picks the winning lease, calendar entry and device with plain loops. These properties check every
/// pick against the documented precedence written as a stable sort (the form the aggregator used before), on inputs
/// drawn from a few instants and ids so that ties on every key, and so every tie-break, are common.
/// </summary>
public sealed class AggregationPickProperties
{
    private const int Runs = 300;

    private static readonly DateTimeOffset[] Instants =
        [Now.AddMinutes(-20), Now.AddMinutes(-10), Now.AddMinutes(-10), Now.AddMinutes(-5), Now.AddSeconds(-30)];

    private static readonly Availability?[] Reports =
        [null, Availability.Available, Availability.Busy, Availability.DoNotDisturb, Availability.BeRightBack];

    private static Gen<DeviceSession> AnyDevice(string id) =>
        from availability in Gen.Elements(Reports)
        from activity in Gen.Elements<Activity?>(null, null, Activity.InACall, Activity.Presenting)
        from idle in Gen.Elements(false, false, true)
        from idleSince in Gen.Elements(Instants)
        from heartbeat in Gen.Elements(Instants.Select(t => t.AddMinutes(19)).ToArray()) // all live
        select Device(id, availability, activity, idle ? idleSince : null, heartbeat);

    private static Gen<ActivityLease> AnyLease =>
        from integration in Gen.Elements("phone", "conf", "phone2", "a")
        from activity in Gen.Elements(Activity.InACall, Activity.Presenting, Activity.InAMeeting, Activity.OutOfOffice, Activity.Focusing)
        from started in Gen.Elements(Instants)
        select Lease(integration, activity, started);

    private static Gen<CalendarBusy> AnyEntry =>
        from activity in Gen.Elements(Activity.InAMeeting, Activity.OutOfOffice)
        from start in Gen.Elements(Instants)
        from minutes in Gen.Elements(25, 30, 60)
        select new CalendarBusy(start, start.AddMinutes(minutes), activity, "s");

    private static Gen<PresenceSources> AnySources(bool leases, bool calendar) =>
        from ids in Gen.SubListOf(["d1", "d2", "d3", "d10", "D1"])
        from devices in Gen.CollectToList(ids.Select(AnyDevice))
        from ls in leases ? Gen.ListOf(AnyLease, 4).Select(l => l.ToList()) : Gen.Constant(new List<ActivityLease>())
        from entries in calendar ? Gen.ListOf(AnyEntry, 4).Select(l => l.ToList()) : Gen.Constant(new List<CalendarBusy>())
        select Sources(devices: devices, leases: ls) with { Calendar = entries.Count == 0 ? null : entries };

    private static string Describe(PresenceSources s) =>
        $"devices=[{string.Join(", ", s.Devices.Values)}]; leases=[{string.Join(", ", s.Activities.Values)}]; calendar=[{string.Join(", ", s.Calendar ?? [])}]";

    [Property(MaxTest = Runs)]
    public Property The_winning_device_is_the_first_in_the_documented_order()
    {
        return Prop.ForAll(AnySources(false, false).ToArbitrary(), sources =>
        {
            var result = PresenceAggregator.Aggregate(sources, Settings, Now);
            var live = sources.Devices.Values.OrderBy(d => d.DeviceId, StringComparer.Ordinal).ToList();
            var active = live.Where(d => !d.IsIdle(Now, Settings.IdleThreshold)).ToList();
            string? expected = active.Count > 0
                ? active.OrderByDescending(d => AvailabilityRules.DeviceRank(d.Reported)).ThenByDescending(d => d.LastHeartbeat)
                    .ThenBy(d => d.DeviceId, StringComparer.Ordinal).First().DeviceId
                : live.Count > 0
                    ? live.OrderByDescending(d => d.IdleSince).ThenBy(d => d.DeviceId, StringComparer.Ordinal).First().DeviceId
                    : null;
            return (result.Provenance.SourceId == expected).Label($"picked {result.Provenance.SourceId}, expected {expected}; {Describe(sources)}");
        });
    }

    [Property(MaxTest = Runs)]
    public Property The_winning_lease_is_the_first_in_the_documented_order()
    {
        return Prop.ForAll(AnySources(true, false).ToArbitrary(), sources =>
        {
            var result = PresenceAggregator.Aggregate(sources, Settings, Now);
            var leases = sources.Activities.Values.Where(a => a.IsLive(Now)).ToList();
            if (leases.Count == 0)
            {
                return true.ToProperty();
            }
            var best = leases.OrderByDescending(a => Activities.Info(a.Activity).Strength).ThenByDescending(a => a.StartedAt)
                .ThenBy(a => a.Key, StringComparer.Ordinal).First();
            return (result.Provenance.Source == SourceKind.Integration && result.Provenance.SourceId == best.IntegrationId
                    && result.Activity == best.Activity && result.Provenance.Since == best.StartedAt)
                .Label($"picked {result.Provenance}, expected {best}; {Describe(sources)}");
        });
    }

    [Property(MaxTest = Runs)]
    public Property The_winning_and_shown_calendar_entry_is_the_first_in_the_documented_order()
    {
        return Prop.ForAll(AnySources(false, true).ToArbitrary(), sources =>
        {
            var result = PresenceAggregator.Aggregate(sources, Settings, Now);
            var best = (sources.Calendar ?? []).Where(c => c.Contains(Now))
                .OrderByDescending(c => Activities.IsDayOff(c.Activity)).ThenByDescending(c => c.Start).ThenBy(c => c.End)
                .FirstOrDefault();
            var shownOk = Equals(result.Calendar, best);
            var winnerOk = best is null
                ? result.Provenance.Source != SourceKind.Calendar
                : result.Provenance.Source == SourceKind.Calendar && result.Provenance.Since == best.Start
                    && result.Provenance.Until == best.End && result.Activity == best.Activity;
            var dayOffOk = result.DayOff == (sources.Calendar ?? []).Any(c => c.Contains(Now) && Activities.IsDayOff(c.Activity));
            return (shownOk && winnerOk && dayOffOk).Label($"picked {result.Provenance} / {result.Calendar}, expected {best}; {Describe(sources)}");
        });
    }
}
