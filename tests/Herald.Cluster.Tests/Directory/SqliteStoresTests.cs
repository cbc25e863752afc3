using Herald.Cluster.Directory;
using Herald.Cluster.Storage;
using Herald.Core.Model;
using Microsoft.Data.Sqlite;

namespace Herald.Cluster.Tests.Directory;

/// <summary>Round trips through the SQLite directory, account and API key stores, plus the hashing helpers.</summary>
public sealed class SqliteStoresTests : IDisposable
{
    private readonly string _path = TestSilos.TempDatabase("directory-tests");
    private readonly SqliteDatabase _db;
    private readonly SqliteDirectoryStore _directory;
    private readonly SqliteAccountStore _accounts;
    private readonly SqliteApiKeyStore _keys;

    /// <summary>Creates the stores on a fresh temporary file.</summary>
    public SqliteStoresTests()
    {
        _db = new SqliteDatabase(_path);
        _directory = new SqliteDirectoryStore(_db);
        _accounts = new SqliteAccountStore(_db);
        _keys = new SqliteApiKeyStore(_db);
    }

    /// <summary>Deletes the temporary database files.</summary>
    public void Dispose() => TestSilos.DeleteDatabase(_path);

    // ---- people ----

    [Fact]
    public async Task A_missing_person_is_null()
    {
        Assert.Null(await _directory.GetPerson("nobody"));
    }

    [Fact]
    public async Task A_person_round_trips_with_work_hours_and_contact_methods()
    {
        var person = new PersonProfile(
            "ada", "Ada Lovelace", "ada@example.com", "eng", "babbage", "Europe/London",
            new WorkHours([DayOfWeek.Sunday, DayOfWeek.Wednesday], new TimeOnly(22, 30), new TimeOnly(6, 15)),
            [
                new ContactMethod(ContactKind.WorkPhone, "+44 20 0000 0000"),
                new ContactMethod(ContactKind.Mobile, "+44 7000 000000"),
                new ContactMethod(ContactKind.Sip, "sip:ada@example.com"),
            ]);

        Assert.True(await _directory.UpsertPerson(person));

        AssertSamePerson(person, await _directory.GetPerson("ada"));
    }

