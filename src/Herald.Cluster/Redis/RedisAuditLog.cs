using System.Globalization;
using System.Text.Json;
using System.Threading.Channels;
using Herald.Cluster.Privacy;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Herald.Cluster.Redis;

/// <summary>
/// An <see cref="IAuditLog"/> in Redis, shared by every node: hash <c>audit:e</c> (id → entry JSON), ids from
/// <c>audit:seq</c>, and sorted sets by time (score = µs since the epoch, member = zero-padded id) — <c>audit:at</c>
/// for all, <c>audit:p:{person}</c> and <c>audit:w:{watcher}</c> for the filters. Appends are batched like the
/// SQLite log (<see cref="SqliteAuditLog.BatchDelay"/>, <see cref="SqliteAuditLog.BatchSize"/>); one batch is one
/// MULTI/EXEC transaction, retried up to <see cref="SqliteAuditLog.MaxWriteAttempts"/> times. Flush waits until
/// Redis acknowledged everything queued before it.
/// </summary>
public sealed partial class RedisAuditLog : IAuditLog, IAsyncDisposable
{
    private readonly HeraldRedis _redis;
    private readonly TimeProvider _time;
    private readonly ILogger<RedisAuditLog> _logger;
    private readonly Channel<object> _queue = Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = false }); // (the single-reader channel cannot Count)
    private readonly Task _writer;
    private int _disposed;
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Creates the log and starts its background writer.</summary>
    public RedisAuditLog(HeraldRedis redis, TimeProvider time, ILogger<RedisAuditLog> logger)
    {
        _redis = redis ?? throw new ArgumentNullException(nameof(redis));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _writer = Task.Run(RunWriter);
    }

    /// <inheritdoc />
    public void Append(AuditEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(entry.PresentityId, nameof(entry));
        ArgumentNullException.ThrowIfNull(entry.Kind, nameof(entry));
        ArgumentNullException.ThrowIfNull(entry.Channel, nameof(entry));
        ArgumentNullException.ThrowIfNull(entry.Fields, nameof(entry));
        ArgumentNullException.ThrowIfNull(entry.Rule, nameof(entry));
        if (!_queue.Writer.TryWrite(entry))
        {
            LogAppendAfterDispose(entry.Kind, entry.PresentityId);
        }
    }

    /// <inheritdoc />
    public Task Flush(CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_queue.Writer.TryWrite(done))
        {
            ObjectDisposedException.ThrowIf(true, this);
        }
        Volatile.Read(ref _wake).TrySetResult();
        return done.Task.WaitAsync(ct);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<AuditEntry>> Query(string? presentityId, string? watcherId, DateTimeOffset? from, DateTimeOffset? to, int limit, CancellationToken ct = default)
    {
        ct.ThrowIfCancellationRequested();
        limit = Math.Clamp(limit, 1, SqliteAuditLog.MaxQueryLimit);
        var index = presentityId is not null ? _redis.Key("audit:p:" + presentityId)
            : watcherId is not null ? _redis.Key("audit:w:" + watcherId) : _redis.Key("audit:at");
        var min = from is { } f ? HeraldRedis.Score(f) : double.NegativeInfinity;
        var max = to is { } t ? HeraldRedis.Score(t) : double.PositiveInfinity;
        var result = new List<AuditEntry>(Math.Min(limit, 1000));
        const int Page = 1000;
        for (long skip = 0; result.Count < limit; skip += Page)
        {
            var ids = await _redis.Db.SortedSetRangeByScoreAsync(index, min, max, to is null ? Exclude.None : Exclude.Stop, Order.Descending, skip, Page);
            if (ids.Length == 0)
            {
                break;
            }
            var values = await _redis.Db.HashGetAsync(_redis.Key("audit:e"), ids);
            foreach (var v in values.Where(v => !v.IsNull))
            {
                var e = Read(v!);
                if ((watcherId is null || e.WatcherId == watcherId) && (presentityId is null || e.PresentityId == presentityId)
                    && (from is null || e.At >= from) && (to is null || e.At < to))
                {
                    result.Add(e);
                    if (result.Count == limit)
                    {
                        break;
                    }
                }
            }
        }
        return [.. result.OrderByDescending(e => e.At).ThenByDescending(e => e.Id)];
    }

    /// <inheritdoc />
    public async Task<int> Purge(DateTimeOffset before, CancellationToken ct = default)
    {
        var deleted = 0;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            var ids = await _redis.Db.SortedSetRangeByScoreAsync(_redis.Key("audit:at"), double.NegativeInfinity, HeraldRedis.Score(before), Exclude.Stop, Order.Ascending, 0, 1000);
            if (ids.Length == 0)
            {
                return deleted;
            }
            var values = await _redis.Db.HashGetAsync(_redis.Key("audit:e"), ids);
            var tx = _redis.Db.CreateTransaction();
            for (var i = 0; i < ids.Length; i++)
            {
                if (!values[i].IsNull)
                {
                    var e = Read(values[i]!);
                    _ = tx.SortedSetRemoveAsync(_redis.Key("audit:p:" + e.PresentityId), ids[i]);
                    if (e.WatcherId is not null)
                    {
                        _ = tx.SortedSetRemoveAsync(_redis.Key("audit:w:" + e.WatcherId), ids[i]);
                    }
                }
            }
            _ = tx.HashDeleteAsync(_redis.Key("audit:e"), ids);
            _ = tx.SortedSetRemoveAsync(_redis.Key("audit:at"), ids);
            await tx.ExecuteAsync();
            deleted += values.Count(v => !v.IsNull);
        }
    }

    /// <summary>Stops accepting entries, writes what is queued, stops the writer.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _queue.Writer.TryComplete();
            Volatile.Read(ref _wake).TrySetResult();
        }
        await _writer.ConfigureAwait(false);
    }

    private static AuditEntry Read(string json) =>
        JsonSerializer.Deserialize<AuditEntry>(json, HeraldRedis.Json) ?? throw new InvalidDataException("A stored audit entry is null.");

    private async Task RunWriter()
    {
        var batch = new List<AuditEntry>();
        var flushes = new List<TaskCompletionSource>();
        while (await _queue.Reader.WaitToReadAsync().ConfigureAwait(false) || batch.Count > 0 || flushes.Count > 0)
        {
            try
            {
                // Let a batch gather for BatchDelay unless it is already full, a flush asked for it, or the log is closing.
                var wake = Volatile.Read(ref _wake);
                if (Volatile.Read(ref _disposed) == 0 && _queue.Reader.Count < SqliteAuditLog.BatchSize && !wake.Task.IsCompleted)
                {
                    using var cts = new CancellationTokenSource();
                    await Task.WhenAny(Task.Delay(SqliteAuditLog.BatchDelay, _time, cts.Token), wake.Task).ConfigureAwait(false);
                    await cts.CancelAsync().ConfigureAwait(false);
                }
                Interlocked.Exchange(ref _wake, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
                while (_queue.Reader.TryRead(out var item))
                {
                    if (item is AuditEntry e)
                    {
                        batch.Add(e);
                    }
                    else
                    {
                        flushes.Add((TaskCompletionSource)item);
                    }
                }
                Exception? error = null;
                if (batch.Count > 0)
                {
                    for (var attempt = 1; ; attempt++)
                    {
                        try
                        {
                            await Write(batch).ConfigureAwait(false);
                            break;
                        }
                        catch (Exception ex) when (attempt < SqliteAuditLog.MaxWriteAttempts)
                        {
                            LogWriteFailed(ex, batch.Count, attempt, SqliteAuditLog.MaxWriteAttempts);
                            await Task.Delay(SqliteAuditLog.BatchDelay * attempt, _time).ConfigureAwait(false);
                        }
                        catch (Exception ex)
                        {
                            LogBatchDropped(ex, batch.Count, attempt);
                            error = new IOException($"{batch.Count} audit entries were dropped after {attempt} failed writes.", ex);
                            break;
                        }
                    }
                    batch.Clear();
                }
                foreach (var flush in flushes)
                {
                    if (error is null)
                    {
                        flush.TrySetResult();
                    }
                    else
                    {
                        flush.TrySetException(error);
                    }
                }
                flushes.Clear();
            }
            catch (Exception ex)
            {
                LogWriterFailed(ex);
                await Task.Delay(SqliteAuditLog.BatchDelay).ConfigureAwait(false); // never spin
            }
        }
    }

    private async Task Write(List<AuditEntry> batch)
    {
        var db = _redis.Db;
        var last = await db.StringIncrementAsync(_redis.Key("audit:seq"), batch.Count).ConfigureAwait(false);
        var first = last - batch.Count + 1;
        var tx = db.CreateTransaction();
        var fields = new HashEntry[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            var e = batch[i] with { Id = first + i };
            var member = HeraldRedis.Pad(e.Id);
            var score = HeraldRedis.Score(e.At);
            fields[i] = new HashEntry(member, JsonSerializer.Serialize(e, HeraldRedis.Json));
            _ = tx.SortedSetAddAsync(_redis.Key("audit:at"), member, score);
            _ = tx.SortedSetAddAsync(_redis.Key("audit:p:" + e.PresentityId), member, score);
            if (e.WatcherId is not null)
            {
                _ = tx.SortedSetAddAsync(_redis.Key("audit:w:" + e.WatcherId), member, score);
            }
        }
        _ = tx.HashSetAsync(_redis.Key("audit:e"), fields);
        if (!await tx.ExecuteAsync().ConfigureAwait(false))
        {
            throw new IOException("The audit transaction was not executed.");
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Writing {Count} audit entries to Redis failed (attempt {Attempt} of {MaxAttempts})")]
    private partial void LogWriteFailed(Exception exception, int count, int attempt, int maxAttempts);

    [LoggerMessage(Level = LogLevel.Error, Message = "Dropped {Count} audit entries after {Attempts} failed writes to Redis")]
    private partial void LogBatchDropped(Exception exception, int count, int attempts);

    [LoggerMessage(Level = LogLevel.Error, Message = "The Redis audit writer failed unexpectedly; continuing")]
    private partial void LogWriterFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dropped a '{Kind}' audit entry about {PresentityId}: the audit log is disposed")]
    private partial void LogAppendAfterDispose(string kind, string presentityId);
}
