namespace Herald.Core.Model;

/// <summary>Kinds of contact address.</summary>
public enum ContactKind
{
    /// <summary>Office phone.</summary>
    WorkPhone,
    /// <summary>Mobile phone (personal).</summary>
    Mobile,
    /// <summary>Home phone (personal).</summary>
    HomePhone,
    /// <summary>E-mail.</summary>
    Email,
    /// <summary>Chat address.</summary>
    Chat,
    /// <summary>Video meeting link.</summary>
    Video,
    /// <summary>SIP URI.</summary>
    Sip,
    /// <summary>Anything else.</summary>
    Other,
}

/// <summary>A typed contact address.</summary>
[GenerateSerializer, Immutable, Alias("herald.ContactMethod")]
public sealed record ContactMethod([property: Id(0)] ContactKind Kind, [property: Id(1)] string Address)
{
    /// <summary>Mobile and home phone are personal; the rest are work addresses.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsPersonal => Kind is ContactKind.Mobile or ContactKind.HomePhone;
}
