using System.Collections.Concurrent;
using Herald.Cluster.Directory;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Herald.Cluster.Tests.Directory;

/// <summary>
/// The registry of live connections by credential: expiries served in order by one timer, closed connections never
/// ended, revocation by person, key and password, the sweep for changes made elsewhere, and a heap that does not keep
/// closed connections forever.
/// </summary>
public sealed class LiveCredentialsTests : IDisposable
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2030, 1, 2, 10, 0, 0, TimeSpan.Zero));
    private readonly FakeAccounts _accounts = new();
    private readonly FakeKeys _keys = new();
    private LiveCredentials? _withSweep;
    private LiveCredentials? _withoutSweep;

    // Most tests turn the sweep off: the fake stores hold no accounts unless a test adds them.
    private LiveCredentials Registry => _withoutSweep ??= new LiveCredentials(_accounts, _keys, _time, NullLogger<LiveCredentials>.Instance, TimeSpan.Zero);

    private LiveCredentials Sweeping => _withSweep ??= new LiveCredentials(_accounts, _keys, _time, NullLogger<LiveCredentials>.Instance, TimeSpan.FromSeconds(30));

    public void Dispose()
    {
        _withSweep?.Dispose();
        _withoutSweep?.Dispose();
    }

    private sealed class Probe : LiveCredential
    {
        public CredentialEnd? Ended { get; private set; }
        public int Calls { get; private set; }

        protected override void OnCredentialEnded(CredentialEnd reason)
        {
            Ended = reason;
            Calls++;
        }
    }

    [Fact]
    public void Tokens_end_exactly_at_their_expiry_in_order_and_a_closed_connection_is_never_ended()
    {
        var now = _time.GetUtcNow();
        var probes = Enumerable.Range(0, 50).Select(_ => new Probe()).ToArray();
        for (var i = 0; i < probes.Length; i++)
        {
            // Registered out of order: expiries 49 s, 48 s, …, 0 s + 1 s.
            Assert.True(Registry.RegisterPerson(probes[i], "p" + i, now + TimeSpan.FromSeconds(probes.Length - i)));
        }
        Registry.Unregister(probes[10]); // closed by the client: never ended
        for (var s = 1; s <= probes.Length; s++)
        {
            var due = probes[probes.Length - s]; // expires at now + s seconds
            _time.Advance(TimeSpan.FromSeconds(1) - TimeSpan.FromTicks(1));
            Assert.Null(due.Ended);
            _time.Advance(TimeSpan.FromTicks(1));
            Assert.Equal(due == probes[10] ? null : CredentialEnd.TokenExpired, due.Ended);
            Assert.All(probes.Take(probes.Length - s), p => Assert.Null(p.Ended)); // the later ones are still open
        }
        Assert.All(probes.Where(p => p != probes[10]), p => Assert.Equal(1, p.Calls));
        Assert.Equal(0, Registry.Count);
    }

    [Fact]
    public void An_already_expired_token_is_ended_at_registration()
    {
        var p = new Probe();
        Assert.False(Registry.RegisterPerson(p, "ann", _time.GetUtcNow()));
        Assert.Equal(CredentialEnd.TokenExpired, p.Ended);
        Assert.Equal(0, Registry.Count);
    }

    [Fact]
    public void Ending_a_person_ends_only_their_connections_and_only_once()
    {
        var ann1 = new Probe();
        var ann2 = new Probe();
        var ben = new Probe();
        var annKey = new Probe();
        Registry.RegisterPerson(ann1, "ann", null);
        Registry.RegisterPerson(ann2, "ann", _time.GetUtcNow().AddHours(1));
        Registry.RegisterPerson(ben, "ben", null);
        Registry.RegisterKey(annKey, "k1");
        Assert.Equal(2, Registry.EndUser("ann", CredentialEnd.AccountDeleted));
        Assert.Equal(0, Registry.EndUser("ann", CredentialEnd.AccountDeleted));
        Assert.Equal(CredentialEnd.AccountDeleted, ann1.Ended);
        Assert.Equal(CredentialEnd.AccountDeleted, ann2.Ended);
        Assert.Null(ben.Ended);
        Assert.Null(annKey.Ended);
        _time.Advance(TimeSpan.FromHours(2)); // ann2's expiry passes: not ended a second time
        Assert.Equal(1, ann2.Calls);
        Assert.Equal(1, Registry.EndKey("k1"));
        Assert.Equal(CredentialEnd.KeyRevoked, annKey.Ended);
        Assert.Equal(1, Registry.Count);
    }

    [Fact]
    public async Task A_recheck_ends_sessions_of_a_deleted_account_and_password_sessions_after_a_password_change()
    {
        var pw = new PasswordCredential(4096, [1, 2, 3, 4, 5, 6, 7, 8], new byte[32]);
        _accounts.Items["ann"] = new Account("ann", ["user"], pw);
        _accounts.Items["ben"] = new Account("ben", ["user"], pw);
        var annXmpp = new Probe();
        var annToken = new Probe();
        var ben = new Probe();
        Registry.RegisterPerson(annXmpp, "ann", null, LiveCredentials.StampOf(pw));
        Registry.RegisterPerson(annToken, "ann", _time.GetUtcNow().AddHours(1));
        Registry.RegisterPerson(ben, "ben", null, LiveCredentials.StampOf(pw));

        await Registry.RecheckUser("ann");
        Assert.Null(annXmpp.Ended); // nothing changed

        _accounts.Items["ann"] = new Account("ann", ["user"], pw with { Salt = [9, 9, 9, 9, 9, 9, 9, 9] });
        await Registry.RecheckUser("ann");
        Assert.Equal(CredentialEnd.PasswordChanged, annXmpp.Ended);
        Assert.Null(annToken.Ended); // registered without a password stamp: not tied to the password

        _accounts.Items.TryRemove("ann", out _);
        await Registry.RecheckUser("ann");
        Assert.Equal(CredentialEnd.AccountDeleted, annToken.Ended);
        Assert.Null(ben.Ended);
    }

    [Fact]
    public async Task The_sweep_finds_accounts_and_keys_removed_elsewhere_within_one_interval_and_survives_store_failures()
    {
        _accounts.Items["ann"] = new Account("ann", ["user"], null);
        _accounts.Items["ben"] = new Account("ben", ["user"], null);
        _keys.Items["k1"] = new ApiKeyRecord("k1", "ben", "phone", ["devices"], null, new byte[32], _time.GetUtcNow());
        var ann = new Probe();
        var ben = new Probe();
        var key = new Probe();
        Sweeping.RegisterPerson(ann, "ann", null);
        Sweeping.RegisterPerson(ben, "ben", null);
        Sweeping.RegisterKey(key, "k1");

        _accounts.Failing = true;
        await Sweeping.Sweep();
        Assert.Null(ann.Ended); // a store failure ends nothing

        _accounts.Failing = false;
        _accounts.Items.TryRemove("ann", out _);
        _keys.Items.TryRemove("k1", out _);
        _time.Advance(TimeSpan.FromSeconds(29));
        Assert.Null(ann.Ended);
        _time.Advance(TimeSpan.FromSeconds(1)); // the sweep's tick
        await WaitUntil(() => ann.Ended is not null && key.Ended is not null);
        Assert.Equal(CredentialEnd.AccountDeleted, ann.Ended);
        Assert.Equal(CredentialEnd.KeyRevoked, key.Ended);
        Assert.Null(ben.Ended);
    }

    [Fact]
    public void Closed_connections_do_not_pile_up_in_the_expiry_heap()
    {
        var expires = _time.GetUtcNow().AddHours(12);
        var kept = new Probe();
        Registry.RegisterPerson(kept, "kept", expires);
        for (var i = 0; i < 20_000; i++)
        {
            var p = new Probe();
            Registry.RegisterPerson(p, "u" + (i % 100), expires);
            Registry.Unregister(p);
        }
        Assert.Equal(1, Registry.Count);
        Assert.True(Registry.HeapSize < 3000, $"heap holds {Registry.HeapSize} entries");
        _time.Advance(TimeSpan.FromHours(12));
        Assert.Equal(CredentialEnd.TokenExpired, kept.Ended);
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met in time");
            await Task.Delay(10);
        }
    }

    private sealed class FakeAccounts : IAccountStore
    {
        public ConcurrentDictionary<string, Account> Items { get; } = new();
        public bool Failing { get; set; }

        public Task<Account?> GetAccount(string userId, CancellationToken ct = default) =>
            Failing ? throw new IOException("store down") : Task.FromResult(Items.TryGetValue(userId, out var a) ? a : null);

        public Task UpsertAccount(Account account, CancellationToken ct = default) => throw new NotSupportedException();
        public Task<bool> CreateFirstAccount(Account account, CancellationToken ct = default) => throw new NotSupportedException();
        public Task<bool> DeleteAccount(string userId, CancellationToken ct = default) => throw new NotSupportedException();
        public Task<int> CountAccounts(CancellationToken ct = default) => throw new NotSupportedException();
    }

    private sealed class FakeKeys : IApiKeyStore
    {
        public ConcurrentDictionary<string, ApiKeyRecord> Items { get; } = new();

        public Task<ApiKeyRecord?> Get(string id, CancellationToken ct = default) => Task.FromResult(Items.TryGetValue(id, out var k) ? k : null);
        public Task Create(ApiKeyRecord key, CancellationToken ct = default) => throw new NotSupportedException();
        public Task<IReadOnlyList<ApiKeyRecord>> List(string? ownerId, CancellationToken ct = default) => throw new NotSupportedException();
        public Task<bool> Delete(string id, CancellationToken ct = default) => throw new NotSupportedException();
    }
}
