using Herald.Cluster.Directory;
using Herald.Cluster.Privacy;
using Herald.Cluster.Redis;
using Herald.Cluster.Storage;
using Herald.Core.Model;
using Herald.Core.Privacy;
using Herald.Server.Webhooks;
using Microsoft.Extensions.Logging.Abstractions;

namespace Herald.ClusterMode.Tests;

/// <summary>A theory that needs redis-server (skipped without it unless HERALD_REQUIRE_ALL=1).</summary>
public sealed class RedisTheoryAttribute : TheoryAttribute
{
    public RedisTheoryAttribute()
    {
        if (RedisInstance.ServerPath is null && Environment.GetEnvironmentVariable("HERALD_REQUIRE_ALL") != "1")
        {
            Skip = "redis-server is not installed; set HERALD_REQUIRE_ALL=1 to fail instead";
        }
    }
}

/// <summary>One redis-server for the contract tests; each test uses its own cluster id (key prefix).</summary>
public sealed class RedisFixture : IAsyncLifetime
{
    private RedisInstance? _redis;

    public RedisInstance Redis => _redis ?? throw new InvalidOperationException("redis-server did not start");

    public async Task InitializeAsync()
    {
        if (RedisInstance.ServerPath is not null || Environment.GetEnvironmentVariable("HERALD_REQUIRE_ALL") == "1")
        {
            _redis = await RedisInstance.StartAsync();
        }
    }

    public async Task DisposeAsync()
    {
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }
    }
}

/// <summary>The stores behind each interface, SQLite (embedded) or Redis (cluster), with the same contract.</summary>
public sealed class Stores : IAsyncDisposable
{
    private readonly string? _dir;
    private readonly HeraldRedis? _redis;

    public Stores(string kind, RedisFixture fixture)
    {
        if (kind == "sqlite")
        {
            _dir = Path.Combine(Path.GetTempPath(), "herald-contract-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(_dir);
            var db = new SqliteDatabase(Path.Combine(_dir, "herald.db"));
            Directory_ = new SqliteDirectoryStore(db);
            Accounts = new SqliteAccountStore(db);
            Keys = new SqliteApiKeyStore(db);
            Policy = new SqliteOrgPolicyStore(db);
            Audit = new SqliteAuditLog(db, TimeProvider.System, NullLogger<SqliteAuditLog>.Instance);
            Webhooks = new WebhookStore(db);
        }
        else
        {
            _redis = HeraldRedis.Connect(fixture.Redis.ConnectionString, "c" + Guid.NewGuid().ToString("N")[..10]);
            Directory_ = new RedisDirectoryStore(_redis);
            Accounts = new RedisAccountStore(_redis);
            Keys = new RedisApiKeyStore(_redis);
            Policy = new RedisOrgPolicyStore(_redis);
            Audit = new RedisAuditLog(_redis, TimeProvider.System, NullLogger<RedisAuditLog>.Instance);
            Webhooks = new RedisWebhookStore(_redis);
        }
    }

    public IDirectoryStore Directory_ { get; }
    public IAccountStore Accounts { get; }
    public IApiKeyStore Keys { get; }
    public IOrgPolicyStore Policy { get; }
    public IAuditLog Audit { get; }
    public IWebhookStore Webhooks { get; }

    public async ValueTask DisposeAsync()
    {
        await ((IAsyncDisposable)Audit).DisposeAsync();
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }
        if (_dir is not null)
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(_dir, true);
            }
            catch (IOException)
            {
            }
        }
    }
}

/// <summary>The same cases against the SQLite store and the Redis store of every durable interface.</summary>
public sealed class StoreContractTests(RedisFixture fixture) : IClassFixture<RedisFixture>
{
    private static readonly DateTimeOffset T0 = new(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);

    private static PersonProfile Person(string id, string name, string? team = null, string? email = null) =>
        new(id, name, email ?? id + "@example.com", team, null, "Europe/Berlin",
            new WorkHours([DayOfWeek.Monday, DayOfWeek.Friday], new TimeOnly(8, 30), new TimeOnly(16, 45)),
            [new ContactMethod(ContactKind.Mobile, "+4912345678")]);

