namespace Herald.Bench.Fanout;

/// <summary>
/// A clock that reads <see cref="Start"/> when created and then runs in real time. Timers and timestamps are the
/// system's; only the wall-clock reading is shifted.
/// </summary>
public sealed class WorkdayClock(DateTimeOffset start) : TimeProvider
{
    /// <summary>Wednesday 2 December 2026, 10:00 UTC: inside default work hours (Mon–Fri 09:00–17:00).</summary>
    public static readonly DateTimeOffset DefaultStart = new(2026, 12, 2, 10, 0, 0, TimeSpan.Zero);

    private readonly long _origin = System.GetTimestamp();

    /// <summary>The reading at creation.</summary>
    public DateTimeOffset Start { get; } = start;

    /// <inheritdoc />
    public override DateTimeOffset GetUtcNow() => Start + System.GetElapsedTime(_origin);
}
