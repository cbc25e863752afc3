using System.Globalization;
using System.Text.Json;
using Herald.Cluster.Storage;
using Microsoft.Data.Sqlite;

namespace Herald.Server.Webhooks;

/// <summary>A webhook subscription as stored (the secret is kept as-is: it is needed to sign).</summary>
public sealed record WebhookRecord(
    string Id,
    string OwnerId,
    string Url,
    string Secret,
    IReadOnlyList<string> UserIds,
    IReadOnlyList<string> Teams,
    IReadOnlyList<string> Events,
    DateTimeOffset CreatedAt,
    bool Disabled,
    int ConsecutiveFailures,
    DateTimeOffset? DisabledAt,
    string? LastError);

/// <summary>One queued event of the outbox.</summary>
public sealed record OutboxEvent(string EventId, string WebhookId, string Type, string? Subject, string Body, long DueAtMs, int Attempts);

/// <summary>One delivery attempt.</summary>
public sealed record DeliveryAttempt(string EventId, string Type, int Attempt, int? StatusCode, string? Error, bool Succeeded, DateTimeOffset At);

/// <summary>
/// Webhooks, their durable outbox and their delivery log in the shared SQLite file (tables <c>webhooks</c>,
/// <c>webhook_outbox</c>, <c>webhook_deliveries</c>). The outbox keeps at most one pending presence event per
/// (webhook, person): a newer one replaces it, keeping its due time and attempt count.
/// </summary>
public sealed class WebhookStore : IWebhookStore
{
    /// <summary>Delivery-log entries kept per webhook (older ones are pruned).</summary>
    public const int MaxLogEntries = 100;

    private const string SchemaDdl = """
        CREATE TABLE IF NOT EXISTS webhooks (
            id TEXT PRIMARY KEY NOT NULL,
            owner_id TEXT NOT NULL,
            url TEXT NOT NULL,
            secret TEXT NOT NULL,
            user_ids TEXT NOT NULL,
            teams TEXT NOT NULL,
            events TEXT NOT NULL,
            created_at TEXT NOT NULL,
            disabled INTEGER NOT NULL DEFAULT 0,
            consecutive_failures INTEGER NOT NULL DEFAULT 0,
            disabled_at TEXT NULL,
            last_error TEXT NULL
        );
        CREATE INDEX IF NOT EXISTS ix_webhooks_owner ON webhooks (owner_id);
        CREATE TABLE IF NOT EXISTS webhook_outbox (
            event_id TEXT PRIMARY KEY NOT NULL,
            webhook_id TEXT NOT NULL,
            type TEXT NOT NULL,
            subject TEXT NULL,
            body TEXT NOT NULL,
            due_at INTEGER NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX IF NOT EXISTS ix_webhook_outbox_due ON webhook_outbox (due_at);
        CREATE INDEX IF NOT EXISTS ix_webhook_outbox_subject ON webhook_outbox (webhook_id, subject);
        CREATE TABLE IF NOT EXISTS webhook_deliveries (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            webhook_id TEXT NOT NULL,
            event_id TEXT NOT NULL,
            type TEXT NOT NULL,
            attempt INTEGER NOT NULL,
            status_code INTEGER NULL,
            error TEXT NULL,
            succeeded INTEGER NOT NULL,
            at TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS ix_webhook_deliveries_hook ON webhook_deliveries (webhook_id, seq);
        """;

    private const string Columns = "id, owner_id, url, secret, user_ids, teams, events, created_at, disabled, consecutive_failures, disabled_at, last_error";

    private readonly SqliteDatabase _db;

    /// <summary>Creates the store and its tables if they do not exist.</summary>
    public WebhookStore(SqliteDatabase db)
    {
        ArgumentNullException.ThrowIfNull(db);
        _db = db;
        _db.EnsureSchema(SchemaDdl);
    }

