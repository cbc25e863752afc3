namespace Herald.Cluster.Tests;

/// <summary>Bounded polling on a condition: the only way tests wait.</summary>
internal static class Eventually
{
    public static async Task True(Func<Task<bool>> condition, TimeSpan? timeout = null, string? because = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (true)
        {
            if (await condition())
            {
                return;
            }
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
