using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Herald.Cluster.Storage;
using Herald.Core.Model;
using Microsoft.Data.Sqlite;

namespace Herald.Cluster.Directory;

/// <summary>
/// An <see cref="IDirectoryStore"/> kept in the <c>people</c> and <c>teams</c> tables of a SQLite file.
/// Work hours and contact methods are stored as JSON; a lowercased copy of each person's id, display
/// name and e-mail backs the case-insensitive substring search.
/// </summary>
public sealed class SqliteDirectoryStore : IDirectoryStore
{
    /// <summary>The DDL for the directory tables (idempotent).</summary>
    public const string SchemaDdl = """
        CREATE TABLE IF NOT EXISTS people (
            id TEXT PRIMARY KEY NOT NULL,
            display_name TEXT NOT NULL,
            email TEXT NULL,
            team TEXT NULL,
            manager TEXT NULL,
            time_zone TEXT NOT NULL,
            work_hours TEXT NULL,
            contact_methods TEXT NOT NULL,
            search TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS ix_people_team ON people (team);
        CREATE TABLE IF NOT EXISTS teams (
            id TEXT PRIMARY KEY NOT NULL,
            name TEXT NOT NULL,
            manager TEXT NULL
        );
        """;

    /// <summary>Most ids bound in one <c>IN (...)</c> list.</summary>
    public const int MaxIdsPerQuery = 500;

    private const string PersonColumns =
        "id, display_name, email, team, manager, time_zone, work_hours, contact_methods";

    private const string InsertPersonSql = """
        INSERT INTO people (id, display_name, email, team, manager, time_zone, work_hours, contact_methods, search)
        VALUES ($id, $display_name, $email, $team, $manager, $time_zone, $work_hours, $contact_methods, $search)
        ON CONFLICT (id) DO NOTHING;
        """;

    private const string UpdatePersonSql = """
        UPDATE people SET display_name = $display_name, email = $email, team = $team, manager = $manager,
            time_zone = $time_zone, work_hours = $work_hours, contact_methods = $contact_methods, search = $search
        WHERE id = $id;
        """;

    private const string InsertTeamSql = """
        INSERT INTO teams (id, name, manager) VALUES ($id, $name, $manager)
        ON CONFLICT (id) DO NOTHING;
        """;

    private const string UpdateTeamSql = "UPDATE teams SET name = $name, manager = $manager WHERE id = $id;";

