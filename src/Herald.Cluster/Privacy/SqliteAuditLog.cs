using System.Globalization;
using System.Threading.Channels;
using Herald.Cluster.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using SQLitePCL;

namespace Herald.Cluster.Privacy;

/// <summary>
/// An <see cref="IAuditLog"/> kept in the <c>audit</c> table of a SQLite file.
/// </summary>
/// <remarks>
/// <see cref="Append"/> only enqueues: a background loop writes the queue in batches, one transaction each, after a
/// short delay (<see cref="BatchDelay"/>) or as soon as <see cref="BatchSize"/> entries are waiting.
/// <see cref="Flush"/> waits until everything enqueued before it has been written. A batch that fails to write is
/// retried with the next round and dropped (with an error log) after <see cref="MaxWriteAttempts"/> failures.
/// Instants are stored as UTC ISO 8601 text (<c>O</c> format, fixed width), so text order is time order.
/// </remarks>
public sealed partial class SqliteAuditLog : IAuditLog, IAsyncDisposable
{
    /// <summary>The DDL for the audit table and its indexes (idempotent).</summary>
    /// <remarks>
    /// <c>id</c> is the rowid without <c>AUTOINCREMENT</c>: SQLite gives a new row the largest id in the table plus one,
    /// so ids grow as long as the newest row is still there, and an insert costs no <c>sqlite_sequence</c> write. Only
    /// when retention has deleted every row up to the newest one can a later row take an id a purged row had; nothing
    /// reads ids except as a tie-breaker among rows present together (docs/architecture.md, "Disclosure audit table").
    /// Each index serves a query shape: <c>(presentity, at)</c> a person's own audit, <c>(watcher, at)</c> the auditors'
    /// query by watcher, <c>(at)</c> the unfiltered and time-only queries and the retention purge.
    /// </remarks>
    public const string SchemaDdl = $"""
        CREATE TABLE IF NOT EXISTS audit ({TableColumns});
        {IndexDdl}
        """;

    /// <summary>The audit table's columns, as in its <c>CREATE TABLE</c>.</summary>
    private const string TableColumns = """
        id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            presentity TEXT NOT NULL,
            watcher TEXT NULL,
            kind TEXT NOT NULL,
            channel TEXT NOT NULL,
            fields TEXT NOT NULL,
            rule TEXT NOT NULL
        """;

    /// <summary>The audit table's indexes (idempotent).</summary>
    private const string IndexDdl = """
        CREATE INDEX IF NOT EXISTS ix_audit_presentity_at ON audit (presentity, at);
        CREATE INDEX IF NOT EXISTS ix_audit_watcher_at ON audit (watcher, at);
        CREATE INDEX IF NOT EXISTS ix_audit_at ON audit (at);
        """;

    /// <summary>How long the writer waits for more entries before writing a batch.</summary>
    public static readonly TimeSpan BatchDelay = TimeSpan.FromMilliseconds(100);

    /// <summary>Queued entries that make the writer write at once, without waiting for <see cref="BatchDelay"/>.</summary>
    public const int BatchSize = 500;

    /// <summary>Failed writes of one batch after which its entries are dropped.</summary>
    public const int MaxWriteAttempts = 5;

    /// <summary>The largest <c>limit</c> a query honours.</summary>
    public const int MaxQueryLimit = 10_000;

    private const string InsertSql = """
        INSERT INTO audit (at, presentity, watcher, kind, channel, fields, rule)
        VALUES ($at, $presentity, $watcher, $kind, $channel, $fields, $rule);
        """;

    private const string Columns = "id, at, presentity, watcher, kind, channel, fields, rule";

