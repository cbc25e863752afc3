using Herald.Cluster.Presence;
using Orleans.Runtime;

namespace Herald.Cluster.Calendars;

/// <summary>A person's registered calendar feed (durable).</summary>
[GenerateSerializer, Alias("herald.CalendarFeedRegistration")]
public sealed class CalendarFeedRegistration
{
    /// <summary>The feed URL.</summary>
    [Id(0)] public string Url { get; set; } = "";

    /// <summary>When it was registered.</summary>
    [Id(1)] public DateTimeOffset AddedAt { get; set; }
}

/// <summary>The durable state of the feed registry: person id → feed.</summary>
[GenerateSerializer, Alias("herald.CalendarFeedsState")]
public sealed class CalendarFeedsState
{
    /// <summary>The feeds.</summary>
    [Id(0)] public Dictionary<string, CalendarFeedRegistration> Feeds { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>A refresh to run: fetch <see cref="Url"/> for <see cref="UserId"/> with the validators of the last answer.</summary>
[GenerateSerializer, Immutable, Alias("herald.CalendarFeedJob")]
public sealed record CalendarFeedJob(
    [property: Id(0)] string UserId,
    [property: Id(1)] string Url,
    [property: Id(2)] string? ETag,
    [property: Id(3)] DateTimeOffset? LastModified);

/// <summary>How one fetch went.</summary>
/// <param name="Ok">True when the feed was read (or had not changed).</param>
/// <param name="NotModified">True when the server answered 304.</param>
/// <param name="Entries">Entries stored (when read).</param>
/// <param name="ETag">The answer's ETag, for the next conditional request.</param>
/// <param name="LastModified">The answer's Last-Modified.</param>
/// <param name="Error">Why it failed.</param>
/// <param name="At">When the fetch ended.</param>
[GenerateSerializer, Immutable, Alias("herald.CalendarFeedResult")]
public sealed record CalendarFeedResult(
    [property: Id(0)] bool Ok,
    [property: Id(1)] bool NotModified,
    [property: Id(2)] int Entries,
    [property: Id(3)] string? ETag,
    [property: Id(4)] DateTimeOffset? LastModified,
    [property: Id(5)] string? Error,
    [property: Id(6)] DateTimeOffset At);

/// <summary>A feed as its owner sees it.</summary>
[GenerateSerializer, Immutable, Alias("herald.CalendarFeedInfo")]
public sealed record CalendarFeedInfo(
    [property: Id(0)] string Url,
    [property: Id(1)] DateTimeOffset AddedAt,
    [property: Id(2)] DateTimeOffset? LastRefreshedAt,
    [property: Id(3)] DateTimeOffset? LastAttemptAt,
    [property: Id(4)] string? LastError,
    [property: Id(5)] int ConsecutiveFailures,
    [property: Id(6)] int Entries,
    [property: Id(7)] DateTimeOffset NextRefreshAt);

/// <summary>
/// The registry of calendar feeds (one grain, key 0). Registrations are durable grain state, so they live wherever
/// grain state lives (SQLite embedded, Redis in a cluster). Refresh bookkeeping (validators, errors, due times) is
/// kept in memory: after a restart every feed is simply fetched once more. Any node's refresher takes due jobs;
/// a job is leased for <see cref="JobLease"/> so a refresher that dies does not hold a feed forever, and no feed
/// is fetched by two nodes at once.
/// </summary>
public interface ICalendarFeedsGrain : IGrainWithIntegerKey
{
    /// <summary>Registers (or replaces) a person's feed at <paramref name="at"/>; it is due at once.</summary>
    Task SetFeed(string userId, string url, DateTimeOffset at);

    /// <summary>Removes a person's feed; false when there was none.</summary>
    Task<bool> RemoveFeed(string userId);

    /// <summary>The person's feed, or null.</summary>
    Task<CalendarFeedInfo?> GetFeed(string userId, TimeSpan interval);

    /// <summary>Takes at most <paramref name="max"/> feeds due at <paramref name="now"/> and leases them.</summary>
    Task<IReadOnlyList<CalendarFeedJob>> TakeDue(DateTimeOffset now, int max);

    /// <summary>Records a fetch and schedules the next one <paramref name="interval"/> later (sooner after a failure).</summary>
    Task Report(CalendarFeedJob job, CalendarFeedResult result, TimeSpan interval);

    /// <summary>Number of registered feeds.</summary>
    Task<int> Count();
}

/// <inheritdoc cref="ICalendarFeedsGrain"/>
public sealed class CalendarFeedsGrain(
    [PersistentState("calendarfeeds", HeraldStorage.ProviderName)] IPersistentState<CalendarFeedsState> state) : Grain, ICalendarFeedsGrain
{
    /// <summary>How long a taken job is reserved for the refresher that took it.</summary>
    public static readonly TimeSpan JobLease = TimeSpan.FromMinutes(2);

    /// <summary>The shortest retry delay after a failure (doubling per consecutive failure, capped at the interval).</summary>
    public static readonly TimeSpan FirstRetry = TimeSpan.FromMinutes(1);

    private readonly Dictionary<string, Status> _status = new(StringComparer.Ordinal);

    private sealed class Status
    {
        public DateTimeOffset DueAt;
        public DateTimeOffset LeasedUntil;
        public string? ETag;
        public DateTimeOffset? LastModified;
        public DateTimeOffset? LastRefreshedAt;
        public DateTimeOffset? LastAttemptAt;
        public string? LastError;
        public int Failures;
        public int Entries;
    }

    /// <inheritdoc />
    public async Task SetFeed(string userId, string url, DateTimeOffset at)
    {
        state.State.Feeds[userId] = new CalendarFeedRegistration { Url = url, AddedAt = at };
        _status[userId] = new Status { DueAt = DateTimeOffset.MinValue };
        await state.WriteStateAsync();
    }

    /// <inheritdoc />
    public async Task<bool> RemoveFeed(string userId)
    {
        _status.Remove(userId);
        if (!state.State.Feeds.Remove(userId))
        {
            return false;
        }
        await state.WriteStateAsync();
        return true;
    }

    /// <inheritdoc />
    public Task<CalendarFeedInfo?> GetFeed(string userId, TimeSpan interval)
    {
        if (!state.State.Feeds.TryGetValue(userId, out var feed))
        {
            return Task.FromResult<CalendarFeedInfo?>(null);
        }
        var s = StatusOf(userId);
        var next = s.DueAt == DateTimeOffset.MinValue ? (s.LastAttemptAt ?? feed.AddedAt) : s.DueAt;
        return Task.FromResult<CalendarFeedInfo?>(new CalendarFeedInfo(feed.Url, feed.AddedAt, s.LastRefreshedAt, s.LastAttemptAt, s.LastError,
            s.Failures, s.Entries, next));
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<CalendarFeedJob>> TakeDue(DateTimeOffset now, int max)
    {
        var jobs = new List<CalendarFeedJob>();
        foreach (var (userId, feed) in state.State.Feeds)
        {
            if (jobs.Count >= max)
            {
                break;
            }
            var s = StatusOf(userId);
            if (s.DueAt <= now && s.LeasedUntil <= now)
            {
                s.LeasedUntil = now + JobLease;
                jobs.Add(new CalendarFeedJob(userId, feed.Url, s.ETag, s.LastModified));
            }
        }
        return Task.FromResult<IReadOnlyList<CalendarFeedJob>>(jobs);
    }

    /// <inheritdoc />
    public Task Report(CalendarFeedJob job, CalendarFeedResult result, TimeSpan interval)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(result);
        if (!state.State.Feeds.TryGetValue(job.UserId, out var feed) || !string.Equals(feed.Url, job.Url, StringComparison.Ordinal))
        {
            return Task.CompletedTask; // removed or replaced meanwhile
        }
        var s = StatusOf(job.UserId);
        s.LeasedUntil = DateTimeOffset.MinValue;
        s.LastAttemptAt = result.At;
        if (result.Ok)
        {
            s.Failures = 0;
            s.LastError = null;
            s.LastRefreshedAt = result.At;
            if (!result.NotModified)
            {
                s.Entries = result.Entries;
                s.ETag = result.ETag;
                s.LastModified = result.LastModified;
            }
            s.DueAt = result.At + interval;
        }
        else
        {
            s.Failures++;
            s.LastError = result.Error;
            var retry = TimeSpan.FromTicks(FirstRetry.Ticks * (1L << Math.Min(s.Failures - 1, 20)));
            s.DueAt = result.At + (retry < interval ? retry : interval);
        }
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<int> Count() => Task.FromResult(state.State.Feeds.Count);

    private Status StatusOf(string userId)
    {
        if (!_status.TryGetValue(userId, out var s))
        {
            s = new Status { DueAt = DateTimeOffset.MinValue };
            _status[userId] = s;
        }
        return s;
    }
}
