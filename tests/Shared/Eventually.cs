namespace Herald.Testing;

/// <summary>
/// Bounded polling on a condition: the only way tests wait. One copy for every test project (linked as source from
/// tests/Shared): the condition is checked at once, then every 20 ms until it holds or the timeout (default 20 s)
/// has passed, which throws a <see cref="TimeoutException"/> naming what was waited for.
/// </summary>
public static class Eventually
{
    /// <summary>The timeout when none is given.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(20);

    public static async Task True(Func<Task<bool>> condition, TimeSpan? timeout = null, string? because = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"condition not met in time{(because is null ? "" : ": " + because)}");
            }
            await Task.Delay(20);
        }
    }

    public static Task True(Func<bool> condition, TimeSpan? timeout = null, string? because = null) =>
        True(() => Task.FromResult(condition()), timeout, because);
}