    private readonly SqliteDatabase _db;
    private readonly TimeProvider _time;
    private readonly ILogger<SqliteAuditLog> _logger;
    private readonly Channel<object> _queue =
        Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = false });
    private readonly Task _writer;

    /// <summary>Signalled to end the batching delay early (enough entries, a flush, or disposal).</summary>
    private TaskCompletionSource _wake = NewSignal();

    /// <summary>Entries enqueued and not yet taken by the writer.</summary>
    private int _queued;

    /// <summary>Flush requests enqueued and not yet taken by the writer.</summary>
    private int _flushRequests;

    private volatile bool _closing;
    private int _disposed;

    /// <summary>Creates the log, its table if it does not exist, and starts the background writer.</summary>
    /// <param name="db">The database holding the table.</param>
    /// <param name="time">The clock for the batching delay.</param>
    /// <param name="logger">Where write failures are reported.</param>
    public SqliteAuditLog(SqliteDatabase db, TimeProvider time, ILogger<SqliteAuditLog> logger)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        _db = db;
        _time = time;
        _logger = logger;
        MigrateFromAutoincrement(_db);
        _db.EnsureSchema(SchemaDdl);
        _writer = Task.Run(RunWriter);
    }

    /// <summary>
    /// Converts an audit table created with <c>id INTEGER PRIMARY KEY AUTOINCREMENT</c> (before session 10) to the
    /// current schema, keeping every row and its id: the rows are copied into a new table, the old one is dropped and
    /// its <c>sqlite_sequence</c> row removed, and the indexes are recreated. Does nothing when there is no audit table
    /// or it is already current. Check and conversion run in one <c>BEGIN IMMEDIATE</c> transaction, so two openers of
    /// the same file do not convert it twice (as <see cref="SqliteDatabase.EnsureColumns"/>).
    /// </summary>
    /// <param name="db">The database holding the table.</param>
    /// <returns>Whether the table was converted.</returns>
    public static bool MigrateFromAutoincrement(SqliteDatabase db)
    {
        ArgumentNullException.ThrowIfNull(db);
        using var connection = db.Open();
        using var transaction = connection.BeginTransaction(deferred: false);
        using (var check = connection.CreateCommand())
        {
            check.Transaction = transaction;
            check.CommandText = "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'audit';";
            if (check.ExecuteScalar() is not string sql || !sql.Contains("AUTOINCREMENT", StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }
        }
        using (var convert = connection.CreateCommand())
        {
            convert.Transaction = transaction;
            convert.CommandText = $"""
                CREATE TABLE audit_v2 ({TableColumns});
                INSERT INTO audit_v2 ({Columns}) SELECT {Columns} FROM audit ORDER BY id;
                DROP TABLE audit;
                DELETE FROM sqlite_sequence WHERE name = 'audit';
                ALTER TABLE audit_v2 RENAME TO audit;
                {IndexDdl}
                """;
            convert.ExecuteNonQuery();
        }
        transaction.Commit();
        return true;
    }

    /// <inheritdoc />
    /// <remarks>Never blocks and never touches the database; after disposal the entry is dropped with a warning.</remarks>
    public void Append(AuditEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(entry.PresentityId, nameof(entry));
        ArgumentNullException.ThrowIfNull(entry.Kind, nameof(entry));
        ArgumentNullException.ThrowIfNull(entry.Channel, nameof(entry));
        ArgumentNullException.ThrowIfNull(entry.Fields, nameof(entry));
        ArgumentNullException.ThrowIfNull(entry.Rule, nameof(entry));

        Interlocked.Increment(ref _queued);
        if (!_queue.Writer.TryWrite(entry))
        {
            Interlocked.Decrement(ref _queued);
            LogAppendAfterDispose(entry.Kind, entry.PresentityId);
            return;
        }
        if (Volatile.Read(ref _queued) >= BatchSize)
        {
            Wake();
        }
    }

    /// <inheritdoc />
    /// <exception cref="ObjectDisposedException">The log has been disposed.</exception>
    /// <exception cref="IOException">Entries queued before the flush were dropped after repeated write failures.</exception>
    public Task Flush(CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (ct.IsCancellationRequested)
        {
            return Task.FromCanceled(ct);
        }

        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Interlocked.Increment(ref _flushRequests);
        if (!_queue.Writer.TryWrite(done))
        {
            Interlocked.Decrement(ref _flushRequests);
            throw new ObjectDisposedException(GetType().FullName);
        }
        Wake();
        return done.Task.WaitAsync(ct);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<AuditEntry>> Query(
        string? presentityId, string? watcherId, DateTimeOffset? from, DateTimeOffset? to, int limit, CancellationToken ct = default)
    {
        ct.ThrowIfCancellationRequested();

        await using var connection = _db.Open();
        await using var command = connection.CreateCommand();
        var where = new List<string>(4);
        if (presentityId is not null)
        {
            where.Add("presentity = $presentity");
            command.Parameters.AddWithValue("$presentity", presentityId);
        }
        if (watcherId is not null)
        {
            where.Add("watcher = $watcher");
            command.Parameters.AddWithValue("$watcher", watcherId);
        }
        if (from is { } start)
        {
            where.Add("at >= $from");
            command.Parameters.AddWithValue("$from", FormatInstant(start));
        }
        if (to is { } end)
        {
            where.Add("at < $to");
            command.Parameters.AddWithValue("$to", FormatInstant(end));
        }
        command.CommandText =
            $"SELECT {Columns} FROM audit"
            + (where.Count == 0 ? string.Empty : " WHERE " + string.Join(" AND ", where))
            + " ORDER BY at DESC, id DESC LIMIT $limit;";
        command.Parameters.AddWithValue("$limit", Math.Clamp(limit, 1, MaxQueryLimit));

        var entries = new List<AuditEntry>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            entries.Add(ReadEntry(reader));
        }
        return entries;
    }

    /// <inheritdoc />
    public async Task<int> Purge(DateTimeOffset before, CancellationToken ct = default)
    {
        ct.ThrowIfCancellationRequested();

        await using var connection = _db.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM audit WHERE at < $before;";
        command.Parameters.AddWithValue("$before", FormatInstant(before));
        return await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Stops accepting entries, writes everything still queued and stops the background writer.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            await _writer.ConfigureAwait(false);
            return;
        }

        _closing = true;
        _queue.Writer.TryComplete();
        Wake();
        await _writer.ConfigureAwait(false);
    }

    /// <summary>The instant as fixed-width UTC ISO 8601 text, e.g. <c>2025-01-31T08:00:00.0000000Z</c>.</summary>
    private static string FormatInstant(DateTimeOffset instant) =>
        instant.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);

    private static DateTimeOffset ParseInstant(string text) =>
        new(DateTime.ParseExact(text, "O", CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind).ToUniversalTime());

    /// <summary>Reads a row selected with <see cref="Columns"/>.</summary>
    private static AuditEntry ReadEntry(SqliteDataReader reader) =>
        new(
            ParseInstant(reader.GetString(1)),
            reader.GetString(2),
            reader.IsDBNull(3) ? null : reader.GetString(3),
            reader.GetString(4),
            reader.GetString(5),
            reader.GetString(6),
            reader.GetString(7))
        {
            Id = reader.GetInt64(0),
        };

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private void Wake() => Volatile.Read(ref _wake).TrySetResult();

    /// <summary>The background writer: waits for entries, batches them, writes them, completes flushes.</summary>
    private async Task RunWriter()
    {
        var batch = new List<AuditEntry>();
        var flushes = new List<TaskCompletionSource>();
        var failures = 0;

        while (true)
        {
            try
            {
                if (batch.Count == 0 && flushes.Count == 0 && !await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
                {
                    return; // completed and empty
                }

                if (failures > 0)
                {
                    if (!_closing)
                    {
                        await Task.Delay(BatchDelay, _time).ConfigureAwait(false);
                    }
                }
                else
                {
                    await WaitForBatch().ConfigureAwait(false);
                }

                Drain(batch, flushes);
                if (batch.Count > 0)
                {
                    if (!await TryWrite(batch, failures + 1).ConfigureAwait(false))
                    {
                        failures++;
                        if (failures < MaxWriteAttempts)
                        {
                            continue; // keep the batch and the flushes waiting on it for the next round
                        }

                        LogBatchDropped(batch.Count, failures);
                        var dropped = batch.Count;
                        batch.Clear();
                        failures = 0;
                        Complete(flushes, new IOException(
                            $"{dropped} audit entries were dropped after {MaxWriteAttempts} failed writes."));
                        continue;
                    }

                    batch.Clear();
                    failures = 0;
                }
                Complete(flushes, null);
            }
            catch (Exception ex)
            {
                // Never let the writer die: report and go on with the next round.
                LogWriterFailed(ex);
            }
        }
    }

    /// <summary>Waits for <see cref="BatchDelay"/>, or less when enough entries, a flush or disposal is waiting.</summary>
    private async Task WaitForBatch()
    {
        var wake = NewSignal();
        Interlocked.Exchange(ref _wake, wake);

        // Re-check after publishing the new signal: a request made before it was published signalled the old one.
        if (_closing || Volatile.Read(ref _flushRequests) > 0 || Volatile.Read(ref _queued) >= BatchSize)
        {
            return;
        }

        using var cancelDelay = new CancellationTokenSource();
        var delay = Task.Delay(BatchDelay, _time, cancelDelay.Token);
        await Task.WhenAny(wake.Task, delay).ConfigureAwait(false);
        await cancelDelay.CancelAsync().ConfigureAwait(false);
    }

    /// <summary>Takes everything queued so far: entries into <paramref name="batch"/>, flush requests into <paramref name="flushes"/>.</summary>
    private void Drain(List<AuditEntry> batch, List<TaskCompletionSource> flushes)
    {
        while (_queue.Reader.TryRead(out var item))
        {
            if (item is AuditEntry entry)
            {
                Interlocked.Decrement(ref _queued);
                batch.Add(entry);
            }
            else
            {
                Interlocked.Decrement(ref _flushRequests);
                flushes.Add((TaskCompletionSource)item);
            }
        }
    }

    /// <summary>Writes <paramref name="batch"/> in one transaction; false (and a warning) when it failed.</summary>
    private async Task<bool> TryWrite(List<AuditEntry> batch, int attempt)
    {
        try
        {
            await using var connection = _db.Open();
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync().ConfigureAwait(false);
            InsertRows(connection, batch);
            await transaction.CommitAsync().ConfigureAwait(false);
            return true;
        }
        catch (Exception ex)
        {
            LogWriteFailed(ex, batch.Count, attempt, MaxWriteAttempts);
            return false;
        }
    }

    /// <summary>
    /// Inserts <paramref name="batch"/> with one prepared statement on the connection's own handle (inside the caller's
    /// transaction), binding each text straight from its UTF-16 characters: no parameter objects and no UTF-8 copy per
    /// value, which were a tenth of everything a login allocated (docs/benchmarks.md, "Logins (session 8)").
    /// </summary>
    private static void InsertRows(SqliteConnection connection, List<AuditEntry> batch)
    {
        var db = connection.Handle!;
        Check(db, raw.sqlite3_prepare_v2(db, InsertSql, out var statement));
        using (statement)
        {
            Span<char> at = stackalloc char[40];
            foreach (var entry in batch)
            {
                if (!entry.At.UtcDateTime.TryFormat(at, out var atLength, "O", CultureInfo.InvariantCulture))
                {
                    throw new InvalidOperationException("An audit instant did not fit its buffer.");
                }
                Check(db, raw.sqlite3_bind_text16(statement, 1, at[..atLength]));
                Check(db, raw.sqlite3_bind_text16(statement, 2, entry.PresentityId.AsSpan()));
                Check(db, entry.WatcherId is { } watcher
                    ? raw.sqlite3_bind_text16(statement, 3, watcher.AsSpan())
                    : raw.sqlite3_bind_null(statement, 3));
                Check(db, raw.sqlite3_bind_text16(statement, 4, entry.Kind.AsSpan()));
                Check(db, raw.sqlite3_bind_text16(statement, 5, entry.Channel.AsSpan()));
                Check(db, raw.sqlite3_bind_text16(statement, 6, entry.Fields.AsSpan()));
                Check(db, raw.sqlite3_bind_text16(statement, 7, entry.Rule.AsSpan()));
                var done = raw.sqlite3_step(statement);
                if (done != raw.SQLITE_DONE)
                {
                    Check(db, done);
                }
                Check(db, raw.sqlite3_reset(statement));
            }
        }
    }

    private static void Check(sqlite3 db, int rc)
    {
        if (rc is not (raw.SQLITE_OK or raw.SQLITE_DONE))
        {
            throw new SqliteException($"SQLite error {rc}: {raw.sqlite3_errmsg(db).utf8_to_string()}", rc);
        }
    }

    private static void Complete(List<TaskCompletionSource> flushes, Exception? error)
    {
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Writing {Count} audit entries failed (attempt {Attempt} of {MaxAttempts}); retrying next round")]
    private partial void LogWriteFailed(Exception exception, int count, int attempt, int maxAttempts);

    [LoggerMessage(Level = LogLevel.Error, Message = "Dropped {Count} audit entries after {Attempts} failed writes")]
    private partial void LogBatchDropped(int count, int attempts);

    [LoggerMessage(Level = LogLevel.Error, Message = "The audit writer failed unexpectedly; continuing")]
    private partial void LogWriterFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dropped a '{Kind}' audit entry about {PresentityId}: the audit log is disposed")]
    private partial void LogAppendAfterDispose(string kind, string presentityId);
}
