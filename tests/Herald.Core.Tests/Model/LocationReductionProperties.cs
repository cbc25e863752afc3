using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Herald.Core.Model;

namespace Herald.Core.Tests.Model;

/// <summary>
/// <see cref="Location.ReduceShared"/> reuses this thread's previous reduction of the same instance: whatever order
/// locations and precisions come in, it must give exactly what <see cref="Location.Reduce"/> gives.
/// </summary>
public sealed class LocationReductionProperties
{
    private static readonly LocationPrecision[] Precisions = Enum.GetValues<LocationPrecision>();

    private static Gen<Location> Locations() =>
        from country in Gen.Elements<string?>(null, "DE", "FR")
        from city in Gen.Elements<string?>(null, "Berlin", "Paris")
        from building in Gen.Elements<string?>(null, "HQ")
        from floor in Gen.Elements<string?>(null, "3")
        from room in Gen.Elements<string?>(null, "3.14")
        from coordinates in Gen.Elements(false, true)
        from text in Gen.Elements<string?>(null, "by the window")
        from at in Gen.Elements<DateTimeOffset?>(null, new DateTimeOffset(2025, 1, 15, 10, 0, 0, TimeSpan.Zero))
        select new Location(country, city, building, floor, room, coordinates ? 52.52 : null, coordinates ? 13.40 : null, text, at);

    [Property(MaxTest = 300)]
    public Property Shared_reductions_equal_plain_ones_in_any_order_of_locations_and_precisions() =>
        Prop.ForAll(Gen.ListOf(Gen.Zip(Gen.Elements(0, 1, 2), Gen.Elements(Precisions)), 30).Select(l => l.ToList()).ToArbitrary(), Locations().Three().ToArbitrary(),
            (steps, locations) =>
            {
                Location[] pool = [locations.Item1, locations.Item2, locations.Item3];
                return steps.All(step =>
                {
                    var (which, precision) = step;
                    var location = pool[which];
                    return Equals(location.ReduceShared(precision), location.Reduce(precision));
                });
            });

    [Property(MaxTest = 300)]
    public Property Effective_precision_never_changes_what_a_reduction_keeps() =>
        Prop.ForAll(Locations().ToArbitrary(), Gen.Elements(Precisions).ToArbitrary(), (location, precision) =>
            Equals(location.Reduce(location.Effective(precision)), location.Reduce(precision))
            && location.Effective(precision) <= precision);

    [Fact]
    public void Building_and_city_views_of_a_location_without_a_building_share_one_copy()
    {
        var location = new Location(Country: "DE", City: "Berlin", At: DateTimeOffset.UnixEpoch);

        var forTeam = location.ReduceShared(LocationPrecision.Building);
        var forColleagues = location.ReduceShared(LocationPrecision.City);

        Assert.Equal(new Location(Country: "DE", City: "Berlin"), forTeam);
        Assert.Same(forTeam, forColleagues);
    }

    [Fact]
    public void A_different_instance_with_equal_content_is_reduced_on_its_own()
    {
        var first = new Location(Country: "DE", City: "Berlin", Building: "HQ", Room: "1");
        var second = first with { Building = "Annex" };

        Assert.Equal("HQ", first.ReduceShared(LocationPrecision.Building)!.Building);
        Assert.Equal("Annex", second.ReduceShared(LocationPrecision.Building)!.Building);
    }
}
