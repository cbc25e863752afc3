using Herald.Core.Model;

namespace Herald.Core.Presence;

/// <summary>
/// Merges a person's sources into one presence, following the documented precedence:
/// 1. the person's preferred status (unless expired; appear offline included);
/// 2. integration activities (calls and presenting beat meetings);
/// 3. calendar (a busy or out-of-office entry containing now; out of office beats a meeting);
/// 4. devices — Busy/DoNotDisturb from any active device win, otherwise the most reachable active device;
///    idle devices count as Away and never downgrade an active one;
/// 5. no live source: OffWork outside work hours, else Offline with the last-seen time.
/// Pure: the result depends only on its arguments.
/// </summary>
public static class PresenceAggregator
{
    /// <summary>Computes the merged presence at <paramref name="now"/>.</summary>
    public static AggregatedPresence Aggregate(PresenceSources sources, AggregationSettings settings, DateTimeOffset now)
    {
        try
        {
            return AggregateCore(sources, settings, now);
        }
        finally
        {
            // Drop the scratch lists' references: a person's device sessions must not stay reachable from a thread.
            t_liveDevices?.Clear();
            t_activeDevices?.Clear();
        }
    }

    // Recently built device reasons of this thread, direct-mapped by availability, kind and device id: a device's
    // reason is the same text on most of its changes, and building it anew made a string per change that outlived it.
    [ThreadStatic] private static (Availability Reported, DeviceKind Kind, string DeviceId, string Reason)[]? t_reasons;

    private static string DeviceReason(Availability reported, DeviceKind kind, string deviceId)
    {
        var cache = t_reasons ??= new (Availability, DeviceKind, string, string)[64];
        ref var slot = ref cache[(HashCode.Combine(reported, kind, deviceId) & int.MaxValue) % cache.Length];
        if (slot.Reason is not null && slot.Reported == reported && slot.Kind == kind && slot.DeviceId == deviceId)
        {
            return slot.Reason;
        }
        var reason = $"{reported} reported by {kind} device '{deviceId}'";
        slot = (reported, kind, deviceId, reason);
        return reason;
    }

    [ThreadStatic] private static List<DeviceSession>? t_liveDevices;
    [ThreadStatic] private static List<DeviceSession>? t_activeDevices;

