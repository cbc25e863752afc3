using System.Globalization;
using Herald.Cluster.Storage;
using Microsoft.Data.Sqlite;

namespace Herald.Cluster.Directory;

/// <summary>
/// An <see cref="IAccountStore"/> kept in the <c>accounts</c> table of a SQLite file. Roles are stored
/// as a comma-separated list; the password columns are all null for an account without a password.
/// </summary>
public sealed class SqliteAccountStore : IAccountStore
{
    /// <summary>The DDL for the accounts table (idempotent).</summary>
    public const string SchemaDdl = """
        CREATE TABLE IF NOT EXISTS accounts (
            user_id TEXT PRIMARY KEY NOT NULL,
            roles TEXT NOT NULL,
            pw_iterations INTEGER NULL,
            pw_salt BLOB NULL,
            pw_hash BLOB NULL
        );
        """;

    /// <summary>Columns added later (SCRAM-SHA-1 keys); added to an existing table when missing.</summary>
    private static readonly string[] AddedColumns = ["sha1_iterations INTEGER NULL", "sha1_salt BLOB NULL", "sha1_stored_key BLOB NULL", "sha1_server_key BLOB NULL"];

    private const string UpsertSql = """
        INSERT INTO accounts (user_id, roles, pw_iterations, pw_salt, pw_hash, sha1_iterations, sha1_salt, sha1_stored_key, sha1_server_key)
        VALUES ($user_id, $roles, $pw_iterations, $pw_salt, $pw_hash, $sha1_iterations, $sha1_salt, $sha1_stored_key, $sha1_server_key)
        ON CONFLICT (user_id) DO UPDATE SET
            roles = excluded.roles,
            pw_iterations = excluded.pw_iterations,
            pw_salt = excluded.pw_salt,
            pw_hash = excluded.pw_hash,
            sha1_iterations = excluded.sha1_iterations,
            sha1_salt = excluded.sha1_salt,
            sha1_stored_key = excluded.sha1_stored_key,
            sha1_server_key = excluded.sha1_server_key;
        """;

    private readonly SqliteDatabase _db;

    /// <summary>Creates the store and its table if it does not exist.</summary>
    /// <param name="db">The database holding the table.</param>
    public SqliteAccountStore(SqliteDatabase db)
    {
        ArgumentNullException.ThrowIfNull(db);
        _db = db;
        _db.EnsureSchema(SchemaDdl);
        _db.EnsureColumns("accounts", AddedColumns);
    }

    /// <inheritdoc />
    public async Task<Account?> GetAccount(string userId, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(userId);
        ct.ThrowIfCancellationRequested();

        await using var connection = _db.Open();
        await using var command = connection.CreateCommand();
        command.CommandText =
            "SELECT user_id, roles, pw_iterations, pw_salt, pw_hash, sha1_iterations, sha1_salt, sha1_stored_key, sha1_server_key FROM accounts WHERE user_id = $user_id;";
        command.Parameters.AddWithValue("$user_id", userId);
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            return null;
        }

        var roles = reader.GetString(1).Split(',', StringSplitOptions.RemoveEmptyEntries);
        PasswordCredential? password = null;
        if (!reader.IsDBNull(2) && !reader.IsDBNull(3) && !reader.IsDBNull(4))
        {
            password = new PasswordCredential(
                reader.GetInt32(2), reader.GetFieldValue<byte[]>(3), reader.GetFieldValue<byte[]>(4));
        }
        ScramCredential? sha1 = null;
        if (!reader.IsDBNull(5) && !reader.IsDBNull(6) && !reader.IsDBNull(7) && !reader.IsDBNull(8))
        {
            sha1 = new ScramCredential(reader.GetInt32(5), reader.GetFieldValue<byte[]>(6), reader.GetFieldValue<byte[]>(7), reader.GetFieldValue<byte[]>(8));
        }
        return new Account(reader.GetString(0), roles, password) { ScramSha1 = sha1 };
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The user id is empty, or a role is empty or contains a comma.</exception>
    public async Task UpsertAccount(Account account, CancellationToken ct = default)
    {
        var roles = Validate(account);
        ct.ThrowIfCancellationRequested();

        await using var connection = _db.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = UpsertSql;
        Bind(command, account, roles);
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <inheritdoc />
    public async Task<bool> CreateFirstAccount(Account account, CancellationToken ct = default)
    {
        var roles = Validate(account);
        ct.ThrowIfCancellationRequested();

        // One statement: SQLite runs it under the database's write lock, so of several callers (nodes opening one
        // file at once) exactly one inserts.
        await using var connection = _db.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO accounts (user_id, roles, pw_iterations, pw_salt, pw_hash, sha1_iterations, sha1_salt, sha1_stored_key, sha1_server_key)
            SELECT $user_id, $roles, $pw_iterations, $pw_salt, $pw_hash, $sha1_iterations, $sha1_salt, $sha1_stored_key, $sha1_server_key
            WHERE NOT EXISTS (SELECT 1 FROM accounts);
            """;
        Bind(command, account, roles);
        return await command.ExecuteNonQueryAsync(ct) == 1;
    }

    private static IReadOnlyList<string> Validate(Account account)
    {
        ArgumentNullException.ThrowIfNull(account);
        ArgumentException.ThrowIfNullOrEmpty(account.UserId, nameof(account));
        var roles = account.Roles ?? [];
        foreach (var role in roles)
        {
            ArgumentException.ThrowIfNullOrEmpty(role, nameof(account));
            if (role.Contains(',', StringComparison.Ordinal))
            {
                throw new ArgumentException($"Role '{role}' must not contain a comma.", nameof(account));
            }
        }
        if (account.Password is { } credential)
        {
            ArgumentNullException.ThrowIfNull(credential.Salt, nameof(account));
            ArgumentNullException.ThrowIfNull(credential.Hash, nameof(account));
        }
        return roles;
    }

    private static void Bind(SqliteCommand command, Account account, IReadOnlyList<string> roles)
    {
        command.Parameters.AddWithValue("$user_id", account.UserId);
        command.Parameters.AddWithValue("$roles", string.Join(',', roles));
        command.Parameters.AddWithValue("$pw_iterations", (object?)account.Password?.Iterations ?? DBNull.Value);
        command.Parameters.AddWithValue("$pw_salt", (object?)account.Password?.Salt ?? DBNull.Value);
        command.Parameters.AddWithValue("$pw_hash", (object?)account.Password?.Hash ?? DBNull.Value);
        command.Parameters.AddWithValue("$sha1_iterations", (object?)account.ScramSha1?.Iterations ?? DBNull.Value);
        command.Parameters.AddWithValue("$sha1_salt", (object?)account.ScramSha1?.Salt ?? DBNull.Value);
        command.Parameters.AddWithValue("$sha1_stored_key", (object?)account.ScramSha1?.StoredKey ?? DBNull.Value);
        command.Parameters.AddWithValue("$sha1_server_key", (object?)account.ScramSha1?.ServerKey ?? DBNull.Value);
    }

    /// <inheritdoc />
    public async Task<bool> DeleteAccount(string userId, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(userId);
        ct.ThrowIfCancellationRequested();

        await using var connection = _db.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM accounts WHERE user_id = $user_id;";
        command.Parameters.AddWithValue("$user_id", userId);
        return await command.ExecuteNonQueryAsync(ct) > 0;
    }

    /// <inheritdoc />
    public async Task<int> CountAccounts(CancellationToken ct = default)
    {
        ct.ThrowIfCancellationRequested();

        await using var connection = _db.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM accounts;";
        return Convert.ToInt32(await command.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture);
    }
}
