namespace Herald.Core.Presence;

/// <summary>
/// Issues a person's presence sequence numbers. They only grow: each is above the previous one and at least the
/// current time in microseconds since the Unix epoch, so a person's grain that reactivates (after a restart or
/// on another node) continues above every number it issued before without a storage write per change.
/// </summary>
public sealed class SequenceClock(long last = 0)
{
    /// <summary>The last number issued.</summary>
    public long Last { get; private set; } = last;

    /// <summary>Issues the next number at <paramref name="now"/>.</summary>
    public long Next(DateTimeOffset now)
    {
        var floor = now.ToUnixTimeMilliseconds() * 1000;
        Last = Math.Max(Last + 1, floor);
        return Last;
    }
}
