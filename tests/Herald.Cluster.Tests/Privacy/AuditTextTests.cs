using Herald.Cluster.Privacy;
using Herald.Core.Privacy;

namespace Herald.Cluster.Tests.Privacy;

/// <summary>The audit texts are rendered once per distinct decision and are exactly what rendering gives.</summary>
public sealed class AuditTextTests
{
    private static DisclosureDecision Decision(RelationshipTier tier, PrivacyContext context, Disclosure levels, ViewMode mode = ViewMode.Normal,
        params (DisclosureField Field, PolicyLayer Layer)[] layers)
    {
        var decidedBy = DisclosureFields.All.ToDictionary(f => f, _ => PolicyLayer.Default);
        foreach (var (f, l) in layers)
        {
            decidedBy[f] = l;
        }
        return new DisclosureDecision(new DisclosureKey(false, mode, context, levels), tier, context, decidedBy);
    }

    public static TheoryData<DisclosureDecision> Decisions() =>
    [
        Decision(RelationshipTier.Colleague, PrivacyContext.WorkHours, Disclosure.Nothing.With(DisclosureField.Availability, 1)),
        Decision(RelationshipTier.Team, PrivacyContext.OffHours, Disclosure.Everything, ViewMode.Normal, (DisclosureField.Note, PolicyLayer.UserWatcher), (DisclosureField.Location, PolicyLayer.Grant)),
        Decision(RelationshipTier.External, PrivacyContext.WorkHours, Disclosure.Nothing, ViewMode.Nothing, (DisclosureField.Availability, PolicyLayer.Subscription)),
        Decision(RelationshipTier.Colleague, PrivacyContext.DayOff, Disclosure.Nothing.With(DisclosureField.LastSeen, 1), ViewMode.Offline, (DisclosureField.Availability, PolicyLayer.OrganizationCeiling)),
    ];

    [Theory]
    [MemberData(nameof(Decisions))]
    public void The_cached_texts_are_the_rendered_texts_the_first_time_and_every_time_after(DisclosureDecision decision)
    {
        var rendered = AuditText.Render(decision);

        Assert.Equal(rendered, AuditText.Of(decision));
        Assert.Equal(rendered, AuditText.Of(decision));
        Assert.Equal(rendered, AuditText.Of(decision with { DecidedBy = new Dictionary<DisclosureField, PolicyLayer>(decision.DecidedBy) }));
    }

    [Fact]
    public void Decisions_that_differ_only_in_a_deciding_layer_or_the_tier_get_their_own_texts()
    {
        var a = Decision(RelationshipTier.Colleague, PrivacyContext.WorkHours, Disclosure.Everything, ViewMode.Normal, (DisclosureField.Note, PolicyLayer.UserTier));
        var b = Decision(RelationshipTier.Colleague, PrivacyContext.WorkHours, Disclosure.Everything, ViewMode.Normal, (DisclosureField.Note, PolicyLayer.UserWatcher));
        var c = Decision(RelationshipTier.Team, PrivacyContext.WorkHours, Disclosure.Everything, ViewMode.Normal, (DisclosureField.Note, PolicyLayer.UserTier));
        var d = Decision(RelationshipTier.Colleague, PrivacyContext.WorkHours, Disclosure.Everything);

        Assert.Equal(AuditText.Of(a).Fields, AuditText.Of(b).Fields);
        Assert.Contains("note:UserTier", AuditText.Of(a).Rule, StringComparison.Ordinal);
        Assert.Contains("note:UserWatcher", AuditText.Of(b).Rule, StringComparison.Ordinal);
        Assert.StartsWith("tier=Team;", AuditText.Of(c).Rule, StringComparison.Ordinal);
        Assert.Equal("tier=Colleague; context=WorkHours", AuditText.Of(d).Rule);
    }
}
