using Herald.Cluster.Privacy;
using Herald.Cluster.Storage;
using Herald.Core.Model;
using Herald.Core.Privacy;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Herald.Cluster.Tests.Privacy;

/// <summary>The SQLite audit log, the SQLite organization policy store and the audit retention service.</summary>
public sealed class AuditAndPolicyStoreTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 2, 10, 0, 0, TimeSpan.Zero);

    private readonly string _path = TestSilos.TempDatabase("audit-tests");
    private readonly List<SqliteAuditLog> _logs = [];
    private SqliteDatabase _db = null!;

    /// <summary>Opens a fresh temporary database.</summary>
    public Task InitializeAsync()
    {
        _db = new SqliteDatabase(_path);
        return Task.CompletedTask;
    }

    /// <summary>Disposes the logs and deletes the temporary database files.</summary>
    public async Task DisposeAsync()
    {
        foreach (var log in _logs)
        {
            await log.DisposeAsync();
        }
        TestSilos.DeleteDatabase(_path);
    }

    // ---- audit log ----

    [Fact]
    public async Task Appended_entries_are_queryable_after_flush_newest_first_with_ids()
    {
        var log = NewLog();
        log.Append(Entry(T0, "ada", "bob", kind: "snapshot"));
        log.Append(Entry(T0.AddMinutes(2), "ada", null, kind: "policy", channel: "admin"));
        log.Append(Entry(T0.AddMinutes(1), "carl", "bob", kind: "live", channel: "signalr-or-sse"));
        await log.Flush();

        var all = await log.Query(null, null, null, null, 100);

        Assert.Equal([T0.AddMinutes(2), T0.AddMinutes(1), T0], all.Select(e => e.At));
        Assert.All(all, e => Assert.True(e.Id > 0));
        Assert.Equal(3, all.Select(e => e.Id).Distinct().Count());
        var policy = all[0];
        Assert.Equal("ada", policy.PresentityId);
        Assert.Null(policy.WatcherId);
        Assert.Equal("policy", policy.Kind);
        Assert.Equal("admin", policy.Channel);
        Assert.Equal("availability,location=City", policy.Fields);
        Assert.Equal("Team/WorkHours: Default", policy.Rule);
        Assert.Equal(TimeSpan.Zero, policy.At.Offset);
    }

    [Fact]
    public async Task Texts_outside_ascii_and_instants_with_sub_second_ticks_read_back_exactly()
    {
        var log = NewLog();
        var at = T0.AddTicks(1_234_567);
        log.Append(new AuditEntry(at, "zoë", "王小明", "live", "live", "availability;note=☂ «Zoë»", "tier=Team; 𝄞 rule"));
        await log.Flush();

        var e = Assert.Single(await log.Query("zoë", "王小明", null, null, 10));
        Assert.Equal(at, e.At);
        Assert.Equal(("zoë", "王小明", "live", "live"), (e.PresentityId, e.WatcherId, e.Kind, e.Channel));
        Assert.Equal("availability;note=☂ «Zoë»", e.Fields);
        Assert.Equal("tier=Team; 𝄞 rule", e.Rule);
        // Stored as the same round-trip text as every earlier row, so time filters and ordering compare alike.
        Assert.Single(await log.Query(null, null, at, at.AddTicks(1), 10));
    }

    [Fact]
    public async Task Instants_are_stored_in_utc_so_other_offsets_sort_and_filter_by_time()
    {
        var log = NewLog();
        var plusTwo = new DateTimeOffset(2026, 3, 2, 11, 30, 0, TimeSpan.FromHours(2)); // 09:30Z, before T0
        log.Append(Entry(T0, "ada", "bob"));
        log.Append(Entry(plusTwo, "ada", "bob"));
        await log.Flush();

        var all = await log.Query("ada", null, null, null, 10);
        Assert.Equal([T0, plusTwo], all.Select(e => e.At));
        Assert.Equal(plusTwo.UtcDateTime, all[1].At.UtcDateTime);
        Assert.Single(await log.Query(null, null, null, T0, 10));
    }

    [Fact]
    public async Task Ties_on_time_are_newest_id_first()
    {
        var log = NewLog();
        log.Append(Entry(T0, "ada", "bob", kind: "first"));
        log.Append(Entry(T0, "ada", "bob", kind: "second"));
        await log.Flush();

        var all = await log.Query(null, null, null, null, 10);

        Assert.Equal(["second", "first"], all.Select(e => e.Kind));
    }

    [Fact]
    public async Task Query_filters_by_presentity_watcher_and_half_open_time_range()
    {
        var log = NewLog();
        for (var i = 0; i < 10; i++)
        {
            log.Append(Entry(T0.AddMinutes(i), i % 2 == 0 ? "ada" : "carl", i % 3 == 0 ? "bob" : "dan"));
        }
        await log.Flush();

        var ada = await log.Query("ada", null, null, null, 100);
        Assert.Equal([8, 6, 4, 2, 0], ada.Select(Minute));
        Assert.All(ada, e => Assert.Equal("ada", e.PresentityId));

        var toBob = await log.Query(null, "bob", null, null, 100);
        Assert.Equal([9, 6, 3, 0], toBob.Select(Minute));

        var adaToBob = await log.Query("ada", "bob", null, null, 100);
        Assert.Equal([6, 0], adaToBob.Select(Minute));

        var range = await log.Query(null, null, T0.AddMinutes(3), T0.AddMinutes(7), 100);
        Assert.Equal([6, 5, 4, 3], range.Select(Minute));

        var fromOnly = await log.Query("carl", null, T0.AddMinutes(5), null, 100);
        Assert.Equal([9, 7, 5], fromOnly.Select(Minute));

        Assert.Empty(await log.Query("nobody", null, null, null, 100));
    }

    [Fact]
    public async Task Query_limit_keeps_the_newest_and_is_clamped()
    {
        var log = NewLog();
        for (var i = 0; i < 5; i++)
        {
            log.Append(Entry(T0.AddMinutes(i), "ada", "bob"));
        }
        await log.Flush();

        Assert.Equal([4, 3], (await log.Query(null, null, null, null, 2)).Select(Minute));
        Assert.Equal([4], (await log.Query(null, null, null, null, 0)).Select(Minute));
        Assert.Equal([4], (await log.Query(null, null, null, null, -7)).Select(Minute));
        Assert.Equal(5, (await log.Query(null, null, null, null, int.MaxValue)).Count);
    }

    [Fact]
    public async Task Entries_survive_reopening_the_database()
    {
        var log = NewLog();
        log.Append(Entry(T0, "ada", "bob", kind: "subscription"));
        log.Append(Entry(T0.AddSeconds(1), "ada", null, kind: "grant"));
        await log.DisposeAsync(); // writes what is still queued
        SqliteConnection.ClearAllPools();

        var reopened = NewLog(new SqliteDatabase(_path));
        var all = await reopened.Query(null, null, null, null, 10);

        Assert.Equal(["grant", "subscription"], all.Select(e => e.Kind));
        Assert.Equal([T0.AddSeconds(1), T0], all.Select(e => e.At));
    }

    [Fact]
    public async Task Dispose_writes_entries_still_queued()
    {
        var log = NewLog(time: new FakeTimeProvider(T0)); // the batching delay never elapses on its own
        for (var i = 0; i < 20; i++)
        {
            log.Append(Entry(T0.AddSeconds(i), "ada", "bob"));
        }

        await log.DisposeAsync();

        Assert.Equal(20, (await NewLog().Query(null, null, null, null, 100)).Count);
    }

    [Fact]
    public async Task Ten_thousand_appends_all_arrive_after_flush()
    {
        var log = NewLog();
        const int count = 10_000;
        Parallel.For(0, count, i => log.Append(Entry(T0.AddMilliseconds(i), "p" + (i % 7), "w" + (i % 11))));

        await log.Flush();

        var all = await log.Query(null, null, null, null, SqliteAuditLog.MaxQueryLimit);
        Assert.Equal(count, all.Count);
        Assert.Equal(count, all.Select(e => e.At).Distinct().Count());
        Assert.Equal(T0.AddMilliseconds(count - 1), all[0].At);
    }

    [Fact]
    public async Task Entries_are_written_after_the_batching_delay_without_a_flush()
    {
        var log = NewLog();
        log.Append(Entry(T0, "ada", "bob"));

        await Eventually.True(async () => (await log.Query(null, null, null, null, 10)).Count == 1);
    }

    [Fact]
    public async Task Flush_does_not_wait_for_the_batching_delay()
    {
        var log = NewLog(time: new FakeTimeProvider(T0)); // only a flush (or a full batch) can end the delay
        log.Append(Entry(T0, "ada", "bob"));
        await log.Flush();
        Assert.Single(await log.Query(null, null, null, null, 10));

        await log.Flush(); // nothing queued
        for (var i = 0; i < SqliteAuditLog.BatchSize; i++)
        {
            log.Append(Entry(T0.AddSeconds(i + 1), "ada", "bob"));
        }
        await Eventually.True(async () =>
            (await log.Query(null, null, null, null, SqliteAuditLog.MaxQueryLimit)).Count == SqliteAuditLog.BatchSize + 1,
            because: "a full batch is written without waiting for the delay");
    }

    [Fact]
    public async Task Entries_are_dropped_after_repeated_write_failures_and_later_entries_are_still_written()
    {
        var log = NewLog();
        await Execute("DROP TABLE audit;");
        log.Append(Entry(T0, "ada", "bob", kind: "lost"));

        await Assert.ThrowsAsync<IOException>(() => log.Flush());

        _db.EnsureSchema(SqliteAuditLog.SchemaDdl);
        log.Append(Entry(T0.AddMinutes(1), "ada", "bob", kind: "kept"));
        await log.Flush();
        Assert.Equal(["kept"], (await log.Query(null, null, null, null, 10)).Select(e => e.Kind));
    }

    [Fact]
    public async Task Append_and_flush_after_dispose_do_not_write()
    {
        var log = NewLog();
        await log.DisposeAsync();

        log.Append(Entry(T0, "ada", "bob")); // dropped, never throws
        await Assert.ThrowsAsync<ObjectDisposedException>(() => log.Flush());
        Assert.Empty(await log.Query(null, null, null, null, 10));
    }

    [Fact]
    public void Append_rejects_null()
    {
        var log = NewLog();
        Assert.Throws<ArgumentNullException>(() => log.Append(null!));
        Assert.Throws<ArgumentNullException>(() => log.Append(Entry(T0, null!, "bob")));
    }

    [Fact]
    public async Task A_table_of_the_autoincrement_schema_is_converted_keeping_its_entries_and_ids()
    {
        // The schema every database before session 10 has, with rows, and a purge that left a gap at the bottom.
        await Execute("""
            CREATE TABLE audit (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                at TEXT NOT NULL,
                presentity TEXT NOT NULL,
                watcher TEXT NULL,
                kind TEXT NOT NULL,
                channel TEXT NOT NULL,
                fields TEXT NOT NULL,
                rule TEXT NOT NULL
            );
            CREATE INDEX ix_audit_presentity_at ON audit (presentity, at);
            CREATE INDEX ix_audit_watcher_at ON audit (watcher, at);
            CREATE INDEX ix_audit_at ON audit (at);
            INSERT INTO audit (at, presentity, watcher, kind, channel, fields, rule) VALUES
                ('2026-03-02T09:00:00.0000000Z', 'ada', 'bob', 'snapshot', 'rest', 'availability', 'purged'),
                ('2026-03-02T10:00:00.0000000Z', 'ada', 'bob', 'live', 'live', 'availability,note', 'Team/WorkHours: Default'),
                ('2026-03-02T10:01:00.0000000Z', 'carl', NULL, 'policy', 'admin', 'floor', 'by admin'),
                ('2026-03-02T10:02:00.0000000Z', 'ada', 'dora', 'search', 'rest', 'availability', 'Colleague/WorkHours: Default');
            DELETE FROM audit WHERE id = 1;
            """);

        var log = NewLog();

        Assert.DoesNotContain("AUTOINCREMENT", (string)(await Scalar("SELECT sql FROM sqlite_master WHERE name = 'audit';"))!, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(0L, await Scalar("SELECT count(*) FROM sqlite_sequence WHERE name = 'audit';"));
        Assert.Equal(3L, await Scalar("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit' AND sql IS NOT NULL;"));
        var all = await log.Query(null, null, null, null, 100);
        Assert.Equal(
            [(4L, "ada", "dora", "search"), (3L, "carl", null, "policy"), (2L, "ada", "bob", "live")],
            all.Select(e => (e.Id, e.PresentityId, e.WatcherId, e.Kind)));
        var live = all[2];
        Assert.Equal((T0, "live", "availability,note", "Team/WorkHours: Default"), (live.At, live.Channel, live.Fields, live.Rule));
        Assert.Equal([4L, 2L], (await log.Query("ada", null, null, null, 10)).Select(e => e.Id));

        log.Append(Entry(T0.AddMinutes(5), "ada", "bob", kind: "new"));
        await log.Flush();
        var added = (await log.Query(null, null, null, null, 1))[0];
        Assert.Equal("new", added.Kind);
        Assert.True(added.Id > 4, $"new id {added.Id} is not above the converted ones");

        // Opening the file again converts nothing and keeps everything.
        Assert.False(SqliteAuditLog.MigrateFromAutoincrement(_db));
        Assert.Equal(4, (await NewLog().Query(null, null, null, null, 100)).Count);
    }

    [Fact]
    public void A_current_or_missing_table_is_not_converted()
    {
        Assert.False(SqliteAuditLog.MigrateFromAutoincrement(_db));
        NewLog();
        Assert.False(SqliteAuditLog.MigrateFromAutoincrement(_db));
    }

    [Fact]
    public async Task Inserts_do_not_write_sqlite_sequence_and_ids_keep_growing_after_a_purge_of_the_oldest()
    {
        var log = NewLog();
        for (var i = 0; i < 4; i++)
        {
            log.Append(Entry(T0.AddDays(i), "ada", "bob"));
        }
        await log.Flush();
        Assert.Equal(0L, await Scalar("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_sequence';"));

        await log.Purge(T0.AddDays(2));
        log.Append(Entry(T0.AddDays(4), "ada", "bob", kind: "after"));
        await log.Flush();

        var ids = (await log.Query(null, null, null, null, 10)).Select(e => e.Id).ToList();
        Assert.Equal([5L, 4L, 3L], ids);
    }

    [Theory]
    [InlineData("presentity = 'ada'", "ix_audit_presentity_at")]
    [InlineData("presentity = 'ada' AND at >= 'a' AND at < 'b'", "ix_audit_")]
    [InlineData("presentity = 'ada' AND watcher = 'bob'", "ix_audit_")]
    [InlineData("watcher = 'bob'", "ix_audit_watcher_at")]
    [InlineData("watcher = 'bob' AND at >= 'a'", "ix_audit_watcher_at")]
    [InlineData("at >= 'a' AND at < 'b'", "ix_audit_at")]
    [InlineData(null, "ix_audit_at")]
    public async Task Every_query_shape_reads_through_an_index_without_sorting(string? where, string index)
    {
        NewLog();
        var plan = await Plan(
            "SELECT id, at, presentity, watcher, kind, channel, fields, rule FROM audit" + (where is null ? string.Empty : " WHERE " + where) + " ORDER BY at DESC, id DESC LIMIT 10;");
        Assert.Contains("USING INDEX " + index, plan, StringComparison.Ordinal);
        Assert.DoesNotContain("TEMP B-TREE", plan, StringComparison.Ordinal);
        if (where is not null)
        {
            Assert.StartsWith("SEARCH", plan, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task The_retention_purge_searches_the_time_index()
    {
        NewLog();
        Assert.StartsWith("SEARCH audit USING INDEX ix_audit_at", await Plan("DELETE FROM audit WHERE at < 'x';"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Purge_deletes_only_entries_older_than_the_cutoff()
    {
        var log = NewLog();
        for (var i = 0; i < 6; i++)
        {
            log.Append(Entry(T0.AddDays(i), "ada", "bob"));
        }
        await log.Flush();

        Assert.Equal(3, await log.Purge(T0.AddDays(3)));

        var left = await log.Query(null, null, null, null, 100);
        Assert.Equal([T0.AddDays(5), T0.AddDays(4), T0.AddDays(3)], left.Select(e => e.At));
        Assert.Equal(0, await log.Purge(T0.AddDays(3)));
    }

    [Fact]
    public async Task Retention_removes_entries_older_than_the_policy_days_and_keeps_newer()
    {
        var time = new FakeTimeProvider(T0);
        var log = NewLog(time: time);
        var policies = new SqliteOrgPolicyStore(_db);
        await policies.Save(OrgPolicy.Default with { AuditRetentionDays = 30 });
        log.Append(Entry(T0.AddDays(-400), "ada", "bob", kind: "ancient"));
        log.Append(Entry(T0.AddDays(-30).AddSeconds(-1), "ada", "bob", kind: "just-too-old"));
        log.Append(Entry(T0.AddDays(-30).AddSeconds(1), "ada", "bob", kind: "just-young-enough"));
        log.Append(Entry(T0.AddDays(-1), "ada", "bob", kind: "recent"));
        await log.Flush();
        var retention = new AuditRetention(log, policies, time, NullLogger<AuditRetention>.Instance);

        Assert.Equal(2, await retention.RunOnce(CancellationToken.None));

        var left = await log.Query(null, null, null, null, 100);
        Assert.Equal(["recent", "just-young-enough"], left.Select(e => e.Kind));

        time.Advance(TimeSpan.FromDays(2));
        Assert.Equal(1, await retention.RunOnce(CancellationToken.None));
        Assert.Equal(["recent"], (await log.Query(null, null, null, null, 100)).Select(e => e.Kind));
    }

    [Fact]
    public async Task Retention_uses_the_default_policy_when_none_was_saved()
    {
        var time = new FakeTimeProvider(T0);
        var log = NewLog(time: time);
        log.Append(Entry(T0.AddDays(-181), "ada", "bob", kind: "old"));
        log.Append(Entry(T0.AddDays(-179), "ada", "bob", kind: "kept"));
        await log.Flush();
        var retention = new AuditRetention(log, new SqliteOrgPolicyStore(_db), time, NullLogger<AuditRetention>.Instance);

        Assert.Equal(1, await retention.RunOnce(CancellationToken.None));
        Assert.Equal(["kept"], (await log.Query(null, null, null, null, 100)).Select(e => e.Kind));
    }

    [Fact]
    public async Task Retention_service_purges_at_start_and_every_period()
    {
        var time = new FakeTimeProvider(T0);
        var log = NewLog(time: time);
        var policies = new SqliteOrgPolicyStore(_db);
        await policies.Save(OrgPolicy.Default with { AuditRetentionDays = 30 });
        log.Append(Entry(T0.AddDays(-31), "ada", "bob"));
        await log.Flush();
        using var retention = new AuditRetention(log, policies, time, NullLogger<AuditRetention>.Instance);

        await retention.StartAsync(CancellationToken.None);
        try
        {
            await Eventually.True(async () => (await log.Query(null, null, null, null, 10)).Count == 0,
                because: "the retention purges at start");

            log.Append(Entry(time.GetUtcNow().AddDays(-29), "ada", "bob")); // old enough once a period has passed
            await log.Flush();
            Assert.Single(await log.Query(null, null, null, null, 10));
            await Eventually.True(async () =>
            {
                time.Advance(AuditRetention.Period);
                return (await log.Query(null, null, null, null, 10)).Count == 0;
            }, because: "the retention runs again every period");
        }
        finally
        {
            await retention.StopAsync(CancellationToken.None);
        }
    }

    // ---- organization policy store ----

    [Fact]
    public async Task Get_on_an_empty_database_is_the_default_policy_at_version_0()
    {
        var store = new SqliteOrgPolicyStore(_db);

        var (policy, version) = await store.Get();

        Assert.Same(OrgPolicy.Default, policy);
        Assert.Equal(0, version);
    }

    [Fact]
    public async Task A_non_trivial_policy_round_trips_and_versions_grow_by_one()
    {
        var store = new SqliteOrgPolicyStore(_db);
        var policy = NonTrivialPolicy();

        Assert.Equal(1, await store.Save(OrgPolicy.Default));
        Assert.Equal(2, await store.Save(policy));

        var (loaded, version) = await store.Get();
        Assert.Equal(2, version);
        AssertSamePolicy(policy, loaded);

        var changed = policy with { AppearOfflineAllowed = true, AuditRetentionDays = 7 };
        Assert.Equal(3, await store.Save(changed));
        var (reloaded, version3) = await new SqliteOrgPolicyStore(new SqliteDatabase(_path)).Get();
        Assert.Equal(3, version3);
        AssertSamePolicy(changed, reloaded);
    }

    [Fact]
    public async Task The_default_policy_round_trips()
    {
        var store = new SqliteOrgPolicyStore(_db);
        await store.Save(OrgPolicy.Default);

        var (loaded, version) = await store.Get();

        Assert.Equal(1, version);
        AssertSamePolicy(OrgPolicy.Default, loaded);
    }

    [Fact]
    public async Task Concurrent_saves_get_distinct_versions()
    {
        var store = new SqliteOrgPolicyStore(_db);

        var versions = await Task.WhenAll(Enumerable.Range(0, 20)
            .Select(i => Task.Run(() => store.Save(OrgPolicy.Default with { AuditRetentionDays = i + 1 }))));

        Assert.Equal(Enumerable.Range(1, 20).Select(v => (long)v), versions.Order());
        Assert.Equal(20, (await store.Get()).Version);
    }

    [Fact]
    public async Task The_policy_is_stored_as_json_with_enum_names_and_hh_mm_ss_times()
    {
        var store = new SqliteOrgPolicyStore(_db);
        await store.Save(NonTrivialPolicy());

        await using var connection = _db.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT json, updated_at FROM org_policy WHERE id = 1;";
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        var json = reader.GetString(0);

        Assert.Contains("\"Colleague\"", json, StringComparison.Ordinal);
        Assert.Contains("\"Location\"", json, StringComparison.Ordinal);
        Assert.Contains("\"Confirm\"", json, StringComparison.Ordinal);
        Assert.Contains("\"Saturday\"", json, StringComparison.Ordinal);
        Assert.Contains("\"07:30:00\"", json, StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(reader.GetString(1)));
    }

    [Fact]
    public async Task Save_rejects_null()
    {
        var store = new SqliteOrgPolicyStore(_db);
        await Assert.ThrowsAsync<ArgumentNullException>(() => store.Save(null!));
    }

    // ---- helpers ----

    private SqliteAuditLog NewLog(SqliteDatabase? db = null, TimeProvider? time = null)
    {
        var log = new SqliteAuditLog(db ?? _db, time ?? TimeProvider.System, NullLogger<SqliteAuditLog>.Instance);
        _logs.Add(log);
        return log;
    }

    private async Task Execute(string sql)
    {
        await using var connection = _db.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    private async Task<object?> Scalar(string sql)
    {
        await using var connection = _db.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync();
    }

    /// <summary>The <c>EXPLAIN QUERY PLAN</c> details of <paramref name="sql"/>, one line each.</summary>
    private async Task<string> Plan(string sql)
    {
        await using var connection = _db.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "EXPLAIN QUERY PLAN " + sql;
        var lines = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            lines.Add(reader.GetString(3));
        }
        return string.Join("\n", lines);
    }

    private static AuditEntry Entry(
        DateTimeOffset at, string presentity, string? watcher, string kind = "snapshot", string channel = "rest") =>
        new(at, presentity, watcher, kind, channel, "availability,location=City", "Team/WorkHours: Default");

    private static int Minute(AuditEntry entry) => (int)(entry.At - T0).TotalMinutes;

    private static OrgPolicy NonTrivialPolicy() => new(
        new Dictionary<RelationshipTier, DisclosureRule>
        {
            [RelationshipTier.Colleague] = DisclosureRule.Of(
                (DisclosureField.Location, (int)LocationPrecision.City),
                (DisclosureField.LastSeen, (int)LastSeenPrecision.Hour),
                (DisclosureField.Calendar, (int)CalendarDetail.FreeBusy),
                (DisclosureField.HomePhone, 0)),
            [RelationshipTier.External] = DisclosureRule.Of(
                (DisclosureField.Availability, 1),
                (DisclosureField.Note, 0),
                (DisclosureField.Location, 0)),
        },
        new Dictionary<RelationshipTier, TierRules>
        {
            [RelationshipTier.Team] = new TierRules(
                Any: DisclosureRule.Of((DisclosureField.Availability, 1)),
                WorkHours: DisclosureRule.Of((DisclosureField.Calendar, (int)CalendarDetail.FreeBusy), (DisclosureField.WorkPhone, 1)),
                DayOff: DisclosureRule.Of((DisclosureField.OutOfOffice, 1))),
            [RelationshipTier.Colleague] = new TierRules(
                OffHours: DisclosureRule.Of((DisclosureField.Availability, 1))),
        },
        false,
        new Dictionary<RelationshipTier, SubscriptionHandling>
        {
            [RelationshipTier.Trusted] = SubscriptionHandling.Allow,
            [RelationshipTier.Colleague] = SubscriptionHandling.Confirm,
            [RelationshipTier.External] = SubscriptionHandling.Block,
        },
        new Dictionary<RelationshipTier, SubscriptionHandling>
        {
            [RelationshipTier.External] = SubscriptionHandling.Confirm,
        },
        30,
        new WorkHours([DayOfWeek.Monday, DayOfWeek.Wednesday, DayOfWeek.Saturday], new TimeOnly(7, 30), new TimeOnly(16, 45, 30)));

    private static void AssertSamePolicy(OrgPolicy expected, OrgPolicy actual)
    {
        AssertSameMap(expected.Ceiling, actual.Ceiling, AssertSameRule);
        AssertSameMap(expected.Floor, actual.Floor, AssertSameTierRules);
        Assert.Equal(expected.AppearOfflineAllowed, actual.AppearOfflineAllowed);
        AssertSameMap(expected.SubscriptionDefaults, actual.SubscriptionDefaults, (e, a) => Assert.Equal(e, a));
        AssertSameMap(expected.SubscriptionMinimum, actual.SubscriptionMinimum, (e, a) => Assert.Equal(e, a));
        Assert.Equal(expected.AuditRetentionDays, actual.AuditRetentionDays);
        Assert.Equal(expected.DefaultWorkHours.Days, actual.DefaultWorkHours.Days);
        Assert.Equal(expected.DefaultWorkHours.Start, actual.DefaultWorkHours.Start);
        Assert.Equal(expected.DefaultWorkHours.End, actual.DefaultWorkHours.End);
    }

    private static void AssertSameTierRules(TierRules expected, TierRules actual)
    {
        AssertSameOptionalRule(expected.Any, actual.Any);
        AssertSameOptionalRule(expected.WorkHours, actual.WorkHours);
        AssertSameOptionalRule(expected.OffHours, actual.OffHours);
        AssertSameOptionalRule(expected.DayOff, actual.DayOff);
    }

    private static void AssertSameOptionalRule(DisclosureRule? expected, DisclosureRule? actual)
    {
        if (expected is null)
        {
            Assert.Null(actual);
            return;
        }
        Assert.NotNull(actual);
        AssertSameRule(expected, actual);
    }

    private static void AssertSameRule(DisclosureRule expected, DisclosureRule actual) =>
        AssertSameMap(expected.Levels, actual.Levels, (e, a) => Assert.Equal(e, a));

    private static void AssertSameMap<TKey, TValue>(
        IReadOnlyDictionary<TKey, TValue> expected, IReadOnlyDictionary<TKey, TValue> actual, Action<TValue, TValue> assertSame)
        where TKey : notnull
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.Keys.OrderBy(k => k), actual.Keys.OrderBy(k => k));
        foreach (var (key, value) in expected)
        {
            assertSame(value, actual[key]);
        }
    }
}
