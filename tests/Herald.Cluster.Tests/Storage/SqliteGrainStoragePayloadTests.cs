using System.Text.Json;
using Herald.Cluster.Hosting;
using Herald.Cluster.Presence;
using Herald.Cluster.Storage;
using Herald.Core.Model;
using Herald.Core.Privacy;
using Herald.Core.Reachability;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Serialization.Serializers;
using Orleans.Storage;

namespace Herald.Cluster.Tests.Storage;

/// <summary>A state type without an Orleans codec (no [GenerateSerializer]).</summary>
public sealed class PlainState
{
    /// <summary>A value.</summary>
    public int Number { get; set; }
}

/// <summary>
/// The payload format of the SQLite grain storage: Orleans' binary serializer behind a marker, and rows written by
/// earlier versions (System.Text.Json, unmarked) still loading and being rewritten in the new format.
/// </summary>
public sealed class SqliteGrainStoragePayloadTests : IDisposable
{
    private const string ServiceId = "payload-tests";

    /// <summary>
    /// A person's state exactly as the storage wrote it before session 5 (Orleans' System.Text.Json grain storage
    /// serializer with default options), captured from that code.
    /// </summary>
    private const string LegacyPersonJson = """"
        {"Preferred":{"Availability":5,"Activity":4,"SetAt":"2026-11-27T08:30:00+00:00","Until":"2026-11-27T11:30:00+00:00","Effective":5,"LastSeenAtSet":"2026-11-27T08:29:00+00:00","IsAppearOffline":false},"Note":{"Text":"Heads down until lunch","SetAt":"2026-11-27T08:30:00+00:00","Until":"2026-11-27T11:30:00+00:00"},"LastSeen":"2026-11-27T09:27:00+00:00","Contacts":["user1001","user1002","user1003","user1004","user1005","user1006","user1007","user1008","user1009","user1010","user1011","user1012","user1013","user1014","user1015","user1016","user1017","user1018","user1019","user1020"],"SequenceHighWater":1764153000000123,"Privacy":{"Tiers":{"Colleague":{"Any":{"Levels":{"Activity":0}}}},"Watchers":{"boss":{"Tier":0}},"Subscriptions":{"External":1},"AppearOfflineTiers":[2,3]},"Grants":[{"Id":"g1","WatcherId":"user2001","Rule":{"Levels":{"Availability":1}},"From":"2026-11-26T09:30:00+00:00","Until":"2026-11-28T09:30:00+00:00","Reason":"on call"}],"Watchers":{"user2001":{"Status":2,"Since":"2026-10-29T09:30:00+00:00","UpdatedAt":"2026-11-17T09:30:00+00:00"},"user2002":{"Status":2,"Since":"2026-10-30T09:30:00+00:00","UpdatedAt":"2026-11-18T09:30:00+00:00"},"user2003":{"Status":2,"Since":"2026-10-31T09:30:00+00:00","UpdatedAt":"2026-11-18T09:30:00+00:00"},"user2004":{"Status":2,"Since":"2026-11-01T09:30:00+00:00","UpdatedAt":"2026-11-19T09:30:00+00:00"},"user2005":{"Status":1,"Since":"2026-11-02T09:30:00+00:00","UpdatedAt":"2026-11-19T09:30:00+00:00"},"user2006":{"Status":2,"Since":"2026-11-03T09:30:00+00:00","UpdatedAt":"2026-11-20T09:30:00+00:00"},"user2007":{"Status":2,"Since":"2026-11-04T09:30:00+00:00","UpdatedAt":"2026-11-20T09:30:00+00:00"},"user2008":{"Status":2,"Since":"2026-11-05T09:30:00+00:00","UpdatedAt":"2026-11-21T09:30:00+00:00"},"user2009":{"Status":2,"Since":"2026-11-06T09:30:00+00:00","UpdatedAt":"2026-11-21T09:30:00+00:00"},"user2010":{"Status":1,"Since":"2026-11-07T09:30:00+00:00","UpdatedAt":"2026-11-22T09:30:00+00:00"},"user2011":{"Status":2,"Since":"2026-11-08T09:30:00+00:00","UpdatedAt":"2026-11-22T09:30:00+00:00"},"user2012":{"Status":2,"Since":"2026-11-09T09:30:00+00:00","UpdatedAt":"2026-11-23T09:30:00+00:00"},"user2013":{"Status":2,"Since":"2026-11-10T09:30:00+00:00","UpdatedAt":"2026-11-23T09:30:00+00:00"},"user2014":{"Status":2,"Since":"2026-11-11T09:30:00+00:00","UpdatedAt":"2026-11-24T09:30:00+00:00"},"user2015":{"Status":1,"Since":"2026-11-12T09:30:00+00:00","UpdatedAt":"2026-11-24T09:30:00+00:00"},"user2016":{"Status":2,"Since":"2026-11-13T09:30:00+00:00","UpdatedAt":"2026-11-25T09:30:00+00:00"},"user2017":{"Status":2,"Since":"2026-11-14T09:30:00+00:00","UpdatedAt":"2026-11-25T09:30:00+00:00"},"user2018":{"Status":2,"Since":"2026-11-15T09:30:00+00:00","UpdatedAt":"2026-11-26T09:30:00+00:00"},"user2019":{"Status":2,"Since":"2026-11-16T09:30:00+00:00","UpdatedAt":"2026-11-26T09:30:00+00:00"},"user2020":{"Status":1,"Since":"2026-11-17T09:30:00+00:00","UpdatedAt":"2026-11-27T09:30:00+00:00"}},"RevokedIntegrations":["key-1"],"Calendar":[{"Start":"2026-11-27T10:30:00+00:00","End":"2026-11-27T11:30:00+00:00","Activity":2,"Subject":"Planning"}],"Reach":{"Rules":[{"Method":1,"When":[6],"BreakThrough":true}],"BreakThroughTiers":[1]}}
        """";

