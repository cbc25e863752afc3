using System.Text.Json;
using Herald.Cluster.Presence;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace Herald.Cluster.Huddles;

/// <summary>
/// One huddle. The state is durable; live events are best effort (a client that missed one reads the huddle with
/// GET). Each person is sent the huddle only as they may see it: the requester gets the invitees and their answers,
/// an invitee the topic, the requester and the counts.
/// </summary>
public sealed partial class HuddleGrain : Grain, IHuddleGrain
{
    private static readonly JsonSerializerOptions EventJson = new(JsonSerializerDefaults.Web);

    private readonly IPersistentState<HuddleState> _state;
    private readonly TimeProvider _time;
    private readonly ILogger<HuddleGrain> _logger;
    private IGrainTimer? _expiryTimer;

    /// <summary>Creates the grain.</summary>
    public HuddleGrain([PersistentState("huddle", HeraldStorage.ProviderName)] IPersistentState<HuddleState> state,
        TimeProvider time, ILogger<HuddleGrain> logger)
    {
        _state = state;
        _time = time;
        _logger = logger;
    }

    private string Id => this.GetPrimaryKeyString();

    private HuddleState S => _state.State;

    private bool Exists => S.Requester is not null;

    /// <inheritdoc />
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (Exists && !S.ExpiryAnnounced)
        {
            ScheduleExpiry(); // a reactivated open huddle still announces its expiry (at once if already due)
        }
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task<HuddleRequesterView> Create(NewHuddle huddle)
    {
        ArgumentNullException.ThrowIfNull(huddle);
        if (Exists)
        {
            throw new InvalidOperationException($"huddle '{Id}' already exists");
        }
        var now = _time.GetUtcNow();
        _state.State = new HuddleState
        {
            Requester = huddle.Requester,
            Topic = huddle.Topic,
            Invitees = [.. huddle.Invitees],
            Skipped = huddle.Skipped,
            MinAccepts = huddle.MinAccepts,
            CreatedAt = now,
            ExpiresAt = huddle.ExpiresAt,
        };
        // Listed first: a huddle whose grain is not active when it expires is found by the sweep.
        await GrainFactory.GetGrain<IOpenHuddlesGrain>(OpenHuddlesGrain.Key).Register(Id, huddle.ExpiresAt);
        await _state.WriteStateAsync();
        ScheduleExpiry();
        await Send(S.Invitees.Select(i => Event(i.UserId, HuddleEvents.Invited)).ToList());
        return RequesterView();
    }

    /// <inheritdoc />
    public async Task<HuddleRespondResult> Respond(string userId, bool accept)
    {
        if (!Exists)
        {
            return new HuddleRespondResult(HuddleRespondOutcome.NotFound, null);
        }
        if (userId == S.Requester!.UserId)
        {
            return new HuddleRespondResult(HuddleRespondOutcome.Forbidden, null);
        }
        if (!IsInvitee(userId))
        {
            return new HuddleRespondResult(HuddleRespondOutcome.NotFound, null);
        }
        if (IsExpired)
        {
            await AnnounceExpiry();
            return new HuddleRespondResult(HuddleRespondOutcome.Expired, null);
        }
        var answer = accept ? HuddleResponses.Accepted : HuddleResponses.Declined;
        if (!S.Responses.TryGetValue(userId, out var previous) || previous != answer)
        {
            S.Responses[userId] = answer;
            try
            {
                await _state.WriteStateAsync();
            }
            catch
            {
                RestoreResponse(userId, previous);
                throw;
            }
            await Send(Everyone().Select(p => Event(p, HuddleEvents.Updated)).ToList());
        }
        return new HuddleRespondResult(HuddleRespondOutcome.Recorded, ViewFor(userId));
    }

    /// <inheritdoc />
    public async Task<HuddleView?> Get(string viewerId)
    {
        if (!Exists || (viewerId != S.Requester!.UserId && !IsInvitee(viewerId)))
        {
            return null;
        }
        if (IsExpired && !S.ExpiryAnnounced)
        {
            await AnnounceExpiry();
        }
        return ViewFor(viewerId);
    }

    private bool IsExpired => S.ExpiryAnnounced || _time.GetUtcNow() >= S.ExpiresAt;

    private string Status => IsExpired ? "expired" : "open";

    private bool IsInvitee(string userId) => S.Invitees.Exists(i => i.UserId == userId);