    [Fact]
    public async Task Work_hours_and_contact_methods_are_stored_as_json_with_named_enums_and_hour_minute_times()
    {
        await _directory.UpsertPerson(new PersonProfile(
            "ada", "Ada", null, null, null, "UTC", WorkHours.Default, [new ContactMethod(ContactKind.Email, "a@x")]));

        await using var connection = _db.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT work_hours, contact_methods FROM people WHERE id = 'ada';";
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        var workHours = reader.GetString(0);
        var contacts = reader.GetString(1);

        Assert.Contains("\"Monday\"", workHours, StringComparison.Ordinal);
        Assert.Contains("\"09:00\"", workHours, StringComparison.Ordinal);
        Assert.Contains("\"17:00\"", workHours, StringComparison.Ordinal);
        Assert.Contains("\"Email\"", contacts, StringComparison.Ordinal);
        Assert.DoesNotContain("isPersonal", contacts, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_person_without_optional_fields_round_trips_with_nulls_and_no_contacts()
    {
        var person = PersonProfile.Minimal("bob");

        await _directory.UpsertPerson(person);

        AssertSamePerson(person, await _directory.GetPerson("bob"));
    }

    [Fact]
    public async Task Upserting_a_person_reports_created_and_then_replaced()
    {
        var first = Person("carol", "Carol", team: "ops");
        var second = first with { DisplayName = "Carol Danvers", Team = "eng", WorkHours = null, ContactMethods = [] };

        Assert.True(await _directory.UpsertPerson(first));
        Assert.False(await _directory.UpsertPerson(second));

        AssertSamePerson(second, await _directory.GetPerson("carol"));
        Assert.Equal(1, await _directory.CountPeople());
    }

    [Fact]
    public async Task Upserting_many_people_counts_only_the_ones_created()
    {
        await _directory.UpsertPerson(Person("a", "Old A"));

        var created = await _directory.UpsertPeople([Person("a", "New A"), Person("b", "B"), Person("c", "C")]);

        Assert.Equal(2, created);
        Assert.Equal(3, await _directory.CountPeople());
        Assert.Equal("New A", (await _directory.GetPerson("a"))!.DisplayName);
    }

    [Fact]
    public async Task Upserting_an_empty_list_of_people_creates_nothing()
    {
        Assert.Equal(0, await _directory.UpsertPeople([]));
        Assert.Equal(0, await _directory.CountPeople());
    }

    [Fact]
    public async Task Deleting_a_person_returns_true_once_and_then_false()
    {
        await _directory.UpsertPerson(Person("dave", "Dave"));

        Assert.True(await _directory.DeletePerson("dave"));
        Assert.False(await _directory.DeletePerson("dave"));
        Assert.Null(await _directory.GetPerson("dave"));
        Assert.Equal(0, await _directory.CountPeople());
    }

    [Fact]
    public async Task Getting_1200_people_by_id_chunks_the_query_and_skips_missing_ids()
    {
        var people = Enumerable.Range(0, 1200).Select(i => Person($"p{i:D4}", $"Person {i:D4}")).ToArray();
        Assert.Equal(1200, await _directory.UpsertPeople(people));
        var wanted = people.Select(p => p.Id).Concat(["missing-1", "missing-2"]).ToArray();

        var found = await _directory.GetPeople(wanted);

        Assert.Equal(1200, found.Count);
        Assert.Equal(people.Select(p => p.Id).Order(StringComparer.Ordinal), found.Select(p => p.Id).Order(StringComparer.Ordinal));
        AssertSamePerson(people[777], found.Single(p => p.Id == "p0777"));
    }

    [Fact]
    public async Task Getting_people_with_no_ids_or_duplicate_ids_returns_each_person_once()
    {
        await _directory.UpsertPerson(Person("erin", "Erin"));

        Assert.Empty(await _directory.GetPeople([]));
        Assert.Single(await _directory.GetPeople(["erin", "erin"]));
    }

    [Fact]
    public async Task Search_is_case_insensitive_on_id_display_name_and_email()
    {
        await _directory.UpsertPeople([
            Person("jdoe", "Jane Doe", email: "Jane.Doe@Example.com"),
            Person("rsmith", "Robert Smith", email: "bob@example.org"),
        ]);

        Assert.Equal(["jdoe"], Ids(await _directory.SearchPeople("JDO", null, 10)));
        Assert.Equal(["rsmith"], Ids(await _directory.SearchPeople("robert sm", null, 10)));
        Assert.Equal(["jdoe"], Ids(await _directory.SearchPeople("EXAMPLE.COM", null, 10)));
        Assert.Equal(["jdoe", "rsmith"], Ids(await _directory.SearchPeople("example", null, 10)));
        Assert.Empty(await _directory.SearchPeople("nobody", null, 10));
    }

    [Fact]
    public async Task Search_treats_like_wildcards_in_the_query_literally()
    {
        await _directory.UpsertPeople([Person("a_b", "Under Score"), Person("axb", "Ex"), Person("pct", "100% sure")]);

        Assert.Equal(["a_b"], Ids(await _directory.SearchPeople("a_b", null, 10)));
        Assert.Equal(["pct"], Ids(await _directory.SearchPeople("0%", null, 10)));
        Assert.Equal(["pct"], Ids(await _directory.SearchPeople("%", null, 10)));
        Assert.Equal(["a_b"], Ids(await _directory.SearchPeople("_", null, 10)));
    }

    [Fact]
    public async Task Search_filters_by_team_with_or_without_a_query()
    {
        await _directory.UpsertPeople([
            Person("e1", "Eve", team: "eng"),
            Person("e2", "Evan", team: "ops"),
            Person("e3", "Zed", team: "eng"),
            Person("e4", "Everyone", team: null),
        ]);

        Assert.Equal(["e1", "e3"], Ids(await _directory.SearchPeople(null, "eng", 10)));
        Assert.Equal(["e1"], Ids(await _directory.SearchPeople("ev", "eng", 10)));
        Assert.Equal(["e2"], Ids(await _directory.SearchPeople("EV", "ops", 10)));
        Assert.Empty(await _directory.SearchPeople(null, "sales", 10));
    }

    [Fact]
    public async Task Search_orders_by_display_name_then_id_and_honours_the_limit()
    {
        await _directory.UpsertPeople([
            Person("z", "Charlie"),
            Person("b2", "Bravo"),
            Person("a", "Delta"),
            Person("b1", "Bravo"),
            Person("y", "Alpha"),
        ]);

        Assert.Equal(["y", "b1", "b2", "z", "a"], Ids(await _directory.SearchPeople(null, null, 10)));
        Assert.Equal(["y", "b1", "b2"], Ids(await _directory.SearchPeople("", null, 3)));
        Assert.Empty(await _directory.SearchPeople(null, null, 0));
    }

    [Fact]
    public async Task Search_rejects_a_negative_limit()
    {
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _directory.SearchPeople(null, null, -1));
    }

    [Fact]
    public async Task A_cancelled_token_stops_a_store_call()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _directory.GetPerson("x", cts.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _accounts.CountAccounts(cts.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _keys.List(null, cts.Token));
    }

    // ---- teams ----

    [Fact]
    public async Task A_team_round_trips_and_upserting_reports_created_then_replaced()
    {
        Assert.Null(await _directory.GetTeam("eng"));

        Assert.True(await _directory.UpsertTeam(new Team("eng", "Engineering", "ada")));
        Assert.False(await _directory.UpsertTeam(new Team("eng", "Engineering & Research", null)));

        Assert.Equal(new Team("eng", "Engineering & Research", null), await _directory.GetTeam("eng"));
    }

    [Fact]
    public async Task Teams_are_listed_by_name_and_upserted_in_bulk()
    {
        await _directory.UpsertTeam(new Team("ops", "Old Operations", null));

        var created = await _directory.UpsertTeams([
            new Team("ops", "Operations", "olga"),
            new Team("eng", "Engineering", "ada"),
            new Team("adm", "Sales", null),
        ]);

        Assert.Equal(2, created);
        Assert.Equal(
            [new Team("eng", "Engineering", "ada"), new Team("ops", "Operations", "olga"), new Team("adm", "Sales", null)],
            await _directory.ListTeams());
    }

    [Fact]
    public async Task Deleting_a_team_returns_true_once_and_then_false()
    {
        await _directory.UpsertTeam(new Team("eng", "Engineering", null));

        Assert.True(await _directory.DeleteTeam("eng"));
        Assert.False(await _directory.DeleteTeam("eng"));
        Assert.Empty(await _directory.ListTeams());
    }

    // ---- accounts ----

    [Fact]
    public async Task An_account_with_a_password_round_trips()
    {
        var credential = PasswordHasher.Hash("s3cret", 1000);

        await _accounts.UpsertAccount(new Account("ada", [Roles.User, Roles.Admin], credential));
        var account = await _accounts.GetAccount("ada");

        Assert.NotNull(account);
        Assert.Equal("ada", account.UserId);
        Assert.Equal([Roles.User, Roles.Admin], account.Roles);
        Assert.NotNull(account.Password);
        Assert.Equal(1000, account.Password.Iterations);
        Assert.Equal(credential.Salt, account.Password.Salt);
        Assert.Equal(credential.Hash, account.Password.Hash);
        Assert.True(PasswordHasher.Verify("s3cret", account.Password));
    }

    [Fact]
    public async Task An_account_without_a_password_or_roles_round_trips()
    {
        await _accounts.UpsertAccount(new Account("bob", [], null));

        var account = await _accounts.GetAccount("bob");

        Assert.NotNull(account);
        Assert.Empty(account.Roles);
        Assert.Null(account.Password);
    }

    [Fact]
    public async Task Upserting_an_account_replaces_roles_and_clears_the_password()
    {
        await _accounts.UpsertAccount(new Account("carol", [Roles.User], PasswordHasher.Hash("pw", 1)));

        await _accounts.UpsertAccount(new Account("carol", [Roles.Auditor], null));
        var account = await _accounts.GetAccount("carol");

        Assert.NotNull(account);
        Assert.Equal([Roles.Auditor], account.Roles);
        Assert.Null(account.Password);
        Assert.Equal(1, await _accounts.CountAccounts());
    }

    [Fact]
    public async Task Accounts_are_counted_and_deleting_returns_false_when_missing()
    {
        Assert.Null(await _accounts.GetAccount("nobody"));
        await _accounts.UpsertAccount(new Account("a", [Roles.User], null));
        await _accounts.UpsertAccount(new Account("b", [Roles.User], null));

        Assert.Equal(2, await _accounts.CountAccounts());
        Assert.True(await _accounts.DeleteAccount("a"));
        Assert.False(await _accounts.DeleteAccount("a"));
        Assert.Equal(1, await _accounts.CountAccounts());
    }

    [Fact]
    public async Task A_role_containing_a_comma_is_rejected()
    {
        await Assert.ThrowsAsync<ArgumentException>(
            () => _accounts.UpsertAccount(new Account("x", ["user,admin"], null)));
    }

    // ---- API keys ----

    [Fact]
    public async Task An_api_key_round_trips_with_scopes_user_ids_and_creation_time()
    {
        var (id, _, hash) = ApiKeys.Generate();
        var createdAt = new DateTimeOffset(2025, 3, 4, 10, 20, 30, 123, TimeSpan.FromHours(2)).AddTicks(4567);
        var record = new ApiKeyRecord(id, "ada", "CI", ["devices", "activities:*"], ["ada", "bob"], hash, createdAt);

        await _keys.Create(record);
        var stored = await _keys.Get(id);

        Assert.NotNull(stored);
        Assert.Equal(id, stored.Id);
        Assert.Equal("ada", stored.OwnerId);
        Assert.Equal("CI", stored.Name);
        Assert.Equal(["devices", "activities:*"], stored.Scopes);
        Assert.Equal(["ada", "bob"], stored.UserIds!);
        Assert.Equal(hash, stored.SecretHash);
        Assert.Equal(createdAt, stored.CreatedAt);
        Assert.Equal(createdAt.UtcTicks, stored.CreatedAt.UtcTicks);
    }

    [Fact]
    public async Task An_api_key_without_user_ids_reads_back_null_user_ids()
    {
        await _keys.Create(Key("k1", "ada", DateTimeOffset.UnixEpoch, userIds: null));

        var stored = await _keys.Get("k1");

        Assert.NotNull(stored);
        Assert.Null(stored.UserIds);
        Assert.Null(await _keys.Get("missing"));
    }

    [Fact]
    public async Task Api_keys_are_listed_newest_first_for_one_owner_or_for_everyone()
    {
        var t0 = new DateTimeOffset(2025, 1, 1, 12, 0, 0, TimeSpan.Zero);
        await _keys.Create(Key("old", "ada", t0));
        // Earlier in local terms, later as an instant: ordering must use the instant.
        await _keys.Create(Key("new", "ada", t0.AddHours(3).ToOffset(TimeSpan.FromHours(-8))));
        await _keys.Create(Key("mid", "bob", t0.AddHours(1)));

        Assert.Equal(["new", "old"], (await _keys.List("ada")).Select(k => k.Id));
        Assert.Equal(["new", "mid", "old"], (await _keys.List(null)).Select(k => k.Id));
        Assert.Empty(await _keys.List("nobody"));
    }

    [Fact]
    public async Task Creating_an_api_key_with_an_existing_id_is_rejected()
    {
        await _keys.Create(Key("dup", "ada", DateTimeOffset.UnixEpoch));

        await Assert.ThrowsAsync<InvalidOperationException>(() => _keys.Create(Key("dup", "bob", DateTimeOffset.UnixEpoch)));
    }

    [Fact]
    public async Task Deleting_an_api_key_returns_true_once_and_then_false()
    {
        await _keys.Create(Key("gone", "ada", DateTimeOffset.UnixEpoch));

        Assert.True(await _keys.Delete("gone"));
        Assert.False(await _keys.Delete("gone"));
        Assert.Null(await _keys.Get("gone"));
    }

    // ---- durability ----

    [Fact]
    public async Task Data_survives_reopening_a_new_database_on_the_same_file()
    {
        await _directory.UpsertPerson(Person("ada", "Ada", team: "eng"));
        await _directory.UpsertTeam(new Team("eng", "Engineering", "ada"));
        await _accounts.UpsertAccount(new Account("ada", [Roles.Admin], PasswordHasher.Hash("pw", 10)));
        await _keys.Create(Key("k", "ada", DateTimeOffset.UnixEpoch));
        SqliteConnection.ClearAllPools();

        var reopened = new SqliteDatabase(_path);
        var directory = new SqliteDirectoryStore(reopened);
        var accounts = new SqliteAccountStore(reopened);
        var keys = new SqliteApiKeyStore(reopened);

        AssertSamePerson(Person("ada", "Ada", team: "eng"), await directory.GetPerson("ada"));
        Assert.Equal(new Team("eng", "Engineering", "ada"), await directory.GetTeam("eng"));
        var account = await accounts.GetAccount("ada");
        Assert.NotNull(account?.Password);
        Assert.True(PasswordHasher.Verify("pw", account.Password));
        Assert.Equal("ada", (await keys.Get("k"))?.OwnerId);
    }

    [Fact]
    public async Task Many_openers_migrating_an_old_accounts_table_at_once_add_each_column_exactly_once()
    {
        // Several silos of one process (or several processes) open the same file at once; each store
        // adds the SCRAM-SHA-1 columns to an accounts table created before they existed. Before the
        // migration ran in one immediate transaction, two of them could both add a column and one
        // failed with "duplicate column name".
        for (var round = 0; round < 20; round++)
        {
            var path = Path.Combine(Path.GetTempPath(), $"herald-migrate-{Guid.NewGuid():N}.db");
            try
            {
                var seed = new SqliteDatabase(path);
                seed.EnsureSchema("CREATE TABLE accounts (user_id TEXT PRIMARY KEY NOT NULL, roles TEXT NOT NULL, pw_iterations INTEGER NULL, pw_salt BLOB NULL, pw_hash BLOB NULL);");
                using var start = new Barrier(6);
                var openers = Enumerable.Range(0, 6).Select(_ => Task.Factory.StartNew(() =>
                {
                    var db = new SqliteDatabase(path);
                    start.SignalAndWait(TimeSpan.FromSeconds(10));
                    return new SqliteAccountStore(db);
                }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();
                var stores = await Task.WhenAll(openers);

                await stores[0].UpsertAccount(new Account("ada", [Roles.Admin], PasswordHasher.Hash("pw", 10)));
                Assert.NotNull((await stores[5].GetAccount("ada"))?.Password);
            }
            finally
            {
                SqliteConnection.ClearAllPools();
                foreach (var file in new[] { path, path + "-wal", path + "-shm" })
                {
                    File.Delete(file);
                }
            }
        }
    }

    // ---- PasswordHasher ----

    [Fact]
    public void A_hashed_password_verifies_and_a_wrong_one_does_not()
    {
        var credential = PasswordHasher.Hash("correct horse", 100);

        Assert.Equal(100, credential.Iterations);
        Assert.Equal(16, credential.Salt.Length);
        Assert.Equal(32, credential.Hash.Length);
        Assert.True(PasswordHasher.Verify("correct horse", credential));
        Assert.False(PasswordHasher.Verify("Correct horse", credential));
        Assert.False(PasswordHasher.Verify("", credential));
    }

    [Fact]
    public void Hashing_the_same_password_twice_uses_different_salts()
    {
        var a = PasswordHasher.Hash("pw", 10);
        var b = PasswordHasher.Hash("pw", 10);

        Assert.NotEqual(a.Salt, b.Salt);
        Assert.NotEqual(a.Hash, b.Hash);
    }

    [Fact]
    public void A_credential_with_a_different_iteration_count_does_not_verify()
    {
        var credential = PasswordHasher.Hash("pw", 10);

        Assert.False(PasswordHasher.Verify("pw", credential with { Iterations = 11 }));
        Assert.False(PasswordHasher.Verify("pw", credential with { Iterations = 0 }));
    }

    [Fact]
    public void Hashing_with_fewer_than_one_iteration_is_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => PasswordHasher.Hash("pw", 0));
    }

    // ---- ApiKeys ----

    [Fact]
    public void A_generated_key_parses_back_to_its_id_and_a_matching_secret()
    {
        var (id, key, hash) = ApiKeys.Generate();

        Assert.StartsWith("hk_", key, StringComparison.Ordinal);
        Assert.Equal(12, id.Length);
        Assert.Equal(32, hash.Length);
        Assert.True(ApiKeys.TryParse(key, out var parsedId, out var secret));
        Assert.Equal(id, parsedId);
        Assert.DoesNotContain('_', parsedId);
        Assert.DoesNotContain('_', secret);
        Assert.True(ApiKeys.Matches(secret, hash));
        Assert.Equal(hash, ApiKeys.HashSecret(secret));
    }

    [Fact]
    public void Generated_keys_are_unique_and_a_wrong_secret_does_not_match()
    {
        var first = ApiKeys.Generate();
        var second = ApiKeys.Generate();
        Assert.True(ApiKeys.TryParse(second.key, out _, out var secondSecret));

        Assert.NotEqual(first.id, second.id);
        Assert.NotEqual(first.key, second.key);
        Assert.False(ApiKeys.Matches(secondSecret, first.secretHash));
        Assert.False(ApiKeys.Matches(secondSecret, []));
    }

    [Theory]
    [InlineData("")]
    [InlineData("hk_")]
    [InlineData("hk__")]
    [InlineData("nope")]
    [InlineData("hk_0123456789ab")]
    [InlineData("hk_0123456789ab_")]
    [InlineData("xx_0123456789ab_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    [InlineData("HK_0123456789ab_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    [InlineData("hk_0123456789AB_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    [InlineData("hk_0123456789ab-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    [InlineData("hk_0123456789a_b0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    [InlineData("hk_0123456789ab_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde")]
    [InlineData("hk_0123456789ab_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0")]
    [InlineData("hk_0123456789ab_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde_")]
    [InlineData("hk_0123456789ab_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg")]
    [InlineData(" hk_0123456789ab_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde")]
    public void Parsing_rejects_a_malformed_key(string key)
    {
        Assert.False(ApiKeys.TryParse(key, out var id, out var secret));
        Assert.Equal(string.Empty, id);
        Assert.Equal(string.Empty, secret);
    }

    [Fact]
    public void Parsing_accepts_a_well_formed_key()
    {
        const string key = "hk_0123456789ab_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

        Assert.True(ApiKeys.TryParse(key, out var id, out var secret));
        Assert.Equal("0123456789ab", id);
        Assert.Equal("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", secret);
    }

    [Fact]
    public void Parsing_rejects_a_null_key()
    {
        Assert.False(ApiKeys.TryParse(null!, out _, out _));
    }

    // ---- helpers ----

    private static PersonProfile Person(string id, string name, string? team = null, string? email = null) =>
        new(id, name, email ?? $"{id}@example.com", team, null, "America/New_York", WorkHours.Default,
            [new ContactMethod(ContactKind.Chat, $"@{id}")]);

    private static ApiKeyRecord Key(string id, string owner, DateTimeOffset createdAt, IReadOnlyList<string>? userIds = null) =>
        new(id, owner, $"key {id}", ["route"], userIds, ApiKeys.HashSecret(id), createdAt);

    private static string[] Ids(IEnumerable<PersonProfile> people) => people.Select(p => p.Id).ToArray();

    private static void AssertSamePerson(PersonProfile expected, PersonProfile? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.Id, actual.Id);
        Assert.Equal(expected.DisplayName, actual.DisplayName);
        Assert.Equal(expected.Email, actual.Email);
        Assert.Equal(expected.Team, actual.Team);
        Assert.Equal(expected.Manager, actual.Manager);
        Assert.Equal(expected.TimeZone, actual.TimeZone);
        if (expected.WorkHours is null)
        {
            Assert.Null(actual.WorkHours);
        }
        else
        {
            Assert.NotNull(actual.WorkHours);
            Assert.Equal(expected.WorkHours.Days, actual.WorkHours.Days);
            Assert.Equal(expected.WorkHours.Start, actual.WorkHours.Start);
            Assert.Equal(expected.WorkHours.End, actual.WorkHours.End);
        }
        Assert.Equal(expected.ContactMethods, actual.ContactMethods);
    }
}
