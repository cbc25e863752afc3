using System.Diagnostics;
using System.Globalization;
using HdrHistogram;

namespace Herald.Bench.Net;

/// <summary>
/// Counts stamped deliveries per fan-out step and records update→delivery latency (µs) in one HdrHistogram per
/// step. A stamp is <c>b{step}.{sender}.{n}.{Stopwatch ticks}</c> (n = the sender's update count), written into the
/// status text (XMPP) or the note (Herald) by the sender in this process, so send and receive share one clock.
/// A receiver that gets update n of a sender after n−k (k &gt; 1) counts the k−1 in between as <em>superseded</em>:
/// it never saw them, but it holds the newest state (Herald's live connections keep only the newest view per person
/// when a connection has not flushed yet). Going backwards counts as <em>stale</em>. Callbacks of one receiver must
/// not run concurrently (one read loop per connection).
/// </summary>
public sealed class DeliveryRecorder
{
    /// <summary>Largest step id.</summary>
    public const int MaxSteps = 64;

    private const long HighestMicros = 3_600_000_000;
    private readonly long[] _delivered = new long[MaxSteps + 1];
    private readonly LongHistogram[] _latency = new LongHistogram[MaxSteps + 1];
    private readonly Lock[] _locks = new Lock[MaxSteps + 1];
    private readonly long[] _superseded = new long[MaxSteps + 1];
    private readonly Dictionary<int, int>?[] _last;
    private long _foreign;
    private long _stale;

    /// <summary>Creates the recorder for <paramref name="users"/> receivers.</summary>
    public DeliveryRecorder(int users)
    {
        _last = new Dictionary<int, int>?[users];
        for (var i = 0; i <= MaxSteps; i++)
        {
            _latency[i] = new LongHistogram(HighestMicros, 3);
            _locks[i] = new Lock();
        }
    }

    /// <summary>Formats a stamp.</summary>
    public static string Stamp(int step, int sender, int n, long ticks) =>
        string.Create(CultureInfo.InvariantCulture, $"b{step}.{sender}.{n}.{ticks}");

    /// <summary>Updates of <paramref name="step"/> that receivers skipped because a newer one of the same sender came first.</summary>
    public long Superseded(int step) => Volatile.Read(ref _superseded[step]);

    /// <summary>Deliveries older than one already received from the same sender (must be 0).</summary>
    public long Stale => Volatile.Read(ref _stale);

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
        if (dot2 <= 0 || !int.TryParse(rest[..dot2], NumberStyles.None, CultureInfo.InvariantCulture, out var sender))
        {
            Interlocked.Increment(ref _foreign);
            return false;
        }
        rest = rest[(dot2 + 1)..];
        var dot3 = rest.IndexOf('.');
        if (dot3 <= 0 || !int.TryParse(rest[..dot3], NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            || !long.TryParse(rest[(dot3 + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks))
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
        if (receiver >= 0 && receiver < _last.Length)
        {
            var last = _last[receiver] ??= [];
            if (last.TryGetValue(sender, out var prev))
            {
                if (n <= prev)
                {
                    Interlocked.Increment(ref _stale);
                    return true;
                }
                if (n > prev + 1)
                {
                    Interlocked.Add(ref _superseded[step], n - prev - 1);
                }
            }
            last[sender] = n;
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
