using Microsoft.Extensions.Internal;

namespace Herald.Server.Auth;

/// <summary>
/// The application's <see cref="TimeProvider"/> as the clock of the memory cache, so cached credentials expire on
/// the same time as everything else (and tests that advance a fake clock see them expire).
/// </summary>
internal sealed class TimeProviderClock(TimeProvider time) : ISystemClock
{
    public DateTimeOffset UtcNow => time.GetUtcNow();
}
