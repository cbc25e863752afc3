using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Herald.Core.Model;
using Herald.Core.Presence;
using static Herald.Core.Tests.Presence.SourceBuilder;

namespace Herald.Core.Tests.Presence;

/// <summary>Properties of aggregation, sequence numbers and the latest-state mailbox, checked with FsCheck.</summary>
public sealed class AggregationProperties
{
    private const int Runs = 200;

    private static readonly Availability?[] DeviceAvailabilities =
        [null, Availability.Available, Availability.Away, Availability.BeRightBack, Availability.Busy, Availability.DoNotDisturb];

    private static readonly Activity?[] DeviceActivities =
        [null, null, null, Activity.InACall, Activity.Presenting, Activity.InAMeeting, Activity.Focusing, Activity.Commuting];

    private static readonly Activity[] AllActivities = Enum.GetValues<Activity>();

    private static readonly Availability[] PreferredAvailabilities =
        [Availability.Offline, Availability.OffWork, Availability.Away, Availability.BeRightBack, Availability.DoNotDisturb,
         Availability.Busy, Availability.Available];

    private static Gen<DateTimeOffset> Around(int minSeconds, int maxSeconds) =>
        Gen.Choose(minSeconds, maxSeconds).Select(s => Now.AddSeconds(s));

    /// <summary>A device with arbitrary state and lease, live or not, idle or not.</summary>
    private static Gen<DeviceSession> AnyDevice(string id) =>
        from availability in Gen.Elements(DeviceAvailabilities)
        from activity in Gen.Elements(DeviceActivities)
        from idleSince in Gen.OneOf(Gen.Constant<DateTimeOffset?>(null), Around(-1800, 0).Select(t => (DateTimeOffset?)t))
        from heartbeat in Around(-180, 0)
        from expiresIn in Gen.Choose(-120, 120)
        from stateSince in Around(-3600, 0)
        select Device(id, availability, activity, idleSince, heartbeat, heartbeat.AddSeconds(expiresIn + 60), stateSince);

    /// <summary>A live device that is not idle at <see cref="SourceBuilder.Now"/>.</summary>
    private static Gen<DeviceSession> ActiveDevice(string id) =>
        from availability in Gen.Elements(DeviceAvailabilities)
        from activity in Gen.Elements(DeviceActivities)
        from idleFor in Gen.OneOf(Gen.Constant<int?>(null), Gen.Choose(0, 299).Select(s => (int?)s))
        from heartbeat in Around(-60, 0)
        from leaseLeft in Gen.Choose(-14, 120) // with the 15 s grace, still live
        from stateSince in Around(-3600, 0)
        select Device(id, availability, activity, idleFor is { } f ? Now.AddSeconds(-f) : null, heartbeat,
            Now.AddSeconds(leaseLeft), stateSince);

    /// <summary>A live device idle for at least the 5 min threshold.</summary>
    private static Gen<DeviceSession> IdleDevice(string id) =>
        from availability in Gen.Elements(DeviceAvailabilities)
        from activity in Gen.Elements(DeviceActivities)
        from idleFor in Gen.Choose(300, 7200)
        from heartbeat in Around(-60, 0)
        from leaseLeft in Gen.Choose(-14, 120)
        from stateSince in Around(-7200, 0)
        select Device(id, availability, activity, Now.AddSeconds(-idleFor), heartbeat, Now.AddSeconds(leaseLeft), stateSince);

    private static Gen<List<DeviceSession>> Devices(Func<string, Gen<DeviceSession>> device, string prefix, int min, int max) =>
        from count in Gen.Choose(min, max)
        from devices in Gen.CollectToList(Enumerable.Range(0, count).Select(i => device($"{prefix}{i}")))
        select devices.ToList();

    private static Gen<ActivityLease> AnyLease =>
        from integration in Gen.Elements("phone", "conf", "room", "hr")
        from activity in Gen.Elements(AllActivities)
        from started in Around(-3600, 0)
        from expires in Around(-300, 300)
        select Lease(integration, activity, started, expires);

    private static Gen<PreferredStatus?> AnyPreferred =>
        Gen.OneOf(
            Gen.Constant<PreferredStatus?>(null),
            from availability in Gen.OneOf(Gen.Constant<Availability?>(null), Gen.Elements(PreferredAvailabilities).Select(a => (Availability?)a))
            from activity in Gen.OneOf(Gen.Constant<Activity?>(null), Gen.Elements(AllActivities).Select(a => (Activity?)a))
            from setAt in Around(-86_400, 0)
            from until in Around(-3600, 3600)
            select (PreferredStatus?)Preferred(availability, activity, setAt, until));

