using Herald.Core.Model;

namespace Herald.Server.Apis;

/// <summary>Login request.</summary>
public sealed record TokenRequest(string? Username, string? Password);

/// <summary>Login response.</summary>
public sealed record TokenResponse(string AccessToken, int ExpiresIn, string TokenType, string UserId, IReadOnlyList<string> Roles);

/// <summary>Preferred status request. <c>availability: Offline</c> means appear offline.</summary>
public sealed record StatusRequest(Availability? Availability, Activity? Activity, string? Note, DateTimeOffset? Until);

/// <summary>Device session request.</summary>
public sealed record DeviceRequest(
    DeviceKind? Kind, Availability? Availability, Activity? Activity, DateTimeOffset? IdleSince,
    IReadOnlyList<string>? Capabilities, Location? Location, int? TtlSeconds);

/// <summary>Batch presence query.</summary>
public sealed record BatchQuery(IReadOnlyList<string>? UserIds);

/// <summary>Work hours as sent and returned: days as names (<c>Monday</c> or <c>Mon</c>), times as <c>HH:mm</c>.</summary>
public sealed record WorkHoursDto(IReadOnlyList<string>? Days, string? Start, string? End);

/// <summary>A contact address.</summary>
public sealed record ContactMethodDto(ContactKind? Kind, string? Address);

/// <summary>A person as the admin API takes it (password optional, write-only).</summary>
public sealed record PersonInput(
    string? Id, string? DisplayName, string? Email, string? Team, string? Manager, string? TimeZone,
    WorkHoursDto? WorkHours, IReadOnlyList<ContactMethodDto>? ContactMethods, string? Password, IReadOnlyList<string>? Roles);

/// <summary>A team as the admin API takes and returns it.</summary>
public sealed record TeamInput(string? Id, string? Name, string? Manager);

/// <summary>API key creation request.</summary>
public sealed record ApiKeyRequest(string? Name, IReadOnlyList<string>? Scopes, IReadOnlyList<string>? UserIds);

/// <summary>API key as listed (never with its secret).</summary>
public sealed record ApiKeyInfo(string Id, string Name, string OwnerId, IReadOnlyList<string> Scopes, IReadOnlyList<string>? UserIds, DateTimeOffset CreatedAt);

/// <summary>API key just created: the key is shown this once.</summary>
public sealed record ApiKeyCreated(string Id, string Key, string Name, IReadOnlyList<string> Scopes, IReadOnlyList<string>? UserIds);