    /// <summary>Inserts a webhook.</summary>
    public async Task Create(WebhookRecord w, CancellationToken ct)
    {
        await using var c = _db.Open();
        await using var cmd = c.CreateCommand();
        cmd.CommandText = $"INSERT INTO webhooks ({Columns}) VALUES ($id, $owner, $url, $secret, $users, $teams, $events, $created, 0, 0, NULL, NULL);";
        cmd.Parameters.AddWithValue("$id", w.Id);
        cmd.Parameters.AddWithValue("$owner", w.OwnerId);
        cmd.Parameters.AddWithValue("$url", w.Url);
        cmd.Parameters.AddWithValue("$secret", w.Secret);
        cmd.Parameters.AddWithValue("$users", JsonSerializer.Serialize(w.UserIds));
        cmd.Parameters.AddWithValue("$teams", JsonSerializer.Serialize(w.Teams));
        cmd.Parameters.AddWithValue("$events", JsonSerializer.Serialize(w.Events));
        cmd.Parameters.AddWithValue("$created", Iso(w.CreatedAt));
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>One webhook, or null.</summary>
    public async Task<WebhookRecord?> Get(string id, CancellationToken ct)
    {
        var list = await Query($"SELECT {Columns} FROM webhooks WHERE id = $p;", id, ct);
        return list.Count == 0 ? null : list[0];
    }

    /// <summary>The webhooks of <paramref name="ownerId"/>, or all when null, oldest first.</summary>
    public Task<IReadOnlyList<WebhookRecord>> List(string? ownerId, CancellationToken ct) => ownerId is null
        ? Query($"SELECT {Columns} FROM webhooks ORDER BY created_at, id;", null, ct)
        : Query($"SELECT {Columns} FROM webhooks WHERE owner_id = $p ORDER BY created_at, id;", ownerId, ct);

    /// <summary>Number of webhooks of <paramref name="ownerId"/>.</summary>
    public async Task<int> Count(string ownerId, CancellationToken ct)
    {
        await using var c = _db.Open();
        await using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT COUNT(*) FROM webhooks WHERE owner_id = $p;";
        cmd.Parameters.AddWithValue("$p", ownerId);
        return Convert.ToInt32(await cmd.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture);
    }

    /// <summary>Deletes a webhook with its outbox and log; false when it did not exist.</summary>
    public async Task<bool> Delete(string id, CancellationToken ct)
    {
        await using var c = _db.Open();
        await using var tx = c.BeginTransaction();
        await using var cmd = c.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = """
            DELETE FROM webhook_outbox WHERE webhook_id = $p;
            DELETE FROM webhook_deliveries WHERE webhook_id = $p;
            DELETE FROM webhooks WHERE id = $p;
            SELECT changes();
            """;
        cmd.Parameters.AddWithValue("$p", id);
        var n = Convert.ToInt32(await cmd.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture);
        await tx.CommitAsync(ct);
        return n > 0;
    }

    /// <summary>
    /// Queues an event. With a <paramref name="subject"/>, a pending event of the same webhook and subject is
    /// replaced (the new one inherits its due time and attempt count, so a failing receiver is not hammered).
    /// </summary>
    public async Task Enqueue(string webhookId, string eventId, string type, string? subject, string body, long nowMs, CancellationToken ct)
    {
        await using var c = _db.Open();
        await using var tx = c.BeginTransaction();
        long due = nowMs;
        var attempts = 0;
        if (subject is not null)
        {
            await using var find = c.CreateCommand();
            find.Transaction = tx;
            find.CommandText = "SELECT due_at, attempts FROM webhook_outbox WHERE webhook_id = $w AND subject = $s;";
            find.Parameters.AddWithValue("$w", webhookId);
            find.Parameters.AddWithValue("$s", subject);
            await using (var r = await find.ExecuteReaderAsync(ct))
            {
                while (await r.ReadAsync(ct))
                {
                    due = Math.Max(due, r.GetInt64(0));
                    attempts = Math.Max(attempts, r.GetInt32(1));
                }
            }
            await using var del = c.CreateCommand();
            del.Transaction = tx;
            del.CommandText = "DELETE FROM webhook_outbox WHERE webhook_id = $w AND subject = $s;";
            del.Parameters.AddWithValue("$w", webhookId);
            del.Parameters.AddWithValue("$s", subject);
            await del.ExecuteNonQueryAsync(ct);
        }
        await using var ins = c.CreateCommand();
        ins.Transaction = tx;
        ins.CommandText = """
            INSERT INTO webhook_outbox (event_id, webhook_id, type, subject, body, due_at, attempts)
            SELECT $e, $w, $t, $s, $b, $d, $a WHERE EXISTS (SELECT 1 FROM webhooks WHERE id = $w);
            """;
        ins.Parameters.AddWithValue("$e", eventId);
        ins.Parameters.AddWithValue("$w", webhookId);
        ins.Parameters.AddWithValue("$t", type);
        ins.Parameters.AddWithValue("$s", (object?)subject ?? DBNull.Value);
        ins.Parameters.AddWithValue("$b", body);
        ins.Parameters.AddWithValue("$d", due);
        ins.Parameters.AddWithValue("$a", attempts);
        await ins.ExecuteNonQueryAsync(ct);
        await tx.CommitAsync(ct);
    }

    /// <summary>Pending events of enabled webhooks due at or before <paramref name="nowMs"/>, earliest first.</summary>
    public async Task<IReadOnlyList<OutboxEvent>> Due(long nowMs, int limit, CancellationToken ct)
    {
        await using var c = _db.Open();
        await using var cmd = c.CreateCommand();
        cmd.CommandText = """
            SELECT o.event_id, o.webhook_id, o.type, o.subject, o.body, o.due_at, o.attempts FROM webhook_outbox o
            JOIN webhooks w ON w.id = o.webhook_id WHERE w.disabled = 0 AND o.due_at <= $now ORDER BY o.due_at, o.rowid LIMIT $limit;
            """;
        cmd.Parameters.AddWithValue("$now", nowMs);
        cmd.Parameters.AddWithValue("$limit", limit);
        var list = new List<OutboxEvent>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            list.Add(new OutboxEvent(r.GetString(0), r.GetString(1), r.GetString(2), r.IsDBNull(3) ? null : r.GetString(3), r.GetString(4), r.GetInt64(5), r.GetInt32(6)));
        }
        return list;
    }