    private static readonly DateTimeOffset Now = new(2026, 11, 27, 9, 30, 0, TimeSpan.Zero);

    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"herald-payload-tests-{Guid.NewGuid():N}");
    private readonly ServiceProvider _services;
    private readonly SqliteDatabase _database;

    public SqliteGrainStoragePayloadTests()
    {
        _services = new ServiceCollection()
            .AddSerializer(b => b.AddAssembly(typeof(PersonState).Assembly).AddAssembly(typeof(CounterState).Assembly))
            .BuildServiceProvider();
        _database = new SqliteDatabase(Path.Combine(_directory, "grains.db"));
    }

    public void Dispose()
    {
        _services.Dispose();
        SqliteConnection.ClearAllPools();
        if (System.IO.Directory.Exists(_directory))
        {
            System.IO.Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public async Task A_json_row_written_by_the_previous_version_is_read_and_rewritten_in_the_binary_format()
    {
        var storage = CreateStorage(SqlitePayloadFormat.OrleansBinary);
        var grainId = GrainId.Create("person", "legacy");
        InsertRow(grainId, "person", version: 7, System.Text.Encoding.UTF8.GetBytes(LegacyPersonJson));

        var state = new GrainState<PersonState>();
        await storage.ReadStateAsync("person", grainId, state);

        Assert.True(state.RecordExists);
        Assert.Equal("7", state.ETag);
        AssertSameState(FullPerson(), state.State);

        Of(state).Note = new StatusNote("Back at two", Now, null);
        await storage.WriteStateAsync("person", grainId, state);
        Assert.Equal("8", state.ETag);

        var (version, payload) = ReadRow(grainId, "person");
        Assert.Equal(8L, version);
        Assert.Equal([GrainStatePayloadCodec.Marker, GrainStatePayloadCodec.OrleansBinaryV1], payload[..2]);
        Assert.Equal(SqlitePayloadFormat.OrleansBinary, GrainStatePayloadCodec.FormatOf(payload));

        var reread = new GrainState<PersonState>();
        await CreateStorage(SqlitePayloadFormat.OrleansBinary).ReadStateAsync("person", grainId, reread);
        Assert.Equal("8", reread.ETag);
        Assert.Equal("Back at two", Of(reread).Note?.Text);
        Assert.Equal(FullPerson().Watchers.Count, Of(reread).Watchers.Count);
    }

    [Fact]
    public async Task A_row_written_by_the_previous_code_path_loads_whatever_the_state_holds()
    {
        // The previous provider wrote IGrainStorageSerializer.Serialize(state).ToArray(); so does the legacy format.
        var old = CreateStorage(SqlitePayloadFormat.GrainStorageSerializer);
        var grainId = GrainId.Create("person", "old-writer");
        var written = new GrainState<PersonState>(FullPerson());
        await old.WriteStateAsync("person", grainId, written);
        var (_, payload) = ReadRow(grainId, "person");
        Assert.Equal((byte)'{', payload[0]);
        Assert.Equal(LegacyPersonJson, System.Text.Encoding.UTF8.GetString(payload));

        var state = new GrainState<PersonState>();
        await CreateStorage(SqlitePayloadFormat.OrleansBinary).ReadStateAsync("person", grainId, state);
        Assert.Equal("1", state.ETag);
        AssertSameState(FullPerson(), state.State);
    }

    /// <summary>
    /// <see cref="FullPerson"/> as session 5's binary format wrote it (Orleans' serializer tracking a reference per
    /// watcher record), captured from that code. Session 6 stopped tracking watcher records (a dictionary allocated
    /// per write); what was written before must still read.
    /// </summary>
    private const string Session5BinaryPerson = ""
        + "AAEgIOgIAxUJAxEhgAD0TqBgTN8IgQAAAAAAAAAA4CGAACycxXlM3wiBAAAAAAAAAADgIYAArot8YEzfCIEAAAAAAAAAAODgIehALUhlYWRzIG"
        + "Rvd24gdW50aWwgbHVuY2ghgAD0TqBgTN8IgQAAAAAAAAAA4CGAACycxXlM3wiBAAAAAAAAAADg4CGAAIrJlmhM3wiBAAAAAAAAAADgIQApQRF1"
        + "c2VyMTAwMUARdXNlcjEwMDJAEXVzZXIxMDAzQBF1c2VyMTAwNEARdXNlcjEwMDVAEXVzZXIxMDA2QBF1c2VyMTAwN0ARdXNlcjEwMDhAEXVzZX"
        + "IxMDA5QBF1c2VyMTAxMEARdXNlcjEwMTFAEXVzZXIxMDEyQBF1c2VyMTAxM0ARdXNlcjEwMTRAEXVzZXIxMDE1QBF1c2VyMTAxNkARdXNlcjEw"
        + "MTdAEXVzZXIxMDE4QBF1c2VyMTAxOUARdXNlcjEwMjDggXv65OB8RAYAIegwAULqdIrdU3lzdGVtLkNvbGxlY3Rpb25zLkdlbmVyaWMuRGljdG"
        + "lvbmFyeWAyW1tIZXJhbGQuQ29yZS5Qcml2YWN5LlJlbGF0aW9uc2hpcFRpZXIsSGVyYWxkLkNvcmVdLFtoZXJhbGQuVGllclJ1bGVzXV0BAwkD"
        + "CSDoIOgwATS2whbBU3lzdGVtLkNvbGxlY3Rpb25zLkdlbmVyaWMuRGljdGlvbmFyeWAyW1tIZXJhbGQuQ29yZS5Qcml2YWN5LkRpc2Nsb3N1cm"
        + "VGaWVsZCxIZXJhbGQuQ29yZV0sW2ludF1dAQMJAwUAAeDgwQHBAcEB4OAxAadl0faPU3lzdGVtLkNvbGxlY3Rpb25zLkdlbmVyaWMuRGljdGlv"
        + "bmFyeWAyW1tzdHJpbmddLFtoZXJhbGQuV2F0Y2hlclJ1bGVzXV0BA0EJYm9zcyDoCAMBwQHg4DEBqYMVAEoCU3lzdGVtLkNvbGxlY3Rpb25zLk"
        + "dlbmVyaWMuRGljdGlvbmFyeWAyW1tIZXJhbGQuQ29yZS5Qcml2YWN5LlJlbGF0aW9uc2hpcFRpZXIsSGVyYWxkLkNvcmVdLFtIZXJhbGQuQ29y"
        + "ZS5Qcml2YWN5LlN1YnNjcmlwdGlvbkhhbmRsaW5nLEhlcmFsZC5Db3JlXV0BAwkDDQgDBeAxAQ8wyTuhUmVhZE9ubHlMaXN0SW50ZXJmYWNlQ2"
        + "9kZWNgMVtbSGVyYWxkLkNvcmUuUHJpdmFjeS5SZWxhdGlvbnNoaXBUaWVyLEhlcmFsZC5Db3JlXV0ABQkDCQgDDeDgIQADIehABWcxQRF1c2Vy"
        + "MjAwMSHoOAUBAwkDAQAF4OAhgACcqdefS98IgQAAAAAAAAAA4CGAABx9LDJN3wiBAAAAAAAAAADgQQ9vbiBjYWxs4OAhMAExLNQuHVN0cmluZ0"
        + "NvbXBhcmVyAAMBAeABKUERdXNlcjIwMDEg6AgDCSGAAJwYNJ813wiBAAAAAAAAAADgIYAA3PFZjUTfCIEAAAAAAAAAAODgQBF1c2VyMjAwMiDo"
        + "CAMJIYAAXIJeaDbfCIEAAAAAAAAAAOAhgACcW4RWRd8IgQAAAAAAAAAA4OBAEXVzZXIyMDAzIOgIAwkhgAAc7IgxN98IgQAAAAAAAAAA4CGAAJ"
        + "xbhFZF3wiBAAAAAAAAAADg4EARdXNlcjIwMDQg6AgDCSGAANxVs/o33wiBAAAAAAAAAADgIYAAXMWuH0bfCIEAAAAAAAAAAODgQBF1c2VyMjAw"
        + "NSDoCAMFIYAAnL/dwzjfCIEAAAAAAAAAAOAhgABcxa4fRt8IgQAAAAAAAAAA4OBAEXVzZXIyMDA2IOgIAwkhgABcKQiNOd8IgQAAAAAAAAAA4C"
        + "GAABwv2ehG3wiBAAAAAAAAAADg4EARdXNlcjIwMDcg6AgDCSGAAByTMlY63wiBAAAAAAAAAADgIYAAHC/Z6EbfCIEAAAAAAAAAAODgQBF1c2Vy"
        + "MjAwOCDoCAMJIYAA3PxcHzvfCIEAAAAAAAAAAOAhgADcmAOyR98IgQAAAAAAAAAA4OBAEXVzZXIyMDA5IOgIAwkhgACcZofoO98IgQAAAAAAAA"
        + "AA4CGAANyYA7JH3wiBAAAAAAAAAADg4EARdXNlcjIwMTAg6AgDBSGAAFzQsbE83wiBAAAAAAAAAADgIYAAnAIue0jfCIEAAAAAAAAAAODgQBF1"
        + "c2VyMjAxMSDoCAMJIYAAHDrcej3fCIEAAAAAAAAAAOAhgACcAi57SN8IgQAAAAAAAAAA4OBAEXVzZXIyMDEyIOgIAwkhgADcowZEPt8IgQAAAA"
        + "AAAAAA4CGAAFxsWERJ3wiBAAAAAAAAAADg4EARdXNlcjIwMTMg6AgDCSGAAJwNMQ0/3wiBAAAAAAAAAADgIYAAXGxYREnfCIEAAAAAAAAAAODg"
        + "QBF1c2VyMjAxNCDoCAMJIYAAXHdb1j/fCIEAAAAAAAAAAOAhgAAc1oINSt8IgQAAAAAAAAAA4OBAEXVzZXIyMDE1IOgIAwUhgAAc4YWfQN8IgQ"
        + "AAAAAAAAAA4CGAABzWgg1K3wiBAAAAAAAAAADg4EARdXNlcjIwMTYg6AgDCSGAANxKsGhB3wiBAAAAAAAAAADgIYAA3D+t1krfCIEAAAAAAAAA"
        + "AODgQBF1c2VyMjAxNyDoCAMJIYAAnLTaMULfCIEAAAAAAAAAAOAhgADcP63WSt8IgQAAAAAAAAAA4OBAEXVzZXIyMDE4IOgIAwkhgABcHgX7Qt"
        + "8IgQAAAAAAAAAA4CGAAJyp159L3wiBAAAAAAAAAADg4EARdXNlcjIwMTkg6AgDCSGAAByIL8RD3wiBAAAAAAAAAADgIYAAnKnXn0vfCIEAAAAA"
        + "AAAAAODgQBF1c2VyMjAyMCDoCAMFIYAA3PFZjUTfCIEAAAAAAAAAAOAhgABcEwJpTN8IgQAAAAAAAAAA4ODgIegwAYriqZ5hUmVhZE9ubHlMaX"
        + "N0SW50ZXJmYWNlQ29kZWNgMVtbaGVyYWxkLlJlYWNoUnVsZV1dAAMh6AgDBTEBfyFNJ5VSZWFkT25seUxpc3RJbnRlcmZhY2VDb2RlY2AxW1tI"
        + "ZXJhbGQuQ29yZS5Nb2RlbC5BdmFpbGFiaWxpdHksSGVyYWxkLkNvcmVdXQADCQMZ4MEBwQHBAcEBAQPBAeDgOQsAAwkDBeDgIQADQQtrZXktMe"
        + "AhAAMh6CCAAMTXY3FM3wiBAAAAAAAAAADgIYAALJzFeUzfCIEAAAAAAAAAAOAJAwlBEVBsYW5uaW5n4ODg";

    [Fact]
    public async Task A_binary_row_written_with_reference_tracked_watcher_records_still_reads()
    {
        var storage = CreateStorage(SqlitePayloadFormat.OrleansBinary);
        var grainId = GrainId.Create("person", "session5-binary");
        InsertRow(grainId, "person", version: 3, Convert.FromBase64String(Session5BinaryPerson));

        var state = new GrainState<PersonState>();
        await storage.ReadStateAsync("person", grainId, state);

        Assert.True(state.RecordExists);
        AssertSameState(FullPerson(), state.State);
    }

    [Fact]
    public async Task A_full_person_state_round_trips_through_the_binary_format()
    {
        var storage = CreateStorage(SqlitePayloadFormat.OrleansBinary);
        var grainId = GrainId.Create("person", "round-trip");
        var written = new GrainState<PersonState>(FullPerson());
        await storage.WriteStateAsync("person", grainId, written);

        var read = new GrainState<PersonState>();
        await storage.ReadStateAsync("person", grainId, read);

        Assert.Equal("1", read.ETag);
        AssertSameState(FullPerson(), read.State);
        Assert.Equal(SqlitePayloadFormat.OrleansBinary, GrainStatePayloadCodec.FormatOf(ReadRow(grainId, "person").Payload));
    }

    [Fact]
    public async Task Conflicts_are_unchanged_when_the_stored_row_is_a_legacy_one()
    {
        var grainId = GrainId.Create("person", "legacy-conflict");
        InsertRow(grainId, "person", version: 3, System.Text.Encoding.UTF8.GetBytes(LegacyPersonJson));
        var storage = CreateStorage(SqlitePayloadFormat.OrleansBinary);

        var stale = new GrainState<PersonState>(new PersonState()) { ETag = "2" };
        var ex = await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("person", grainId, stale));
        Assert.Equal("3", ex.StoredEtag);
        Assert.Equal("2", ex.CurrentEtag);

        var blind = new GrainState<PersonState>(new PersonState());
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("person", grainId, blind));

        var (version, payload) = ReadRow(grainId, "person");
        Assert.Equal(3L, version);
        Assert.Equal(LegacyPersonJson, System.Text.Encoding.UTF8.GetString(payload));
    }

    [Fact]
    public async Task The_legacy_write_format_can_still_be_chosen_and_reads_binary_rows()
    {
        var grainId = GrainId.Create("counter", "switch-back");
        var binary = CreateStorage(SqlitePayloadFormat.OrleansBinary);
        var state = new GrainState<CounterState>(new CounterState { Value = 1, Label = "binary" });
        await binary.WriteStateAsync("s", grainId, state);

        var json = CreateStorage(SqlitePayloadFormat.GrainStorageSerializer);
        var read = new GrainState<CounterState>();
        await json.ReadStateAsync("s", grainId, read);
        Assert.Equal("binary", Of(read).Label);
        Of(read).Value = 2;
        await json.WriteStateAsync("s", grainId, read);

        var (version, payload) = ReadRow(grainId, "s");
        Assert.Equal(2L, version);
        using var document = JsonDocument.Parse(payload);
        Assert.Equal(2, document.RootElement.GetProperty("Value").GetInt32());
        Assert.Equal("binary", document.RootElement.GetProperty("Label").GetString());
    }

    [Fact]
    public void A_state_type_without_an_Orleans_codec_is_written_with_the_configured_serializer()
    {
        var codec = new GrainStatePayloadCodec(_services.GetRequiredService<Serializer>(), LegacySerializer(), SqlitePayloadFormat.OrleansBinary);

        var payload = codec.Encode(new PlainState { Number = 12 });

        Assert.Equal(SqlitePayloadFormat.GrainStorageSerializer, GrainStatePayloadCodec.FormatOf(payload));
        Assert.Equal(12, codec.Decode<PlainState>(payload)?.Number);
    }

    [Fact]
    public async Task A_payload_with_an_unknown_format_marker_fails_the_read_with_a_clear_error()
    {
        var grainId = GrainId.Create("counter", "future");
        InsertRow(grainId, "s", version: 1, [GrainStatePayloadCodec.Marker, 0x7F, 1, 2, 3]);

        var ex = await Assert.ThrowsAsync<InvalidDataException>(
            () => CreateStorage(SqlitePayloadFormat.OrleansBinary).ReadStateAsync("s", grainId, new GrainState<CounterState>()));
        Assert.Contains("unknown format marker 127", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_undefined_payload_format_is_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(
            () => new GrainStatePayloadCodec(_services.GetRequiredService<Serializer>(), LegacySerializer(), (SqlitePayloadFormat)9));
    }

    [Fact]
    public async Task Many_concurrent_writes_of_different_grains_each_land_with_their_own_payload()
    {
        // The writer keeps its statements prepared across batches; every write must still bind its own values.
        var storage = CreateStorage(SqlitePayloadFormat.OrleansBinary);
        var writes = Enumerable.Range(0, 300).Select(async i =>
        {
            var grainId = GrainId.Create("counter", $"c{i}");
            var state = new GrainState<CounterState>(new CounterState { Value = i, Label = $"label-{i}" });
            await storage.WriteStateAsync("s", grainId, state);
            Of(state).Value = i + 1000;
            await storage.WriteStateAsync("s", grainId, state);
            return state.ETag;
        });
        Assert.All(await Task.WhenAll(writes), etag => Assert.Equal("2", etag));

        for (var i = 0; i < 300; i += 37)
        {
            var read = new GrainState<CounterState>();
            await storage.ReadStateAsync("s", GrainId.Create("counter", $"c{i}"), read);
            Assert.Equal(i + 1000, Of(read).Value);
            Assert.Equal($"label-{i}", Of(read).Label);
            Assert.Equal("2", read.ETag);
        }
    }

    [Theory]
    [InlineData(null, SqlitePayloadFormat.OrleansBinary)]
    [InlineData("GrainStorageSerializer", SqlitePayloadFormat.GrainStorageSerializer)]
    [InlineData("orleansbinary", SqlitePayloadFormat.OrleansBinary)]
    public void The_embedded_storage_takes_its_payload_format_from_configuration(string? value, SqlitePayloadFormat expected)
    {
        using var provider = EmbeddedStorageServices(value);

        var options = provider.GetRequiredService<IOptionsMonitor<SqliteGrainStorageOptions>>().Get(HeraldStorage.ProviderName);

        Assert.Equal(expected, options.PayloadFormat);
    }

    [Theory]
    [InlineData("json")]
    [InlineData("1")]
    public void An_unknown_configured_payload_format_fails_with_a_message_naming_the_key(string value)
    {
        using var provider = EmbeddedStorageServices(value);

        var ex = Assert.Throws<InvalidOperationException>(
            () => provider.GetRequiredService<IOptionsMonitor<SqliteGrainStorageOptions>>().Get(HeraldStorage.ProviderName));
        Assert.Contains(HeraldSiloExtensions.PayloadFormatKey, ex.Message, StringComparison.Ordinal);
    }

    /// <summary>A person with every member of <see cref="PersonState"/> set.</summary>
    internal static PersonState FullPerson()
    {
        var state = new PersonState
        {
            Preferred = new PreferredStatus(Availability.DoNotDisturb, Activity.Focusing, Now.AddHours(-1), Now.AddHours(2))
            {
                LastSeenAtSet = Now.AddMinutes(-61),
            },
            Note = new StatusNote("Heads down until lunch", Now.AddHours(-1), Now.AddHours(2)),
            LastSeen = Now.AddMinutes(-3),
            SequenceHighWater = 1_764_153_000_000_123,
            Privacy = new UserPrivacy(
                new Dictionary<RelationshipTier, TierRules>
                {
                    [RelationshipTier.Colleague] = new TierRules(Any: DisclosureRule.Of((DisclosureField.Activity, 0))),
                },
                new Dictionary<string, WatcherRules> { ["boss"] = new WatcherRules(RelationshipTier.Trusted) },
                new Dictionary<RelationshipTier, SubscriptionHandling> { [RelationshipTier.External] = SubscriptionHandling.Confirm },
                [RelationshipTier.Colleague, RelationshipTier.External]),
            Grants =
            [
                new Grant("g1", "user2001", DisclosureRule.Of((DisclosureField.Availability, 1)), Now.AddDays(-1), Now.AddDays(1), "on call"),
            ],
            RevokedIntegrations = ["key-1"],
            Calendar = [new CalendarBusy(Now.AddHours(1), Now.AddHours(2), Activity.InAMeeting, "Planning")],
            Reach = new ReachPreferences([new ReachRule(ContactKind.Mobile, When: [Availability.Busy], BreakThrough: true)], [RelationshipTier.Team]),
        };
        for (var i = 1; i <= 20; i++)
        {
            state.Contacts.Add($"user{1000 + i}");
            state.Watchers[$"user{2000 + i}"] = new WatcherRecord(
                i % 5 == 0 ? SubscriptionStatus.Pending : SubscriptionStatus.Approved, Now.AddDays(-30 + i), Now.AddDays(-10 + (i / 2)));
        }
        return state;
    }

    /// <summary>Same content: both states serialize to the same JSON (every member, nested collections included).</summary>
    private static void AssertSameState(PersonState expected, PersonState? actual)
    {
        Assert.NotNull(actual);
        var json = LegacySerializer();
        Assert.Equal(json.Serialize(expected).ToString(), json.Serialize(actual).ToString());
    }

    private static T Of<T>(GrainState<T> grainState)
        => grainState.State ?? throw new InvalidOperationException("State was not loaded.");

    private static SystemTextJsonGrainStorageSerializer LegacySerializer() =>
        new(Options.Create(new SystemTextJsonGrainStorageSerializerOptions()));

    private ServiceProvider EmbeddedStorageServices(string? payloadFormat)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IGrainStorageSerializer>(LegacySerializer());
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { [HeraldSiloExtensions.PayloadFormatKey] = payloadFormat })
            .Build();
        new ConfiguredSiloBuilder(services, configuration).AddHeraldSqliteStorage(Path.Combine(_directory, "embedded.db"));
        return services.BuildServiceProvider();
    }

    private SqliteGrainStorage CreateStorage(SqlitePayloadFormat format)
    {
        var storage = new SqliteGrainStorage(
            $"payload-{format}",
            new SqliteGrainStorageOptions { DatabasePath = _database.FilePath, GrainStorageSerializer = LegacySerializer(), PayloadFormat = format },
            _services.GetRequiredService<Serializer>(),
            _database,
            Options.Create(new ClusterOptions { ClusterId = "test", ServiceId = ServiceId }),
            _services.GetRequiredService<IActivatorProvider>(),
            TimeProvider.System,
            NullLogger<SqliteGrainStorage>.Instance);
        return storage;
    }

    private void InsertRow(GrainId grainId, string stateName, long version, byte[] payload)
    {
        _database.EnsureSchema(SqliteGrainStorage.SchemaDdl);
        using var connection = _database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO grain_state (service_id, grain_id, state_name, version, payload, updated_at)
            VALUES ($s, $g, $n, $v, $p, '2026-11-26T10:00:00.0000000+00:00');
            """;
        command.Parameters.AddWithValue("$s", ServiceId);
        command.Parameters.AddWithValue("$g", grainId.ToString());
        command.Parameters.AddWithValue("$n", stateName);
        command.Parameters.AddWithValue("$v", version);
        command.Parameters.AddWithValue("$p", payload);
        Assert.Equal(1, command.ExecuteNonQuery());
    }

    private (long Version, byte[] Payload) ReadRow(GrainId grainId, string stateName)
    {
        using var connection = _database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT version, payload FROM grain_state WHERE service_id = $s AND grain_id = $g AND state_name = $n";
        command.Parameters.AddWithValue("$s", ServiceId);
        command.Parameters.AddWithValue("$g", grainId.ToString());
        command.Parameters.AddWithValue("$n", stateName);
        using var reader = command.ExecuteReader();
        Assert.True(reader.Read());
        return (reader.GetInt64(0), (byte[])reader.GetValue(1));
    }

    private sealed class ConfiguredSiloBuilder(IServiceCollection services, IConfiguration configuration) : ISiloBuilder
    {
        public IServiceCollection Services { get; } = services;

        public IConfiguration Configuration { get; } = configuration;
    }
}
