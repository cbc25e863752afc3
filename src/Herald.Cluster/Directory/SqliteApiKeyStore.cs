using System.Globalization;
using System.Text.Json;
using Herald.Cluster.Storage;
using Microsoft.Data.Sqlite;

namespace Herald.Cluster.Directory;

/// <summary>
/// An <see cref="IApiKeyStore"/> kept in the <c>api_keys</c> table of a SQLite file. Scopes and user ids
/// are JSON arrays; the creation time is stored in UTC as an ISO 8601 round-trip string, so it sorts
/// chronologically as text (a key read back carries a zero offset).
/// </summary>
public sealed class SqliteApiKeyStore : IApiKeyStore
{
    /// <summary>The DDL for the API key table (idempotent).</summary>
    public const string SchemaDdl = """
        CREATE TABLE IF NOT EXISTS api_keys (
            id TEXT PRIMARY KEY NOT NULL,
            owner_id TEXT NOT NULL,
            name TEXT NOT NULL,
            scopes TEXT NOT NULL,
            user_ids TEXT NULL,
            secret_hash BLOB NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS ix_api_keys_owner ON api_keys (owner_id);
        """;

    private const string Columns = "id, owner_id, name, scopes, user_ids, secret_hash, created_at";

    /// <summary>SQLite's primary result code for constraint violations.</summary>
    private const int SqliteConstraint = 19;

    private readonly SqliteDatabase _db;

    /// <summary>Creates the store and its table if it does not exist.</summary>
    /// <param name="db">The database holding the table.</param>
    public SqliteApiKeyStore(SqliteDatabase db)
    {
        ArgumentNullException.ThrowIfNull(db);
        _db = db;
        _db.EnsureSchema(SchemaDdl);
    }

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">A key with the same id already exists.</exception>
    public async Task Create(ApiKeyRecord key, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentException.ThrowIfNullOrEmpty(key.Id, nameof(key));
        ArgumentNullException.ThrowIfNull(key.OwnerId, nameof(key));
        ArgumentNullException.ThrowIfNull(key.Name, nameof(key));
        ArgumentNullException.ThrowIfNull(key.SecretHash, nameof(key));
        ct.ThrowIfCancellationRequested();

        await using var connection = _db.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            INSERT INTO api_keys ({Columns})
            VALUES ($id, $owner_id, $name, $scopes, $user_ids, $secret_hash, $created_at);
            """;
        command.Parameters.AddWithValue("$id", key.Id);
        command.Parameters.AddWithValue("$owner_id", key.OwnerId);
        command.Parameters.AddWithValue("$name", key.Name);
        command.Parameters.AddWithValue("$scopes", JsonSerializer.Serialize(key.Scopes ?? []));
        command.Parameters.AddWithValue(
            "$user_ids", key.UserIds is null ? DBNull.Value : JsonSerializer.Serialize(key.UserIds));
        command.Parameters.AddWithValue("$secret_hash", key.SecretHash);
        command.Parameters.AddWithValue(
            "$created_at", key.CreatedAt.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture));
        try
        {
            await command.ExecuteNonQueryAsync(ct);
        }
        catch (SqliteException e) when (e.SqliteErrorCode == SqliteConstraint)
        {
            throw new InvalidOperationException($"An API key with id '{key.Id}' already exists.", e);
        }
    }

    /// <inheritdoc />
    public async Task<ApiKeyRecord?> Get(string id, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        ct.ThrowIfCancellationRequested();

        await using var connection = _db.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM api_keys WHERE id = $id;";
        command.Parameters.AddWithValue("$id", id);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? ReadKey(reader) : null;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<ApiKeyRecord>> List(string? ownerId, CancellationToken ct = default)
    {
        ct.ThrowIfCancellationRequested();

        await using var connection = _db.Open();
        await using var command = connection.CreateCommand();
        if (ownerId is null)
        {
            command.CommandText = $"SELECT {Columns} FROM api_keys ORDER BY created_at DESC, rowid DESC;";
        }
        else
        {
            command.CommandText =
                $"SELECT {Columns} FROM api_keys WHERE owner_id = $owner_id ORDER BY created_at DESC, rowid DESC;";
            command.Parameters.AddWithValue("$owner_id", ownerId);
        }

        var keys = new List<ApiKeyRecord>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            keys.Add(ReadKey(reader));
        }
        return keys;
    }

    /// <inheritdoc />
    public async Task<bool> Delete(string id, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        ct.ThrowIfCancellationRequested();

        await using var connection = _db.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM api_keys WHERE id = $id;";
        command.Parameters.AddWithValue("$id", id);
        return await command.ExecuteNonQueryAsync(ct) > 0;
    }

    /// <summary>Reads a row selected with <see cref="Columns"/>.</summary>
    private static ApiKeyRecord ReadKey(SqliteDataReader reader) =>
        new(
            reader.GetString(0),
            reader.GetString(1),
            reader.GetString(2),
            JsonSerializer.Deserialize<string[]>(reader.GetString(3)) ?? [],
            reader.IsDBNull(4) ? null : JsonSerializer.Deserialize<string[]>(reader.GetString(4)) ?? [],
            reader.GetFieldValue<byte[]>(5),
            DateTimeOffset.ParseExact(
                reader.GetString(6), "O", CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind));
}
