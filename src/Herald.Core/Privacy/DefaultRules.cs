using F = Herald.Core.Privacy.DisclosureField;

namespace Herald.Core.Privacy;

/// <summary>
/// Herald's built-in defaults per tier and context (the layer below a person's own rules). They follow the
/// classic case: outside work hours and on days off only Trusted sees personal contact methods; colleagues see
/// OffWork and the work e-mail, nothing more.
/// </summary>
public static class DefaultRules
{
    private static readonly Disclosure TeamWork = Disclosure.From(f => f switch
    {
        F.Mobile or F.HomePhone => 0,
        F.Location => (int)Model.LocationPrecision.Building,
        F.Calendar => (int)CalendarDetail.FreeBusy,
        _ => DisclosureFields.MaxLevel(f),
    });

    private static readonly Disclosure ColleagueWork = Disclosure.From(f => f switch
    {
        F.Mobile or F.HomePhone or F.Devices => 0,
        F.Location => (int)Model.LocationPrecision.City,
        F.LastSeen => (int)LastSeenPrecision.Hour,
        F.Calendar => (int)CalendarDetail.FreeBusy,
        _ => DisclosureFields.MaxLevel(f),
    });

    private static readonly Disclosure ExternalWork = Disclosure.Nothing
        .With(F.Availability, 1).With(F.Email, 1).With(F.Location, (int)Model.LocationPrecision.Country).With(F.OutOfOffice, 1);

    private static readonly Disclosure Off = Disclosure.Nothing.With(F.Email, 1).With(F.OutOfOffice, 1);

    /// <summary>The default disclosure of <paramref name="tier"/> in <paramref name="context"/>.</summary>
    public static Disclosure For(RelationshipTier tier, PrivacyContext context) => (tier, context) switch
    {
        (RelationshipTier.Trusted, _) => Disclosure.Everything,
        (RelationshipTier.Blocked, _) => Disclosure.Nothing,
        (RelationshipTier.Team, PrivacyContext.WorkHours) => TeamWork,
        (RelationshipTier.Colleague, PrivacyContext.WorkHours) => ColleagueWork,
        (RelationshipTier.External, PrivacyContext.WorkHours) => ExternalWork,
        (RelationshipTier.External, _) => Disclosure.Nothing.With(F.OutOfOffice, 1),
        _ => Off,
    };
}
