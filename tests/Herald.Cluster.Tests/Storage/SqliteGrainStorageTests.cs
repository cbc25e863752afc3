using System.Diagnostics;
using Herald.Cluster.Hosting;
using Herald.Cluster.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Serialization.Serializers;
using Orleans.Storage;
using Orleans.TestingHost;

namespace Herald.Cluster.Tests.Storage;

/// <summary>State persisted by <see cref="SqliteCounterGrain"/>.</summary>
[GenerateSerializer]
public sealed class CounterState
{
    /// <summary>The counter value.</summary>
    [Id(0)]
    public int Value { get; set; }

    /// <summary>A free-form label.</summary>
    [Id(1)]
    public string? Label { get; set; }
}

/// <summary>What a <see cref="ISqliteCounterGrain"/> currently holds.</summary>
[GenerateSerializer]
public sealed record CounterSnapshot(
    [property: Id(0)] int Value,
    [property: Id(1)] string? Label,
    [property: Id(2)] string? ETag,
    [property: Id(3)] bool RecordExists,
    [property: Id(4)] Guid ActivationId);

/// <summary>A test grain whose state lives in the "herald" SQLite storage provider.</summary>
public interface ISqliteCounterGrain : IGrainWithStringKey
{
    /// <summary>Sets and persists the state.</summary>
    Task Set(int value, string? label);

    /// <summary>Returns the in-memory state and its storage metadata.</summary>
    Task<CounterSnapshot> Get();

    /// <summary>Clears the persisted state.</summary>
    Task Clear();
}

/// <summary>Implementation of <see cref="ISqliteCounterGrain"/>.</summary>
public sealed class SqliteCounterGrain(
    [PersistentState("s", SqliteGrainStorageTests.ProviderName)] IPersistentState<CounterState> state) : Grain, ISqliteCounterGrain
{
    private readonly Guid _activationId = Guid.NewGuid();

    /// <inheritdoc />
    public async Task Set(int value, string? label)
    {
        state.State.Value = value;
        state.State.Label = label;
        await state.WriteStateAsync();
    }

    /// <inheritdoc />
    public Task<CounterSnapshot> Get()
        => Task.FromResult(new CounterSnapshot(state.State.Value, state.State.Label, state.Etag, state.RecordExists, _activationId));

    /// <inheritdoc />
    public Task Clear() => state.ClearStateAsync();
}

public sealed class SqliteGrainStorageTests : IAsyncLifetime
{
    public const string ProviderName = "herald";

