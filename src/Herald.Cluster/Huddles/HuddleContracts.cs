namespace Herald.Cluster.Huddles;

/// <summary>A person as a huddle names them.</summary>
[GenerateSerializer, Immutable, Alias("herald.HuddlePerson")]
public sealed record HuddlePerson([property: Id(0)] string UserId, [property: Id(1)] string DisplayName);

/// <summary>
/// A huddle to open: the invitees were already chosen as the people the requester may see as Available now;
/// <see cref="Skipped"/> is only a count (never who, never why).
/// </summary>
[GenerateSerializer, Immutable, Alias("herald.NewHuddle")]
public sealed record NewHuddle(
    [property: Id(0)] HuddlePerson Requester,
    [property: Id(1)] string Topic,
    [property: Id(2)] IReadOnlyList<HuddlePerson> Invitees,
    [property: Id(3)] int Skipped,
    [property: Id(4)] int MinAccepts,
    [property: Id(5)] DateTimeOffset ExpiresAt);

/// <summary>
/// The huddle as its requester sees it: who was invited and how each answered, and how many candidates were
/// skipped as not available.
/// </summary>
[GenerateSerializer, Immutable, Alias("herald.HuddleRequesterView")]
public sealed record HuddleRequesterView(
    [property: Id(0)] string Id,
    [property: Id(1)] string Topic,
    [property: Id(2)] string Status,
    [property: Id(3)] HuddlePerson Requester,
    [property: Id(4)] IReadOnlyList<HuddlePerson> Invited,
    [property: Id(5)] int Skipped,
    [property: Id(6)] DateTimeOffset CreatedAt,
    [property: Id(7)] DateTimeOffset ExpiresAt,
    [property: Id(8)] IReadOnlyDictionary<string, string> Responses,
    [property: Id(9)] int Accepted,
    [property: Id(10)] int Declined,
    [property: Id(11)] int MinAccepts,
    [property: Id(12)] bool Met);

/// <summary>
/// The huddle as an invitee sees it: the topic, the requester and the counts, and their own answer; never the
/// other invitees, nor how many were skipped.
/// </summary>
[GenerateSerializer, Immutable, Alias("herald.HuddleInviteeView")]
public sealed record HuddleInviteeView(
    [property: Id(0)] string Id,
    [property: Id(1)] string Topic,
    [property: Id(2)] string Status,
    [property: Id(3)] HuddlePerson Requester,
    [property: Id(4)] DateTimeOffset ExpiresAt,
    [property: Id(5)] int InvitedCount,
    [property: Id(6)] int Accepted,
    [property: Id(7)] int Declined,
    [property: Id(8)] int MinAccepts,
    [property: Id(9)] bool Met,
    [property: Id(10)] string? MyResponse);

/// <summary>A huddle as one person may see it: exactly one of the two is set.</summary>
[GenerateSerializer, Immutable, Alias("herald.HuddleView")]
public sealed record HuddleView([property: Id(0)] HuddleRequesterView? AsRequester, [property: Id(1)] HuddleInviteeView? AsInvitee)
{
    /// <summary>The view to serialize.</summary>
    public object Body => (object?)AsRequester ?? AsInvitee!;
}

/// <summary>How a response was taken.</summary>
public enum HuddleRespondOutcome
{
    /// <summary>Recorded (or unchanged).</summary>
    Recorded,
    /// <summary>No such huddle, or the person is not invited (indistinguishable on purpose).</summary>
    NotFound,
    /// <summary>The requester cannot answer their own huddle.</summary>
    Forbidden,
    /// <summary>The huddle has expired.</summary>
    Expired,
}

/// <summary>The outcome of a response and, when recorded, the huddle as the responder now sees it.</summary>
[GenerateSerializer, Immutable, Alias("herald.HuddleRespondResult")]
public sealed record HuddleRespondResult([property: Id(0)] HuddleRespondOutcome Outcome, [property: Id(1)] HuddleView? View);

/// <summary>Response values as stored and shown.</summary>
public static class HuddleResponses
{
    /// <summary>The invitee accepted.</summary>
    public const string Accepted = "accepted";

    /// <summary>The invitee declined.</summary>
    public const string Declined = "declined";
}

/// <summary>Event types sent to people over the user-event channel.</summary>
public static class HuddleEvents
{
    /// <summary>To each invitee when the huddle is opened.</summary>
    public const string Invited = "huddle.invited";

    /// <summary>To the requester and every invitee on each response.</summary>
    public const string Updated = "huddle.updated";

    /// <summary>To the requester and every invitee when the huddle expires.</summary>
    public const string Expired = "huddle.expired";
}

/// <summary>
/// One "ask the available" huddle, keyed by its id: who was invited, the responses, and its expiry (a grain timer
/// on the injected <see cref="TimeProvider"/>). Live events go to the people concerned, wherever they are connected.
/// </summary>
[Alias("herald.IHuddleGrain")]
public interface IHuddleGrain : IGrainWithStringKey
{
    /// <summary>Opens the huddle and invites; returns the requester's view. Fails if the id is already in use.</summary>
    [Alias("Create")]
    Task<HuddleRequesterView> Create(NewHuddle huddle);

    /// <summary>An invitee accepts or declines (again: the last answer counts), until the huddle expires.</summary>
    [Alias("Respond")]
    Task<HuddleRespondResult> Respond(string userId, bool accept);

    /// <summary>The huddle as <paramref name="viewerId"/> may see it; null unless they are its requester or an invitee.</summary>
    [Alias("Get")]
    Task<HuddleView?> Get(string viewerId);

    /// <summary>
    /// Announces the expiry now if it is due and was not yet announced. Returns true when the huddle is closed
    /// (expired and announced, or it does not exist), false while it is still open.
    /// </summary>
    [Alias("Wake")]
    Task<bool> Wake();
}

/// <summary>The durable state of a huddle.</summary>
[GenerateSerializer, Alias("herald.HuddleState")]
public sealed class HuddleState
{
    /// <summary>Who asked (null until created).</summary>
    [Id(0)] public HuddlePerson? Requester { get; set; }

    /// <summary>What about.</summary>
    [Id(1)] public string Topic { get; set; } = "";

    /// <summary>The people invited (those available to the requester at creation).</summary>
    [Id(2)] public List<HuddlePerson> Invitees { get; set; } = [];

    /// <summary>How many candidates were not available (a count only).</summary>
    [Id(3)] public int Skipped { get; set; }

    /// <summary>Accepts needed for the huddle to be met.</summary>
    [Id(4)] public int MinAccepts { get; set; } = 1;

    /// <summary>When it was opened.</summary>
    [Id(5)] public DateTimeOffset CreatedAt { get; set; }

    /// <summary>When it expires.</summary>
    [Id(6)] public DateTimeOffset ExpiresAt { get; set; }

    /// <summary>Answers by invitee id: <see cref="HuddleResponses.Accepted"/> or <see cref="HuddleResponses.Declined"/>.</summary>
    [Id(7)] public Dictionary<string, string> Responses { get; set; } = new(StringComparer.Ordinal);

    /// <summary>True once the expiry was announced.</summary>
    [Id(8)] public bool ExpiryAnnounced { get; set; }
}