    [RedisTheory, InlineData("sqlite"), InlineData("redis")]
    public async Task Directory_upserts_searches_moves_teams_and_deletes(string kind)
    {
        await using var s = new Stores(kind, fixture);
        var d = s.Directory_;
        Assert.Equal(3, await d.UpsertPeople([Person("ann", "Ann", "red"), Person("bob", "bob", "red"), Person("cid", "Cid", "blue", "x@corp.test")]));
        Assert.Equal(0, await d.UpsertPeople([Person("bob", "Bob", "blue")])); // replaced, moved to blue
        Assert.True(await d.UpsertPerson(Person("dan", "Dan")));
        Assert.Equal(4, await d.CountPeople());
        Assert.Equal(Person("ann", "Ann", "red").Email, (await d.GetPerson("ann"))!.Email);
        var ann = await d.GetPerson("ann");
        Assert.Equal(new TimeOnly(16, 45), ann!.WorkHours!.End);
        Assert.Equal(ContactKind.Mobile, Assert.Single(ann.ContactMethods).Kind);
        Assert.Equal(["ann"], (await d.SearchPeople(null, "red", 10)).Select(p => p.Id));
        Assert.Equal(["bob", "cid"], (await d.SearchPeople(null, "blue", 10)).Select(p => p.Id));
        Assert.Equal(["cid"], (await d.SearchPeople("CORP", null, 10)).Select(p => p.Id));
        Assert.Equal(["ann", "bob", "cid", "dan"], (await d.SearchPeople(null, null, 10)).Select(p => p.Id));
        Assert.Equal(["ann", "bob"], (await d.SearchPeople(null, null, 2)).Select(p => p.Id));
        Assert.Equal(2, (await d.GetPeople(["ann", "zed", "bob", "ann"])).Count);
        Assert.True(await d.DeletePerson("bob"));
        Assert.False(await d.DeletePerson("bob"));
        Assert.Equal(["cid"], (await d.SearchPeople(null, "blue", 10)).Select(p => p.Id));
        Assert.Null(await d.GetPerson("bob"));

        Assert.Equal(2, await d.UpsertTeams([new Team("t2", "beta", null), new Team("t1", "Alpha", "ann")]));
        Assert.False(await d.UpsertTeam(new Team("t2", "Beta", "cid")));
        Assert.Equal(["t1", "t2"], (await d.ListTeams()).Select(t => t.Id));
        Assert.Equal(new Team("t2", "Beta", "cid"), await d.GetTeam("t2"));
        Assert.True(await d.DeleteTeam("t1"));
        Assert.Null(await d.GetTeam("t1"));
    }

