using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Herald.Cluster.Directory;
using Herald.Cluster.Fanout;
using Herald.Cluster.Presence;
using Herald.Cluster.Storage;
using Herald.Core.Privacy;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace Herald.Server.Webhooks;

/// <summary>Event types and limits of webhooks.</summary>
public static class WebhookEvents
{
    /// <summary>A watched person's presence changed (data = the view the owner would see).</summary>
    public const string PresenceChanged = "presence.changed";

    /// <summary>The owner's huddle events (type = the event's own type, e.g. <c>huddle.invited</c>).</summary>
    public const string Huddle = "huddle";

    /// <summary>Sent by <c>POST /api/v1/webhooks/{id}/test</c>.</summary>
    public const string Test = "webhook.test";

    /// <summary>Most webhooks per owner.</summary>
    public const int MaxPerOwner = 20;

    /// <summary>Most people named per webhook.</summary>
    public const int MaxUserIds = 1000;

    /// <summary>Most teams named per webhook.</summary>
    public const int MaxTeams = 50;

    /// <summary>Longest URL.</summary>
    public const int MaxUrlLength = 2048;

    /// <summary>Consecutive failed attempts after which a webhook is disabled.</summary>
    public const int DisableAfterFailures = 10;

    /// <summary>Timeout of one delivery request.</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Longest retry delay (before jitter).</summary>
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(10);

    /// <summary>The name of the HTTP client used for deliveries.</summary>
    public const string HttpClientName = "herald-webhooks";

    /// <summary>Retry delay after the <paramref name="attempt"/>-th failed attempt: 2^n s capped at 10 min, ± 20 %.</summary>
    public static TimeSpan Backoff(int attempt)
    {
        var seconds = Math.Min(Math.Pow(2, Math.Clamp(attempt, 1, 30)), MaxBackoff.TotalSeconds);
        return TimeSpan.FromSeconds(seconds * (0.8 + (Random.Shared.NextDouble() * 0.4)));
    }
}

