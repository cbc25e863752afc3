namespace Herald.Core.Model;

/// <summary>How precisely a location is disclosed.</summary>
public enum LocationPrecision
{
    /// <summary>Not at all.</summary>
    None = 0,
    /// <summary>Country only.</summary>
    Country = 1,
    /// <summary>Country and city.</summary>
    City = 2,
    /// <summary>Down to the building.</summary>
    Building = 3,
    /// <summary>Everything, including floor, room and coordinates.</summary>
    Exact = 4,
}

/// <summary>A structured location.</summary>
[GenerateSerializer, Immutable, Alias("herald.Location")]
public sealed record Location(
    [property: Id(0)] string? Country = null,
    [property: Id(1)] string? City = null,
    [property: Id(2)] string? Building = null,
    [property: Id(3)] string? Floor = null,
    [property: Id(4)] string? Room = null,
    [property: Id(5)] double? Latitude = null,
    [property: Id(6)] double? Longitude = null,
    [property: Id(7)] string? Text = null,
    [property: Id(8)] DateTimeOffset? At = null)
{
    /// <summary>
    /// True when nothing below the building is set (no floor, room, coordinates, text or time): reducing such a
    /// location to building precision or coarser may return it unchanged instead of a copy (immutable, and equal by
    /// value to the copy), which a change's views would otherwise allocate once per watcher key.
    /// </summary>
    private bool NothingFinerThanBuilding =>
        Floor is null && Room is null && Latitude is null && Longitude is null && Text is null && At is null;

    /// <summary>
    /// The coarsest precision whose reduction equals <see cref="Reduce"/>(<paramref name="precision"/>) for this
    /// location: building precision of a location without a building is city precision, and so on down. Two views of
    /// different precisions can then share one reduced copy.
    /// </summary>
    public LocationPrecision Effective(LocationPrecision precision)
    {
        if (precision == LocationPrecision.Building && Building is null)
        {
            precision = LocationPrecision.City;
        }
        if (precision == LocationPrecision.City && City is null)
        {
            precision = LocationPrecision.Country;
        }
        return precision;
    }

    // This thread's last reduction (Location is immutable, so the same instance and precision always reduce alike):
    // the views of one change ask for the same reduction in turn, each of which would otherwise allocate a copy.
    [ThreadStatic] private static Location? t_lastSource;
    [ThreadStatic] private static Location? t_lastReduced;
    [ThreadStatic] private static LocationPrecision t_lastPrecision;

    /// <summary>
    /// <see cref="Reduce"/> at <see cref="Effective"/> precision, reusing this thread's previous result for the same
    /// instance and effective precision (equal by value to a fresh reduction).
    /// </summary>
    public Location? ReduceShared(LocationPrecision precision)
    {
        precision = Effective(precision);
        if (ReferenceEquals(t_lastSource, this) && t_lastPrecision == precision)
        {
            return t_lastReduced;
        }
        var reduced = Reduce(precision);
        t_lastSource = this;
        t_lastPrecision = precision;
        t_lastReduced = reduced;
        return reduced;
    }

    /// <summary>This location reduced to <paramref name="precision"/>; null when nothing remains.</summary>
    public Location? Reduce(LocationPrecision precision) => precision switch
    {
        LocationPrecision.None => null,
        LocationPrecision.Country => Country is null ? null
            : City is null && NothingFinerThanBuilding && Building is null ? this : new Location(Country: Country),
        LocationPrecision.City => Country is null && City is null ? null
            : NothingFinerThanBuilding && Building is null ? this : new Location(Country: Country, City: City),
        LocationPrecision.Building => Country is null && City is null && Building is null ? null
            : NothingFinerThanBuilding ? this : new Location(Country: Country, City: City, Building: Building),
        _ => this,
    };
}
