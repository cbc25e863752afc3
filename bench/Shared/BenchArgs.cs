using System.Globalization;

namespace Herald.Bench.Shared;

/// <summary>
/// The command-line shape shared by the benchmark tools (the load generator and the floor server): <c>--name value</c>
/// pairs and a few bare flags, every value checked, the first problem reported as one line. Compiled into each tool
/// (linked source), so the tools stay independent of each other.
/// </summary>
internal static class BenchArgs
{
    /// <summary>
    /// Walks <paramref name="args"/>. <paramref name="apply"/> gets each option's name and value (null for a name in
    /// <paramref name="flags"/>) and answers true (taken), false (a bad value) or null (no such option).
    /// </summary>
    public static bool Walk(ReadOnlySpan<string> args, IReadOnlySet<string> flags, Func<string, string?, bool?> apply, out string error)
    {
        error = "";
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            if (flags.Contains(name))
            {
                if (apply(name, null) is not true)
                {
                    error = $"unknown option {name}";
                    return false;
                }
                continue;
            }
            if (i + 1 >= args.Length)
            {
                error = $"missing value after {name}";
                return false;
            }
            var value = args[++i];
            switch (apply(name, value))
            {
                case null:
                    error = $"unknown option {name}";
                    return false;
                case false:
                    error = $"bad value '{value}' for {name}";
                    return false;
            }
        }
        return true;
    }

    /// <summary>A ring roster of <paramref name="roster"/> contacts needs more users than that.</summary>
    public static bool RingFits(int users, int roster, out string error)
    {
        error = roster >= users ? "--roster must be below --users" : "";
        return error.Length == 0;
    }

    /// <summary>An integer in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public static bool Int(string s, int min, int max, out int value) =>
        int.TryParse(s, CultureInfo.InvariantCulture, out value) && value >= min && value <= max;

    /// <summary>A finite number.</summary>
    public static bool Dbl(string s, out double value) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);
}