    private static readonly TimeSpan PollTimeout = TimeSpan.FromSeconds(10);

    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"herald-sqlite-tests-{Guid.NewGuid():N}");
    private readonly string _serviceId = $"herald-sqlite-{Guid.NewGuid():N}";
    private InProcessTestCluster? _cluster;

    private string DatabasePath => Path.Combine(_directory, "nested", "grains.db");

    private InProcessTestCluster Cluster => _cluster ?? throw new InvalidOperationException("Cluster not started.");

    public async Task InitializeAsync() => _cluster = await StartClusterAsync();

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
            _cluster = null;
        }

        SqliteConnection.ClearAllPools();
        if (System.IO.Directory.Exists(_directory))
        {
            System.IO.Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public async Task A_grain_without_a_stored_record_starts_from_default_state_with_no_etag()
    {
        var snapshot = await Cluster.Client.GetGrain<ISqliteCounterGrain>("fresh").Get();

        Assert.Equal(0, snapshot.Value);
        Assert.Null(snapshot.Label);
        Assert.Null(snapshot.ETag);
        Assert.False(snapshot.RecordExists);
    }

    [Fact]
    public async Task Written_state_is_read_back_by_a_new_activation()
    {
        var grain = Cluster.Client.GetGrain<ISqliteCounterGrain>("roundtrip");
        await grain.Set(42, "answer");
        var before = await grain.Get();
        Assert.Equal("1", before.ETag);
        Assert.True(before.RecordExists);

        await Cluster.DeactivateAsync(grain);
        var after = await PollAsync(grain.Get, s => s.ActivationId != before.ActivationId);

        Assert.Equal(42, after.Value);
        Assert.Equal("answer", after.Label);
        Assert.Equal("1", after.ETag);
        Assert.True(after.RecordExists);
    }

    [Fact]
    public async Task Each_write_bumps_the_version_used_as_etag()
    {
        var grain = Cluster.Client.GetGrain<ISqliteCounterGrain>("versions");

        await grain.Set(1, null);
        await grain.Set(2, null);
        await grain.Set(3, null);

        Assert.Equal("3", (await grain.Get()).ETag);
        Assert.Equal(3L, ReadStoredVersion(grain.GetGrainId()));
    }

    [Fact]
    public async Task Payloads_are_written_with_the_Orleans_binary_serializer_behind_a_format_marker()
    {
        var grain = Cluster.Client.GetGrain<ISqliteCounterGrain>("binary");
        await grain.Set(7, "seven");

        using var connection = OpenDirect();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT payload, updated_at FROM grain_state WHERE service_id = $s AND grain_id = $g AND state_name = 's'";
        command.Parameters.AddWithValue("$s", _serviceId);
        command.Parameters.AddWithValue("$g", grain.GetGrainId().ToString());
        using var reader = command.ExecuteReader();
        Assert.True(reader.Read());
        var payload = (byte[])reader.GetValue(0);
        Assert.Equal(GrainStatePayloadCodec.Marker, payload[0]);
        Assert.Equal(GrainStatePayloadCodec.OrleansBinaryV1, payload[1]);
        var serializer = Cluster.Silos[0].ServiceProvider.GetRequiredService<Serializer>();
        var state = serializer.Deserialize<CounterState>(payload.AsMemory(2));
        Assert.NotNull(state);
        Assert.Equal(7, state.Value);
        Assert.Equal("seven", state.Label);
        Assert.True(DateTimeOffset.TryParse(reader.GetString(1), out _));
    }

    [Fact]
    public async Task A_json_row_left_by_the_previous_version_is_loaded_by_the_grain_and_rewritten_as_binary()
    {
        var grain = Cluster.Client.GetGrain<ISqliteCounterGrain>("legacy-json");
        var grainId = grain.GetGrainId().ToString();
        using (var connection = OpenDirect())
        using (var command = connection.CreateCommand())
        {
            // What the storage wrote before session 5 (System.Text.Json, unmarked).
            command.CommandText = """
                INSERT INTO grain_state (service_id, grain_id, state_name, version, payload, updated_at)
                VALUES ($s, $g, 's', 4, $p, '2026-11-26T10:00:00.0000000+00:00');
                """;
            command.Parameters.AddWithValue("$s", _serviceId);
            command.Parameters.AddWithValue("$g", grainId);
            command.Parameters.AddWithValue("$p", System.Text.Encoding.UTF8.GetBytes("""{"Value":41,"Label":"from json"}"""));
            Assert.Equal(1, command.ExecuteNonQuery());
        }

        var loaded = await grain.Get();
        Assert.Equal(41, loaded.Value);
        Assert.Equal("from json", loaded.Label);
        Assert.Equal("4", loaded.ETag);
        Assert.True(loaded.RecordExists);

        await grain.Set(42, "now binary");
        Assert.Equal(5L, ReadStoredVersion(grain.GetGrainId()));
        using (var connection = OpenDirect())
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT payload FROM grain_state WHERE service_id = $s AND grain_id = $g AND state_name = 's'";
            command.Parameters.AddWithValue("$s", _serviceId);
            command.Parameters.AddWithValue("$g", grainId);
            Assert.Equal(SqlitePayloadFormat.OrleansBinary, GrainStatePayloadCodec.FormatOf((byte[])command.ExecuteScalar()!));
        }

        await Cluster.DeactivateAsync(grain);
        var after = await PollAsync(grain.Get, s => s.ActivationId != loaded.ActivationId);
        Assert.Equal(42, after.Value);
        Assert.Equal("now binary", after.Label);
        Assert.Equal("5", after.ETag);
    }

    [Fact]
    public async Task Clearing_deletes_the_row_and_resets_state_to_default()
    {
        var grain = Cluster.Client.GetGrain<ISqliteCounterGrain>("clear");
        await grain.Set(5, "five");

        await grain.Clear();

        var cleared = await grain.Get();
        Assert.Equal(0, cleared.Value);
        Assert.Null(cleared.Label);
        Assert.Null(cleared.ETag);
        Assert.False(cleared.RecordExists);
        Assert.Null(ReadStoredVersion(grain.GetGrainId()));

        await Cluster.DeactivateAsync(grain);
        var reactivated = await PollAsync(grain.Get, s => s.ActivationId != cleared.ActivationId);
        Assert.Equal(0, reactivated.Value);
        Assert.False(reactivated.RecordExists);

        await grain.Set(6, null);
        Assert.Equal("1", (await grain.Get()).ETag);
    }

    [Fact]
    public async Task A_write_with_a_stale_etag_is_rejected_with_InconsistentStateException()
    {
        var (first, second) = CreateTwoStorages();
        var grainId = GrainId.Create("counter", "stale-write");

        var seed = new GrainState<CounterState>();
        await first.ReadStateAsync("s", grainId, seed);
        StateOf(seed).Value = 1;
        await first.WriteStateAsync("s", grainId, seed);

        var a = new GrainState<CounterState>();
        var b = new GrainState<CounterState>();
        await first.ReadStateAsync("s", grainId, a);
        await second.ReadStateAsync("s", grainId, b);
        Assert.Equal("1", a.ETag);
        Assert.Equal("1", b.ETag);

        StateOf(a).Value = 10;
        await first.WriteStateAsync("s", grainId, a);
        Assert.Equal("2", a.ETag);

        StateOf(b).Value = 20;
        var ex = await Assert.ThrowsAsync<InconsistentStateException>(() => second.WriteStateAsync("s", grainId, b));
        Assert.Equal("2", ex.StoredEtag);
        Assert.Equal("1", ex.CurrentEtag);

        var check = new GrainState<CounterState>();
        await second.ReadStateAsync("s", grainId, check);
        Assert.Equal(10, StateOf(check).Value);
        Assert.Equal("2", check.ETag);
    }

    [Fact]
    public async Task Inserting_over_an_existing_row_is_rejected_with_InconsistentStateException()
    {
        var (first, second) = CreateTwoStorages();
        var grainId = GrainId.Create("counter", "double-insert");

        var a = new GrainState<CounterState>();
        var b = new GrainState<CounterState>();
        await first.ReadStateAsync("s", grainId, a);
        await second.ReadStateAsync("s", grainId, b);
        Assert.False(a.RecordExists);
        Assert.False(b.RecordExists);

        StateOf(a).Value = 1;
        await first.WriteStateAsync("s", grainId, a);

        StateOf(b).Value = 2;
        await Assert.ThrowsAsync<InconsistentStateException>(() => second.WriteStateAsync("s", grainId, b));
        Assert.Equal(1L, ReadStoredVersion(grainId));
    }

    [Fact]
    public async Task Clearing_with_a_stale_etag_is_rejected_and_keeps_the_row()
    {
        var (first, second) = CreateTwoStorages();
        var grainId = GrainId.Create("counter", "stale-clear");

        var a = new GrainState<CounterState>();
        await first.ReadStateAsync("s", grainId, a);
        await first.WriteStateAsync("s", grainId, a);
        var b = new GrainState<CounterState>();
        await second.ReadStateAsync("s", grainId, b);
        await first.WriteStateAsync("s", grainId, a);

        await Assert.ThrowsAsync<InconsistentStateException>(() => second.ClearStateAsync("s", grainId, b));
        Assert.Equal(2L, ReadStoredVersion(grainId));

        var unaware = new GrainState<CounterState>();
        await Assert.ThrowsAsync<InconsistentStateException>(() => second.ClearStateAsync("s", grainId, unaware));
        Assert.Equal(2L, ReadStoredVersion(grainId));

        await first.ClearStateAsync("s", grainId, a);
        Assert.Null(a.ETag);
        Assert.False(a.RecordExists);
        Assert.Null(ReadStoredVersion(grainId));
    }

    [Fact]
    public async Task A_grain_write_after_an_outside_update_surfaces_InconsistentStateException()
    {
        var grain = Cluster.Client.GetGrain<ISqliteCounterGrain>("outside");
        await grain.Set(1, "mine");

        using (var connection = OpenDirect())
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "UPDATE grain_state SET version = 5 WHERE service_id = $s AND grain_id = $g";
            command.Parameters.AddWithValue("$s", _serviceId);
            command.Parameters.AddWithValue("$g", grain.GetGrainId().ToString());
            Assert.Equal(1, command.ExecuteNonQuery());
        }

        await Assert.ThrowsAsync<InconsistentStateException>(() => grain.Set(2, "lost"));

        // Orleans deactivates the activation after an InconsistentStateException; the next
        // activation reads the row as it is stored.
        var reloaded = await PollAsync(grain.Get, s => s.ETag == "5");
        Assert.Equal(1, reloaded.Value);
        Assert.Equal("mine", reloaded.Label);
    }

    [Fact]
    public async Task State_survives_a_new_cluster_on_the_same_file()
    {
        await Cluster.Client.GetGrain<ISqliteCounterGrain>("durable").Set(99, "kept");

        await Cluster.DisposeAsync();
        _cluster = null;
        _cluster = await StartClusterAsync();

        var snapshot = await Cluster.Client.GetGrain<ISqliteCounterGrain>("durable").Get();
        Assert.Equal(99, snapshot.Value);
        Assert.Equal("kept", snapshot.Label);
        Assert.Equal("1", snapshot.ETag);
        Assert.True(snapshot.RecordExists);
    }

    [Fact]
    public async Task Rows_are_scoped_by_service_id()
    {
        var grainId = GrainId.Create("counter", "scoped");
        var (first, _) = CreateTwoStorages();
        var other = CreateStorage("other-service", new SqliteDatabase(DatabasePath));

        var mine = new GrainState<CounterState>(new CounterState { Value = 3 });
        await first.WriteStateAsync("s", grainId, mine);

        var theirs = new GrainState<CounterState>();
        await other.ReadStateAsync("s", grainId, theirs);
        Assert.False(theirs.RecordExists);
        Assert.Null(theirs.ETag);
        Assert.Equal(0, StateOf(theirs).Value);
    }

    [Fact]
    public void The_grain_state_table_exists_as_soon_as_the_silo_has_started()
    {
        using var connection = OpenDirect();
        Assert.Equal(1L, Scalar(connection, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'grain_state'"));
        Assert.Equal("wal", Scalar(connection, "PRAGMA journal_mode;"));
    }

    [Fact]
    public async Task The_database_file_is_in_WAL_journal_mode_with_the_grain_state_table()
    {
        await Cluster.Client.GetGrain<ISqliteCounterGrain>("wal").Set(1, null);

        using var connection = OpenDirect();
        using var journal = connection.CreateCommand();
        journal.CommandText = "PRAGMA journal_mode;";
        Assert.Equal("wal", journal.ExecuteScalar() as string);

        using var table = connection.CreateCommand();
        table.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'grain_state'";
        Assert.Equal(1L, table.ExecuteScalar());
    }

    [Fact]
    public void SqliteDatabase_connections_use_full_sync_and_a_busy_timeout()
    {
        var database = new SqliteDatabase(Path.Combine(_directory, "helper", "other.db"));
        database.EnsureSchema("CREATE TABLE IF NOT EXISTS t (x INTEGER); CREATE TABLE IF NOT EXISTS u (y INTEGER);");

        using var connection = database.Open();
        Assert.Equal("wal", Scalar(connection, "PRAGMA journal_mode;"));
        Assert.Equal(2L, Scalar(connection, "PRAGMA synchronous;"));
        Assert.Equal(5000L, Scalar(connection, "PRAGMA busy_timeout;"));
        Assert.Equal(2L, Scalar(connection, "SELECT count(*) FROM sqlite_master WHERE name IN ('t', 'u')"));
    }

    [Fact]
    public void A_missing_database_path_fails_options_validation()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IGrainStorageSerializer>(
            new SystemTextJsonGrainStorageSerializer(Options.Create(new SystemTextJsonGrainStorageSerializerOptions())));
        new FakeSiloBuilder(services).AddSqliteGrainStorage("broken", _ => { });
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(
            () => provider.GetRequiredService<IOptionsMonitor<SqliteGrainStorageOptions>>().Get("broken"));
        Assert.Contains(nameof(SqliteGrainStorageOptions.DatabasePath), ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_serializer_defaults_to_the_one_registered_with_the_silo()
    {
        var serializer = new SystemTextJsonGrainStorageSerializer(Options.Create(new SystemTextJsonGrainStorageSerializerOptions()));
        var services = new ServiceCollection();
        services.AddSingleton<IGrainStorageSerializer>(serializer);
        new FakeSiloBuilder(services).AddSqliteGrainStorage("ok", o => o.DatabasePath = DatabasePath);
        using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptionsMonitor<SqliteGrainStorageOptions>>().Get("ok");
        Assert.Same(serializer, options.GrainStorageSerializer);
        Assert.Equal(DatabasePath, options.DatabasePath);
    }

    private async Task<InProcessTestCluster> StartClusterAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.Options.ServiceId = _serviceId;
        builder.Options.ConfigureFileLogging = false;
        var path = DatabasePath;
        builder.ConfigureSilo((_, silo) =>
        {
            silo.UseSystemTextJsonGrainStorageSerializer();
            silo.AddSqliteGrainStorage(ProviderName, o => o.DatabasePath = path);
        });
        var cluster = builder.Build();
        try
        {
            await cluster.DeployAsync();
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }

        return cluster;
    }

    private (IGrainStorage First, IGrainStorage Second) CreateTwoStorages()
    {
        var siloServices = Cluster.Silos[0].ServiceProvider;
        var first = siloServices.GetRequiredKeyedService<IGrainStorage>(ProviderName);
        var second = CreateStorage(_serviceId, new SqliteDatabase(DatabasePath));
        return (first, second);
    }

    private SqliteGrainStorage CreateStorage(string serviceId, SqliteDatabase database)
    {
        var siloServices = Cluster.Silos[0].ServiceProvider;
        var options = new SqliteGrainStorageOptions
        {
            DatabasePath = database.FilePath,
            GrainStorageSerializer = siloServices.GetRequiredService<IGrainStorageSerializer>(),
        };
        return new SqliteGrainStorage(
            $"second-{serviceId}",
            options,
            siloServices.GetRequiredService<Serializer>(),
            database,
            Options.Create(new ClusterOptions { ClusterId = "test", ServiceId = serviceId }),
            siloServices.GetRequiredService<IActivatorProvider>(),
            TimeProvider.System,
            siloServices.GetRequiredService<ILogger<SqliteGrainStorage>>());
    }

    private long? ReadStoredVersion(GrainId grainId)
    {
        using var connection = OpenDirect();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT version FROM grain_state WHERE service_id = $s AND grain_id = $g AND state_name = 's'";
        command.Parameters.AddWithValue("$s", _serviceId);
        command.Parameters.AddWithValue("$g", grainId.ToString());
        return command.ExecuteScalar() as long?;
    }

    private SqliteConnection OpenDirect()
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DatabasePath, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    private static CounterState StateOf(GrainState<CounterState> grainState)
        => grainState.State ?? throw new InvalidOperationException("State was not loaded.");

    private static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    private static async Task<T> PollAsync<T>(Func<Task<T>> probe, Func<T, bool> done)
    {
        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            var value = await probe();
            if (done(value))
            {
                return value;
            }

            if (stopwatch.Elapsed > PollTimeout)
            {
                throw new TimeoutException($"Condition not met within {PollTimeout}; last value: {value}.");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50));
        }
    }

    private sealed class FakeSiloBuilder(IServiceCollection services) : ISiloBuilder
    {
        public IServiceCollection Services { get; } = services;

        public IConfiguration Configuration { get; } = new ConfigurationBuilder().Build();
    }
}
