using Herald.Cluster.Presence;
using Herald.Core.Model;

namespace Herald.Server.Demo;

/// <summary>
/// Moves the demo people through realistic presence states so that a first look at Herald shows a living
/// organization: devices sign in and out and heartbeat, people go idle, take calls on their desk phones, present,
/// choose Do not disturb or Be right back with a note, occasionally appear offline, and clear their status again.
/// About 60–70 % of the people are online at any time.
/// </summary>
/// <remarks>
/// Every tick does bounded work: at most <see cref="MaxHeartbeatsPerTick"/> heartbeats, <see cref="MaxEndingsPerTick"/>
/// ends of timed states and <see cref="MovesPerTick"/> new moves. Choices come from a <see cref="Random"/> with a fixed
/// seed, so the same seed gives the same sequence of moves. Failures are logged and never stop the simulator.
/// </remarks>
public sealed partial class DemoSimulator
{
    /// <summary>The default time between ticks.</summary>
    public static readonly TimeSpan DefaultPeriod = TimeSpan.FromSeconds(3);

    /// <summary>The lease of every simulated device.</summary>
    public static readonly TimeSpan DeviceTtl = TimeSpan.FromSeconds(90);

    /// <summary>How often each live device heartbeats.</summary>
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(30);

    /// <summary>Most heartbeats sent in one tick.</summary>
    public const int MaxHeartbeatsPerTick = 40;

    /// <summary>Most timed states (calls, presentations, statuses…) ended in one tick.</summary>
    public const int MaxEndingsPerTick = 8;

    /// <summary>New random moves per tick.</summary>
    public const int MovesPerTick = 1;

    private const double MinOnline = 0.60;
    private const double MaxOnline = 0.70;
    private const double TargetOnline = 0.65;
    private const string DesktopId = "desktop";
    private const string MobileId = "mobile";
    private const string DeskPhoneId = "deskphone";

    private static readonly string[] DesktopCapabilities = ["chat", "voice", "video", "screen-share"];
    private static readonly string[] MobileCapabilities = ["chat", "voice"];
    private static readonly string[] DeskPhoneCapabilities = ["voice"];

    private static readonly string[] FocusNotes =
    [
        "Heads down on the release — ping only if urgent",
        "Deep work until lunch",
        "Writing the quarterly review",
        "Interviewing a candidate",
    ];

    private static readonly string[] BackSoonNotes = ["Grabbing a coffee", "Back in 10 minutes", "Stretching my legs", "Quick errand"];

    private static readonly (Move Move, int Weight)[] Weights =
    [
        (Move.SignIn, 15), (Move.SignOut, 15), (Move.GoIdle, 10), (Move.StartCall, 15), (Move.StartPresenting, 5),
        (Move.DoNotDisturb, 8), (Move.BeRightBack, 9), (Move.AppearOffline, 2), (Move.ClearStatus, 4),
    ];

    private readonly IGrainFactory _grains;
    private readonly TimeProvider _time;
    private readonly ILogger<DemoSimulator> _logger;
    private readonly Random _random;
    private readonly TimeSpan _period;
    private readonly List<SimPerson> _people;

