using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Runtime;
using Orleans.Serialization.Serializers;
using Orleans.Storage;

namespace Herald.Cluster.Storage;

/// <summary>
/// An Orleans <see cref="IGrainStorage"/> provider that keeps grain state in the <c>grain_state</c>
/// table of a SQLite file, keyed by (service id, grain id, state name), with optimistic concurrency
/// on an integer version that doubles as the ETag.
/// </summary>
/// <remarks>
/// The table is created at <see cref="ServiceLifecycleStage.ApplicationServices"/> (and lazily on
/// first use, for instances not attached to a silo lifecycle). A write with a <c>null</c> ETag
/// inserts a new row; a write with an ETag updates the row only if its version still matches.
/// Any mismatch surfaces as <see cref="InconsistentStateException"/>.
/// Writes and clears go through one writer thread per provider that commits every queued write in one
/// transaction (group commit, one fsync per batch, at most <see cref="MaxBatch"/>); a write is acknowledged only
/// after its transaction committed, so durability is unchanged while Orleans' threads never block on SQLite.
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The write queue lives as long as the silo; the lifecycle's stop stage completes it and joins the writer.")]
public sealed partial class SqliteGrainStorage : IGrainStorage, ILifecycleParticipant<ISiloLifecycle>
{
    /// <summary>The DDL for the grain state table (idempotent).</summary>
    public const string SchemaDdl = """
        CREATE TABLE IF NOT EXISTS grain_state (
            service_id TEXT NOT NULL,
            grain_id TEXT NOT NULL,
            state_name TEXT NOT NULL,
            version INTEGER NOT NULL,
            payload BLOB NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (service_id, grain_id, state_name)
        );
        """;

    private const string SelectSql = """
        SELECT version, payload FROM grain_state
        WHERE service_id = $service AND grain_id = $grain AND state_name = $state;
        """;

    private const string SelectVersionSql = """
        SELECT version FROM grain_state
        WHERE service_id = $service AND grain_id = $grain AND state_name = $state;
        """;

    private const string InsertSql = """
        INSERT INTO grain_state (service_id, grain_id, state_name, version, payload, updated_at)
        VALUES ($service, $grain, $state, 1, $payload, $updated)
        ON CONFLICT (service_id, grain_id, state_name) DO NOTHING
        RETURNING version;
        """;

    private const string UpdateSql = """
        UPDATE grain_state SET version = version + 1, payload = $payload, updated_at = $updated
        WHERE service_id = $service AND grain_id = $grain AND state_name = $state AND version = $version
        RETURNING version;
        """;

    private const string DeleteSql = """
        DELETE FROM grain_state
        WHERE service_id = $service AND grain_id = $grain AND state_name = $state AND version = $version;
        """;

    private readonly string _name;
    private readonly string _serviceId;
    private readonly SqliteDatabase _database;
    private readonly IGrainStorageSerializer _serializer;
    private readonly IActivatorProvider _activatorProvider;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<SqliteGrainStorage> _logger;
    private readonly Lock _schemaLock = new();
    private volatile bool _schemaReady;