    /// <summary>The earliest due time of a pending event of an enabled webhook, or null.</summary>
    public async Task<long?> NextDue(CancellationToken ct)
    {
        await using var c = _db.Open();
        await using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT MIN(o.due_at) FROM webhook_outbox o JOIN webhooks w ON w.id = o.webhook_id WHERE w.disabled = 0;";
        var v = await cmd.ExecuteScalarAsync(ct);
        return v is null or DBNull ? null : Convert.ToInt64(v, CultureInfo.InvariantCulture);
    }

    /// <summary>Records a successful attempt: the event leaves the outbox and the failure streak resets.</summary>
    public async Task Succeeded(OutboxEvent e, int statusCode, DateTimeOffset at, CancellationToken ct)
    {
        await using var c = _db.Open();
        await using var tx = c.BeginTransaction();
        await using var cmd = c.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = """
            DELETE FROM webhook_outbox WHERE event_id = $e;
            UPDATE webhooks SET consecutive_failures = 0, last_error = NULL WHERE id = $w;
            """;
        cmd.Parameters.AddWithValue("$e", e.EventId);
        cmd.Parameters.AddWithValue("$w", e.WebhookId);
        await cmd.ExecuteNonQueryAsync(ct);
        await Log(c, tx, e, statusCode, null, true, at, ct);
        await tx.CommitAsync(ct);
    }