    [RedisTheory, InlineData("sqlite"), InlineData("redis")]
    public async Task Accounts_round_trip_whole_records(string kind)
    {
        await using var s = new Stores(kind, fixture);
        var a = s.Accounts;
        var credential = new PasswordCredential(4096, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], new byte[32]);
        await a.UpsertAccount(new Account("ann", [Roles.User, Roles.Admin], credential));
        await a.UpsertAccount(new Account("bob", [Roles.User], null));
        var ann = await a.GetAccount("ann");
        Assert.Equal([Roles.User, Roles.Admin], ann!.Roles);
        Assert.Equal(4096, ann.Password!.Iterations);
        Assert.Equal(credential.Salt, ann.Password.Salt);
        Assert.Equal(credential.Hash, ann.Password.Hash);
        Assert.Null((await a.GetAccount("bob"))!.Password);
        await a.UpsertAccount(new Account("bob", [Roles.Auditor], credential));
        Assert.Equal([Roles.Auditor], (await a.GetAccount("bob"))!.Roles);
        Assert.Equal(2, await a.CountAccounts());
        Assert.True(await a.DeleteAccount("bob"));
        Assert.False(await a.DeleteAccount("bob"));
        Assert.Null(await a.GetAccount("bob"));
        await Assert.ThrowsAsync<ArgumentException>(() => a.UpsertAccount(new Account("x", ["a,b"], null)));
    }

    [RedisTheory, InlineData("sqlite"), InlineData("redis")]
    public async Task Api_keys_are_unique_listed_newest_first_and_deleted(string kind)
    {
        await using var s = new Stores(kind, fixture);
        var k = s.Keys;
        await k.Create(new ApiKeyRecord("k1", "ann", "one", ["devices"], null, [1, 2], T0));
        await k.Create(new ApiKeyRecord("k2", "ann", "two", ["activities:*"], ["ann", "bob"], [3], T0)); // same instant: later first
        await k.Create(new ApiKeyRecord("k3", "bob", "three", [], null, [4], T0.AddMinutes(1)));
        await Assert.ThrowsAsync<InvalidOperationException>(() => k.Create(new ApiKeyRecord("k1", "bob", "dup", [], null, [9], T0)));
        Assert.Equal(["k3", "k2", "k1"], (await k.List(null)).Select(x => x.Id));
        Assert.Equal(["k2", "k1"], (await k.List("ann")).Select(x => x.Id));
        var k2 = await k.Get("k2");
        Assert.Equal(["ann", "bob"], k2!.UserIds!);
        Assert.Equal(T0, k2.CreatedAt);
        Assert.Equal(TimeSpan.Zero, k2.CreatedAt.Offset);
        Assert.True(await k.Delete("k2"));
        Assert.False(await k.Delete("k2"));
        Assert.Equal(["k1"], (await k.List("ann")).Select(x => x.Id));
    }

    [RedisTheory, InlineData("sqlite"), InlineData("redis")]
    public async Task Org_policy_versions_grow_and_the_policy_round_trips(string kind)
    {
        await using var s = new Stores(kind, fixture);
        var (initial, v0) = await s.Policy.Get();
        Assert.Equal(0, v0);
        Assert.Equal(OrgPolicy.Default.AuditRetentionDays, initial.AuditRetentionDays);
        var changed = OrgPolicy.Default with { AuditRetentionDays = 30, AppearOfflineAllowed = false };
        Assert.Equal(1, await s.Policy.Save(changed));
        Assert.Equal(2, await s.Policy.Save(changed with { AuditRetentionDays = 31 }));
        var (policy, version) = await s.Policy.Get();
        Assert.Equal(2, version);
        Assert.Equal(31, policy.AuditRetentionDays);
        Assert.False(policy.AppearOfflineAllowed);
        Assert.Equal(OrgPolicy.Default.DefaultWorkHours.Start, policy.DefaultWorkHours.Start);
        Assert.Equal(OrgPolicy.Default.SubscriptionDefaults.Count, policy.SubscriptionDefaults.Count);
    }

    [RedisTheory, InlineData("sqlite"), InlineData("redis")]
    public async Task Audit_is_durable_after_flush_filtered_newest_first_and_purged(string kind)
    {
        await using var s = new Stores(kind, fixture);
        for (var i = 0; i < 10; i++)
        {
            s.Audit.Append(new AuditEntry(T0.AddMinutes(i), i % 2 == 0 ? "ann" : "bob", i < 5 ? "cid" : null, "live", "rest", "availability", "rule " + i));
        }
        await s.Audit.Flush();
        var all = await s.Audit.Query(null, null, null, null, 100);
        Assert.Equal(10, all.Count);
        Assert.Equal("rule 9", all[0].Rule);
        Assert.All(all, e => Assert.True(e.Id > 0));
        Assert.Equal(["rule 8", "rule 6", "rule 4", "rule 2", "rule 0"], (await s.Audit.Query("ann", null, null, null, 100)).Select(e => e.Rule));
        Assert.Equal(["rule 4", "rule 2"], (await s.Audit.Query("ann", "cid", T0.AddMinutes(1), T0.AddMinutes(5), 100)).Select(e => e.Rule));
        Assert.Equal(["rule 9", "rule 8"], (await s.Audit.Query(null, null, null, null, 2)).Select(e => e.Rule));
        Assert.Equal(T0.AddMinutes(3), (await s.Audit.Query("bob", "cid", null, null, 1))[0].At);
        Assert.Equal(3, await s.Audit.Purge(T0.AddMinutes(3)));
        Assert.Equal(7, (await s.Audit.Query(null, null, null, null, 100)).Count);
        Assert.Equal(["rule 4"], (await s.Audit.Query(null, "cid", null, null, 100)).Select(e => e.Rule).Where(r => r == "rule 4"));
    }

    [RedisTheory, InlineData("sqlite"), InlineData("redis")]
    public async Task Webhook_outbox_replaces_per_subject_retries_disables_and_deletes(string kind)
    {
        await using var s = new Stores(kind, fixture);
        var w = s.Webhooks;
        var now = T0.ToUnixTimeMilliseconds();
        await w.Create(new WebhookRecord("w1", "ann", "http://127.0.0.1:9/hook", "secret", ["bob"], [], ["presence.changed"], T0, false, 0, null, null), default);
        Assert.Equal(1, await w.Count("ann", default));
        await w.Enqueue("w1", "e1", "presence.changed", "bob", Body(1), now, default);
        await w.Enqueue("w1", "e2", "presence.changed", "bob", Body(2), now, default); // replaces e1
        await w.Enqueue("w1", "e3", "webhook.test", null, """{"data":{}}""", now + 10, default);
        await w.Enqueue("nope", "e4", "webhook.test", null, """{"data":{}}""", now, default); // unknown webhook: dropped
        Assert.Equal(now, await w.NextDue(default));
        var due = await w.Due(now + 10, 64, default);
        Assert.Equal(["e2", "e3"], due.Select(e => e.EventId));
        await w.Succeeded(due[1], 200, T0, default);
        Assert.False(await w.Failed(due[0], 500, "HTTP 500", T0, now + 5000, 2, default));
        var again = await w.Due(now + 5000, 64, default);
        Assert.Equal(1, Assert.Single(again).Attempts);
        Assert.True(await w.Failed(again[0], null, "timeout", T0, now + 9000, 2, default)); // second failure disables
        var hook = await w.Get("w1", default);
        Assert.True(hook!.Disabled);
        Assert.Equal(2, hook.ConsecutiveFailures);
        Assert.Equal("timeout", hook.LastError);
        Assert.Empty(await w.Due(now + 60_000, 64, default)); // disabled: nothing due
        var log = await w.Deliveries("w1", 10, default);
        Assert.Equal([false, false, true], log.Select(l => l.Succeeded));
        Assert.Equal(2, log[0].Attempt);
        Assert.True(await w.Delete("w1", default));
        Assert.False(await w.Delete("w1", default));
        Assert.Null(await w.NextDue(default));
        Assert.Empty(await w.List(null, default));
    }

    [RedisTheory, InlineData("redis")]
    public async Task Redis_outbox_is_claimed_once_drops_copies_from_other_nodes_and_redelivers_after_a_lost_claim(string kind)
    {
        await using var s = new Stores(kind, fixture);
        var w = s.Webhooks;
        var now = T0.ToUnixTimeMilliseconds();
        await w.Create(new WebhookRecord("w1", "ann", "http://127.0.0.1:9/hook", "secret", ["bob"], [], ["presence.changed", "huddle"], T0, false, 0, null, null), default);
        // Three nodes offer the same view (same sequence) and one an older one: one event is queued.
        foreach (var (id, seq) in new[] { ("a", 5), ("b", 5), ("c", 5), ("d", 4) })
        {
            await w.Enqueue("w1", id, "presence.changed", "bob", Body(seq), now, default);
        }
        // Two nodes offer the same huddle event: one is queued.
        await w.Enqueue("w1", "h1", "huddle.invited", null, """{"id":"x1","data":{"huddle":"h-1"}}""", now, default);
        await w.Enqueue("w1", "h2", "huddle.invited", null, """{"id":"x2","data":{"huddle":"h-1"}}""", now, default);
        var first = await w.Due(now, 64, default);
        Assert.Equal(["a", "h1"], first.Select(e => e.EventId));
        Assert.Empty(await w.Due(now, 64, default)); // claimed by the first node
        // The claiming node dies: after the lease the events are due again for another node (at-least-once).
        var lease = (long)RedisWebhookStore.ClaimLease.TotalMilliseconds;
        Assert.Equal(now + lease, await w.NextDue(default));
        var second = await w.Due(now + lease + 1, 64, default);
        Assert.Equal(["a", "h1"], second.Select(e => e.EventId).Order());
        // A newer view while "a" is in flight queues a new event; "a" failing afterwards is dropped as superseded.
        await w.Enqueue("w1", "e", "presence.changed", "bob", Body(6), now, default);
        Assert.False(await w.Failed(second.Single(e => e.EventId == "a"), 500, "HTTP 500", T0, now + 1000, 10, default));
        Assert.Equal(["e"], (await w.Due(now + lease + 2, 64, default)).Select(e => e.EventId));
    }

    private static string Body(long sequence) =>
        "{\"id\":\"x\",\"type\":\"presence.changed\",\"data\":{\"userId\":\"bob\",\"sequence\":" + sequence + "}}";
}