    private IEnumerable<string> Everyone() => S.Invitees.Select(i => i.UserId).Prepend(S.Requester!.UserId);

    private int Count(string answer) => S.Responses.Values.Count(v => v == answer);

    private void RestoreResponse(string userId, string? previous)
    {
        if (previous is null)
        {
            S.Responses.Remove(userId);
        }
        else
        {
            S.Responses[userId] = previous;
        }
    }

    private HuddleView ViewFor(string viewerId) =>
        viewerId == S.Requester!.UserId ? new HuddleView(RequesterView(), null) : new HuddleView(null, InviteeView(viewerId));

    private HuddleRequesterView RequesterView()
    {
        var accepted = Count(HuddleResponses.Accepted);
        return new HuddleRequesterView(Id, S.Topic, Status, S.Requester!, [.. S.Invitees], S.Skipped, S.CreatedAt, S.ExpiresAt,
            new Dictionary<string, string>(S.Responses, StringComparer.Ordinal), accepted, Count(HuddleResponses.Declined),
            S.MinAccepts, accepted >= S.MinAccepts);
    }

    private HuddleInviteeView InviteeView(string inviteeId)
    {
        var accepted = Count(HuddleResponses.Accepted);
        return new HuddleInviteeView(Id, S.Topic, Status, S.Requester!, S.ExpiresAt, S.Invitees.Count, accepted,
            Count(HuddleResponses.Declined), S.MinAccepts, accepted >= S.MinAccepts, S.Responses.GetValueOrDefault(inviteeId));
    }

    /// <summary>An event for one person, carrying the huddle as that person may see it.</summary>
    private UserEvent Event(string userId, string type) =>
        new(userId, type, JsonSerializer.Serialize(new { type, huddle = ViewFor(userId).Body }, EventJson));

    /// <inheritdoc />
    public async Task<bool> Wake()
    {
        if (!Exists || S.ExpiryAnnounced)
        {
            return true;
        }
        if (_time.GetUtcNow() < S.ExpiresAt)
        {
            return false;
        }
        await AnnounceExpiry();
        return true;
    }

    private void ScheduleExpiry()
    {
        var delay = S.ExpiresAt - _time.GetUtcNow();
        if (delay < TimeSpan.Zero)
        {
            delay = TimeSpan.Zero;
        }
        _expiryTimer?.Dispose();
        // Kept alive until it fires (at most the longest huddle): the expiry must be announced.
        _expiryTimer = this.RegisterGrainTimer(
            _ => OnExpiryTimer(),
            new GrainTimerCreationOptions(delay, Timeout.InfiniteTimeSpan) { KeepAlive = true, Interleave = false });
    }

    private async Task OnExpiryTimer()
    {
        if (_time.GetUtcNow() < S.ExpiresAt)
        {
            ScheduleExpiry(); // fired early (clock adjusted): wait for the rest
            return;
        }
        await AnnounceExpiry();
    }

    private async Task AnnounceExpiry()
    {
        _expiryTimer?.Dispose();
        _expiryTimer = null;
        if (S.ExpiryAnnounced)
        {
            return;
        }
        S.ExpiryAnnounced = true;
        try
        {
            await _state.WriteStateAsync();
        }
        catch
        {
            S.ExpiryAnnounced = false;
            throw;
        }
        await Send(Everyone().Select(p => Event(p, HuddleEvents.Expired)).ToList());
    }

    /// <summary>
    /// Sends each event to the silos where its person is connected (one-way; a person connected nowhere simply
    /// reads the huddle later). Failures are logged, never fail the change that caused them.
    /// </summary>
    private async Task Send(IReadOnlyList<UserEvent> events)
    {
        if (events.Count == 0)
        {
            return;
        }
        try
        {
            var routes = await GrainFactory.GetGrain<IUserLocatorGrain>(UserLocatorGrain.Key)
                .Locate([.. events.Select(e => e.UserId).Distinct(StringComparer.Ordinal)]);
            var byUser = events.ToLookup(e => e.UserId, StringComparer.Ordinal);
            foreach (var route in routes)
            {
                foreach (var userId in route.UserIds)
                {
                    foreach (var e in byUser[userId])
                    {
                        _ = route.Observer.OnUserEvent(e);
                    }
                }
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogSendFailed(ex, Id);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not deliver the live events of huddle {HuddleId}")]
    private partial void LogSendFailed(Exception ex, string huddleId);
}