    private static Gen<PresenceSources> AnySources =>
        from preferred in AnyPreferred
        from devices in Devices(AnyDevice, "dev-", 0, 4)
        from leases in Gen.ListOf(AnyLease, 3).Select(l => l.ToList()).Or(Gen.Constant(new List<ActivityLease>()))
        from lastSeen in Gen.OneOf(Gen.Constant<DateTimeOffset?>(null), Around(-86_400, 0).Select(t => (DateTimeOffset?)t))
        select Sources(preferred: preferred, devices: devices, leases: leases, lastSeen: lastSeen);

    private static string Describe(PresenceSources s) =>
        $"preferred={s.Preferred}; devices=[{string.Join(", ", s.Devices.Values)}]; leases=[{string.Join(", ", s.Activities.Values)}]; lastSeen={s.LastSeen:O}";

    // (a) -------------------------------------------------------------------------------------------------------

    [Property(MaxTest = Runs)]
    public Property An_idle_device_never_changes_the_availability_decided_by_active_devices()
    {
        var gen =
            from active in Devices(ActiveDevice, "active-", 1, 4)
            from others in Devices(AnyDevice, "other-", 0, 3)
            from idle in IdleDevice("idle-extra")
            select (Without: Sources(devices: [.. active, .. others]), With: Sources(devices: [.. active, .. others, idle]));

        return Prop.ForAll(gen.ToArbitrary(), pair =>
        {
            var without = PresenceAggregator.Aggregate(pair.Without, Settings, Now);
            var with = PresenceAggregator.Aggregate(pair.With, Settings, Now);
            return (without.Availability == with.Availability
                    && without.Provenance.SourceId == with.Provenance.SourceId
                    && with.Devices.Single(d => d.DeviceId == "idle-extra").Idle)
                .Label($"without={without.Availability} with={with.Availability}; {Describe(pair.With)}");
        });
    }

    [Property(MaxTest = Runs)]
    public Property An_idle_device_never_makes_a_person_less_reachable_than_their_active_devices_say()
    {
        var gen =
            from active in Devices(ActiveDevice, "active-", 1, 4)
            from idle in Devices(IdleDevice, "idle-", 1, 3)
            select Sources(devices: [.. active, .. idle]);

        return Prop.ForAll(gen.ToArbitrary(), sources =>
        {
            var result = PresenceAggregator.Aggregate(sources, Settings, Now);
            var best = sources.Devices.Values.Where(d => !d.IsIdle(Now, Settings.IdleThreshold))
                .Max(d => AvailabilityRules.DeviceRank(d.Reported));
            return (AvailabilityRules.DeviceRank(result.Availability) == best
                    && result.Provenance.SourceId is { } id && !sources.Devices[id].IsIdle(Now, Settings.IdleThreshold))
                .Label($"result={result.Availability}; {Describe(sources)}");
        });
    }

    // (b) -------------------------------------------------------------------------------------------------------

    [Property(MaxTest = Runs)]
    public Property An_expired_source_never_wins()
    {
        return Prop.ForAll(AnySources.ToArbitrary(), sources =>
        {
            var result = PresenceAggregator.Aggregate(sources, Settings, Now);
            var p = result.Provenance;
            var ok = p.Source switch
            {
                SourceKind.Preferred => sources.Preferred is { } pref && pref.Until > Now,
                SourceKind.Integration => sources.Activities.Values.Any(a =>
                    a.IntegrationId == p.SourceId && a.Activity == result.Activity && a.ExpiresAt > Now),
                SourceKind.Device => p.SourceId is { } id && sources.Devices.TryGetValue(id, out var d)
                    && Now < d.ExpiresAt + Settings.GraceWindow,
                SourceKind.None => sources.Preferred is not { } pr || pr.Until <= Now,
                _ => false,
            };
            return ok.Label($"provenance={p}; {Describe(sources)}");
        });
    }

    [Property(MaxTest = Runs)]
    public Property Expired_sources_make_no_difference_to_the_presence()
    {
        // Removing every expired source (what Prune does) must not change what anyone sees.
        return Prop.ForAll(AnySources.ToArbitrary(), sources =>
        {
            var direct = PresenceAggregator.Aggregate(sources, Settings, Now);
            var pruned = PresenceAggregator.Aggregate(PresenceAggregator.Prune(sources, Settings, Now), Settings, Now);
            return direct.SameStateAs(pruned).Label($"direct={direct}; pruned={pruned}; {Describe(sources)}");
        });
    }

