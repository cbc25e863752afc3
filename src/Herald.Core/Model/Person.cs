namespace Herald.Core.Model;

/// <summary>A person as the directory knows them.</summary>
[GenerateSerializer, Immutable, Alias("herald.PersonProfile")]
public sealed record PersonProfile(
    [property: Id(0)] string Id,
    [property: Id(1)] string DisplayName,
    [property: Id(2)] string? Email,
    [property: Id(3)] string? Team,
    [property: Id(4)] string? Manager,
    [property: Id(5)] string TimeZone,
    [property: Id(6)] WorkHours? WorkHours,
    [property: Id(7)] IReadOnlyList<ContactMethod> ContactMethods)
{
    /// <summary>A profile with only an id, used before the directory answers.</summary>
    public static PersonProfile Minimal(string id) => new(id, id, null, null, null, "UTC", null, []);
}

/// <summary>A team in the directory.</summary>
[GenerateSerializer, Immutable, Alias("herald.Team")]
public sealed record Team(
    [property: Id(0)] string Id,
    [property: Id(1)] string Name,
    [property: Id(2)] string? Manager);
