using System.Diagnostics;
using System.Globalization;
using Herald.Cluster.Fanout;
using Herald.Core.Privacy;
using HdrHistogram;

namespace Herald.Bench.Fanout;

/// <summary>
/// Collects update-to-delivery latency from every sink. Each thread records into its own
/// <see cref="LongHistogram"/> (microseconds), so the hot path takes no lock and shares no cache line; the
/// histograms are merged only when the run is quiescent.
/// </summary>
public sealed class DeliveryStats : IDisposable
{
    /// <summary>Largest latency tracked (one minute, in microseconds); larger values are clamped to it.</summary>
    public const long HighestMicros = 60_000_000;

    private static readonly double MicrosPerTick = 1_000_000.0 / Stopwatch.Frequency;

    private readonly ThreadLocal<Counters> _local = new(() => new Counters(), trackAllValues: true);

    /// <summary>A histogram in microseconds from 1 µs to one minute, 3 significant digits.</summary>
    public static LongHistogram NewHistogram() => new(HighestMicros, 3);

    /// <summary>Records one accepted delivery whose update was stamped at <paramref name="stamp"/>.</summary>
    public void Accepted(long stamp)
    {
        var micros = (long)((Stopwatch.GetTimestamp() - stamp) * MicrosPerTick);
        var c = _local.Value!;
        c.Histogram.RecordValue(Math.Clamp(micros, 1, HighestMicros));
    }

    /// <summary>Counts a delivery that a real sink would drop: its sequence is not above the last one seen.</summary>
    public void Stale() => _local.Value!.Stale++;

    /// <summary>Counts a delivery whose stamp could not be read.</summary>
    public void Unstamped() => _local.Value!.Unstamped++;

    /// <summary>Merges every thread's counters. Call only while no delivery is in progress.</summary>
    public (LongHistogram Latency, long Stale, long Unstamped) Snapshot()
    {
        var merged = NewHistogram();
        long stale = 0, unstamped = 0;
        foreach (var c in _local.Values)
        {
            merged.Add(c.Histogram);
            stale += c.Stale;
            unstamped += c.Unstamped;
        }
        return (merged, stale, unstamped);
    }

    /// <summary>Clears every thread's counters. Call only while no delivery is in progress.</summary>
    public void Reset()
    {
        foreach (var c in _local.Values)
        {
            c.Histogram.Reset();
            c.Stale = 0;
            c.Unstamped = 0;
        }
    }

    /// <inheritdoc />
    public void Dispose() => _local.Dispose();

    private sealed class Counters
    {
        public LongHistogram Histogram { get; } = NewHistogram();

        public long Stale { get; set; }

        public long Unstamped { get; set; }
    }
}

/// <summary>
/// A cheap sink standing in for one watcher's connection: it reads the send stamp the driver put into the update
/// (the note for <c>SetStatus</c>, the location's city for <c>PutDevice</c>: both visible to Team and
/// Colleague watchers at work), records the latency, and checks
/// that sequences per watched person only grow (a real sink drops anything else).
/// </summary>
public sealed class BenchSink : IPresenceSink
{
    private readonly DeliveryStats _stats;
    private readonly Dictionary<string, int> _slots;
    private readonly long[] _lastSequence;

    /// <summary>Creates the sink of <paramref name="watcherId"/>, who watches <paramref name="watched"/>.</summary>
    public BenchSink(string watcherId, IReadOnlyList<string> watched, DeliveryStats stats)
    {
        WatcherId = watcherId;
        Watched = watched;
        _stats = stats;
        _slots = new Dictionary<string, int>(watched.Count, StringComparer.Ordinal);
        for (var i = 0; i < watched.Count; i++)
        {
            _slots[watched[i]] = i;
        }
        _lastSequence = new long[watched.Count];
    }

    /// <inheritdoc />
    public string WatcherId { get; }

    /// <summary>The people this sink watches.</summary>
    public IReadOnlyList<string> Watched { get; }

    /// <inheritdoc />
    public void Deliver(PresenceView view)
    {
        if (_slots.TryGetValue(view.UserId, out var slot))
        {
            // Deliveries of different people to one sink may run concurrently; keep the maximum lock-free.
            ref var last = ref _lastSequence[slot];
            var seen = Volatile.Read(ref last);
            while (true)
            {
                if (view.Sequence <= seen)
                {
                    _stats.Stale();
                    return;
                }
                var witnessed = Interlocked.CompareExchange(ref last, view.Sequence, seen);
                if (witnessed == seen)
                {
                    break;
                }
                seen = witnessed;
            }
        }
        var text = view.Note ?? view.Location?.City;
        if (text is not null && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var stamp))
        {
            _stats.Accepted(stamp);
        }
        else
        {
            _stats.Unstamped();
        }
    }
}
