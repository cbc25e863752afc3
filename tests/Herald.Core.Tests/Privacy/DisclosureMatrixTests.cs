using Herald.Core.Model;
using Herald.Core.Presence;
using Herald.Core.Privacy;

namespace Herald.Core.Tests.Privacy;

/// <summary>
/// Every tier × field × context under the default policy: the decided level is the one in
/// <see cref="DisclosureMatrix"/>, and the rendered view shows exactly that.
/// </summary>
public sealed class DisclosureMatrixTests
{
    private const string Watcher = "bob";

    public static TheoryData<RelationshipTier, DisclosureField, PrivacyContext> EveryCell()
    {
        var data = new TheoryData<RelationshipTier, DisclosureField, PrivacyContext>();
        foreach (var tier in Enum.GetValues<RelationshipTier>())
        {
            foreach (var field in Enum.GetValues<DisclosureField>())
            {
                foreach (var context in Enum.GetValues<PrivacyContext>())
                {
                    data.Add(tier, field, context);
                }
            }
        }
        return data;
    }

    public static TheoryData<RelationshipTier, PrivacyContext> EveryTierAndContext()
    {
        var data = new TheoryData<RelationshipTier, PrivacyContext>();
        foreach (var tier in Enum.GetValues<RelationshipTier>())
        {
            foreach (var context in Enum.GetValues<PrivacyContext>())
            {
                data.Add(tier, context);
            }
        }
        return data;
    }

    private static DisclosureDecision Decide(RelationshipTier tier, PrivacyContext context) =>
        PolicyEngine.Decide(new PolicyInput(OrgPolicy.Default, UserPrivacy.Default, tier, Watcher, IsSelf: false,
            SubscriptionStatus.Approved, context, AppearOffline: false, [], DisclosureMatrix.Now));

    [Theory]
    [MemberData(nameof(EveryCell))]
    public void Each_tier_sees_each_field_in_each_context_at_the_level_of_the_matrix(
        RelationshipTier tier, DisclosureField field, PrivacyContext context)
    {
        var expected = DisclosureMatrix.ExpectedLevel(tier, context, field);
        var decision = Decide(tier, context);

        Assert.Equal(expected, decision.Key.Levels[field]);
        Assert.Equal(DisclosureMatrix.SeesConstantOffline(tier) ? ViewMode.Blocked : ViewMode.Normal, decision.Key.Mode);

        var state = DisclosureMatrix.RichState(context);
        Assert.Equal(context, PolicyEngine.ContextOf(state.Presence));
        var view = DisclosurePolicy.Disclose(state, decision.Key);

        DisclosureMatrix.AssertFieldMatches(view, tier, context, field, state);
    }

    [Theory]
    [MemberData(nameof(EveryTierAndContext))]
    public void The_whole_view_of_each_tier_in_each_context_matches_the_matrix(RelationshipTier tier, PrivacyContext context)
    {
        var state = DisclosureMatrix.RichState(context, sequence: 77);
        var decision = Decide(tier, context);

        var view = DisclosurePolicy.Disclose(state, decision.Key);

        Assert.Equal(DisclosureMatrix.Expected(tier, context), decision.Key.Levels);
        Assert.Equal(77, view.Sequence);
        DisclosureMatrix.AssertViewMatches(view, tier, context, state);
    }

    [Theory]
    [MemberData(nameof(EveryTierAndContext))]
    public void The_convenience_entry_points_render_the_same_view_as_the_decided_key(RelationshipTier tier, PrivacyContext context)
    {
        var state = DisclosureMatrix.RichState(context);
        var relation = new WatcherRelation(Watcher, false, tier);

        Assert.Equal(Decide(tier, context).Key, DisclosurePolicy.KeyOf(relation, context));
        var view = DisclosurePolicy.Disclose(state, relation);

        DisclosureMatrix.AssertViewMatches(view, tier, context, state);
    }

