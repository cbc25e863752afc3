using Microsoft.Data.Sqlite;

namespace Herald.Cluster.Storage;

/// <summary>
/// A shared handle to one SQLite database file. Every connection it opens has
/// <c>busy_timeout = 5000</c> and <c>synchronous = FULL</c>; the first connection also switches
/// the file to write-ahead logging (<c>journal_mode = WAL</c>), which is persistent in the file.
/// </summary>
/// <remarks>
/// Several stores (grain state, directory, accounts, audit) may share one file through one
/// instance: each calls <see cref="EnsureSchema"/> with its own idempotent DDL and then opens
/// short-lived connections with <see cref="Open"/>. The type is thread-safe.
/// </remarks>
public sealed class SqliteDatabase
{
    /// <summary>The busy timeout, in milliseconds, applied to every connection.</summary>
    public const int BusyTimeoutMilliseconds = 5000;

    private const string ConnectionPragmas = "PRAGMA busy_timeout = 5000; PRAGMA synchronous = FULL;";

    private readonly string _connectionString;
    private readonly Lock _walLock = new();
    private volatile bool _walEnabled;

    /// <summary>
    /// Creates a handle to the SQLite file at <paramref name="path"/>. The parent directory is
    /// created if it does not exist; the file itself is created on first <see cref="Open"/>.
    /// </summary>
    /// <param name="path">Path to the database file (relative paths are resolved against the current directory).</param>
    public SqliteDatabase(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        FilePath = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(FilePath);
        if (!string.IsNullOrEmpty(directory))
        {
            System.IO.Directory.CreateDirectory(directory);
        }

        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = FilePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
        }.ToString();
    }

    /// <summary>The absolute path of the database file.</summary>
    public string FilePath { get; }

    /// <summary>
    /// Opens a new connection with the per-connection pragmas applied. The caller owns (and must
    /// dispose) the returned connection.
    /// </summary>
    /// <exception cref="InvalidOperationException">The file could not be switched to WAL mode.</exception>
    public SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            connection.Open();
            using (var command = connection.CreateCommand())
            {
                command.CommandText = ConnectionPragmas;
                command.ExecuteNonQuery();
            }

            if (!_walEnabled)
            {
                EnableWal(connection);
            }

            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Executes <paramref name="ddl"/> (one or more statements) on a fresh connection. The DDL
    /// should be idempotent, e.g. <c>CREATE TABLE IF NOT EXISTS</c>.
    /// </summary>
    /// <param name="ddl">The schema statements to execute.</param>
    public void EnsureSchema(string ddl)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(ddl);
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = ddl;
        command.ExecuteNonQuery();
    }

    /// <summary>
    /// Adds each of <paramref name="columns"/> (a column definition such as <c>"x INTEGER NULL"</c>)
    /// to <paramref name="table"/> when the table does not have it yet. The check and the additions run
    /// in one <c>BEGIN IMMEDIATE</c> transaction, so several processes or silos opening the same file
    /// at once serialize on it instead of racing to add the same column twice.
    /// </summary>
    /// <param name="table">The table to migrate; it must already exist.</param>
    /// <param name="columns">Column definitions, name first.</param>
    public void EnsureColumns(string table, IReadOnlyList<string> columns)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(table);
        ArgumentNullException.ThrowIfNull(columns);
        using var connection = Open();
        using var transaction = connection.BeginTransaction(deferred: false);
        var existing = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        using (var info = connection.CreateCommand())
        {
            info.Transaction = transaction;
            info.CommandText = $"PRAGMA table_info({table});";
            using var reader = info.ExecuteReader();
            while (reader.Read())
            {
                existing.Add(reader.GetString(1));
            }
        }
        foreach (var column in columns)
        {
            if (!existing.Contains(column.Split(' ')[0]))
            {
                using var alter = connection.CreateCommand();
                alter.Transaction = transaction;
                alter.CommandText = $"ALTER TABLE {table} ADD COLUMN {column};";
                alter.ExecuteNonQuery();
            }
        }
        transaction.Commit();
    }

    private void EnableWal(SqliteConnection connection)
    {
        lock (_walLock)
        {
            if (_walEnabled)
            {
                return;
            }

            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA journal_mode = WAL;";
            var mode = command.ExecuteScalar() as string;
            if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException(
                    $"Could not enable WAL journal mode on SQLite database '{FilePath}' (journal_mode is '{mode}').");
            }

            _walEnabled = true;
        }
    }
}