    /// <summary>
    /// Records a failed attempt: the event is due again at <paramref name="nextDueMs"/>; the webhook is disabled when
    /// its failure streak reaches <paramref name="disableAfter"/>. Returns true when this disabled it.
    /// </summary>
    public async Task<bool> Failed(OutboxEvent e, int? statusCode, string error, DateTimeOffset at, long nextDueMs, int disableAfter, CancellationToken ct)
    {
        await using var c = _db.Open();
        await using var tx = c.BeginTransaction();
        await using var cmd = c.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = """
            UPDATE webhook_outbox SET attempts = attempts + 1, due_at = $due WHERE event_id = $e;
            UPDATE webhooks SET consecutive_failures = consecutive_failures + 1, last_error = $err WHERE id = $w;
            UPDATE webhooks SET disabled = 1, disabled_at = $at WHERE id = $w AND disabled = 0 AND consecutive_failures >= $max;
            SELECT changes();
            """;
        cmd.Parameters.AddWithValue("$e", e.EventId);
        cmd.Parameters.AddWithValue("$w", e.WebhookId);
        cmd.Parameters.AddWithValue("$due", nextDueMs);
        cmd.Parameters.AddWithValue("$err", error);
        cmd.Parameters.AddWithValue("$at", Iso(at));
        cmd.Parameters.AddWithValue("$max", disableAfter);
        var disabled = Convert.ToInt32(await cmd.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture) > 0;
        await Log(c, tx, e, statusCode, error, false, at, ct);
        await tx.CommitAsync(ct);
        return disabled;
    }

    /// <summary>The newest delivery attempts of a webhook, newest first.</summary>
    public async Task<IReadOnlyList<DeliveryAttempt>> Deliveries(string webhookId, int limit, CancellationToken ct)
    {
        await using var c = _db.Open();
        await using var cmd = c.CreateCommand();
        cmd.CommandText = """
            SELECT event_id, type, attempt, status_code, error, succeeded, at FROM webhook_deliveries
            WHERE webhook_id = $w ORDER BY seq DESC LIMIT $limit;
            """;
        cmd.Parameters.AddWithValue("$w", webhookId);
        cmd.Parameters.AddWithValue("$limit", limit);
        var list = new List<DeliveryAttempt>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            list.Add(new DeliveryAttempt(r.GetString(0), r.GetString(1), r.GetInt32(2), r.IsDBNull(3) ? null : r.GetInt32(3),
                r.IsDBNull(4) ? null : r.GetString(4), r.GetInt32(5) != 0, Parse(r.GetString(6))));
        }
        return list;
    }

    private static async Task Log(SqliteConnection c, SqliteTransaction tx, OutboxEvent e, int? statusCode, string? error, bool ok, DateTimeOffset at, CancellationToken ct)
    {
        await using var cmd = c.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = $"""
            INSERT INTO webhook_deliveries (webhook_id, event_id, type, attempt, status_code, error, succeeded, at)
            VALUES ($w, $e, $t, $n, $code, $err, $ok, $at);
            DELETE FROM webhook_deliveries WHERE webhook_id = $w AND seq <= (SELECT seq FROM webhook_deliveries WHERE webhook_id = $w ORDER BY seq DESC LIMIT 1 OFFSET {MaxLogEntries});
            """;
        cmd.Parameters.AddWithValue("$w", e.WebhookId);
        cmd.Parameters.AddWithValue("$e", e.EventId);
        cmd.Parameters.AddWithValue("$t", e.Type);
        cmd.Parameters.AddWithValue("$n", e.Attempts + 1);
        cmd.Parameters.AddWithValue("$code", (object?)statusCode ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$err", (object?)error ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$ok", ok ? 1 : 0);
        cmd.Parameters.AddWithValue("$at", Iso(at));
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private async Task<IReadOnlyList<WebhookRecord>> Query(string sql, string? p, CancellationToken ct)
    {
        await using var c = _db.Open();
        await using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        if (p is not null)
        {
            cmd.Parameters.AddWithValue("$p", p);
        }
        var list = new List<WebhookRecord>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            list.Add(new WebhookRecord(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3),
                JsonSerializer.Deserialize<string[]>(r.GetString(4)) ?? [], JsonSerializer.Deserialize<string[]>(r.GetString(5)) ?? [],
                JsonSerializer.Deserialize<string[]>(r.GetString(6)) ?? [], Parse(r.GetString(7)), r.GetInt32(8) != 0, r.GetInt32(9),
                r.IsDBNull(10) ? null : Parse(r.GetString(10)), r.IsDBNull(11) ? null : r.GetString(11)));
        }
        return list;
    }

    private static string Iso(DateTimeOffset t) => t.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture);

    private static DateTimeOffset Parse(string s) => DateTimeOffset.Parse(s, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
}