    /// <summary>Creates the provider.</summary>
    /// <param name="name">The provider name (as used in <c>[PersistentState(..., name)]</c>).</param>
    /// <param name="options">The provider's options; <see cref="SqliteGrainStorageOptions.GrainStorageSerializer"/> must be set.</param>
    /// <param name="database">The database holding the <c>grain_state</c> table.</param>
    /// <param name="clusterOptions">Supplies the service id that scopes every row.</param>
    /// <param name="activatorProvider">Creates default state instances on a read miss or after a clear.</param>
    /// <param name="timeProvider">Clock for <c>updated_at</c>.</param>
    /// <param name="logger">Logger.</param>
    public SqliteGrainStorage(
        string name,
        SqliteGrainStorageOptions options,
        SqliteDatabase database,
        IOptions<ClusterOptions> clusterOptions,
        IActivatorProvider activatorProvider,
        TimeProvider timeProvider,
        ILogger<SqliteGrainStorage> logger)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(database);
        ArgumentNullException.ThrowIfNull(clusterOptions);
        ArgumentNullException.ThrowIfNull(activatorProvider);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);

        _name = name;
        _serviceId = clusterOptions.Value.ServiceId
            ?? throw new ArgumentException("ClusterOptions.ServiceId must be set.", nameof(clusterOptions));
        _serializer = options.GrainStorageSerializer
            ?? throw new ArgumentException(
                $"{nameof(SqliteGrainStorageOptions)}.{nameof(SqliteGrainStorageOptions.GrainStorageSerializer)} must be set.",
                nameof(options));
        _database = database;
        _activatorProvider = activatorProvider;
        _timeProvider = timeProvider;
        _logger = logger;
    }

    /// <inheritdoc />
    public void Participate(ISiloLifecycle lifecycle)
    {
        ArgumentNullException.ThrowIfNull(lifecycle);
        lifecycle.Subscribe(
            OptionFormattingUtilities.Name<SqliteGrainStorage>(_name),
            ServiceLifecycleStage.ApplicationServices,
            _ =>
            {
                EnsureSchema();
                return Task.CompletedTask;
            },
            _ =>
            {
                StopWriter();
                return Task.CompletedTask;
            });
    }

    /// <inheritdoc />
    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        => ReadStateAsync(stateName, grainId, grainState, CancellationToken.None);

    /// <inheritdoc />
    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        var grain = grainId.ToString();
        try
        {
            await using var connection = OpenReady();
            await using var command = CreateCommand(connection, SelectSql, stateName, grain);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
            {
                grainState.State = CreateDefault<T>();
                grainState.ETag = null;
                grainState.RecordExists = false;
                return;
            }

            var version = reader.GetInt64(0);
            var payload = (byte[])reader.GetValue(1);
            grainState.State = _serializer.Deserialize<T>(new BinaryData(payload)) ?? CreateDefault<T>();
            grainState.ETag = FormatEtag(version);
            grainState.RecordExists = true;
        }
        catch (SqliteException ex)
        {
            LogStorageError(ex, "read", _name, stateName, grain);
            throw;
        }
    }

    /// <inheritdoc />
    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        => WriteStateAsync(stateName, grainId, grainState, CancellationToken.None);

    /// <inheritdoc />
    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        var grain = grainId.ToString();
        var expected = ParseEtag(grainState.ETag, stateName, grain);
        var payload = _serializer.Serialize(grainState.State).ToArray();
        var updatedAt = _timeProvider.GetUtcNow().ToString("O", CultureInfo.InvariantCulture);
        var op = new WriteOp(WriteKind.Write, stateName, grain, expected, payload, updatedAt);
        var outcome = await Submit(op, cancellationToken);
        if (outcome.Error is { } error)
        {
            LogStorageError(error, "write", _name, stateName, grain);
            throw error;
        }
        if (outcome.NewVersion is not { } newVersion)
        {
            throw Conflict("write", stateName, grain, outcome.StoredEtag, grainState.ETag);
        }

        grainState.ETag = FormatEtag(newVersion);
        grainState.RecordExists = true;
    }

    /// <inheritdoc />
    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        => ClearStateAsync(stateName, grainId, grainState, CancellationToken.None);

    /// <inheritdoc />
    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        var grain = grainId.ToString();
        var expected = ParseEtag(grainState.ETag, stateName, grain);
        var outcome = await Submit(new WriteOp(WriteKind.Clear, stateName, grain, expected, null, null), cancellationToken);
        if (outcome.Error is { } error)
        {
            LogStorageError(error, "clear", _name, stateName, grain);
            throw error;
        }
        if (!outcome.Cleared)
        {
            throw Conflict("clear", stateName, grain, outcome.StoredEtag, grainState.ETag);
        }

        grainState.State = CreateDefault<T>();
        grainState.ETag = null;
        grainState.RecordExists = false;
    }

    /// <summary>Most writes committed in one transaction by the writer.</summary>
    public const int MaxBatch = 256;

    private enum WriteKind
    {
        Write,
        Clear,
    }

    private sealed record WriteOp(WriteKind Kind, string StateName, string Grain, long? Expected, byte[]? Payload, string? UpdatedAt)
    {
        public TaskCompletionSource<WriteOutcome> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private readonly record struct WriteOutcome(long? NewVersion, bool Cleared, string? StoredEtag, Exception? Error);

    /// <summary>
    /// Queues a write for the writer thread and waits until its transaction is committed (on disk, synchronous =
    /// FULL) or rolled back. Cancellation stops the wait only before the writer has taken the write.
    /// </summary>
    private Task<WriteOutcome> Submit(WriteOp op, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        EnsureWriter();
        try
        {
            _queue.Add(op, cancellationToken);
        }
        catch (InvalidOperationException)
        {
            throw new InvalidOperationException($"SQLite grain storage '{_name}' is stopped.");
        }
        return op.Done.Task;
    }

    private readonly System.Collections.Concurrent.BlockingCollection<WriteOp> _queue = new();
    private readonly Lock _writerLock = new();
    private Thread? _writer;

    private void EnsureWriter()
    {
        if (_writer is not null)
        {
            return;
        }
        lock (_writerLock)
        {
            if (_writer is not null)
            {
                return;
            }
            EnsureSchema();
            var thread = new Thread(WriterLoop) { IsBackground = true, Name = $"sqlite-writer-{_name}" };
            thread.Start();
            _writer = thread;
        }
    }

    /// <summary>
    /// The single writer: takes every queued write (up to <see cref="MaxBatch"/>), runs them in one transaction and
    /// commits once (group commit: one fsync for the batch), then acknowledges each write. Runs on its own thread,
    /// so Orleans' scheduler threads never block on SQLite. If the batch fails as a whole, every write in it is
    /// retried alone, so one bad write fails only itself.
    /// </summary>
    private void WriterLoop()
    {
        var batch = new List<WriteOp>(MaxBatch);
        SqliteConnection? connection = null;
        try
        {
            foreach (var first in _queue.GetConsumingEnumerable())
            {
                batch.Clear();
                batch.Add(first);
                while (batch.Count < MaxBatch && _queue.TryTake(out var more))
                {
                    batch.Add(more);
                }
                connection ??= _database.Open();
                var outcomes = new WriteOutcome[batch.Count];
                try
                {
                    using (var tx = connection.BeginTransaction(deferred: false))
                    {
                        for (var i = 0; i < batch.Count; i++)
                        {
                            outcomes[i] = Execute(connection, tx, batch[i]);
                        }
                        tx.Commit();
                    }
                    for (var i = 0; i < batch.Count; i++)
                    {
                        batch[i].Done.TrySetResult(outcomes[i]);
                    }
                }
                catch (Exception) when (batch.Count > 1)
                {
                    connection.Dispose();
                    connection = null;
                    foreach (var op in batch)
                    {
                        connection ??= _database.Open();
                        RunAlone(ref connection, op);
                    }
                }
                catch (Exception ex)
                {
                    connection.Dispose();
                    connection = null;
                    batch[0].Done.TrySetResult(new WriteOutcome(null, false, null, ex));
                }
            }
        }
        finally
        {
            connection?.Dispose();
        }
    }

    private void RunAlone(ref SqliteConnection? connection, WriteOp op)
    {
        try
        {
            WriteOutcome outcome;
            using (var tx = connection!.BeginTransaction(deferred: false))
            {
                outcome = Execute(connection, tx, op);
                tx.Commit();
            }
            op.Done.TrySetResult(outcome);
        }
        catch (Exception ex)
        {
            connection?.Dispose();
            connection = null;
            op.Done.TrySetResult(new WriteOutcome(null, false, null, ex));
        }
    }

    private WriteOutcome Execute(SqliteConnection connection, SqliteTransaction tx, WriteOp op)
    {
        if (op.Kind == WriteKind.Write)
        {
            using var command = CreateCommand(connection, op.Expected is null ? InsertSql : UpdateSql, op.StateName, op.Grain);
            command.Transaction = tx;
            command.Parameters.AddWithValue("$payload", op.Payload);
            command.Parameters.AddWithValue("$updated", op.UpdatedAt);
            if (op.Expected is { } version)
            {
                command.Parameters.AddWithValue("$version", version);
            }
            return command.ExecuteScalar() is long newVersion
                ? new WriteOutcome(newVersion, false, null, null)
                : new WriteOutcome(null, false, StoredEtag(connection, tx, op), null);
        }
        if (op.Expected is { } expected)
        {
            using var command = CreateCommand(connection, DeleteSql, op.StateName, op.Grain);
            command.Transaction = tx;
            command.Parameters.AddWithValue("$version", expected);
            return command.ExecuteNonQuery() == 0
                ? new WriteOutcome(null, false, StoredEtag(connection, tx, op), null)
                : new WriteOutcome(null, true, null, null);
        }
        // No ETag: the caller believes there is no row, so there is nothing to delete; a row that does exist was
        // written by someone else.
        var stored = StoredEtag(connection, tx, op);
        return new WriteOutcome(null, stored is null, stored, null);
    }

    private string? StoredEtag(SqliteConnection connection, SqliteTransaction tx, WriteOp op)
    {
        using var command = CreateCommand(connection, SelectVersionSql, op.StateName, op.Grain);
        command.Transaction = tx;
        return command.ExecuteScalar() is long version ? FormatEtag(version) : null;
    }

    /// <summary>Stops the writer after the queued writes are committed (silo shutdown).</summary>
    private void StopWriter()
    {
        _queue.CompleteAdding();
        _writer?.Join(TimeSpan.FromSeconds(10));
    }

    private void EnsureSchema()
    {
        if (_schemaReady)
        {
            return;
        }

        lock (_schemaLock)
        {
            if (_schemaReady)
            {
                return;
            }

            _database.EnsureSchema(SchemaDdl);
            _schemaReady = true;
            LogSchemaReady(_name, _database.FilePath);
        }
    }

    private SqliteConnection OpenReady()
    {
        EnsureSchema();
        return _database.Open();
    }

    private SqliteCommand CreateCommand(SqliteConnection connection, string sql, string stateName, string grain)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("$service", _serviceId);
        command.Parameters.AddWithValue("$grain", grain);
        command.Parameters.AddWithValue("$state", stateName);
        return command;
    }

    private InconsistentStateException Conflict(string operation, string stateName, string grain, string? storedEtag, string? currentEtag)
    {
        LogConflict(_name, operation, stateName, grain, storedEtag ?? "<none>", currentEtag ?? "<none>");
        return new InconsistentStateException(
            $"SQLite grain storage '{_name}': {operation} of state '{stateName}' for grain '{grain}' rejected; "
                + $"stored ETag '{storedEtag ?? "<none>"}', supplied ETag '{currentEtag ?? "<none>"}'.",
            storedEtag,
            currentEtag);
    }

    private long? ParseEtag(string? etag, string stateName, string grain)
    {
        if (etag is null)
        {
            return null;
        }

        if (long.TryParse(etag, NumberStyles.None, CultureInfo.InvariantCulture, out var version))
        {
            return version;
        }

        throw new InconsistentStateException(
            $"SQLite grain storage '{_name}': state '{stateName}' for grain '{grain}' has malformed ETag '{etag}'.",
            null,
            etag);
    }

    private T CreateDefault<T>() => _activatorProvider.GetActivator<T>().Create();

    private static string FormatEtag(long version) => version.ToString(CultureInfo.InvariantCulture);

    [LoggerMessage(EventId = 1, Level = LogLevel.Debug, Message = "SQLite grain storage '{Provider}' schema ready in '{Path}'")]
    private partial void LogSchemaReady(string provider, string path);

    [LoggerMessage(EventId = 2, Level = LogLevel.Debug, Message = "SQLite grain storage '{Provider}': {Operation} conflict on state '{StateName}' for grain '{GrainId}' (stored ETag {StoredEtag}, supplied ETag {CurrentEtag})")]
    private partial void LogConflict(string provider, string operation, string stateName, string grainId, string storedEtag, string currentEtag);

    [LoggerMessage(EventId = 3, Level = LogLevel.Error, Message = "SQLite grain storage '{Provider}': {Operation} of state '{StateName}' for grain '{GrainId}' failed")]
    private partial void LogStorageError(Exception exception, string operation, string provider, string stateName, string grainId);
}