    [Fact]
    public void The_matrix_covers_every_tier_field_and_context_with_levels_in_range()
    {
        var cells = DisclosureMatrix.Cells().ToList();

        Assert.Equal(5 * 3 * 16, cells.Count);
        Assert.Equal(Enum.GetValues<RelationshipTier>().Order(), DisclosureMatrix.Tiers.Order());
        Assert.Equal(Enum.GetValues<PrivacyContext>().Order(), DisclosureMatrix.Contexts.Order());
        Assert.Equal(Enum.GetValues<DisclosureField>().Order(), DisclosureMatrix.Fields.Order());
        Assert.All(cells, c => Assert.InRange(c.Level, 0, DisclosureFields.MaxLevel(c.Field)));
    }

    [Fact]
    public void The_rich_state_has_every_field_populated()
    {
        var state = DisclosureMatrix.RichState(PrivacyContext.WorkHours);
        var p = state.Presence;

        Assert.Equal(Availability.Busy, p.Availability);
        Assert.Equal(Activity.InACall, p.Activity);
        Assert.NotNull(p.Note);
        Assert.NotNull(p.Note.Until);
        Assert.NotNull(p.Location);
        Assert.All(new object?[] { p.Location.Country, p.Location.City, p.Location.Building, p.Location.Floor, p.Location.Room,
            p.Location.Latitude, p.Location.Longitude, p.Location.Text, p.Location.At }, Assert.NotNull);
        Assert.NotEmpty(p.Devices);
        Assert.NotNull(p.LastSeen);
        Assert.NotEqual(0, p.LastSeen.Value.Minute);
        Assert.Equal(Enum.GetValues<ContactKind>(), state.Profile.ContactMethods.Select(c => c.Kind));
    }

    // ---- The helper itself must not be vacuous ------------------------------------------------------------------

    [Theory]
    [InlineData(RelationshipTier.Team)]
    [InlineData(RelationshipTier.Colleague)]
    [InlineData(RelationshipTier.External)]
    [InlineData(RelationshipTier.Blocked)]
    public void The_helper_rejects_the_owners_view_for_anyone_else(RelationshipTier tier)
    {
        var state = DisclosureMatrix.RichState(PrivacyContext.WorkHours);
        var owners = DisclosurePolicy.Disclose(state, DisclosureKey.Self(PrivacyContext.WorkHours)) with { Provenance = null, AppearOffline = null };

        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => DisclosureMatrix.AssertViewMatches(owners, tier, PrivacyContext.WorkHours, state));
    }

    [Fact]
    public void The_helper_rejects_a_view_one_precision_step_too_precise()
    {
        var state = DisclosureMatrix.RichState(PrivacyContext.WorkHours);
        var colleague = DisclosurePolicy.Disclose(state, Decide(RelationshipTier.Colleague, PrivacyContext.WorkHours).Key);
        var building = colleague with { Location = state.Presence.Location!.Reduce(LocationPrecision.Building) };
        var exactLastSeen = colleague with { LastSeen = state.Presence.LastSeen };
        var withMobile = colleague with { ContactMethods = [.. colleague.ContactMethods!, new ContactMethod(ContactKind.Mobile, "+49 170 1")] };

        DisclosureMatrix.AssertViewMatches(colleague, RelationshipTier.Colleague, PrivacyContext.WorkHours, state);
        foreach (var leaky in new[] { building, exactLastSeen, withMobile })
        {
            Assert.ThrowsAny<Xunit.Sdk.XunitException>(
                () => DisclosureMatrix.AssertViewMatches(leaky, RelationshipTier.Colleague, PrivacyContext.WorkHours, state));
        }
    }

    [Fact]
    public void The_helper_rejects_a_view_that_shows_too_little()
    {
        var state = DisclosureMatrix.RichState(PrivacyContext.WorkHours);
        var team = DisclosurePolicy.Disclose(state, Decide(RelationshipTier.Team, PrivacyContext.WorkHours).Key);
        var noDevices = team with { Devices = null };
        var city = team with { Location = state.Presence.Location!.Reduce(LocationPrecision.City) };

        DisclosureMatrix.AssertViewMatches(team, RelationshipTier.Team, PrivacyContext.WorkHours, state);
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(
            () => DisclosureMatrix.AssertViewMatches(noDevices, RelationshipTier.Team, PrivacyContext.WorkHours, state));
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(
            () => DisclosureMatrix.AssertViewMatches(city, RelationshipTier.Team, PrivacyContext.WorkHours, state));
    }
}
