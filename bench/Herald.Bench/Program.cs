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
          dotnet run -c Release --project bench/Herald.Bench -- pres2c [options]
          dotnet run -c Release --project bench/Herald.Bench -- provision herald|ejabberd|prosody [options]
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

        pres2c: workload PRES-2C over sockets against a running server (loopback only).
          --protocol P    xmpp | signalr-json | signalr-msgpack | herald-ws     (default xmpp)
          --server NAME   label in the report (herald, prosody, ejabberd)       (default server)
          --host H --port P --domain D   XMPP c2s endpoint and domain         (127.0.0.1, 5222, localhost)
          --url U         Herald base URL for the native protocol               (http://127.0.0.1:5080)
          --publish hub|rest   Herald native: status updates over the hub's SetStatus or PUT /api/v1/me/status (hub)
          --herald-login watch|rest   herald-ws: contacts from the socket's watch (contacts: true) or GET /me/contacts first (watch)
          --users N --roster R --prefix P --password W   users P0…P(N-1)      (5000, 20, u, benchpass1)
          --login-rate X  login arrivals per second; --login-inflight K        (500; 50)
          --settle S      seconds between the last login and the RSS reading   (5)
          --think T,T,…   fan-out steps by think time: N/T updates/s            (60,20,10,5,2)
          --steps D,D,…   fan-out steps by offered deliveries/s (overrides --think)
          --step-seconds S   length of each step; --drain S  most wait for stragglers (10; 10)
          --warmup S      unmeasured fan-out at the first step's rate before the steps (0; run-all.sh: 60)
          --stop-after K  stop after K steps in a row that miss ≥99.9 %, no errors, p99 ≤ 100 ms (2)
          --server-pid PID   read the server's CPU time and RSS from /proc      (0 = not measured)
          --max-seconds S    bound of the whole run                             (900)
          --login-only    log everyone in and out, no fan-out
          Prints per-step progress to stderr, a table and one JSON line ("herald.bench.pres2c") to stdout.
          Exit code 1 on login errors or protocol errors.

        provision: creates the PRES-2C users and ring rosters (all mutually approved).
          herald   --url U --admin-password W [--users N --roster R …]: admin API + each user's contacts
          ejabberd --api http://127.0.0.1:5281/api [--domain D …]: mod_http_api register + add_rosteritem
          prosody  --data DIR [--domain D …]: writes Prosody's internal storage files (plain passwords)

        summarize: reads fan-out output (files, or stdin), keeps the JSON result lines, and prints the median of
          each figure per configuration as a Markdown table.

        micro: BenchmarkDotNet micro-benchmarks (ShortRun, MemoryDiagnoser) of the pure engine:
          aggregation, disclosure per key, view comparison, JSON serialization of a view, serialization of a
          person's durable state (StateSerialization*). Without args all run; e.g. `micro --filter '*Disclose*'` or `micro --list flat`.
        """;

    private static async Task<int> Provision(string[] args)
    {
        if (args.Length == 0)
        {
            await Console.Error.WriteLineAsync("provision: herald | ejabberd | prosody");
            return 2;
        }
        string? Take(string name)
        {
            var i = Array.IndexOf(args, name);
            if (i < 0 || i + 1 >= args.Length)
            {
                return null;
            }
            var v = args[i + 1];
            args = [.. args[..i], .. args[(i + 2)..]];
            return v;
        }
        var kind = args[0];
        args = args[1..];
        var admin = Take("--admin-password");
        var api = Take("--api");
        var data = Take("--data");
        if (!Net.NetOptions.TryParse(args, out var o, out var error))
        {
            await Console.Error.WriteLineAsync(error);
            return 2;
        }
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(o.MaxSeconds));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        switch (kind)
        {
            case "herald" when admin is not null:
                await Net.HeraldProvisioner.Run(http, o, admin, cts.Token);
                return 0;
            case "ejabberd" when api is not null:
                await Net.EjabberdProvisioner.Run(http, o, api.TrimEnd('/'), cts.Token);
                return 0;
            case "prosody" when data is not null:
                Net.ProsodyProvisioner.Run(o, data);
                return 0;
            default:
                await Console.Error.WriteLineAsync("provision herald --admin-password W | ejabberd --api URL | prosody --data DIR");
                return 2;
        }
    }

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
            case "pres2c":
                if (!Net.NetOptions.TryParse(args.AsSpan(1), out var net, out var netError))
                {
                    await Console.Error.WriteLineAsync(netError);
                    return 2;
                }
                return await Net.NetBenchmark.Run(net);
            case "provision":
                return await Provision(args[1..]);
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