    private static AggregatedPresence AggregateCore(PresenceSources sources, AggregationSettings settings, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(settings);

        var preferred = sources.Preferred is { } p && p.Until > now ? p : null;
        var note = sources.Note is { } n && (n.Until is null || n.Until > now) ? n : null;
        // Plain loops, no LINQ: this runs on every change of every person (see docs/benchmarks.md, engine path).
        // Scratch lists of this thread (Aggregate is synchronous and never re-entered): they never escape this call,
        // and a list per change was a third of the aggregation's allocation.
        var liveDevices = t_liveDevices ??= [];
        liveDevices.Clear();
        foreach (var d in DictionaryValues.Of(sources.Devices))
        {
            if (d.IsLive(now, settings.GraceWindow))
            {
                liveDevices.Add(d);
            }
        }
        if (liveDevices.Count > 1)
        {
            liveDevices.Sort(static (a, b) => string.CompareOrdinal(a.DeviceId, b.DeviceId)); // ids are unique keys
        }
        var activeDevices = liveDevices; // the same list when no device is idle (the common case); never changed below
        for (var i = 0; i < liveDevices.Count; i++)
        {
            if (liveDevices[i].IsIdle(now, settings.IdleThreshold))
            {
                activeDevices = t_activeDevices ??= [];
                activeDevices.Clear();
                foreach (var d in liveDevices)
                {
                    if (!d.IsIdle(now, settings.IdleThreshold))
                    {
                        activeDevices.Add(d);
                    }
                }
                break;
            }
        }
        var liveActivities = sources.Activities.Count == 0 ? NoActivities : new List<ActivityLease>(sources.Activities.Count);
        foreach (var a in DictionaryValues.Of(sources.Activities))
        {
            if (a.IsLive(now))
            {
                liveActivities.Add(a);
            }
        }
        var liveCalendar = NoCalendar;
        if (sources.Calendar is { } calendar)
        {
            foreach (var c in calendar)
            {
                if (c.Contains(now))
                {
                    if (ReferenceEquals(liveCalendar, NoCalendar))
                    {
                        liveCalendar = [];
                    }
                    liveCalendar.Add(c);
                }
            }
        }
        var offHours = settings.WorkHours is { } wh && !wh.IsWorking(now, settings.TimeZone);

        var lastSeen = LastSeen(sources);
        var devices = liveDevices.Count == 0 ? [] : new DeviceSummary[liveDevices.Count];
        // The live device with the newest location (first in device-id order among equals).
        Location? location = null;
        var locationAt = DateTimeOffset.MinValue;
        for (var i = 0; i < liveDevices.Count; i++)
        {
            var d = liveDevices[i];
            devices[i] = Summarize(d, now, settings);
            if (d.Location is { } l && (location is null || (l.At ?? d.LastHeartbeat) > locationAt))
            {
                location = l;
                locationAt = l.At ?? d.LastHeartbeat;
            }
        }

        Availability availability;
        Activity? activity;
        Provenance provenance;

        if (preferred is not null)
        {
            availability = preferred.Effective;
            activity = preferred.IsAppearOffline ? null : preferred.Activity;
            provenance = new Provenance(SourceKind.Preferred, null, preferred.SetAt, preferred.Until,
                preferred.IsAppearOffline ? "appear offline, chosen by the person" : "status chosen by the person");
        }
        else if (liveActivities.Count > 0)
        {
            var best = Best(liveActivities, BetterActivity);
            availability = Activities.Implied(best.Activity);
            activity = best.Activity;
            provenance = new Provenance(SourceKind.Integration, best.IntegrationId, best.StartedAt, best.ExpiresAt,
                $"{best.Activity} published by {best.IntegrationName}");
        }
        else if (liveCalendar.Count > 0)
        {
            // Out of office beats a meeting; then the entry that started last, then the one ending first.
            var best = Best(liveCalendar, BetterCalendarEntry);
            availability = Activities.Implied(best.Activity);
            activity = best.Activity;
            provenance = new Provenance(SourceKind.Calendar, null, best.Start, best.End,
                Activities.IsDayOff(best.Activity) ? "Out of office (calendar)" : "In a meeting (calendar)");
        }
        else if (activeDevices.Count > 0)
        {
            var best = Best(activeDevices, BetterActiveDevice);
            availability = best.Reported;
            activity = best.Activity;
            provenance = new Provenance(SourceKind.Device, best.DeviceId, best.StateSince, null,
                DeviceReason(best.Reported, best.Kind, best.DeviceId));
        }
        else if (liveDevices.Count > 0)
        {
            var best = Best(liveDevices, BetterIdleDevice);
            availability = Availability.Away;
            activity = null;
            provenance = new Provenance(SourceKind.Device, best.DeviceId, best.IdleSince, null,
                $"every device idle for at least {settings.IdleThreshold.TotalMinutes:0} min");
        }
        else if (offHours)
        {
            availability = Availability.OffWork;
            activity = null;
            provenance = new Provenance(SourceKind.Schedule, null, null,
                settings.WorkHours!.NextBoundary(now, settings.TimeZone), "outside work hours, no live device");
        }
        else
        {
            availability = Availability.Offline;
            activity = null;
            provenance = new Provenance(SourceKind.None, null, lastSeen, null, "no live device or activity");
        }

        var appearOffline = preferred?.IsAppearOffline == true;
        var dayOff = (activity is { } act && Activities.IsDayOff(act))
            || (preferred?.Activity is { } pa && Activities.IsDayOff(pa))
            || AnyDayOff(liveActivities, liveCalendar);
        var shownLastSeen = availability is Availability.Offline or Availability.OffWork && liveDevices.Count == 0 ? lastSeen : null;
        DateTimeOffset? apparentLastSeen = appearOffline
            ? preferred!.LastSeenAtSet ?? preferred.SetAt
            : shownLastSeen;

        // The calendar entry running now (out of office first, then the latest start), whichever source won.
        var meeting = liveCalendar.Count == 0 ? null : Best(liveCalendar, BetterCalendarEntry);

        return new AggregatedPresence(availability, activity, note, location, shownLastSeen, provenance, devices,
            appearOffline, offHours, dayOff, NextChange(sources, settings, now))
        {
            ApparentLastSeen = apparentLastSeen,
            Calendar = meeting,
        };
    }

