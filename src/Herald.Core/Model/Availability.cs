namespace Herald.Core.Model;

/// <summary>
/// How reachable a person is. Declared from least to most reachable so that a plain comparison orders
/// values for display; <see cref="Unknown"/> means "no data or not disclosed" and is never shown as offline.
/// </summary>
public enum Availability
{
    /// <summary>No data, or not disclosed to this watcher.</summary>
    Unknown = 0,
    /// <summary>No live source.</summary>
    Offline = 1,
    /// <summary>Outside work hours, or on a day off.</summary>
    OffWork = 2,
    /// <summary>Away from the device.</summary>
    Away = 3,
    /// <summary>Briefly away.</summary>
    BeRightBack = 4,
    /// <summary>Present but must not be disturbed.</summary>
    DoNotDisturb = 5,
    /// <summary>Present but busy (e.g. in a call or meeting).</summary>
    Busy = 6,
    /// <summary>Present and reachable.</summary>
    Available = 7,
}

/// <summary>Helpers for <see cref="Availability"/>.</summary>
public static class AvailabilityRules
{
    /// <summary>The values a device may report about itself.</summary>
    public static bool IsValidForDevice(Availability a) =>
        a is Availability.Available or Availability.Away or Availability.BeRightBack or Availability.Busy or Availability.DoNotDisturb;

    /// <summary>The values a person may choose as their preferred status (Offline = appear offline).</summary>
    public static bool IsValidForPreferred(Availability a) =>
        a is not Availability.Unknown;

    /// <summary>Busy and DoNotDisturb: states that a single active device imposes on the person.</summary>
    public static bool IsDisruptionSensitive(Availability a) => a is Availability.Busy or Availability.DoNotDisturb;

    /// <summary>
    /// Rank used when several devices disagree: DoNotDisturb beats Busy beats the most reachable of the rest.
    /// Higher wins.
    /// </summary>
    public static int DeviceRank(Availability a) => a switch
    {
        Availability.DoNotDisturb => 100,
        Availability.Busy => 90,
        Availability.Available => 30,
        Availability.BeRightBack => 20,
        Availability.Away => 10,
        _ => 0,
    };
}
