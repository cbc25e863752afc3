using System.Globalization;

namespace Herald.Bench.Fanout;

/// <summary>Which grain method carries the updates.</summary>
public enum UpdateSource
{
    /// <summary><c>IPersonGrain.SetStatus</c>: durable, one storage write per update.</summary>
    Status,

    /// <summary><c>IPersonGrain.PutDevice</c>: an ephemeral device lease, no storage on the path.</summary>
    Device,
}

/// <summary>Parameters of the fan-out benchmark.</summary>
public sealed record FanoutOptions
{
    /// <summary>Number of people.</summary>
    public int Users { get; init; } = 5000;

    /// <summary>Watchers per person (even): person i is watched by i±1 … i±Roster/2, mod Users.</summary>
    public int Roster { get; init; } = 20;

    /// <summary>People per team (consecutive ids); 0 = everyone in one team.</summary>
    public int TeamSize { get; init; } = 10;

    /// <summary>Measured updates (upper bound; the time bound may end the phase earlier).</summary>
    public long Updates { get; init; } = 200_000;

    /// <summary>Time bound of the measured phase.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Concurrent grain calls in flight.</summary>
    public int InFlight { get; init; } = 256;

    /// <summary>
    /// Offered load in updates per second for the measured phase (open loop, paced); 0 = as fast as
    /// <see cref="InFlight"/> calls allow (saturation).
    /// </summary>
    public double Rate { get; init; }

    /// <summary>Unmeasured warm-up updates.</summary>
    public long Warmup { get; init; } = 40_000;

    /// <summary>The grain method that carries the updates.</summary>
    public UpdateSource Source { get; init; } = UpdateSource.Status;

    /// <summary>Random seed for the choice of person per update.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>SQLite file, or null for a fresh temporary file that is deleted afterwards.</summary>
    public string? DatabasePath { get; init; }

    /// <summary>Parses <c>--name value</c> pairs; returns false with a message on anything unexpected.</summary>
    public static bool TryParse(ReadOnlySpan<string> args, out FanoutOptions options, out string error)
    {
        options = new FanoutOptions();
        error = "";
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            if (i + 1 >= args.Length)
            {
                error = $"missing value after {name}";
                return false;
            }
            var value = args[++i];
            switch (name)
            {
                case "--users" when int.TryParse(value, CultureInfo.InvariantCulture, out var n) && n > 0:
                    options = options with { Users = n };
                    break;
                case "--roster" when int.TryParse(value, CultureInfo.InvariantCulture, out var r) && r >= 2 && r % 2 == 0:
                    options = options with { Roster = r };
                    break;
                case "--team-size" when int.TryParse(value, CultureInfo.InvariantCulture, out var t) && t >= 0:
                    options = options with { TeamSize = t };
                    break;
                case "--updates" when long.TryParse(value, CultureInfo.InvariantCulture, out var u) && u > 0:
                    options = options with { Updates = u };
                    break;
                case "--seconds" when double.TryParse(value, CultureInfo.InvariantCulture, out var s) && s > 0 && s <= 3600:
                    options = options with { Duration = TimeSpan.FromSeconds(s) };
                    break;
                case "--inflight" when int.TryParse(value, CultureInfo.InvariantCulture, out var k) && k is > 0 and <= 100_000:
                    options = options with { InFlight = k };
                    break;
                case "--rate" when double.TryParse(value, CultureInfo.InvariantCulture, out var rate) && rate >= 0 && rate <= 10_000_000:
                    options = options with { Rate = rate };
                    break;
                case "--warmup" when long.TryParse(value, CultureInfo.InvariantCulture, out var w) && w >= 0:
                    options = options with { Warmup = w };
                    break;
                case "--source" when Enum.TryParse<UpdateSource>(value, ignoreCase: true, out var src) && Enum.IsDefined(src):
                    options = options with { Source = src };
                    break;
                case "--seed" when int.TryParse(value, CultureInfo.InvariantCulture, out var seed):
                    options = options with { Seed = seed };
                    break;
                case "--db" when !string.IsNullOrWhiteSpace(value):
                    options = options with { DatabasePath = value };
                    break;
                default:
                    error = $"bad option or value: {name} {value}";
                    return false;
            }
        }
        if (options.Users <= options.Roster)
        {
            error = $"--users ({options.Users}) must exceed --roster ({options.Roster}) so that a ring roster has distinct members";
            return false;
        }
        return true;
    }
}