    /// <summary>Creates a simulator for <paramref name="personIds"/> (people that exist in the directory).</summary>
    /// <param name="grains">The grain factory.</param>
    /// <param name="time">The clock; ticks use <see cref="PeriodicTimer"/> on it.</param>
    /// <param name="logger">The logger.</param>
    /// <param name="personIds">The people to move.</param>
    /// <param name="seed">The random seed.</param>
    /// <param name="period">Time between ticks; <see cref="DefaultPeriod"/> when null.</param>
    public DemoSimulator(IGrainFactory grains, TimeProvider time, ILogger<DemoSimulator> logger, IReadOnlyList<string> personIds,
        int seed = 42, TimeSpan? period = null)
    {
        ArgumentNullException.ThrowIfNull(grains);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentNullException.ThrowIfNull(personIds);
        if (period is { } p)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(p, TimeSpan.Zero, nameof(period));
        }
        _grains = grains;
        _time = time;
        _logger = logger;
        _random = new Random(seed);
        _period = period ?? DefaultPeriod;
        _people = [.. personIds.Distinct(StringComparer.Ordinal).Select(id => new SimPerson(id))];
    }

    /// <summary>What a simulated person is doing.</summary>
    internal enum Mood
    {
        Offline,
        Available,
        Idle,
        InACall,
        Presenting,
        DoNotDisturb,
        BeRightBack,
        AppearOffline,
    }

    /// <summary>A random move.</summary>
    internal enum Move
    {
        SignIn,
        SignOut,
        GoIdle,
        StartCall,
        StartPresenting,
        DoNotDisturb,
        BeRightBack,
        AppearOffline,
        ClearStatus,
        End,
        Heartbeat,
    }

    /// <summary>How many simulated people currently look online (live devices and not appearing offline).</summary>
    internal int OnlineCount => _people.Count(p => p.LooksOnline);

    /// <summary>Warms up (about 65 % online in mixed states), then ticks until <paramref name="ct"/> is cancelled.</summary>
    public async Task Run(CancellationToken ct)
    {
        if (_people.Count == 0)
        {
            return;
        }
        await WarmUp(ct);
        LogStarted(_people.Count, OnlineCount, _period);
        using var timer = new PeriodicTimer(_period, _time);
        while (await timer.WaitForNextTickAsync(ct))
        {
            try
            {
                await Tick(ct);
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                LogTickFailed(ex);
            }
        }
    }

    /// <summary>
    /// Clears leftover statuses of an earlier run, then signs in about <see cref="TargetOnline"/> of the people, some
    /// of them already idle, in a call, presenting or with a status.
    /// </summary>
    internal async Task WarmUp(CancellationToken ct)
    {
        foreach (var person in _people)
        {
            await Try(person, Move.ClearStatus, () => Grain(person).ClearStatus(), ct);
        }
        var now = _time.GetUtcNow();
        var online = (int)Math.Round(_people.Count * TargetOnline);
        var order = _people.ToArray();
        _random.Shuffle(order);
        foreach (var person in order.Take(online))
        {
            if (!await Apply(person, Move.SignIn, now, ct))
            {
                continue;
            }
            var roll = _random.NextDouble();
            var move = roll switch
            {
                < 0.12 => Move.GoIdle,
                < 0.24 => Move.StartCall,
                < 0.29 => Move.StartPresenting,
                < 0.37 => Move.DoNotDisturb,
                < 0.43 => Move.BeRightBack,
                _ => (Move?)null,
            };
            if (move is { } m && IsEligible(person, m))
            {
                await Apply(person, m, now, ct);
            }
        }
    }

    /// <summary>One step: heartbeats that are due, ends of timed states that are due, then a few random moves.</summary>
    internal async Task Tick(CancellationToken ct)
    {
        var now = _time.GetUtcNow();

        var dueBeats = _people
            .SelectMany(p => p.Devices.Values.Select(d => (Person: p, Device: d)))
            .Where(x => now - x.Device.LastBeat >= HeartbeatInterval)
            .OrderBy(x => x.Device.LastBeat)
            .Take(MaxHeartbeatsPerTick)
            .ToList();
        foreach (var (person, device) in dueBeats)
        {
            await Try(person, Move.Heartbeat, () => Heartbeat(person, device, now), ct);
        }

        var dueEnds = _people.Where(p => p.MoodEnds <= now).OrderBy(p => p.MoodEnds).Take(MaxEndingsPerTick).ToList();
        foreach (var person in dueEnds)
        {
            await Apply(person, Move.End, now, ct);
        }

        for (var i = 0; i < MovesPerTick; i++)
        {
            var move = NextMove();
            var candidates = _people.Where(p => IsEligible(p, move)).ToList();
            if (candidates.Count == 0)
            {
                continue;
            }
            await Apply(candidates[_random.Next(candidates.Count)], move, now, ct);
        }
    }

    private Move NextMove()
    {
        var share = (double)OnlineCount / _people.Count;
        if (share < MinOnline)
        {
            return Move.SignIn;
        }
        if (share > MaxOnline)
        {
            return Move.SignOut;
        }
        var roll = _random.Next(Weights.Sum(w => w.Weight));
        foreach (var (move, weight) in Weights)
        {
            if (roll < weight)
            {
                return move;
            }
            roll -= weight;
        }
        return Move.GoIdle;
    }

    private static bool IsEligible(SimPerson p, Move move) => move switch
    {
        Move.SignIn => p.Mood == Mood.Offline,
        Move.SignOut => p.Mood is Mood.Available or Mood.Idle,
        Move.StartPresenting => p.Mood == Mood.Available && p.Devices.ContainsKey(DesktopId),
        Move.ClearStatus => p.Mood is Mood.DoNotDisturb or Mood.BeRightBack or Mood.AppearOffline,
        Move.End => p.MoodEnds is not null,
        Move.Heartbeat => p.Devices.Count > 0,
        _ => p.Mood == Mood.Available,
    };

    /// <summary>Applies one move; false (after logging) when a grain call failed.</summary>
    private Task<bool> Apply(SimPerson p, Move move, DateTimeOffset now, CancellationToken ct) =>
        Try(p, move, async () =>
        {
            switch (move)
            {
                case Move.SignIn:
                    await SignIn(p, now);
                    break;
                case Move.SignOut:
                    foreach (var id in p.Devices.Keys.ToList())
                    {
                        await Grain(p).RemoveDevice(id);
                        p.Devices.Remove(id);
                    }
                    Set(p, Mood.Offline, null);
                    break;
                case Move.GoIdle:
                    await SetIdle(p, now - TimeSpan.FromMinutes(_random.Next(6, 25)), now);
                    Set(p, Mood.Idle, now + Seconds(30, 70));
                    break;
                case Move.StartCall:
                    await Put(p, new DeviceReport(DeskPhoneId, DeviceKind.DeskPhone, null, Activity.InACall, null, DeskPhoneCapabilities,
                        null, DeviceTtl), now);
                    Set(p, Mood.InACall, now + Seconds(20, 70));
                    break;
                case Move.StartPresenting:
                    await Put(p, p.Devices[DesktopId].Report with { Activity = Activity.Presenting, IdleSince = null }, now);
                    Set(p, Mood.Presenting, now + Seconds(40, 80));
                    break;
                case Move.DoNotDisturb:
                    await Grain(p).SetStatus(new SetStatus(Availability.DoNotDisturb, null, Pick(FocusNotes), now + TimeSpan.FromHours(1)));
                    Set(p, Mood.DoNotDisturb, now + Seconds(40, 90));
                    break;
                case Move.BeRightBack:
                    await Grain(p).SetStatus(new SetStatus(Availability.BeRightBack, null, Pick(BackSoonNotes), now + TimeSpan.FromMinutes(15)));
                    Set(p, Mood.BeRightBack, now + Seconds(20, 50));
                    break;
                case Move.AppearOffline:
                    await Grain(p).SetStatus(new SetStatus(Availability.Offline, null, null, now + TimeSpan.FromHours(1)));
                    Set(p, Mood.AppearOffline, now + Seconds(45, 105));
                    break;
                case Move.ClearStatus:
                    await Grain(p).ClearStatus();
                    Set(p, Mood.Available, null);
                    break;
                case Move.End:
                    await End(p, now);
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(move), move, null);
            }
            LogMoved(p.Id, move, p.Mood);
        }, ct);

    private async Task SignIn(SimPerson p, DateTimeOffset now)
    {
        var roll = _random.NextDouble();
        if (roll < 0.85)
        {
            await Put(p, new DeviceReport(DesktopId, DeviceKind.Desktop, null, null, null, DesktopCapabilities, null, DeviceTtl), now);
        }
        if (roll >= 0.65)
        {
            await Put(p, new DeviceReport(MobileId, DeviceKind.Mobile, null, null, null, MobileCapabilities, null, DeviceTtl), now);
        }
        Set(p, Mood.Available, null);
    }

    /// <summary>Ends the person's timed state and returns them to plain Available.</summary>
    private async Task End(SimPerson p, DateTimeOffset now)
    {
        switch (p.Mood)
        {
            case Mood.Idle:
                await SetIdle(p, null, now);
                break;
            case Mood.InACall:
                await Grain(p).RemoveDevice(DeskPhoneId);
                p.Devices.Remove(DeskPhoneId);
                break;
            case Mood.Presenting:
                await Put(p, p.Devices[DesktopId].Report with { Activity = null }, now);
                break;
            case Mood.DoNotDisturb or Mood.BeRightBack or Mood.AppearOffline:
                await Grain(p).ClearStatus();
                break;
            default:
                break;
        }
        Set(p, p.Devices.Count == 0 ? Mood.Offline : Mood.Available, null);
    }

    /// <summary>Marks the person's desktop and mobile idle (or active again when <paramref name="since"/> is null).</summary>
    private async Task SetIdle(SimPerson p, DateTimeOffset? since, DateTimeOffset now)
    {
        foreach (var device in p.Devices.Values.Where(d => d.Report.Kind != DeviceKind.DeskPhone).ToList())
        {
            await Put(p, device.Report with { IdleSince = since }, now);
        }
    }

    private async Task Heartbeat(SimPerson p, LiveDevice device, DateTimeOffset now)
    {
        if (!await Grain(p).Heartbeat(device.Report.DeviceId))
        {
            // The lease was lost (e.g. the grain was reactivated): publish the device again.
            LogRepublished(p.Id, device.Report.DeviceId);
            await Grain(p).PutDevice(device.Report);
        }
        device.LastBeat = now;
    }

    private async Task Put(SimPerson p, DeviceReport report, DateTimeOffset now)
    {
        await Grain(p).PutDevice(report);
        p.Devices[report.DeviceId] = new LiveDevice(report, now);
    }

    private async Task<bool> Try(SimPerson p, Move move, Func<Task> action, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        try
        {
            await action();
            return true;
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            LogMoveFailed(ex, p.Id, move);
            return false;
        }
    }

    private static void Set(SimPerson p, Mood mood, DateTimeOffset? ends)
    {
        p.Mood = mood;
        p.MoodEnds = ends;
    }

    private IPersonGrain Grain(SimPerson p) => _grains.Person(p.Id);

    private TimeSpan Seconds(int min, int max) => TimeSpan.FromSeconds(_random.Next(min, max + 1));

    private string Pick(string[] items) => items[_random.Next(items.Length)];

    [LoggerMessage(Level = LogLevel.Information, Message = "Demo simulator moving {People} people ({Online} online), a tick every {Period}")]
    private partial void LogStarted(int people, int online, TimeSpan period);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Demo: {UserId} {Move} -> {Mood}")]
    private partial void LogMoved(string userId, Move move, Mood mood);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Demo: device {DeviceId} of {UserId} had lapsed; published again")]
    private partial void LogRepublished(string userId, string deviceId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Demo: {Move} for {UserId} failed")]
    private partial void LogMoveFailed(Exception exception, string userId, Move move);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Demo simulator tick failed")]
    private partial void LogTickFailed(Exception exception);

    /// <summary>The simulator's view of one person.</summary>
    private sealed class SimPerson(string id)
    {
        public string Id { get; } = id;

        /// <summary>Live simulated devices by id, with their last report.</summary>
        public Dictionary<string, LiveDevice> Devices { get; } = new(StringComparer.Ordinal);

        public Mood Mood { get; set; } = Mood.Offline;

        /// <summary>When the current timed state ends, or null.</summary>
        public DateTimeOffset? MoodEnds { get; set; }

        public bool LooksOnline => Devices.Count > 0 && Mood != Mood.AppearOffline;
    }

    /// <summary>A live simulated device.</summary>
    private sealed class LiveDevice(DeviceReport report, DateTimeOffset lastBeat)
    {
        public DeviceReport Report { get; } = report;

        public DateTimeOffset LastBeat { get; set; } = lastBeat;
    }
}
