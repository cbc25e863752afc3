using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using HdrHistogram;

namespace Herald.Bench.Net;

/// <summary>Reads a server process's CPU time and RSS from /proc.</summary>
public static class ProcStat
{
    /// <summary>User + system CPU time of <paramref name="pid"/> in milliseconds (all threads), or 0.</summary>
    public static double CpuMs(int pid)
    {
        if (pid <= 0)
        {
            return 0;
        }
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // fields[0] is field 3 (state); utime is field 14, stime field 15.
            var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            return ticks * 1000.0 / 100; // USER_HZ = 100 on Linux
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>Resident set size of <paramref name="pid"/> in bytes, or 0.</summary>
    public static long RssBytes(int pid)
    {
        if (pid <= 0)
        {
            return 0;
        }
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    return long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException)
        {
        }
        return 0;
    }
}

/// <summary>Results of one fan-out step.</summary>
public sealed record StepResult(int Step, double OfferedDeliveriesPerSecond, long Updates, long Expected, long Delivered, long Superseded,
    double DeliveriesPerSecond, double P50Ms, double P99Ms, double P999Ms, double MaxMs, double ServerCpuPerThousandMs,
    double ServerCpuPercent, double GeneratorCpuPercent, long Errors, double GeneratorLateMs, bool Passed);

/// <summary>What a run measured: login errors (and the first), users whose roster had another size, bad stamps, steps.</summary>
public sealed record NetReport(long LoginErrors, string? FirstLoginError, int ShortRosters, long ForeignStamps, long Stale, IReadOnlyList<StepResult> Steps);

/// <summary>PRES-2C over the network: login, settle, fan-out steps (see <see cref="Program.Usage"/>).</summary>
public static class NetBenchmark
{
    /// <summary>Runs the benchmark; exit code 0 when there were no login or protocol errors.</summary>
    public static async Task<int> Run(NetOptions o)
    {
        var report = await Execute(o);
        return report.LoginErrors == 0 && report.Steps.All(r => r.Errors == 0) && (o.LoginOnly || report.Steps.Count > 0) ? 0 : 1;
    }

