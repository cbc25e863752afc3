using HdrHistogram;

namespace Herald.Bench.Fanout;

/// <summary>
/// A latency histogram (microseconds, see <see cref="DeliveryStats.NewHistogram"/>) recorded per thread without a
/// lock and merged once the run is quiescent. There are as many histograms as threads that recorded, not one per
/// concurrent operation.
/// </summary>
public sealed class ThreadHistograms : IDisposable
{
    private readonly ThreadLocal<LongHistogram> _local = new(DeliveryStats.NewHistogram, trackAllValues: true);

    /// <summary>Records <paramref name="micros"/>, clamped to the histogram's range.</summary>
    public void Record(long micros) => _local.Value!.RecordValue(Math.Clamp(micros, 1, DeliveryStats.HighestMicros));

    /// <summary>Every thread's values in one histogram. Call only while nothing records.</summary>
    public LongHistogram Merge()
    {
        var merged = DeliveryStats.NewHistogram();
        foreach (var h in _local.Values)
        {
            merged.Add(h);
        }
        return merged;
    }

    /// <inheritdoc />
    public void Dispose() => _local.Dispose();
}