    [Property(MaxTest = Runs)]
    public Property Next_change_is_always_in_the_future()
    {
        return Prop.ForAll(AnySources.ToArbitrary(), sources =>
        {
            var next = PresenceAggregator.Aggregate(sources, Settings, Now).NextChangeAt;
            return (next is null || next > Now).Label($"next={next:O}; {Describe(sources)}");
        });
    }

    // (c) -------------------------------------------------------------------------------------------------------

    [Property(MaxTest = Runs)]
    public Property Sequence_clock_only_grows_whatever_the_order_of_the_times_it_is_given()
    {
        var gen =
            from startMs in Gen.Choose(-2_000_000, 2_000_000)
            from steps in Gen.ListOf(Gen.Choose(-600_000, 600_000))
            select (StartLast: Now.AddMilliseconds(startMs).ToUnixTimeMilliseconds() * 1000 + startMs % 1000,
                Times: steps.Select(ms => Now.AddMilliseconds(ms)).ToList());

        return Prop.ForAll(gen.ToArbitrary(), input =>
        {
            var clock = new SequenceClock(input.StartLast);
            var previous = input.StartLast;
            foreach (var t in input.Times)
            {
                var next = clock.Next(t);
                if (next <= previous || next < t.ToUnixTimeMilliseconds() * 1000 || clock.Last != next)
                {
                    return false.Label($"previous={previous} next={next} at {t:O}");
                }
                previous = next;
            }
            return true.ToProperty();
        });
    }

    [Property(MaxTest = Runs)]
    public Property Sequence_clock_restarted_from_its_last_number_continues_above_it()
    {
        var gen =
            from first in Gen.ListOf(Gen.Choose(-600_000, 600_000))
            from second in Gen.ListOf(Gen.Choose(-600_000, 600_000))
            select (First: first.ToList(), Second: second.ToList());

        return Prop.ForAll(gen.ToArbitrary(), input =>
        {
            var clock = new SequenceClock();
            var issued = input.First.Select(ms => clock.Next(Now.AddMilliseconds(ms))).ToList();
            var restarted = new SequenceClock(clock.Last);
            var later = input.Second.Select(ms => restarted.Next(Now.AddMilliseconds(ms))).ToList();
            return later.All(n => issued.All(i => n > i)).ToProperty();
        });
    }

    // (d) -------------------------------------------------------------------------------------------------------

    private sealed record Item(string Key, long Sequence, int Id);

    private enum OpKind { Offer, TakeAll, Forget, Acknowledge }

    private sealed record Op(OpKind Kind, string Key, long Sequence)
    {
        public override string ToString() => Kind switch
        {
            OpKind.Offer => $"Offer({Key},{Sequence})",
            OpKind.Forget => $"Forget({Key})",
            OpKind.Acknowledge => $"Acknowledge({Key},{Sequence})",
            _ => "TakeAll",
        };
    }

    private static readonly string[] Keys = ["alice", "bob", "carol"];

    private static Gen<Op> AnyOp =>
        Gen.Frequency(
            (8, from k in Gen.Elements(Keys) from s in Gen.Choose(0, 30) select new Op(OpKind.Offer, k, s)),
            (2, Gen.Constant(new Op(OpKind.TakeAll, "", 0))),
            (1, Gen.Elements(Keys).Select(k => new Op(OpKind.Forget, k, 0))),
            (1, from k in Gen.Elements(Keys) from s in Gen.Choose(0, 30) select new Op(OpKind.Acknowledge, k, s)));

    private static LatestStateMailbox<Item> NewMailbox() => new(i => i.Key, i => i.Sequence);

    [Property(MaxTest = Runs)]
    public Property Mailbox_never_yields_a_sequence_not_above_the_last_one_taken_for_that_key()
    {
        return Prop.ForAll(Gen.ListOf(AnyOp).Select(l => l.ToList()).ToArbitrary(), ops =>
        {
            var mailbox = NewMailbox();
            var lastTaken = new Dictionary<string, long>();
            var id = 0;
            foreach (var op in ops)
            {
                switch (op.Kind)
                {
                    case OpKind.Offer:
                        mailbox.Offer(new Item(op.Key, op.Sequence, id++));
                        break;
                    case OpKind.Forget:
                        mailbox.Forget(op.Key);
                        lastTaken.Remove(op.Key);
                        break;
                    case OpKind.Acknowledge:
                        mailbox.Acknowledge(op.Key, op.Sequence);
                        lastTaken[op.Key] = Math.Max(lastTaken.GetValueOrDefault(op.Key, long.MinValue), op.Sequence);
                        break;
                    default:
                        var batch = mailbox.TakeAll();
                        if (batch.Select(i => i.Key).Distinct().Count() != batch.Count)
                        {
                            return false.Label($"duplicate key in batch {string.Join(",", batch)}");
                        }
                        foreach (var item in batch)
                        {
                            if (lastTaken.TryGetValue(item.Key, out var taken) && item.Sequence <= taken)
                            {
                                return false.Label($"{item} taken after {taken}; ops: {string.Join(" ", ops)}");
                            }
                            lastTaken[item.Key] = item.Sequence;
                        }
                        break;
                }
            }
            return true.ToProperty();
        });
    }

