using BenchmarkDotNet.Running;
using Herald.Bench.Fanout;

namespace Herald.Bench;

/// <summary>Entry point: dispatches on the first argument (<c>fanout</c>, <c>micro</c>, <c>--help</c>).</summary>
public static class Program
{
    /// <summary>Usage text printed by <c>--help</c> and on bad arguments.</summary>
    public const string Usage = """
        Herald benchmarks

        usage:
          dotnet run -c Release --project bench/Herald.Bench -- fanout [options]
          dotnet run -c Release --project bench/Herald.Bench -- micro [BenchmarkDotNet args]
          dotnet run -c Release --project bench/Herald.Bench -- summarize [results.jsonl ...]
          dotnet run -c Release --project bench/Herald.Bench -- --help

        fanout: in-process fan-out through the person grain to per-silo delivery (one silo, no sockets).
          --users N       people, each watched by a ring roster              (default 5000)
          --roster R      watchers per person, even: i±1 … i±R/2 mod N       (default 20)
          --team-size T   people per team, consecutive ids; same team = Team tier, else Colleague;
                          0 = one team                                         (default 10)
          --updates U     measured updates (each one changes the view)        (default 200000)
          --seconds S     time bound of the measured phase, seconds           (default 30)
          --inflight K    concurrent grain calls in flight                     (default 256)
          --rate X        offered updates/s, paced (open loop); 0 = saturate    (default 0)
          --warmup W      unmeasured warm-up updates before the measured phase (default 40000)
          --source SRC    status: IPersonGrain.SetStatus (durable: one SQLite write per update)
                          device: IPersonGrain.PutDevice (ephemeral lease, no storage on the path)
                                                                               (default status)
          --seed X        random seed for the choice of person                 (default 1)
          --db PATH       SQLite file (default: a new file under the temp directory, deleted after)
          Prints a table and one JSON line ("herald.bench.fanout") to stdout; progress goes to stderr.

        summarize: reads fan-out output (files, or stdin), keeps the JSON result lines, and prints the median of
          each figure per configuration as a Markdown table.

        micro: BenchmarkDotNet micro-benchmarks (ShortRun, MemoryDiagnoser) of the pure engine:
          aggregation, disclosure per key, view comparison, JSON serialization of a view.
          Without args all run; e.g. `micro --filter '*Disclose*'` or `micro --list flat`.
        """;

    /// <summary>Runs the chosen benchmark.</summary>
    public static async Task<int> Main(string[] args)
    {
        if (args.Length == 0 || args[0] is "--help" or "-h" or "help" or "-?")
        {
            Console.WriteLine(Usage);
            return args.Length == 0 ? 2 : 0;
        }
        switch (args[0])
        {
            case "fanout":
                if (args.Skip(1).Any(a => a is "--help" or "-h"))
                {
                    Console.WriteLine(Usage);
                    return 0;
                }
                if (!FanoutOptions.TryParse(args.AsSpan(1), out var options, out var error))
                {
                    await Console.Error.WriteLineAsync(error);
                    await Console.Error.WriteLineAsync(Usage);
                    return 2;
                }
                return await FanoutBenchmark.Run(options);
            case "summarize":
                return await FanoutSummary.Run(args[1..]);
            case "micro":
                var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args[1..]);
                return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
            default:
                await Console.Error.WriteLineAsync($"unknown command '{args[0]}'");
                await Console.Error.WriteLineAsync(Usage);
                return 2;
        }
    }
}
