using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Herald.Bench.Fanout;

/// <summary>
/// Reads the JSON lines printed by several fan-out runs (other lines are ignored) and prints, per configuration, the
/// median of each figure as a Markdown table row, so that results can be quoted as medians over runs.
/// </summary>
public static class FanoutSummary
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    /// <summary>Summarizes the files (or standard input when none); returns the process exit code.</summary>
    public static async Task<int> Run(IReadOnlyList<string> files)
    {
        var lines = new List<string>();
        if (files.Count == 0)
        {
            while (await Console.In.ReadLineAsync() is { } line)
            {
                lines.Add(line);
            }
        }
        foreach (var f in files)
        {
            lines.AddRange(await File.ReadAllLinesAsync(f));
        }
        var results = new List<FanoutResult>();
        foreach (var line in lines)
        {
            var t = line.Trim();
            if (!t.StartsWith('{') || !t.Contains("\"herald.bench.fanout\"", StringComparison.Ordinal))
            {
                continue;
            }
            try
            {
                if (JsonSerializer.Deserialize<FanoutResult>(t, Json) is { } r)
                {
                    results.Add(r);
                }
            }
            catch (JsonException)
            {
                // not one of ours
            }
        }
        if (results.Count == 0)
        {
            await Console.Error.WriteLineAsync("no fan-out result lines found");
            return 1;
        }
        Console.WriteLine("| source | N | R | in flight | offered updates/s | runs | updates/s | deliveries/s | delivered/expected | p50 ms | p99 ms | p99.9 ms | CPU ms per 1,000 deliveries | cores busy | B allocated per delivery | GC pause ms | load avg |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        foreach (var g in results.GroupBy(r => (r.Source, r.Users, r.Roster, r.InFlight, r.OfferedRate)).OrderBy(g => g.Key.Source).ThenBy(g => g.Key.Users).ThenBy(g => g.Key.OfferedRate))
        {
            var runs = g.ToList();
            double M(Func<FanoutResult, double> f) => Median(runs.Select(f));
            var ratios = string.Join(", ", runs.Select(r => r.DeliveredRatio.ToString("0.######", CultureInfo.InvariantCulture)).Distinct());
            var loads = string.Join(" / ", runs.Select(r => $"{r.LoadAverageBefore}–{r.LoadAverageAfter}"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {g.Key.Source.ToString().ToLowerInvariant()} | {g.Key.Users} | {g.Key.Roster} | {g.Key.InFlight} | {(g.Key.OfferedRate > 0 ? g.Key.OfferedRate.ToString("N0", CultureInfo.InvariantCulture) : "max")} | {runs.Count} "
                + $"| {M(r => r.UpdatesPerSecond):N0} | {M(r => r.DeliveriesPerSecond):N0} | {ratios} "
                + $"| {M(r => r.LatencyMicros.P50) / 1000:0.###} | {M(r => r.LatencyMicros.P99) / 1000:0.###} | {M(r => r.LatencyMicros.P999) / 1000:0.###} "
                + $"| {M(r => r.CpuMsPer1000Deliveries):0.00} | {M(r => r.CpuCoresBusy):0.00} | {M(r => r.AllocatedBytesPerDelivery):N0} | {M(r => r.GcPauseMs):N0} | {loads} |"));
        }
        return 0;
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
