using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Runtime;
using Orleans.Serialization;
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
/// Payloads are encoded by <see cref="GrainStatePayloadCodec"/>: Orleans' binary serializer behind a format marker
/// (the default), while unmarked rows written by earlier versions (the configured <see cref="IGrainStorageSerializer"/>,
/// JSON) are still read; the next write of such a row stores the new format.
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
    private readonly GrainStatePayloadCodec _codec;
    private readonly IActivatorProvider _activatorProvider;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<SqliteGrainStorage> _logger;
    private readonly Lock _schemaLock = new();
    private volatile bool _schemaReady;

    /// <summary>Creates the provider.</summary>
    /// <param name="name">The provider name (as used in <c>[PersistentState(..., name)]</c>).</param>
    /// <param name="options">The provider's options; <see cref="SqliteGrainStorageOptions.GrainStorageSerializer"/> must be set
    /// (it reads rows written before the binary format, and writes when <see cref="SqliteGrainStorageOptions.PayloadFormat"/> asks for it).</param>
    /// <param name="serializer">Orleans' binary serializer (the silo's).</param>
    /// <param name="database">The database holding the <c>grain_state</c> table.</param>
    /// <param name="clusterOptions">Supplies the service id that scopes every row.</param>
    /// <param name="activatorProvider">Creates default state instances on a read miss or after a clear.</param>
    /// <param name="timeProvider">Clock for <c>updated_at</c>.</param>
    /// <param name="logger">Logger.</param>
    public SqliteGrainStorage(
        string name,
        SqliteGrainStorageOptions options,
        Serializer serializer,
        SqliteDatabase database,
        IOptions<ClusterOptions> clusterOptions,
        IActivatorProvider activatorProvider,
        TimeProvider timeProvider,
        ILogger<SqliteGrainStorage> logger)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(serializer);
        ArgumentNullException.ThrowIfNull(database);
        ArgumentNullException.ThrowIfNull(clusterOptions);
        ArgumentNullException.ThrowIfNull(activatorProvider);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);

        _name = name;
        _serviceId = clusterOptions.Value.ServiceId
            ?? throw new ArgumentException("ClusterOptions.ServiceId must be set.", nameof(clusterOptions));
        var legacy = options.GrainStorageSerializer
            ?? throw new ArgumentException(
                $"{nameof(SqliteGrainStorageOptions)}.{nameof(SqliteGrainStorageOptions.GrainStorageSerializer)} must be set.",
                nameof(options));
        _codec = new GrainStatePayloadCodec(serializer, legacy, options.PayloadFormat);
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
            await using var reader = await command.ExecuteReaderAsync(System.Data.CommandBehavior.SingleRow, cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
            {
                grainState.State = CreateDefault<T>();
                grainState.ETag = null;
                grainState.RecordExists = false;
                return;
            }

            var version = reader.GetInt64(0);
            var payload = reader.GetFieldValue<byte[]>(1);
            grainState.State = _codec.Decode<T>(payload) ?? CreateDefault<T>();
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
        var payload = _codec.Encode(grainState.State);
        var op = new WriteOp(WriteKind.Write, stateName, grain, expected, payload);
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
        var outcome = await Submit(new WriteOp(WriteKind.Clear, stateName, grain, expected, null), cancellationToken);
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

    private sealed record WriteOp(WriteKind Kind, string StateName, string Grain, long? Expected, byte[]? Payload)
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
    /// retried alone, so one bad write fails only itself. The writer keeps one connection with its statements
    /// prepared once (not re-parsed per write); <c>updated_at</c> is the batch's time, formatted once per batch.
    /// </summary>
    private void WriterLoop()
    {
        var batch = new List<WriteOp>(MaxBatch);
        WriterStatements? statements = null;
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
                var updatedAt = _timeProvider.GetUtcNow().ToString("O", CultureInfo.InvariantCulture);
                var outcomes = new WriteOutcome[batch.Count];
                try
                {
                    statements ??= new WriterStatements(_database.Open(), _serviceId);
                    using (var tx = statements.Begin())
                    {
                        for (var i = 0; i < batch.Count; i++)
                        {
                            outcomes[i] = Execute(statements, batch[i], updatedAt);
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
                    statements?.Dispose();
                    statements = null;
                    foreach (var op in batch)
                    {
                        RunAlone(ref statements, op, updatedAt);
                    }
                }
                catch (Exception ex)
                {
                    statements?.Dispose();
                    statements = null;
                    batch[0].Done.TrySetResult(new WriteOutcome(null, false, null, ex));
                }
            }
        }
        finally
        {
            statements?.Dispose();
        }
    }

    private void RunAlone(ref WriterStatements? statements, WriteOp op, string updatedAt)
    {
        try
        {
            statements ??= new WriterStatements(_database.Open(), _serviceId);
            WriteOutcome outcome;
            using (var tx = statements.Begin())
            {
                outcome = Execute(statements, op, updatedAt);
                tx.Commit();
            }
            op.Done.TrySetResult(outcome);
        }
        catch (Exception ex)
        {
            statements?.Dispose();
            statements = null;
            op.Done.TrySetResult(new WriteOutcome(null, false, null, ex));
        }
    }

    private static WriteOutcome Execute(WriterStatements statements, WriteOp op, string updatedAt)
    {
        if (op.Kind == WriteKind.Write)
        {
            var newVersion = op.Expected is { } version
                ? statements.Update(op.StateName, op.Grain, version, op.Payload!, updatedAt)
                : statements.Insert(op.StateName, op.Grain, op.Payload!, updatedAt);
            return newVersion is not null
                ? new WriteOutcome(newVersion, false, null, null)
                : new WriteOutcome(null, false, StoredEtag(statements, op), null);
        }
        if (op.Expected is { } expected)
        {
            return statements.Delete(op.StateName, op.Grain, expected)
                ? new WriteOutcome(null, true, null, null)
                : new WriteOutcome(null, false, StoredEtag(statements, op), null);
        }
        // No ETag: the caller believes there is no row, so there is nothing to delete; a row that does exist was
        // written by someone else.
        var stored = StoredEtag(statements, op);
        return new WriteOutcome(null, stored is null, stored, null);
    }

    private static string? StoredEtag(WriterStatements statements, WriteOp op)
        => statements.StoredVersion(op.StateName, op.Grain) is { } version ? FormatEtag(version) : null;

    /// <summary>
    /// The writer thread's connection and its four statements, each prepared once with its parameters created once;
    /// a write only sets parameter values. Used by the writer thread alone; disposed (and rebuilt) after a failure.
    /// </summary>
    private sealed class WriterStatements : IDisposable
    {
        private readonly SqliteConnection _connection;
        private readonly SqliteCommand _insert;
        private readonly SqliteCommand _update;
        private readonly SqliteCommand _delete;
        private readonly SqliteCommand _selectVersion;

        public WriterStatements(SqliteConnection connection, string serviceId)
        {
            _connection = connection;
            try
            {
                _insert = Create(InsertSql, serviceId, payload: true, version: false);
                _update = Create(UpdateSql, serviceId, payload: true, version: true);
                _delete = Create(DeleteSql, serviceId, payload: false, version: true);
                _selectVersion = Create(SelectVersionSql, serviceId, payload: false, version: false);
            }
            catch
            {
                connection.Dispose();
                throw;
            }
        }

        /// <summary>Starts an immediate transaction and enlists every statement in it.</summary>
        public SqliteTransaction Begin()
        {
            var tx = _connection.BeginTransaction(deferred: false);
            _insert.Transaction = tx;
            _update.Transaction = tx;
            _delete.Transaction = tx;
            _selectVersion.Transaction = tx;
            return tx;
        }

        public long? Insert(string stateName, string grain, byte[] payload, string updatedAt)
        {
            Key(_insert, stateName, grain);
            _insert.Parameters[3].Value = payload;
            _insert.Parameters[4].Value = updatedAt;
            return _insert.ExecuteScalar() as long?;
        }

        public long? Update(string stateName, string grain, long version, byte[] payload, string updatedAt)
        {
            Key(_update, stateName, grain);
            _update.Parameters[3].Value = payload;
            _update.Parameters[4].Value = updatedAt;
            _update.Parameters[5].Value = version;
            return _update.ExecuteScalar() as long?;
        }

        public bool Delete(string stateName, string grain, long version)
        {
            Key(_delete, stateName, grain);
            _delete.Parameters[3].Value = version;
            return _delete.ExecuteNonQuery() != 0;
        }

        public long? StoredVersion(string stateName, string grain)
        {
            Key(_selectVersion, stateName, grain);
            return _selectVersion.ExecuteScalar() as long?;
        }

        public void Dispose()
        {
            _insert.Dispose();
            _update.Dispose();
            _delete.Dispose();
            _selectVersion.Dispose();
            _connection.Dispose();
        }

        private static void Key(SqliteCommand command, string stateName, string grain)
        {
            command.Parameters[1].Value = grain;
            command.Parameters[2].Value = stateName;
        }

        private SqliteCommand Create(string sql, string serviceId, bool payload, bool version)
        {
            var command = _connection.CreateCommand();
            command.CommandText = sql;
            command.Parameters.AddWithValue("$service", serviceId);
            command.Parameters.Add("$grain", SqliteType.Text);
            command.Parameters.Add("$state", SqliteType.Text);
            if (payload)
            {
                command.Parameters.Add("$payload", SqliteType.Blob);
                command.Parameters.Add("$updated", SqliteType.Text);
            }
            if (version)
            {
                command.Parameters.Add("$version", SqliteType.Integer);
            }
            command.Prepare();
            return command;
        }
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
