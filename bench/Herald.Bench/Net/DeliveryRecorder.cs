using System.Diagnostics;
using System.Globalization;
using HdrHistogram;

namespace Herald.Bench.Net;

/// <summary>
/// Counts stamped deliveries per fan-out step and records update→delivery latency (µs) in one HdrHistogram per
/// step. A stamp is <c>b{step}.{sender}.{Stopwatch ticks}</c>, written into the status text (XMPP) or the note
/// (Herald) by the sender in this process, so send and receive share one clock.
/// </summary>
public sealed class DeliveryRecorder
{
    /// <summary>Largest step id.</summary>
    public const int MaxSteps = 64;

    private const long HighestMicros = 3_600_000_000;
    private readonly long[] _delivered = new long[MaxSteps + 1];
    private readonly LongHistogram[] _latency = new LongHistogram[MaxSteps + 1];
    private readonly Lock[] _locks = new Lock[MaxSteps + 1];
    private long _foreign;

    /// <summary>Creates the recorder.</summary>
    public DeliveryRecorder()
    {
        for (var i = 0; i <= MaxSteps; i++)
        {
            _latency[i] = new LongHistogram(HighestMicros, 3);
            _locks[i] = new Lock();
        }
    }

    /// <summary>Formats a stamp.</summary>
    public static string Stamp(int step, int sender, long ticks) =>
        string.Create(CultureInfo.InvariantCulture, $"b{step}.{sender}.{ticks}");

    /// <summary>Deliveries counted for <paramref name="step"/>.</summary>
    public long Delivered(int step) => Volatile.Read(ref _delivered[step]);

    /// <summary>Stamped deliveries whose step was out of range, or malformed stamps.</summary>
    public long Foreign => Volatile.Read(ref _foreign);

    /// <summary>A copy of the latency histogram of <paramref name="step"/>.</summary>
    public LongHistogram Latency(int step)
    {
        lock (_locks[step])
        {
            return (LongHistogram)_latency[step].Copy();
        }
    }

    /// <summary>Records a stamp read as UTF-8 bytes (XMPP); returns false when it is not a stamp.</summary>
    public bool OnStamp(ReadOnlySpan<byte> text, int receiver)
    {
        Span<char> chars = stackalloc char[Math.Min(text.Length, 64)];
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = (char)text[i];
        }
        return OnStamp(chars, receiver);
    }

    /// <summary>Records a stamp; returns false when it is not a stamp (initial presence, another text).</summary>
    public bool OnStamp(ReadOnlySpan<char> text, int receiver)
    {
        var now = Stopwatch.GetTimestamp();
        if (text.Length < 6 || text[0] != 'b')
        {
            return false;
        }
        var rest = text[1..];
        var dot1 = rest.IndexOf('.');
        if (dot1 <= 0 || !int.TryParse(rest[..dot1], NumberStyles.None, CultureInfo.InvariantCulture, out var step))
        {
            Interlocked.Increment(ref _foreign);
            return false;
        }
        rest = rest[(dot1 + 1)..];
        var dot2 = rest.IndexOf('.');
        if (dot2 <= 0 || !int.TryParse(rest[..dot2], NumberStyles.None, CultureInfo.InvariantCulture, out var sender)
            || !long.TryParse(rest[(dot2 + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks))
        {
            Interlocked.Increment(ref _foreign);
            return false;
        }
        if (sender == receiver)
        {
            return true; // one's own presence echoed back (XMPP sends it to all of one's resources)
        }
        if (step < 1 || step > MaxSteps)
        {
            Interlocked.Increment(ref _foreign);
            return false;
        }
        Interlocked.Increment(ref _delivered[step]);
        var micros = Math.Max(0, (now - ticks) * 1_000_000 / Stopwatch.Frequency);
        lock (_locks[step])
        {
            _latency[step].RecordValue(Math.Min(micros, HighestMicros));
        }
        return true;
    }
}
