namespace Herald.Core.Model;

/// <summary>What the person is doing. Each activity implies a default availability.</summary>
public enum Activity
{
    /// <summary>In a one-to-one call.</summary>
    InACall,
    /// <summary>In a conference call.</summary>
    InAConferenceCall,
    /// <summary>In a meeting.</summary>
    InAMeeting,
    /// <summary>Presenting or sharing a screen.</summary>
    Presenting,
    /// <summary>Focus time.</summary>
    Focusing,
    /// <summary>Out of the office for the day.</summary>
    OutOfOffice,
    /// <summary>On vacation.</summary>
    OnVacation,
    /// <summary>Travelling to or from work.</summary>
    Commuting,
    /// <summary>Not using any device.</summary>
    Inactive,
}

/// <summary>Standard mappings of an <see cref="Activity"/>.</summary>
/// <param name="Implied">The availability the activity implies when nothing stronger is set.</param>
/// <param name="Rpid">The RFC 4480 RPID activity element name.</param>
/// <param name="Xep0108General">The XEP-0108 general activity.</param>
/// <param name="Xep0108Specific">The XEP-0108 specific activity.</param>
/// <param name="Strength">Precedence among integration activities: calls and presenting beat meetings.</param>
public sealed record ActivityInfo(Availability Implied, string Rpid, string Xep0108General, string Xep0108Specific, int Strength);

/// <summary>Lookup of <see cref="ActivityInfo"/> per activity.</summary>
public static class Activities
{
    private static readonly Dictionary<Activity, ActivityInfo> Table = new()
    {
        [Activity.InACall] = new(Availability.Busy, "on-the-phone", "talking", "on_the_phone", 90),
        [Activity.InAConferenceCall] = new(Availability.Busy, "on-the-phone", "talking", "on_video_phone", 90),
        [Activity.Presenting] = new(Availability.DoNotDisturb, "presentation", "working", "in_a_meeting", 100),
        [Activity.InAMeeting] = new(Availability.Busy, "meeting", "working", "in_a_meeting", 60),
        [Activity.Focusing] = new(Availability.DoNotDisturb, "busy", "working", "other", 50),
        [Activity.OutOfOffice] = new(Availability.OffWork, "holiday", "inactive", "day_off", 40),
        [Activity.OnVacation] = new(Availability.OffWork, "vacation", "inactive", "on_vacation", 40),
        [Activity.Commuting] = new(Availability.Away, "travel", "traveling", "commuting", 20),
        [Activity.Inactive] = new(Availability.Away, "away", "inactive", "other", 10),
    };

    /// <summary>The mappings of <paramref name="activity"/>.</summary>
    public static ActivityInfo Info(Activity activity) => Table[activity];

    /// <summary>The availability that <paramref name="activity"/> implies.</summary>
    public static Availability Implied(Activity activity) => Table[activity].Implied;

    /// <summary>True for activities that mean the person is off for the day.</summary>
    public static bool IsDayOff(Activity activity) => activity is Activity.OutOfOffice or Activity.OnVacation;
}