/// <summary>
/// Runs webhooks: keeps one <see cref="WebhookSink"/> per enabled webhook registered with the silo's
/// <see cref="SiloPresenceHub"/> (so views come from the same disclosure policy as the owner's own live
/// connections), writes what they receive into the durable outbox, and dispatches due events over HTTP with
/// exponential backoff. On start it re-attaches every webhook and resumes the outbox.
/// </summary>
public sealed partial class WebhookService(
    IWebhookStore store,
    SiloPresenceHub hub,
    IDirectoryStore directory,
    IHttpClientFactory http,
    TimeProvider time,
    IOptions<JsonOptions> json,
    ILogger<WebhookService> logger) : BackgroundService
{
    private readonly ConcurrentDictionary<string, WebhookSink> _sinks = new(StringComparer.Ordinal);
    private readonly Channel<PendingEvent> _incoming = Channel.CreateUnbounded<PendingEvent>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly Lock _wakeLock = new();

    /// <summary>Starts watching for <paramref name="webhook"/> (idempotent).</summary>
    public async Task Activate(WebhookRecord webhook, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(webhook);
        if (webhook.Disabled)
        {
            return;
        }
        var sink = new WebhookSink(webhook.Id, webhook.OwnerId, Offer, () => Now);
        if (!_sinks.TryAdd(webhook.Id, sink))
        {
            return;
        }
        if (webhook.Events.Contains(WebhookEvents.PresenceChanged))
        {
            var people = new HashSet<string>(webhook.UserIds, StringComparer.Ordinal);
            foreach (var team in webhook.Teams)
            {
                foreach (var p in await directory.SearchPeople(null, team, 10_000, ct))
                {
                    people.Add(p.Id);
                }
            }
            foreach (var id in people)
            {
                if (!_sinks.ContainsKey(webhook.Id))
                {
                    return; // deleted meanwhile
                }
                sink.BeginAttach(id);
                var current = await hub.Watch(sink, id);
                sink.Watching[id] = 0;
                sink.Seen(current);
            }
        }
        if (webhook.Events.Contains(WebhookEvents.Huddle))
        {
            await hub.Attach(sink);
        }
    }

    /// <summary>Stops watching for a webhook (deleted or disabled).</summary>
    public void Deactivate(string webhookId)
    {
        if (!_sinks.TryRemove(webhookId, out var sink))
        {
            return;
        }
        sink.Stopped = true;
        hub.Detach(sink);
        foreach (var id in sink.Watching.Keys)
        {
            hub.Unwatch(sink, id);
        }
    }

    /// <summary>Queues a <c>webhook.test</c> event; returns its id.</summary>
    public async Task<string> EnqueueTest(WebhookRecord webhook, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(webhook);
        var id = NewEventId();
        await Store(new PendingEvent(webhook.Id, id, WebhookEvents.Test, null,
            new { webhookId = webhook.Id, message = "This is a test event from Herald." }, time.GetUtcNow()), ct);
        return id;
    }

    internal DateTimeOffset Now => time.GetUtcNow();

    internal void Offer(PendingEvent e) => _incoming.Writer.TryWrite(e);

    internal static string NewEventId() => "evt_" + Guid.NewGuid().ToString("N");

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var writer = WriteLoop(stoppingToken);
        var dispatcher = DispatchLoop(stoppingToken);
        await AttachAll(stoppingToken);
        await Task.WhenAll(writer, dispatcher);
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        base.Dispose();
        _wake.Dispose();
    }

    private async Task AttachAll(CancellationToken ct)
    {
        IReadOnlyList<WebhookRecord> all;
        try
        {
            all = await store.List(null, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogAttachFailed(ex, "*");
            return;
        }
        foreach (var w in all)
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await Activate(w, ct);
                    break;
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                catch (Exception ex)
                {
                    Deactivate(w.Id);
                    LogAttachFailed(ex, w.Id);
                    if (attempt >= 5)
                    {
                        break;
                    }
                    await Task.Delay(TimeSpan.FromSeconds(attempt), ct); // real time: the silo is still starting
                }
            }
        }
    }

    private async Task WriteLoop(CancellationToken ct)
    {
        try
        {
            await foreach (var e in _incoming.Reader.ReadAllAsync(ct))
            {
                try
                {
                    await Store(e, ct);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogEnqueueFailed(ex, e.WebhookId);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // stopping
        }
    }

    private async Task Store(PendingEvent e, CancellationToken ct)
    {
        var body = JsonSerializer.Serialize(new { id = e.EventId, type = e.Type, occurredAt = e.OccurredAt, data = e.Data }, json.Value.SerializerOptions);
        await store.Enqueue(e.WebhookId, e.EventId, e.Type, e.Subject, body, time.GetUtcNow().ToUnixTimeMilliseconds(), ct);
        Wake();
    }

    private void Wake()
    {
        lock (_wakeLock)
        {
            if (_wake.CurrentCount == 0)
            {
                _wake.Release();
            }
        }
    }

    private async Task DispatchLoop(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                var now = time.GetUtcNow().ToUnixTimeMilliseconds();
                var due = await store.Due(now, 64, ct);
                if (due.Count > 0)
                {
                    await Task.WhenAll(due.GroupBy(e => e.WebhookId, StringComparer.Ordinal).Select(g => SendAll(g.Key, [.. g], ct)));
                    continue;
                }
                var next = await store.NextDue(ct);
                var wait = next is { } n ? TimeSpan.FromMilliseconds(Math.Clamp(n - now, 0, 60_000)) : TimeSpan.FromMinutes(1);
                await WaitAsync(wait, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogDispatchFailed(ex);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), ct);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>Waits (on the injected clock) for <paramref name="wait"/> or until an event is queued.</summary>
    private async Task WaitAsync(TimeSpan wait, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var delay = Task.Delay(wait, time, cts.Token);
        var woken = _wake.WaitAsync(cts.Token);
        await Task.WhenAny(delay, woken);
        await cts.CancelAsync();
        try
        {
            await Task.WhenAll(delay, woken);
        }
        catch (OperationCanceledException)
        {
            // the other one
        }
        ct.ThrowIfCancellationRequested();
    }

    /// <summary>Sends one webhook's due events in order; stops at its first failure (the rest wait for their turn).</summary>
    private async Task SendAll(string webhookId, List<OutboxEvent> events, CancellationToken ct)
    {
        var webhook = await store.Get(webhookId, ct);
        if (webhook is null || webhook.Disabled)
        {
            return;
        }
        foreach (var e in events)
        {
            if (!await Send(webhook, e, ct))
            {
                return;
            }
        }
    }

    private async Task<bool> Send(WebhookRecord webhook, OutboxEvent e, CancellationToken ct)
    {
        var at = time.GetUtcNow();
        int? status = null;
        string error;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, webhook.Url)
            {
                Content = new StringContent(e.Body, Encoding.UTF8, "application/json"),
            };
            request.Headers.TryAddWithoutValidation(WebhookSignature.Header, WebhookSignature.HeaderValue(webhook.Secret, at.ToUnixTimeSeconds(), e.Body));
            request.Headers.TryAddWithoutValidation(WebhookSignature.EventIdHeader, e.EventId);
            request.Headers.UserAgent.ParseAdd("Herald-Webhooks/1");
            var client = http.CreateClient(WebhookEvents.HttpClientName);
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                await store.Succeeded(e, status.Value, at, CancellationToken.None);
                return true;
            }
            error = $"HTTP {status}";
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (TaskCanceledException)
        {
            error = $"timed out after {WebhookEvents.RequestTimeout.TotalSeconds:0} s";
        }
        catch (HttpRequestException ex)
        {
            error = ex.Message;
        }
        var next = at + WebhookEvents.Backoff(e.Attempts + 1);
        if (await store.Failed(e, status, error, at, next.ToUnixTimeMilliseconds(), WebhookEvents.DisableAfterFailures, CancellationToken.None))
        {
            LogDisabled(webhook.Id, WebhookEvents.DisableAfterFailures);
            Deactivate(webhook.Id);
        }
        return false;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Re-attaching webhook {WebhookId} failed")]
    private partial void LogAttachFailed(Exception ex, string webhookId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Queuing an event for webhook {WebhookId} failed")]
    private partial void LogEnqueueFailed(Exception ex, string webhookId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The webhook dispatcher failed; retrying")]
    private partial void LogDispatchFailed(Exception ex);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook {WebhookId} disabled after {Failures} consecutive failures")]
    private partial void LogDisabled(string webhookId, int failures);
}

/// <summary>An event on its way into the outbox.</summary>
internal sealed record PendingEvent(string WebhookId, string EventId, string Type, string? Subject, object Data, DateTimeOffset OccurredAt);

/// <summary>
/// A webhook's presence sink: its watcher is the webhook's owner, so the hub hands it exactly the views the owner
/// would see. A view is queued for the outbox only when it is newer than the last one seen for that person
/// <em>and</em> differs from it in content: a re-broadcast of the same presence with a new sequence (a person grain
/// reactivated after a restart, a silo renewing its watch) is not a change and sends no <c>presence.changed</c>.
/// </summary>
public sealed class WebhookSink : IPresenceSink
{
    private readonly Action<PendingEvent> _offer;
    private readonly Func<DateTimeOffset> _now;
    private readonly Dictionary<string, PresenceView> _last = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PresenceView?> _attaching = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    internal WebhookSink(string webhookId, string ownerId, Action<PendingEvent> offer, Func<DateTimeOffset> now)
    {
        WebhookId = webhookId;
        WatcherId = ownerId;
        _offer = offer;
        _now = now;
    }

    /// <summary>The webhook.</summary>
    public string WebhookId { get; }

    /// <inheritdoc />
    public string WatcherId { get; }

    /// <summary>The people watched.</summary>
    public ConcurrentDictionary<string, byte> Watching { get; } = new(StringComparer.Ordinal);

    /// <summary>Set when the webhook was deleted or disabled.</summary>
    public bool Stopped { get; set; }

    /// <summary>
    /// Marks <paramref name="userId"/> as being attached: a view that arrives before the snapshot (<see cref="Seen"/>)
    /// is held back and compared with the snapshot, so neither a re-broadcast nor a real change is mistaken.
    /// </summary>
    internal void BeginAttach(string userId)
    {
        lock (_lock)
        {
            _attaching.TryAdd(userId, null);
        }
    }

    /// <summary>Records the snapshot at attach time (not an event), then offers a held-back view that differs from it.</summary>
    internal void Seen(PresenceView view)
    {
        PresenceView? held;
        lock (_lock)
        {
            _attaching.Remove(view.UserId, out held);
            if (!_last.TryGetValue(view.UserId, out var old) || view.Sequence > old.Sequence)
            {
                _last[view.UserId] = view;
            }
        }
        if (held is not null)
        {
            Deliver(held);
        }
    }

    /// <inheritdoc />
    public void Deliver(PresenceView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        if (Stopped)
        {
            return;
        }
        lock (_lock)
        {
            if (_attaching.TryGetValue(view.UserId, out var held))
            {
                if (held is null || view.Sequence > held.Sequence)
                {
                    _attaching[view.UserId] = view;
                }
                return; // compared with the snapshot in Seen
            }
            if (_last.TryGetValue(view.UserId, out var old))
            {
                if (view.Sequence <= old.Sequence)
                {
                    return; // older or repeated
                }
                _last[view.UserId] = view;
                if (view.SameContentAs(old))
                {
                    return; // same presence, new sequence: not a change
                }
            }
            else
            {
                _last[view.UserId] = view;
            }
        }
        _offer(new PendingEvent(WebhookId, WebhookService.NewEventId(), WebhookEvents.PresenceChanged, view.UserId, view, _now()));
    }

    /// <inheritdoc />
    public void DeliverEvent(UserEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (!Stopped)
        {
            _offer(new PendingEvent(WebhookId, WebhookService.NewEventId(), e.Type, null, JsonSerializer.Deserialize<JsonElement>(e.Json), _now()));
        }
    }
}
