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
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(settings);

        var preferred = sources.Preferred is { } p && p.Until > now ? p : null;
        var note = sources.Note is { } n && (n.Until is null || n.Until > now) ? n : null;
        // Plain loops, no LINQ: this runs on every change of every person (see docs/benchmarks.md, engine path).
        var liveDevices = new List<DeviceSession>(sources.Devices.Count);
        foreach (var d in sources.Devices.Values)
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
        var activeDevices = new List<DeviceSession>(liveDevices.Count);
        foreach (var d in liveDevices)
        {
            if (!d.IsIdle(now, settings.IdleThreshold))
            {
                activeDevices.Add(d);
            }
        }
        var liveActivities = new List<ActivityLease>(sources.Activities.Count);
        foreach (var a in sources.Activities.Values)
        {
            if (a.IsLive(now))
            {
                liveActivities.Add(a);
            }
        }
        var liveCalendar = new List<CalendarBusy>();
        if (sources.Calendar is { } calendar)
        {
            foreach (var c in calendar)
            {
                if (c.Contains(now))
                {
                    liveCalendar.Add(c);
                }
            }
        }
        var offHours = settings.WorkHours is { } wh && !wh.IsWorking(now, settings.TimeZone);

        var lastSeen = LastSeen(sources);
        var devices = new List<DeviceSummary>(liveDevices.Count);
        // The live device with the newest location (first in device-id order among equals).
        Location? location = null;
        var locationAt = DateTimeOffset.MinValue;
        foreach (var d in liveDevices)
        {
            devices.Add(Summarize(d, now, settings));
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
            var best = liveActivities
                .OrderByDescending(a => Activities.Info(a.Activity).Strength)
                .ThenByDescending(a => a.StartedAt)
                .ThenBy(a => a.Key, StringComparer.Ordinal)
                .First();
            availability = Activities.Implied(best.Activity);
            activity = best.Activity;
            provenance = new Provenance(SourceKind.Integration, best.IntegrationId, best.StartedAt, best.ExpiresAt,
                $"{best.Activity} published by {best.IntegrationName}");
        }
        else if (liveCalendar.Count > 0)
        {
            // Out of office beats a meeting; then the entry that started last, then the one ending first.
            var best = liveCalendar
                .OrderByDescending(c => Activities.IsDayOff(c.Activity))
                .ThenByDescending(c => c.Start)
                .ThenBy(c => c.End)
                .First();
            availability = Activities.Implied(best.Activity);
            activity = best.Activity;
            provenance = new Provenance(SourceKind.Calendar, null, best.Start, best.End,
                Activities.IsDayOff(best.Activity) ? "Out of office (calendar)" : "In a meeting (calendar)");
        }
        else if (activeDevices.Count > 0)
        {
            var best = activeDevices
                .OrderByDescending(d => AvailabilityRules.DeviceRank(d.Reported))
                .ThenByDescending(d => d.LastHeartbeat)
                .ThenBy(d => d.DeviceId, StringComparer.Ordinal)
                .First();
            availability = best.Reported;
            activity = best.Activity;
            provenance = new Provenance(SourceKind.Device, best.DeviceId, best.StateSince, null,
                $"{best.Reported} reported by {best.Kind} device '{best.DeviceId}'");
        }
        else if (liveDevices.Count > 0)
        {
            var best = liveDevices.OrderByDescending(d => d.IdleSince).ThenBy(d => d.DeviceId, StringComparer.Ordinal).First();
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
            || liveActivities.Any(a => Activities.IsDayOff(a.Activity))
            || liveCalendar.Any(c => Activities.IsDayOff(c.Activity));
        var shownLastSeen = availability is Availability.Offline or Availability.OffWork && liveDevices.Count == 0 ? lastSeen : null;
        DateTimeOffset? apparentLastSeen = appearOffline
            ? preferred!.LastSeenAtSet ?? preferred.SetAt
            : shownLastSeen;

        // The calendar entry running now (out of office first, then the latest start), whichever source won.
        var meeting = liveCalendar
            .OrderByDescending(c => Activities.IsDayOff(c.Activity))
            .ThenByDescending(c => c.Start)
            .ThenBy(c => c.End)
            .FirstOrDefault();

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

    private static DeviceSummary Summarize(DeviceSession d, DateTimeOffset now, AggregationSettings settings)
    {
        var idle = d.IsIdle(now, settings.IdleThreshold);
        return new DeviceSummary(d.DeviceId, d.Kind, idle ? Availability.Away : d.Reported, d.Activity, idle, d.IdleSince,
            d.Capabilities);
    }

    private static DateTimeOffset? LastSeen(PresenceSources sources)
    {
        var lastSeen = sources.LastSeen;
        foreach (var d in sources.Devices.Values)
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
        foreach (var d in sources.Devices.Values)
        {
            Consider(ref next, d.ExpiresAt + settings.GraceWindow, now);
            if (d.IdleSince is { } s)
            {
                Consider(ref next, s + settings.IdleThreshold, now);
            }
        }
        foreach (var a in sources.Activities.Values)
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
        foreach (var d in sources.Devices.Values)
        {
            if (!d.IsLive(now, settings.GraceWindow))
            {
                return true;
            }
        }
        foreach (var a in sources.Activities.Values)
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