    [Property(MaxTest = Runs)]
    public Property Mailbox_after_any_offers_yields_per_key_the_highest_offered_sequence()
    {
        var offers = Gen.ListOf(from k in Gen.Elements(Keys) from s in Gen.Choose(0, 1000) select (Key: k, Sequence: (long)s))
            .Select(l => l.ToList());

        return Prop.ForAll(offers.ToArbitrary(), list =>
        {
            var mailbox = NewMailbox();
            var id = 0;
            foreach (var (key, seq) in list)
            {
                mailbox.Offer(new Item(key, seq, id++));
            }
            var expected = list.GroupBy(o => o.Key).ToDictionary(g => g.Key, g => g.Max(o => o.Sequence));
            var firstSeen = list.Select(o => o.Key).Distinct().ToList();
            var count = mailbox.Count;
            var taken = mailbox.TakeAll();
            return (count == expected.Count
                    && taken.Select(i => i.Key).SequenceEqual(firstSeen)
                    && taken.All(i => expected[i.Key] == i.Sequence)
                    && mailbox.Count == 0
                    && mailbox.TakeAll().Count == 0)
                .Label($"taken=[{string.Join(", ", taken)}]");
        });
    }

    [Property(MaxTest = Runs)]
    public Property Mailbox_matches_a_simple_model_for_any_interleaving_of_offers_takes_and_forgets()
    {
        return Prop.ForAll(Gen.ListOf(AnyOp).Select(l => l.ToList()).ToArbitrary(), ops =>
        {
            var mailbox = NewMailbox();
            var lastTaken = new Dictionary<string, long>();
            var pending = new Dictionary<string, long>();
            var order = new List<string>();
            var id = 0;
            var trace = new List<string>();

            bool TakeAndCompare()
            {
                var batch = mailbox.TakeAll();
                var expected = order.Select(k => (k, pending[k])).ToList();
                var ok = batch.Select(i => (i.Key, i.Sequence)).SequenceEqual(expected);
                foreach (var (k, s) in expected)
                {
                    lastTaken[k] = s;
                }
                pending.Clear();
                order.Clear();
                return ok;
            }

            foreach (var op in ops)
            {
                trace.Add(op.ToString());
                switch (op.Kind)
                {
                    case OpKind.Offer:
                        var accepted = mailbox.Offer(new Item(op.Key, op.Sequence, id++));
                        var shouldAccept = (!lastTaken.TryGetValue(op.Key, out var t) || op.Sequence > t)
                            && (!pending.TryGetValue(op.Key, out var p) || op.Sequence > p);
                        if (accepted != shouldAccept)
                        {
                            return false.Label($"offer accepted={accepted}, expected {shouldAccept}; ops: {string.Join(" ", trace)}");
                        }
                        if (shouldAccept)
                        {
                            if (!pending.ContainsKey(op.Key))
                            {
                                order.Add(op.Key);
                            }
                            pending[op.Key] = op.Sequence;
                        }
                        break;
                    case OpKind.Forget:
                        mailbox.Forget(op.Key);
                        lastTaken.Remove(op.Key);
                        pending.Remove(op.Key);
                        order.Remove(op.Key);
                        break;
                    case OpKind.Acknowledge:
                        mailbox.Acknowledge(op.Key, op.Sequence);
                        lastTaken[op.Key] = Math.Max(lastTaken.GetValueOrDefault(op.Key, long.MinValue), op.Sequence);
                        if (pending.TryGetValue(op.Key, out var queued) && queued <= op.Sequence)
                        {
                            pending.Remove(op.Key);
                            order.Remove(op.Key);
                        }
                        break;
                    default:
                        if (!TakeAndCompare())
                        {
                            return false.Label($"batch differs from model; ops: {string.Join(" ", trace)}");
                        }
                        break;
                }
                if (mailbox.Count != pending.Count)
                {
                    return false.Label($"count {mailbox.Count} != {pending.Count}; ops: {string.Join(" ", trace)}");
                }
            }
            return TakeAndCompare().Label($"final batch differs from model; ops: {string.Join(" ", trace)}");
        });
    }
}