    /// <summary>
    /// Drops what has expired at <paramref name="now"/> (devices past TTL and grace, lapsed leases, expired
    /// statuses and notes), folding expired devices' last heartbeat into <see cref="PresenceSources.LastSeen"/>.
    /// Returns the same instance when nothing expired.
    /// </summary>
    public static PresenceSources Prune(PresenceSources sources, AggregationSettings settings, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(settings);
        var preferredExpired = sources.Preferred is { } p && p.Until <= now;
        var noteExpired = sources.Note is { Until: { } u } && u <= now;
        if (!preferredExpired && !noteExpired && !AnyExpired(sources, settings, now))
        {
            return sources; // the common case: nothing allocated
        }
        return PruneExpired(sources, settings, now, preferredExpired, noteExpired);
    }

    // Apart from Prune so that its lambdas' closure is allocated only when something expired.
    private static PresenceSources PruneExpired(PresenceSources sources, AggregationSettings settings, DateTimeOffset now,
        bool preferredExpired, bool noteExpired)
    {
        var expiredDevices = sources.Devices.Values.Where(d => !d.IsLive(now, settings.GraceWindow)).ToList();
        var expiredLeases = sources.Activities.Values.Where(a => !a.IsLive(now)).ToList();
        var lastSeen = sources.LastSeen;
        foreach (var d in expiredDevices)
        {
            lastSeen = Max(lastSeen, d.LastHeartbeat);
        }
        return sources with
        {
            Preferred = preferredExpired ? null : sources.Preferred,
            Note = noteExpired ? null : sources.Note,
            Devices = expiredDevices.Count == 0 ? sources.Devices
                : sources.Devices.Where(kv => kv.Value.IsLive(now, settings.GraceWindow)).ToDictionary(),
            Activities = expiredLeases.Count == 0 ? sources.Activities
                : sources.Activities.Where(kv => kv.Value.IsLive(now)).ToDictionary(),
            LastSeen = lastSeen,
        };
    }

    // Shared empty lists for the common case of no activity and no calendar entry; never added to.
    private static readonly List<ActivityLease> NoActivities = [];
    private static readonly List<CalendarBusy> NoCalendar = [];

    /// <summary>
    /// The first element that no later one beats: the same pick as a stable descending sort by the precedence that
    /// <paramref name="better"/> encodes, then taking the first, without sorting or allocating. The list is not empty.
    /// </summary>
    private static T Best<T>(List<T> candidates, Func<T, T, bool> better)
    {
        var best = candidates[0];
        for (var i = 1; i < candidates.Count; i++)
        {
            if (better(candidates[i], best))
            {
                best = candidates[i];
            }
        }
        return best;
    }

    /// <summary>Stronger activity first, then the one started last, then the smaller key.</summary>
    private static bool BetterActivity(ActivityLease a, ActivityLease b)
    {
        var (sa, sb) = (Activities.Info(a.Activity).Strength, Activities.Info(b.Activity).Strength);
        if (sa != sb)
        {
            return sa > sb;
        }
        return a.StartedAt != b.StartedAt ? a.StartedAt > b.StartedAt : string.CompareOrdinal(a.Key, b.Key) < 0;
    }

    /// <summary>Out of office beats a meeting; then the entry that started last, then the one ending first.</summary>
    private static bool BetterCalendarEntry(CalendarBusy a, CalendarBusy b)
    {
        var (oa, ob) = (Activities.IsDayOff(a.Activity), Activities.IsDayOff(b.Activity));
        if (oa != ob)
        {
            return oa;
        }
        return a.Start != b.Start ? a.Start > b.Start : a.End < b.End;
    }

