using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Herald.Cluster.Storage;
using Herald.Core.Privacy;

namespace Herald.Cluster.Privacy;

/// <summary>
/// An <see cref="IOrgPolicyStore"/> kept as one JSON row in the <c>org_policy</c> table of a SQLite file.
/// </summary>
/// <remarks>
/// The policy is stored as camelCase JSON with enums (also as dictionary keys) written as their names and times of
/// day as <c>HH:mm:ss</c>. Every <see cref="Save"/> increments the version in the same statement that writes the
/// policy, so concurrent saves never share a version.
/// </remarks>
public sealed class SqliteOrgPolicyStore : IOrgPolicyStore
{
    /// <summary>The DDL for the policy table (idempotent).</summary>
    public const string SchemaDdl = """
        CREATE TABLE IF NOT EXISTS org_policy (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            version INTEGER NOT NULL,
            json TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        """;

    private const string SaveSql = """
        INSERT INTO org_policy (id, version, json, updated_at)
        VALUES (1, 1, $json, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
        ON CONFLICT (id) DO UPDATE SET
            version = org_policy.version + 1,
            json = excluded.json,
            updated_at = excluded.updated_at
        RETURNING version;
        """;

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(), new TimeOfDayConverter() },
    };

    private readonly SqliteDatabase _db;

    /// <summary>Creates the store and its table if it does not exist.</summary>
    /// <param name="db">The database holding the table.</param>
    public SqliteOrgPolicyStore(SqliteDatabase db)
    {
        ArgumentNullException.ThrowIfNull(db);
        _db = db;
        _db.EnsureSchema(SchemaDdl);
    }

    /// <inheritdoc />
    public async Task<(OrgPolicy Policy, long Version)> Get(CancellationToken ct = default)
    {
        ct.ThrowIfCancellationRequested();

        await using var connection = _db.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT version, json FROM org_policy WHERE id = 1;";
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            return (OrgPolicy.Default, 0);
        }

        var version = reader.GetInt64(0);
        var policy = JsonSerializer.Deserialize<OrgPolicy>(reader.GetString(1), JsonOptions)
            ?? throw new InvalidDataException($"The stored organization policy (version {version}) is null.");
        return (Complete(policy), version);
    }

    /// <inheritdoc />
    public async Task<long> Save(OrgPolicy policy, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(policy.Ceiling, nameof(policy));
        ArgumentNullException.ThrowIfNull(policy.Floor, nameof(policy));
        ArgumentNullException.ThrowIfNull(policy.SubscriptionDefaults, nameof(policy));
        ArgumentNullException.ThrowIfNull(policy.SubscriptionMinimum, nameof(policy));
        ArgumentNullException.ThrowIfNull(policy.DefaultWorkHours, nameof(policy));
        ct.ThrowIfCancellationRequested();

        var json = JsonSerializer.Serialize(policy, JsonOptions);
        await using var connection = _db.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = SaveSql;
        command.Parameters.AddWithValue("$json", json);
        return Convert.ToInt64(await command.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture);
    }

    /// <summary>Fills members missing from the stored JSON (e.g. written by an older version) from the default policy.</summary>
    private static OrgPolicy Complete(OrgPolicy policy)
    {
        var fallback = OrgPolicy.Default;
        return policy with
        {
            Ceiling = policy.Ceiling ?? fallback.Ceiling,
            Floor = policy.Floor ?? fallback.Floor,
            SubscriptionDefaults = policy.SubscriptionDefaults ?? fallback.SubscriptionDefaults,
            SubscriptionMinimum = policy.SubscriptionMinimum ?? fallback.SubscriptionMinimum,
            DefaultWorkHours = policy.DefaultWorkHours ?? fallback.DefaultWorkHours,
        };
    }

    /// <summary>Writes <see cref="TimeOnly"/> as <c>HH:mm:ss</c> (with a fraction only when it has one); reads <c>HH:mm</c> too.</summary>
    private sealed class TimeOfDayConverter : JsonConverter<TimeOnly>
    {
        private static readonly string[] Formats = ["HH:mm:ss", "HH:mm", "HH:mm:ss.FFFFFFF"];

        public override TimeOnly Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var text = reader.GetString();
            if (text is null
                || !TimeOnly.TryParseExact(text, Formats, CultureInfo.InvariantCulture, DateTimeStyles.None, out var value))
            {
                throw new JsonException($"Invalid time of day '{text}'; expected HH:mm:ss.");
            }
            return value;
        }

        public override void Write(Utf8JsonWriter writer, TimeOnly value, JsonSerializerOptions options) =>
            writer.WriteStringValue(value.ToString(
                value.Ticks % TimeSpan.TicksPerSecond == 0 ? "HH:mm:ss" : "HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture));
    }
}