    /// <summary>Separates the fields of the search column so a match never spans two of them.</summary>
    private const char SearchSeparator = '\u001f';

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter(), new HourMinuteConverter() },
    };

    private readonly SqliteDatabase _db;

    /// <summary>Creates the store and its tables if they do not exist.</summary>
    /// <param name="db">The database holding the tables.</param>
    public SqliteDirectoryStore(SqliteDatabase db)
    {
        ArgumentNullException.ThrowIfNull(db);
        _db = db;
        _db.EnsureSchema(SchemaDdl);
    }

    /// <inheritdoc />
    public async Task<PersonProfile?> GetPerson(string id, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        ct.ThrowIfCancellationRequested();

        await using var connection = _db.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {PersonColumns} FROM people WHERE id = $id;";
        command.Parameters.AddWithValue("$id", id);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? ReadPerson(reader) : null;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<PersonProfile>> GetPeople(IReadOnlyCollection<string> ids, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ct.ThrowIfCancellationRequested();

        var distinct = ids.Where(id => id is not null).Distinct(StringComparer.Ordinal).ToArray();
        if (distinct.Length == 0)
        {
            return [];
        }

        var people = new List<PersonProfile>(distinct.Length);
        await using var connection = _db.Open();
        foreach (var chunk in distinct.Chunk(MaxIdsPerQuery))
        {
            await using var command = connection.CreateCommand();
            var sql = new StringBuilder($"SELECT {PersonColumns} FROM people WHERE id IN (");
            for (var i = 0; i < chunk.Length; i++)
            {
                var name = "$p" + i.ToString(CultureInfo.InvariantCulture);
                sql.Append(i == 0 ? name : "," + name);
                command.Parameters.AddWithValue(name, chunk[i]);
            }
            command.CommandText = sql.Append(");").ToString();

            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                people.Add(ReadPerson(reader));
            }
        }
        return people;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<PersonProfile>> SearchPeople(string? query, string? team, int limit, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        ct.ThrowIfCancellationRequested();
        if (limit == 0)
        {
            return [];
        }

        await using var connection = _db.Open();
        await using var command = connection.CreateCommand();
        var where = new List<string>(2);
        if (!string.IsNullOrEmpty(query))
        {
            where.Add(@"search LIKE $pattern ESCAPE '\'");
            command.Parameters.AddWithValue("$pattern", "%" + EscapeLike(query.ToLowerInvariant()) + "%");
        }
        if (team is not null)
        {
            where.Add("team = $team");
            command.Parameters.AddWithValue("$team", team);
        }
        command.CommandText =
            $"SELECT {PersonColumns} FROM people"
            + (where.Count == 0 ? string.Empty : " WHERE " + string.Join(" AND ", where))
            + " ORDER BY display_name COLLATE NOCASE, display_name, id LIMIT $limit;";
        command.Parameters.AddWithValue("$limit", limit);

        var people = new List<PersonProfile>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            people.Add(ReadPerson(reader));
        }
        return people;
    }

    /// <inheritdoc />
    public async Task<bool> UpsertPerson(PersonProfile person, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(person);
        return await UpsertPeople([person], ct) == 1;
    }

    /// <inheritdoc />
    public async Task<int> UpsertPeople(IReadOnlyList<PersonProfile> people, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(people);
        foreach (var person in people)
        {
            ValidatePerson(person);
        }
        ct.ThrowIfCancellationRequested();
        if (people.Count == 0)
        {
            return 0;
        }

        await using var connection = _db.Open();
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(ct);
        await using var insert = CreatePersonCommand(connection, transaction, InsertPersonSql);
        await using var update = CreatePersonCommand(connection, transaction, UpdatePersonSql);

        var created = 0;
        foreach (var person in people)
        {
            BindPerson(insert, person);
            if (await insert.ExecuteNonQueryAsync(ct) == 1)
            {
                created++;
                continue;
            }
            BindPerson(update, person);
            await update.ExecuteNonQueryAsync(ct);
        }

        await transaction.CommitAsync(ct);
        return created;
    }

    /// <inheritdoc />
    public async Task<bool> DeletePerson(string id, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        ct.ThrowIfCancellationRequested();

        await using var connection = _db.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM people WHERE id = $id;";
        command.Parameters.AddWithValue("$id", id);
        return await command.ExecuteNonQueryAsync(ct) > 0;
    }

    /// <inheritdoc />
    public async Task<int> CountPeople(CancellationToken ct = default)
    {
        ct.ThrowIfCancellationRequested();

        await using var connection = _db.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM people;";
        return Convert.ToInt32(await command.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture);
    }

    /// <inheritdoc />
    public async Task<Team?> GetTeam(string id, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        ct.ThrowIfCancellationRequested();

        await using var connection = _db.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, name, manager FROM teams WHERE id = $id;";
        command.Parameters.AddWithValue("$id", id);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? ReadTeam(reader) : null;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<Team>> ListTeams(CancellationToken ct = default)
    {
        ct.ThrowIfCancellationRequested();

        await using var connection = _db.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, name, manager FROM teams ORDER BY name COLLATE NOCASE, name, id;";
        var teams = new List<Team>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            teams.Add(ReadTeam(reader));
        }
        return teams;
    }

    /// <inheritdoc />
    public async Task<bool> UpsertTeam(Team team, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(team);
        return await UpsertTeams([team], ct) == 1;
    }

    /// <inheritdoc />
    public async Task<int> UpsertTeams(IReadOnlyList<Team> teams, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(teams);
        foreach (var team in teams)
        {
            ArgumentNullException.ThrowIfNull(team, nameof(teams));
            ArgumentException.ThrowIfNullOrEmpty(team.Id, nameof(teams));
            ArgumentNullException.ThrowIfNull(team.Name, nameof(teams));
        }
        ct.ThrowIfCancellationRequested();
        if (teams.Count == 0)
        {
            return 0;
        }

        await using var connection = _db.Open();
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(ct);
        await using var insert = CreateTeamCommand(connection, transaction, InsertTeamSql);
        await using var update = CreateTeamCommand(connection, transaction, UpdateTeamSql);

        var created = 0;
        foreach (var team in teams)
        {
            BindTeam(insert, team);
            if (await insert.ExecuteNonQueryAsync(ct) == 1)
            {
                created++;
                continue;
            }
            BindTeam(update, team);
            await update.ExecuteNonQueryAsync(ct);
        }

        await transaction.CommitAsync(ct);
        return created;
    }

    /// <inheritdoc />
    public async Task<bool> DeleteTeam(string id, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        ct.ThrowIfCancellationRequested();

        await using var connection = _db.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM teams WHERE id = $id;";
        command.Parameters.AddWithValue("$id", id);
        return await command.ExecuteNonQueryAsync(ct) > 0;
    }

    private static void ValidatePerson(PersonProfile person)
    {
        ArgumentNullException.ThrowIfNull(person, "people");
        ArgumentException.ThrowIfNullOrEmpty(person.Id, "people");
        ArgumentNullException.ThrowIfNull(person.DisplayName, "people");
        ArgumentNullException.ThrowIfNull(person.TimeZone, "people");
    }

    private static SqliteCommand CreatePersonCommand(SqliteConnection connection, SqliteTransaction transaction, string sql)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var name in (string[])["$id", "$display_name", "$email", "$team", "$manager", "$time_zone",
                     "$work_hours", "$contact_methods", "$search"])
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        }
        return command;
    }

    private static void BindPerson(SqliteCommand command, PersonProfile person)
    {
        var p = command.Parameters;
        p["$id"].Value = person.Id;
        p["$display_name"].Value = person.DisplayName;
        p["$email"].Value = (object?)person.Email ?? DBNull.Value;
        p["$team"].Value = (object?)person.Team ?? DBNull.Value;
        p["$manager"].Value = (object?)person.Manager ?? DBNull.Value;
        p["$time_zone"].Value = person.TimeZone;
        p["$work_hours"].Value = person.WorkHours is { } hours
            ? JsonSerializer.Serialize(new StoredWorkHours(hours.Days?.ToArray() ?? [], hours.Start, hours.End), JsonOptions)
            : DBNull.Value;
        p["$contact_methods"].Value = JsonSerializer.Serialize(
            (person.ContactMethods ?? []).Select(c => new StoredContact(c.Kind, c.Address)).ToArray(), JsonOptions);
        p["$search"].Value = string.Join(SearchSeparator, person.Id, person.DisplayName, person.Email ?? string.Empty)
            .ToLowerInvariant();
    }

    private static SqliteCommand CreateTeamCommand(SqliteConnection connection, SqliteTransaction transaction, string sql)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.Parameters.Add(new SqliteParameter { ParameterName = "$id" });
        command.Parameters.Add(new SqliteParameter { ParameterName = "$name" });
        command.Parameters.Add(new SqliteParameter { ParameterName = "$manager" });
        return command;
    }

    private static void BindTeam(SqliteCommand command, Team team)
    {
        command.Parameters["$id"].Value = team.Id;
        command.Parameters["$name"].Value = team.Name;
        command.Parameters["$manager"].Value = (object?)team.Manager ?? DBNull.Value;
    }

    /// <summary>Reads a row selected with <see cref="PersonColumns"/>.</summary>
    private static PersonProfile ReadPerson(SqliteDataReader reader)
    {
        WorkHours? workHours = null;
        if (!reader.IsDBNull(6)
            && JsonSerializer.Deserialize<StoredWorkHours>(reader.GetString(6), JsonOptions) is { } stored)
        {
            workHours = new WorkHours(stored.Days ?? [], stored.Start, stored.End);
        }

        var contacts = JsonSerializer.Deserialize<StoredContact[]>(reader.GetString(7), JsonOptions) ?? [];
        return new PersonProfile(
            reader.GetString(0),
            reader.GetString(1),
            reader.IsDBNull(2) ? null : reader.GetString(2),
            reader.IsDBNull(3) ? null : reader.GetString(3),
            reader.IsDBNull(4) ? null : reader.GetString(4),
            reader.GetString(5),
            workHours,
            contacts.Select(c => new ContactMethod(c.Kind, c.Address)).ToArray());
    }

    private static Team ReadTeam(SqliteDataReader reader) =>
        new(reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2));

    /// <summary>Escapes LIKE wildcards with <c>\</c> (the query uses <c>ESCAPE '\'</c>).</summary>
    private static string EscapeLike(string value) =>
        value.Replace(@"\", @"\\", StringComparison.Ordinal)
            .Replace("%", @"\%", StringComparison.Ordinal)
            .Replace("_", @"\_", StringComparison.Ordinal);

    /// <summary>The stored JSON shape of <see cref="WorkHours"/>.</summary>
    private sealed record StoredWorkHours(DayOfWeek[] Days, TimeOnly Start, TimeOnly End);

    /// <summary>The stored JSON shape of <see cref="ContactMethod"/>.</summary>
    private sealed record StoredContact(ContactKind Kind, string Address);

    /// <summary>Writes <see cref="TimeOnly"/> as <c>HH:mm</c> (<c>HH:mm:ss</c> when it has seconds); reads either.</summary>
    private sealed class HourMinuteConverter : JsonConverter<TimeOnly>
    {
        private static readonly string[] Formats = ["HH:mm", "HH:mm:ss", "HH:mm:ss.FFFFFFF"];

        public override TimeOnly Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var text = reader.GetString();
            if (text is null
                || !TimeOnly.TryParseExact(text, Formats, CultureInfo.InvariantCulture, DateTimeStyles.None, out var value))
            {
                throw new JsonException($"Invalid time of day '{text}'; expected HH:mm.");
            }
            return value;
        }

        public override void Write(Utf8JsonWriter writer, TimeOnly value, JsonSerializerOptions options)
        {
            var format = value.Ticks % TimeSpan.TicksPerMinute == 0
                ? "HH:mm"
                : value.Ticks % TimeSpan.TicksPerSecond == 0 ? "HH:mm:ss" : "HH:mm:ss.FFFFFFF";
            writer.WriteStringValue(value.ToString(format, CultureInfo.InvariantCulture));
        }
    }
}