    /// <summary>Runs the benchmark and returns its figures (also printed).</summary>
    public static async Task<NetReport> Execute(NetOptions o)
    {
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(o.MaxSeconds));
        var ct = bound.Token;
        var recorder = new DeliveryRecorder(o.Users);
        var counts = new int[o.Users];
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 256, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10) };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(60) };
        var clients = new IBenchConnection[o.Users];
        for (var i = 0; i < o.Users; i++)
        {
            clients[i] = o.Protocol switch
            {
                WireProtocol.Xmpp => new XmppBenchClient(o, i, recorder),
                WireProtocol.HeraldWebSocket => new HeraldSocketBenchClient(o, i, recorder, http),
                _ => new HeraldBenchClient(o, i, recorder, http),
            };
        }
        var label = $"{o.Server}/{o.Protocol}";
        var rssIdle = ProcStat.RssBytes(o.ServerPid);
        var load0 = LoadAverage();

        // Phase A: logins at a fixed arrival rate, at most LoginInFlight at once.
        Log($"{label}: login of {o.Users} users at {o.LoginRate}/s ({o.LoginInFlight} in flight)");
        var loginLatency = new LongHistogram(TimeSpan.FromMinutes(10).Ticks / 10, 3); // µs
        var loginErrors = 0L;
        string? firstLoginError = null;
        var gate = new SemaphoreSlim(o.LoginInFlight);
        var cpuLogin0 = ProcStat.CpuMs(o.ServerPid);
        var loginClock = Stopwatch.StartNew();
        var loginTasks = new List<Task>(o.Users);
        for (var i = 0; i < o.Users && !ct.IsCancellationRequested; i++)
        {
            var due = TimeSpan.FromSeconds(i / o.LoginRate);
            if (due > loginClock.Elapsed)
            {
                await Task.Delay(due - loginClock.Elapsed, ct);
            }
            await gate.WaitAsync(ct);
            var client = clients[i];
            loginTasks.Add(Task.Run(async () =>
            {
                var t0 = Stopwatch.GetTimestamp();
                try
                {
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                    timeout.CancelAfter(TimeSpan.FromSeconds(30));
                    await client.Login(timeout.Token);
                    var us = Stopwatch.GetElapsedTime(t0).Ticks / 10;
                    lock (loginLatency)
                    {
                        loginLatency.RecordValue(us);
                    }
                }
                catch (Exception ex)
                {
                    Interlocked.Increment(ref loginErrors);
                    Interlocked.CompareExchange(ref firstLoginError, ex.Message, null);
                }
                finally
                {
                    gate.Release();
                }
            }, CancellationToken.None));
        }
        await Task.WhenAll(loginTasks);
        var loginSeconds = loginClock.Elapsed.TotalSeconds;
        var loginCpu = ProcStat.CpuMs(o.ServerPid) - cpuLogin0;
        Log($"{label}: logins done in {loginSeconds:F1} s, {loginErrors} errors{(firstLoginError is null ? "" : $" (first: {firstLoginError})")}; " +
            $"p50 {Ms(loginLatency, 50):F1} ms p99 {Ms(loginLatency, 99):F1} ms");
        var shortRosters = clients.Count(c => c.RosterSize != o.Roster);
        if (shortRosters > 0)
        {
            Log($"{label}: WARNING {shortRosters} users got a roster of another size than {o.Roster}");
        }

        // Phase B: settle, then memory per connected user.
        await Task.Delay(TimeSpan.FromSeconds(o.SettleSeconds), ct);
        var rssOnline = ProcStat.RssBytes(o.ServerPid);
        var perUser = o.ServerPid > 0 ? (rssOnline - rssIdle) / (double)o.Users : 0;
        Log($"{label}: RSS idle {rssIdle / 1048576.0:F1} MiB, online {rssOnline / 1048576.0:F1} MiB, {perUser / 1024:F1} KiB per user");

        // Phase C: fan-out steps.
        var steps = o.Steps.Count > 0 ? o.Steps.ToList() : [.. o.Think.Select(t => o.Users / t * o.Roster)];
        // An unmeasured warm-up at the first step's rate (--warmup S): a freshly started .NET server spends its first tens
        // of seconds compiling hot methods again at higher tiers, which would otherwise be charged to the first steps.
        var warmup = o.WarmupSeconds > 0 && steps.Count > 0 && !o.LoginOnly;
        if (warmup)
        {
            steps.Insert(0, steps[0]);
        }
        var results = new List<StepResult>();
        var failures = 0;
        var rng = new Random(o.Seed);
        var me = Process.GetCurrentProcess();
        for (var s = 0; s < steps.Count && s < DeliveryRecorder.MaxSteps && !o.LoginOnly && loginErrors == 0; s++)
        {
            if (ct.IsCancellationRequested)
            {
                break;
            }
            var step = s + 1; // the stamp's step (the recorder's slot)
            var shown = warmup ? s : s + 1; // the step as reported (the warm-up is not a step)
            var isWarmup = warmup && s == 0;
            var updatesPerSecond = steps[s] / o.Roster;
            var errors0 = clients.Sum(c => c.Errors);
            var sendErrors = 0L;
            var cpu0 = ProcStat.CpuMs(o.ServerPid);
            me.Refresh();
            var gen0 = me.TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            var next = 0.0;
            var sent = 0L;
            var late = 0.0;
            var inflight = 0L;
            var duration = isWarmup ? o.WarmupSeconds : o.StepSeconds;
            while (clock.Elapsed.TotalSeconds < duration && !ct.IsCancellationRequested)
            {
                var now = clock.Elapsed.TotalSeconds;
                while (next <= now)
                {
                    late = Math.Max(late, (now - next) * 1000);
                    var who = rng.Next(o.Users);
                    var stamp = DeliveryRecorder.Stamp(step, who, ++counts[who], Stopwatch.GetTimestamp());
                    var busy = (sent & 1) == 1;
                    sent++;
                    Interlocked.Increment(ref inflight);
                    _ = Publish(clients[who], stamp, busy, ct).ContinueWith(t =>
                    {
                        Interlocked.Decrement(ref inflight);
                        if (t.IsFaulted)
                        {
                            Interlocked.Increment(ref sendErrors);
                        }
                    }, TaskScheduler.Default);
                    next += -Math.Log(1 - rng.NextDouble()) / updatesPerSecond;
                }
                await Task.Delay(1, CancellationToken.None);
            }
            var sendSeconds = clock.Elapsed.TotalSeconds;
            var expected = sent * o.Roster;
            var drainEnd = sendSeconds + o.DrainSeconds;
            var lastCount = -1L;
            var lastChange = clock.Elapsed.TotalSeconds;
            while (clock.Elapsed.TotalSeconds < drainEnd && (recorder.Delivered(step) + recorder.Superseded(step) < expected || Interlocked.Read(ref inflight) > 0))
            {
                await Task.Delay(20, CancellationToken.None);
                var c = recorder.Delivered(step);
                if (c != lastCount)
                {
                    lastCount = c;
                    lastChange = clock.Elapsed.TotalSeconds;
                }
            }
            var delivered = recorder.Delivered(step);
            var superseded = recorder.Superseded(step);
            var activeSeconds = delivered + superseded >= expected ? Math.Max(sendSeconds, lastChange) : clock.Elapsed.TotalSeconds;
            var cpu = ProcStat.CpuMs(o.ServerPid) - cpu0;
            me.Refresh();
            var gen = (me.TotalProcessorTime - gen0).TotalMilliseconds;
            var h = recorder.Latency(step);
            var errors = clients.Sum(c => c.Errors) - errors0 + Interlocked.Read(ref sendErrors);
            // Superseded = the receiver got a newer update of the same sender instead (newest state delivered).
            var ratio = expected == 0 ? 1 : (delivered + superseded) / (double)expected;
            if (isWarmup)
            {
                Log($"{label}: warm-up: offered {steps[s]:F0}/s for {duration:F0} s, {sent} updates, delivered {delivered}/{expected} (+{superseded} superseded), " +
                    $"server CPU {(delivered == 0 ? 0 : cpu / (delivered / 1000.0)):F1} ms/1k (not measured), errors {errors}");
                if (errors > 0 || ratio < 0.999)
                {
                    results.Add(new StepResult(0, steps[s], sent, expected, delivered, superseded, delivered / activeSeconds, Ms(h, 50), Ms(h, 99), Ms(h, 99.9),
                        h.GetMaxValue() / 1000.0, 0, cpu / activeSeconds / 10, gen / activeSeconds / 10, errors, late, false));
                }
                continue;
            }
            var p99 = Ms(h, 99);
            var passed = ratio >= 0.999 && errors == 0 && p99 <= 100;
            var r = new StepResult(shown, steps[s], sent, expected, delivered, superseded, delivered / activeSeconds, Ms(h, 50), p99, Ms(h, 99.9),
                h.GetMaxValue() / 1000.0, delivered == 0 ? 0 : cpu / (delivered / 1000.0), cpu / activeSeconds / 10,
                gen / activeSeconds / 10, errors, late, passed);
            results.Add(r);
            Log($"{label}: step {shown}: offered {steps[s]:F0}/s, {sent} updates, delivered {delivered}/{expected} (+{superseded} superseded: {ratio:P3}), " +
                $"{r.DeliveriesPerSecond:F0}/s, p50 {r.P50Ms:F2} p99 {r.P99Ms:F2} p99.9 {r.P999Ms:F2} ms, server CPU {r.ServerCpuPercent:F0} % " +
                $"({r.ServerCpuPerThousandMs:F1} ms/1k), generator CPU {r.GeneratorCpuPercent:F0} %, errors {errors}, late {late:F0} ms" +
                (passed ? "" : "  [MISSED]"));
            failures = passed ? 0 : failures + 1;
            if (failures >= o.StopAfterFailures)
            {
                break;
            }
        }

        var rssEnd = ProcStat.RssBytes(o.ServerPid);
        Log($"{label}: closing connections");
        await Ring.ForEach(o.Users, 64, async (i, _) => await clients[i].DisposeAsync(), CancellationToken.None);
        var saturation = results.Where(r => r.Passed).Select(r => r.DeliveriesPerSecond).DefaultIfEmpty(0).Max();
        PrintTable(o, label, results, loginLatency, loginSeconds, loginErrors, perUser);
        var json = new Dictionary<string, object?>
        {
            ["benchmark"] = "herald.bench.pres2c",
            ["server"] = o.Server,
            ["protocol"] = o.Protocol.ToString(),
            ["users"] = o.Users,
            ["roster"] = o.Roster,
            ["date"] = DateTimeOffset.UtcNow.ToString("u", CultureInfo.InvariantCulture),
            ["loadAverageBefore"] = load0,
            ["loadAverageAfter"] = LoadAverage(),
            ["loginErrors"] = loginErrors,
            ["loginsPerSecond"] = o.Users / loginSeconds,
            ["loginP50Ms"] = Ms(loginLatency, 50),
            ["loginP99Ms"] = Ms(loginLatency, 99),
            ["loginServerCpuMsPerLogin"] = loginCpu / o.Users,
            ["rssIdleBytes"] = rssIdle,
            ["rssOnlineBytes"] = rssOnline,
            ["rssEndBytes"] = rssEnd,
            ["bytesPerUser"] = perUser,
            ["saturationDeliveriesPerSecond"] = saturation,
            ["foreignStamps"] = recorder.Foreign,
            ["staleDeliveries"] = recorder.Stale,
            ["steps"] = results,
        };
        Console.WriteLine(JsonSerializer.Serialize(json));
        return new NetReport(loginErrors, firstLoginError, shortRosters, recorder.Foreign, recorder.Stale, results);
    }

    private static async Task Publish(IBenchConnection c, string stamp, bool busy, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        await c.Publish(stamp, busy, timeout.Token);
    }

    private static void PrintTable(NetOptions o, string label, List<StepResult> results, LongHistogram login, double loginSeconds, long loginErrors, double perUser)
    {
        Console.WriteLine();
        Console.WriteLine($"PRES-2C {label}: N = {o.Users}, R = {o.Roster}; logins {o.Users / loginSeconds:F0}/s at offered {o.LoginRate}/s, " +
            $"p50 {Ms(login, 50):F1} ms, p99 {Ms(login, 99):F1} ms, {loginErrors} errors; {perUser / 1024:F1} KiB RSS per connected user");
        Console.WriteLine("| offered deliveries/s | delivered/s | delivered/expected | superseded | p50 ms | p99 ms | p99.9 ms | server CPU % | server CPU ms per 1k | generator CPU % | errors | ok |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        foreach (var r in results)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.OfferedDeliveriesPerSecond:N0} | {r.DeliveriesPerSecond:N0} | {(r.Expected == 0 ? 1 : (r.Delivered + r.Superseded) / (double)r.Expected):P2} | {r.Superseded} | {r.P50Ms:F2} | {r.P99Ms:F2} | {r.P999Ms:F2} | {r.ServerCpuPercent:F0} | {r.ServerCpuPerThousandMs:F1} | {r.GeneratorCpuPercent:F0} | {r.Errors} | {(r.Passed ? "yes" : "no")} |"));
        }
    }

    private static double Ms(HistogramBase h, double percentile) => h.TotalCount == 0 ? 0 : h.GetValueAtPercentile(percentile) / 1000.0;

    private static string LoadAverage()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Trim();
        }
        catch (IOException)
        {
            return "";
        }
    }

    private static void Log(string message) => Console.Error.WriteLine($"[{DateTime.UtcNow:HH:mm:ss}] {message}");
}