    /// <summary>The most restrictive report (busy, do not disturb) first, then the newest heartbeat, then the smaller id.</summary>
    private static bool BetterActiveDevice(DeviceSession a, DeviceSession b)
    {
        var (ra, rb) = (AvailabilityRules.DeviceRank(a.Reported), AvailabilityRules.DeviceRank(b.Reported));
        if (ra != rb)
        {
            return ra > rb;
        }
        return a.LastHeartbeat != b.LastHeartbeat ? a.LastHeartbeat > b.LastHeartbeat : string.CompareOrdinal(a.DeviceId, b.DeviceId) < 0;
    }

    /// <summary>The device idle the shortest (a device without an idle time last), then the smaller id.</summary>
    private static bool BetterIdleDevice(DeviceSession a, DeviceSession b)
    {
        if (a.IdleSince != b.IdleSince)
        {
            return b.IdleSince is not { } ib || (a.IdleSince is { } ia && ia > ib);
        }
        return string.CompareOrdinal(a.DeviceId, b.DeviceId) < 0;
    }

    private static bool AnyDayOff(List<ActivityLease> activities, List<CalendarBusy> calendar)
    {
        foreach (var a in activities)
        {
            if (Activities.IsDayOff(a.Activity))
            {
                return true;
            }
        }
        foreach (var c in calendar)
        {
            if (Activities.IsDayOff(c.Activity))
            {
                return true;
            }
        }
        return false;
    }

    private static DeviceSummary Summarize(DeviceSession d, DateTimeOffset now, AggregationSettings settings)
    {
        var idle = d.IsIdle(now, settings.IdleThreshold);
        return new DeviceSummary(d.DeviceId, d.Kind, idle ? Availability.Away : d.Reported, d.Activity, idle, d.IdleSince,
            d.Capabilities);
    }

    private static DateTimeOffset? LastSeen(PresenceSources sources)
    {
        var lastSeen = sources.LastSeen;
        foreach (var d in DictionaryValues.Of(sources.Devices))
        {
            lastSeen = Max(lastSeen, d.LastHeartbeat);
        }
        return lastSeen;
    }

    private static DateTimeOffset? NextChange(PresenceSources sources, AggregationSettings settings, DateTimeOffset now)
    {
        DateTimeOffset? next = null;
        Consider(ref next, sources.Preferred?.Until, now);
        Consider(ref next, sources.Note?.Until, now);
        foreach (var d in DictionaryValues.Of(sources.Devices))
        {
            Consider(ref next, d.ExpiresAt + settings.GraceWindow, now);
            if (d.IdleSince is { } s)
            {
                Consider(ref next, s + settings.IdleThreshold, now);
            }
        }
        foreach (var a in DictionaryValues.Of(sources.Activities))
        {
            Consider(ref next, a.ExpiresAt, now);
        }
        if (sources.Calendar is { } calendar)
        {
            foreach (var c in calendar)
            {
                Consider(ref next, c.Start, now);
                Consider(ref next, c.End, now);
            }
        }
        if (settings.WorkHours is { } wh)
        {
            Consider(ref next, wh.NextBoundary(now, settings.TimeZone), now);
        }
        return next;
    }

    private static void Consider(ref DateTimeOffset? next, DateTimeOffset? t, DateTimeOffset now)
    {
        if (t is { } v && v > now && (next is null || v < next))
        {
            next = v;
        }
    }

    private static bool AnyExpired(PresenceSources sources, AggregationSettings settings, DateTimeOffset now)
    {
        foreach (var d in DictionaryValues.Of(sources.Devices))
        {
            if (!d.IsLive(now, settings.GraceWindow))
            {
                return true;
            }
        }
        foreach (var a in DictionaryValues.Of(sources.Activities))
        {
            if (!a.IsLive(now))
            {
                return true;
            }
        }
        return false;
    }

    private static DateTimeOffset? Max(DateTimeOffset? a, DateTimeOffset? b) =>
        a is null ? b : b is null ? a : a > b ? a : b;

}
