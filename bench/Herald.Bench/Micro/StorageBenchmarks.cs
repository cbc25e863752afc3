using BenchmarkDotNet.Attributes;
using Herald.Cluster.Presence;
using Herald.Cluster.Storage;
using Herald.Core.Model;
using Herald.Core.Privacy;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Serialization;
using Orleans.Storage;

namespace Herald.Bench.Micro;

/// <summary>
/// The serialization of one person's durable state, as every status update writes it: 20 contacts, 20 watchers, a
/// preferred status and a note. Compares the serializer the SQLite grain storage used until session 5 (Orleans'
/// System.Text.Json grain storage serializer, then a copy to an array) with Orleans' own binary serializer and with
/// what the storage does since: <see cref="GrainStatePayloadCodec"/> (Orleans' binary serializer behind a two-byte
/// format marker, written straight into one exact-size array).
/// </summary>
[ShortRunJob, MemoryDiagnoser]
public class StateSerializationBenchmarks
{
    private SystemTextJsonGrainStorageSerializer _json = null!;
    private OrleansGrainStorageSerializer _orleansStorage = null!;
    private Serializer<PersonState> _binary = null!;
    private GrainStatePayloadCodec _codec = null!;
    private byte[] _codecPayload = null!;
    private ServiceProvider _services = null!;
    private PersonState _state = null!;
    private byte[] _jsonPayload = null!;
    private byte[] _binaryPayload = null!;

    /// <summary>A realistic person: what a status update writes.</summary>
    public static PersonState Person()
    {
        var now = Samples.Now;
        var state = new PersonState
        {
            Preferred = new PreferredStatus(Availability.DoNotDisturb, Activity.Focusing, now.AddHours(-1), now.AddHours(2)),
            Note = new StatusNote("Heads down until lunch", now.AddHours(-1), now.AddHours(2)),
            LastSeen = now.AddMinutes(-3),
            SequenceHighWater = 1_764_153_000_000_123,
        };
        for (var i = 1; i <= 20; i++)
        {
            state.Contacts.Add($"user{1000 + i}");
            state.Watchers[$"user{2000 + i}"] = new WatcherRecord(SubscriptionStatus.Approved, now.AddDays(-30 + i), now.AddDays(-10 + (i / 2)));
        }
        return state;
    }

    /// <summary>Builds the serializers and the payloads to read.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _services = new ServiceCollection()
            .AddSerializer(b => b.AddAssembly(typeof(PersonState).Assembly))
            .BuildServiceProvider();
        _binary = _services.GetRequiredService<Serializer<PersonState>>();
        _orleansStorage = new OrleansGrainStorageSerializer(_services.GetRequiredService<Serializer>());
        _json = new SystemTextJsonGrainStorageSerializer(Options.Create(new SystemTextJsonGrainStorageSerializerOptions()));
        _codec = new GrainStatePayloadCodec(_services.GetRequiredService<Serializer>(), _json, SqlitePayloadFormat.OrleansBinary);
        _state = Person();
        _codecPayload = _codec.Encode(_state);
        _jsonPayload = _json.Serialize(_state).ToArray();
        _binaryPayload = _binary.SerializeToArray(_state);
    }

    /// <summary>Disposes the service provider.</summary>
    [GlobalCleanup]
    public void Cleanup() => _services.Dispose();

    /// <summary>Until session 5: System.Text.Json grain storage serializer, then <c>.ToArray()</c> for the SQLite parameter.</summary>
    [Benchmark(Baseline = true)]
    public byte[] Write_SystemTextJson() => _json.Serialize(_state).ToArray();

    /// <summary>Orleans' binary grain storage serializer (BinaryData), then <c>.ToArray()</c>.</summary>
    [Benchmark]
    public byte[] Write_OrleansGrainStorageSerializer() => _orleansStorage.Serialize(_state).ToArray();

    /// <summary>Orleans' binary serializer straight to an exact-size array.</summary>
    [Benchmark]
    public byte[] Write_OrleansSerializerToArray() => _binary.SerializeToArray(_state);

    /// <summary>Since session 5: the storage's codec (marker + Orleans binary, one exact-size array).</summary>
    [Benchmark]
    public byte[] Write_HeraldCodec() => _codec.Encode(_state);

    /// <summary>Reading the System.Text.Json payload back.</summary>
    [Benchmark]
    public PersonState Read_SystemTextJson() => _json.Deserialize<PersonState>(new BinaryData(_jsonPayload)) ?? throw new InvalidOperationException("null state");

    /// <summary>The storage's codec reading its own payload.</summary>
    [Benchmark]
    public PersonState Read_HeraldCodec() => _codec.Decode<PersonState>(_codecPayload) ?? throw new InvalidOperationException("null state");

    /// <summary>The storage's codec reading a row written before session 5 (JSON, unmarked).</summary>
    [Benchmark]
    public PersonState Read_HeraldCodec_LegacyJson() => _codec.Decode<PersonState>(_jsonPayload) ?? throw new InvalidOperationException("null state");

    /// <summary>Reading the binary payload back.</summary>
    [Benchmark]
    public PersonState Read_OrleansSerializer() => _binary.Deserialize(_binaryPayload) ?? throw new InvalidOperationException("null state");
}
