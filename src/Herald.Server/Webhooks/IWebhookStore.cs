namespace Herald.Server.Webhooks;

/// <summary>
/// Webhooks, their durable outbox and their delivery log. <see cref="WebhookStore"/> keeps them in the embedded
/// SQLite file; <see cref="RedisWebhookStore"/> in the cluster's Redis, where the outbox is claimed by whichever
/// node dispatches first.
/// </summary>
public interface IWebhookStore
{
    /// <summary>Inserts a webhook.</summary>
    Task Create(WebhookRecord w, CancellationToken ct);

    /// <summary>One webhook, or null.</summary>
    Task<WebhookRecord?> Get(string id, CancellationToken ct);

    /// <summary>The webhooks of <paramref name="ownerId"/>, or all when null, oldest first.</summary>
    Task<IReadOnlyList<WebhookRecord>> List(string? ownerId, CancellationToken ct);

    /// <summary>Number of webhooks of <paramref name="ownerId"/>.</summary>
    Task<int> Count(string ownerId, CancellationToken ct);

    /// <summary>Deletes a webhook with its outbox and log; false when it did not exist.</summary>
    Task<bool> Delete(string id, CancellationToken ct);

    /// <summary>
    /// Queues an event. With a <paramref name="subject"/>, a pending event of the same webhook and subject is
    /// replaced (the new one inherits its due time and attempt count).
    /// </summary>
    Task Enqueue(string webhookId, string eventId, string type, string? subject, string body, long nowMs, CancellationToken ct);

    /// <summary>Pending events of enabled webhooks due at or before <paramref name="nowMs"/>, earliest first (claimed for this caller where several nodes dispatch).</summary>
    Task<IReadOnlyList<OutboxEvent>> Due(long nowMs, int limit, CancellationToken ct);

    /// <summary>The earliest due time of a pending event of an enabled webhook, or null.</summary>
    Task<long?> NextDue(CancellationToken ct);

    /// <summary>Records a successful attempt: the event leaves the outbox and the failure streak resets.</summary>
    Task Succeeded(OutboxEvent e, int statusCode, DateTimeOffset at, CancellationToken ct);

    /// <summary>Records a failed attempt; true when this disabled the webhook.</summary>
    Task<bool> Failed(OutboxEvent e, int? statusCode, string error, DateTimeOffset at, long nextDueMs, int disableAfter, CancellationToken ct);

    /// <summary>The newest delivery attempts of a webhook, newest first.</summary>
    Task<IReadOnlyList<DeliveryAttempt>> Deliveries(string webhookId, int limit, CancellationToken ct);
}
