using System.Text.Json;
using System.Text.Json.Serialization;

namespace Herald.Client;

/// <summary>How reachable a person is.</summary>
public enum Availability
{
    /// <summary>Not disclosed.</summary>
    Unknown,
    /// <summary>No live source, or appear offline.</summary>
    Offline,
    /// <summary>Outside work hours.</summary>
    OffWork,
    /// <summary>Away from the device.</summary>
    Away,
    /// <summary>Briefly away.</summary>
    BeRightBack,
    /// <summary>Present, must not be disturbed.</summary>
    DoNotDisturb,
    /// <summary>Present but busy.</summary>
    Busy,
    /// <summary>Present and reachable.</summary>
    Available,
}

/// <summary>What the person is doing.</summary>
public enum Activity
{
    /// <summary>In a call.</summary>
    InACall,
    /// <summary>In a conference call.</summary>
    InAConferenceCall,
    /// <summary>In a meeting.</summary>
    InAMeeting,
    /// <summary>Presenting.</summary>
    Presenting,
    /// <summary>Focusing.</summary>
    Focusing,
    /// <summary>Out of office.</summary>
    OutOfOffice,
    /// <summary>On vacation.</summary>
    OnVacation,
    /// <summary>Commuting.</summary>
    Commuting,
    /// <summary>Inactive.</summary>
    Inactive,
}

/// <summary>A contact method shown in a view.</summary>
/// <param name="Kind">The kind (WorkPhone, Email, …).</param>
/// <param name="Address">The address.</param>
public sealed record ContactMethod(string Kind, string Address);

/// <summary>Why a person appears as they do (owner only).</summary>
/// <param name="Source">The deciding source.</param>
/// <param name="SourceId">The device id, when a device decided.</param>
/// <param name="Since">Since when.</param>
/// <param name="Until">Until when, if known.</param>
/// <param name="Reason">Human-readable reason.</param>
public sealed record Provenance(string? Source, string? SourceId, DateTimeOffset? Since, DateTimeOffset? Until, string? Reason);

/// <summary>A device session in a view.</summary>
/// <param name="DeviceId">Device id.</param>
/// <param name="Kind">Device kind.</param>
/// <param name="Availability">Reported availability.</param>
/// <param name="Activity">Reported activity.</param>
/// <param name="Idle">Whether idle.</param>
/// <param name="IdleSince">Idle since.</param>
/// <param name="Capabilities">Capabilities.</param>
public sealed record DeviceView(string DeviceId, string? Kind, Availability? Availability, Activity? Activity, bool Idle,
    DateTimeOffset? IdleSince, IReadOnlyList<string>? Capabilities);

/// <summary>A person's presence as computed for the caller.</summary>
/// <param name="UserId">The person.</param>
/// <param name="Availability">Availability.</param>
/// <param name="Activity">Activity, if disclosed.</param>
/// <param name="Note">Status note, if disclosed.</param>
/// <param name="NoteUntil">When the note ends.</param>
/// <param name="LastSeen">Last seen, if disclosed.</param>
/// <param name="Sequence">Per-person ordering value.</param>
/// <param name="Devices">Live devices, if disclosed.</param>
/// <param name="ContactMethods">Contact methods disclosed.</param>
/// <param name="Provenance">Provenance (owner only).</param>
/// <param name="AppearOffline">Appear offline (owner only).</param>
public sealed record PresenceView(string UserId, Availability Availability, Activity? Activity, string? Note,
    DateTimeOffset? NoteUntil, DateTimeOffset? LastSeen, long Sequence, IReadOnlyList<DeviceView>? Devices,
    IReadOnlyList<ContactMethod>? ContactMethods, Provenance? Provenance, bool? AppearOffline)
{
    /// <summary>The calendar entry running now, as disclosed (subject only at the <c>Subject</c> level); null when none or hidden.</summary>
    public CalendarSlot? Calendar { get; init; }
}

/// <summary>A calendar entry in a view.</summary>
/// <param name="Start">Start.</param>
/// <param name="End">End.</param>
/// <param name="Activity">InAMeeting or OutOfOffice.</param>
/// <param name="Subject">Subject, if disclosed.</param>
public sealed record CalendarSlot(DateTimeOffset Start, DateTimeOffset End, Activity? Activity, string? Subject);

/// <summary>The answer to a login.</summary>
/// <param name="AccessToken">Bearer token.</param>
/// <param name="ExpiresIn">Lifetime in seconds.</param>
/// <param name="TokenType">Always Bearer.</param>
/// <param name="UserId">The person.</param>
/// <param name="Roles">Roles.</param>
public sealed record LoginResult(string AccessToken, int ExpiresIn, string TokenType, string UserId, IReadOnlyList<string> Roles);

/// <summary>A directory entry with presence.</summary>
/// <param name="Id">Person id.</param>
/// <param name="DisplayName">Display name.</param>
/// <param name="Email">E-mail.</param>
/// <param name="Team">Team id.</param>
/// <param name="Manager">Manager id.</param>
/// <param name="TimeZone">Time zone.</param>
/// <param name="Presence">Presence view for the caller.</param>
public sealed record PersonCard(string Id, string DisplayName, string? Email, string? Team, string? Manager, string? TimeZone,
    PresenceView? Presence);

/// <summary>A way to reach a person.</summary>
/// <param name="Method">Contact kind.</param>
/// <param name="Address">Address.</param>
/// <param name="Reason">Why.</param>
public sealed record ReachOption(string Method, string Address, string? Reason);

/// <summary>How the caller may reach a person now.</summary>
/// <param name="UserId">The person.</param>
/// <param name="Presence">Their view.</param>
/// <param name="Options">Options, best first.</param>
/// <param name="AvailableAgainAt">When the current state ends, if known.</param>
public sealed record ReachResult(string UserId, PresenceView? Presence, IReadOnlyList<ReachOption> Options, DateTimeOffset? AvailableAgainAt);

/// <summary>Shared JSON options (camelCase, enums as names).</summary>
public static class HeraldJson
{
    /// <summary>The options used for every request and response.</summary>
    public static JsonSerializerOptions Options { get; } = Create();

    private static JsonSerializerOptions Create()
    {
        var o = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        o.Converters.Add(new JsonStringEnumConverter());
        return o;
    }
}

/// <summary>Why the server ended a live connection: its credential ended (docs/api.md, "When a credential ends").</summary>
/// <param name="Code">4401 (token expired: reconnect with a fresh token) or 4403 (revoked: the credential is gone).</param>
/// <param name="Reason"><c>token expired</c>, <c>account deleted</c>, <c>api key revoked</c>, ….</param>
public sealed record CredentialEndedInfo(int Code, string Reason)
{
    /// <summary>The token expired.</summary>
    public const int TokenExpired = 4401;

    /// <summary>The credential was revoked.</summary>
    public const int Revoked = 4403;
}
