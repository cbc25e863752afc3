using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using Herald.Cluster.Directory;
using Herald.Cluster.Fanout;
using Herald.Cluster.Hosting;
using Herald.Cluster.Presence;
using Herald.Core.Model;
using HdrHistogram;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using Orleans.TestingHost;

namespace Herald.Bench.Fanout;

/// <summary>
/// The in-process fan-out benchmark: one silo in this process, N people with ring rosters of R watchers, every
/// watcher a sink registered with the silo's <see cref="SiloPresenceHub"/>; updates go through
/// <see cref="IPersonGrain"/> (aggregation, policy once per disclosure key, one broadcast to the silo) and the hub
/// hands each view to the watchers' sinks. No sockets: grain calls are made through the silo's own grain factory.
/// </summary>
public static class FanoutBenchmark
{
    private static readonly TimeSpan SetupLimit = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan DrainLimit = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan DrainQuiet = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan StopLimit = TimeSpan.FromSeconds(60);

    // Set-up writes each person's subscriptions once; SQLite writers contend, so keep this modest.
    private const int SetupParallelism = 8;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    /// <summary>Runs the benchmark and prints its results; returns the process exit code.</summary>
    public static async Task<int> Run(FanoutOptions o)
    {
        var db = o.DatabasePath ?? Path.Combine(Path.GetTempPath(), $"herald-bench-{Guid.NewGuid():N}.db");
        var ownDb = o.DatabasePath is null;
        var ids = Enumerable.Range(0, o.Users).Select(i => $"p{i}").ToArray();
        var setupWatch = Stopwatch.StartNew();
        Progress($"starting one silo (SQLite at {db})");

        var builder = new InProcessTestClusterBuilder(1);
        builder.Options.ConfigureFileLogging = false;
        builder.Options.InitializeClientOnDeploy = false;
        builder.ConfigureHost(host =>
        {
            host.Logging.ClearProviders();
            host.Logging.AddConsole(c => c.LogToStandardErrorThreshold = LogLevel.Trace);
            host.Logging.SetMinimumLevel(LogLevel.Warning);
        });
        builder.ConfigureSilo((_, silo) =>
        {
            // Grains see a clock that starts on a Wednesday at 10:00 UTC and runs in real time: the privacy engine
            // shows colleagues availability and notes only inside work hours, so the result must not depend on when
            // the benchmark happens to run. Orleans' own background timers keep the system clock.
            silo.Services.AddSingleton<TimeProvider>(new WorkdayClock(WorkdayClock.DefaultStart));
            silo.Services.UseTimeProviderForBackgroundAreas(TimeProvider.System);
            silo.AddHeraldSqliteStorage(db);
            // The renewal loop re-registers every watched person; keep it out of the measured window (its cost is
            // one grain call per watched person per period, 30 s by default).
            silo.AddHeraldPresence(p => p.SiloWatchRenewal = TimeSpan.FromMinutes(10));
        });
        var cluster = builder.Build();
        using var stats = new DeliveryStats();
        try
        {
            await cluster.DeployAsync().WaitAsync(SetupLimit);
            var silo = cluster.Silos[0];
            var services = silo.ServiceProvider;
            var grains = services.GetRequiredService<IGrainFactory>();
            var hub = services.GetRequiredService<SiloPresenceHub>();

            await SetUpPeopleAndWatchers(o, ids, services, hub, stats).WaitAsync(SetupLimit);
            Progress($"set up {o.Users} people, {(long)o.Users * o.Roster} watches in {setupWatch.Elapsed.TotalSeconds:0.0} s");
            var setupSeconds = setupWatch.Elapsed.TotalSeconds;

            var refs = ids.Select(id => grains.GetGrain<IPersonGrain>(id)).ToArray();
            if (o.Warmup > 0)
            {
                var before = hub.Deliveries;
                var warm = await Drive(o, refs, o.Warmup, TimeSpan.FromTicks(Math.Min(o.Duration.Ticks, TimeSpan.FromSeconds(20).Ticks)), o.Seed + 1_000_003, rate: 0);
                await Drain(hub, before + warm.Completed * o.Roster);
                Progress($"warm-up: {warm.Completed} updates, {hub.Deliveries - before} deliveries");
            }
            stats.Reset();

            // The measured phase.
            GC.Collect();
            GC.WaitForPendingFinalizers();
            using var process = Process.GetCurrentProcess();
            process.Refresh();
            var cpu0 = process.TotalProcessorTime;
            var alloc0 = GC.GetTotalAllocatedBytes(precise: false);
            var gcs0 = new[] { GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2) };
            var pause0 = GC.GetTotalPauseDuration();
            var load0 = LoadAverage();
            var deliveries0 = hub.Deliveries;
            var t0 = Stopwatch.GetTimestamp();
            Progress($"measuring: up to {o.Updates} updates or {o.Duration.TotalSeconds:0} s, {o.InFlight} in flight, source {o.Source}"
                + (o.Rate > 0 ? $", offered {o.Rate:0} updates/s" : ""));

            var drive = await Drive(o, refs, o.Updates, o.Duration, o.Seed, o.Rate);
            var sentSeconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            var expected = drive.Completed * o.Roster;
            var lastDelivery = await Drain(hub, deliveries0 + expected);
            var seconds = Stopwatch.GetElapsedTime(t0, lastDelivery).TotalSeconds;

            process.Refresh();
            var cpu = (process.TotalProcessorTime - cpu0).TotalMilliseconds;
            var allocated = GC.GetTotalAllocatedBytes(precise: false) - alloc0;
            var pause = (GC.GetTotalPauseDuration() - pause0).TotalMilliseconds;
            var delivered = hub.Deliveries - deliveries0;
            var (latency, stale, unstamped) = stats.Snapshot();

            var result = new FanoutResult
            {
                Source = o.Source,
                Users = o.Users,
                Roster = o.Roster,
                TeamSize = o.TeamSize > 0 ? o.TeamSize : o.Users,
                InFlight = o.InFlight,
                UpdatesRequested = o.Updates,
                OfferedRate = o.Rate,
                SecondsLimit = o.Duration.TotalSeconds,
                Updates = drive.Completed,
                Errors = drive.Errors,
                FirstError = drive.FirstError,
                SendSeconds = Round(sentSeconds, 3),
                Seconds = Round(seconds, 3),
                UpdatesPerSecond = Round(drive.Completed / sentSeconds, 0),
                Expected = expected,
                Delivered = delivered,
                Accepted = latency.TotalCount,
                Stale = stale,
                Unstamped = unstamped,
                DeliveredRatio = expected == 0 ? 0 : Round((double)delivered / expected, 6),
                DeliveriesPerSecond = Round(delivered / seconds, 0),
                LatencyMicros = Percentiles(latency),
                CallMicros = Percentiles(drive.CallLatency),
                SendLagMicros = o.Rate > 0 ? Percentiles(drive.SendLag) : null,
                CpuMsPer1000Deliveries = delivered == 0 ? 0 : Round(cpu / (delivered / 1000.0), 4),
                CpuCoresBusy = Round(cpu / 1000.0 / seconds, 2),
                AllocatedBytesPerDelivery = delivered == 0 ? 0 : Round((double)allocated / delivered, 0),
                GcCollections = [GC.CollectionCount(0) - gcs0[0], GC.CollectionCount(1) - gcs0[1], GC.CollectionCount(2) - gcs0[2]],
                GcPauseMs = Round(pause, 1),
                SetupSeconds = Round(setupSeconds, 1),
                ProcessorCount = Environment.ProcessorCount,
                Runtime = RuntimeInformation.FrameworkDescription,
                ServerGc = GCSettings.IsServerGC,
                LoadAverageBefore = load0,
                LoadAverageAfter = LoadAverage(),
                UtcDate = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            };
            PrintTable(result);
            Console.WriteLine(JsonSerializer.Serialize(result, Json));
            return result.Errors == 0 && result.Delivered == result.Expected && result.Stale == 0 ? 0 : 1;
        }
        finally
        {
            Progress("stopping the silo");
            try
            {
                await cluster.StopAllSilosAsync().WaitAsync(StopLimit);
                await cluster.DisposeAsync().AsTask().WaitAsync(StopLimit);
            }
            catch (Exception ex) when (ex is TimeoutException or OperationCanceledException or ObjectDisposedException)
            {
                Progress($"the silo did not stop cleanly: {ex.GetType().Name}");
            }
            if (ownDb)
            {
                foreach (var f in new[] { db, db + "-wal", db + "-shm" })
                {
                    TryDelete(f);
                }
            }
        }
    }

    /// <summary>
    /// Writes directory entries (teams of <see cref="FanoutOptions.TeamSize"/> consecutive people, so a person's
    /// watchers are partly Team and partly Colleague tier: two distinct disclosures per update besides the owner's;
    /// a work e-mail and a personal mobile, so the policy has something to withhold), then gives every watcher a sink
    /// and watches its ring: watcher w watches w±1 … w±R/2, so every person has exactly R watchers. Activates every
    /// person's grain on the way. Subscriptions are approved first, one grain call and one storage write per person
    /// for all its watchers (the default organization policy auto-approves Team and Colleague on the first watch):
    /// through the hub, which watches for one sink at a time, that would be one write per pair.
    /// </summary>
    private static async Task SetUpPeopleAndWatchers(FanoutOptions o, string[] ids, IServiceProvider services, SiloPresenceHub hub, DeliveryStats stats)
    {
        var directory = services.GetRequiredService<IDirectoryStore>();
        var grains = services.GetRequiredService<IGrainFactory>();
        var silo = services.GetRequiredService<ILocalSiloDetails>().SiloAddress;
        var teamSize = o.TeamSize > 0 ? o.TeamSize : o.Users;
        foreach (var chunk in ids.Select((id, i) => (id, i)).Chunk(1000))
        {
            await directory.UpsertPeople([.. chunk.Select(p => new PersonProfile(p.id, $"Person {p.id}", $"{p.id}@example.org", $"team{p.i / teamSize}", null, "UTC", null,
                [new ContactMethod(ContactKind.Email, $"{p.id}@example.org"), new ContactMethod(ContactKind.Mobile, "+10000000000")]))]);
        }
        var half = o.Roster / 2;
        var sinks = new BenchSink[o.Users];
        for (var w = 0; w < o.Users; w++)
        {
            var watched = new List<string>(o.Roster);
            for (var k = 1; k <= half; k++)
            {
                watched.Add(ids[(w + k) % o.Users]);
                watched.Add(ids[((w - k) % o.Users + o.Users) % o.Users]);
            }
            sinks[w] = new BenchSink(ids[w], watched, stats);
        }

        // Approve every ring subscription: watch with all watchers at once through a placeholder observer, then drop
        // that registration again (the hub registers its own below).
        var placeholder = new NullObserver();
        var placeholderRef = grains.CreateObjectReference<ISiloPresenceObserver>(placeholder);
        var approved = 0L;
        await Parallel.ForEachAsync(Enumerable.Range(0, o.Users), new ParallelOptions { MaxDegreeOfParallelism = SetupParallelism }, async (i, _) =>
        {
            var person = grains.GetGrain<IPersonGrain>(ids[i]);
            await person.WatchFromSilo(silo, placeholderRef, sinks[i].Watched, replace: false);
            await person.UnwatchFromSilo(silo, null);
            if (Interlocked.Increment(ref approved) % 1000 == 0)
            {
                Progress($"  {approved} people: subscriptions approved");
            }
        });
        grains.DeleteObjectReference<ISiloPresenceObserver>(placeholderRef);
        GC.KeepAlive(placeholder);

        var done = 0L;
        await Parallel.ForEachAsync(sinks, new ParallelOptions { MaxDegreeOfParallelism = SetupParallelism }, async (sink, _) =>
        {
            foreach (var person in sink.Watched)
            {
                await hub.Watch(sink, person);
            }
            if (Interlocked.Increment(ref done) % 1000 == 0)
            {
                Progress($"  {done} watchers registered");
            }
        });
    }

    private sealed record DriveResult(long Completed, long Errors, string? FirstError, LongHistogram CallLatency, LongHistogram SendLag);

    /// <summary>
    /// Sends up to <paramref name="count"/> updates, each to a random person, with <see cref="FanoutOptions.InFlight"/>
    /// calls outstanding, stopping early at <paramref name="limit"/>. Every update changes what watchers see: the note
    /// (or the device location's city) carries the send stamp, and the availability alternates.
    /// </summary>
    private static async Task<DriveResult> Drive(FanoutOptions o, IPersonGrain[] people, long count, TimeSpan limit, int seed, double rate)
    {
        long issued = 0, completed = 0, errors = 0;
        string? firstError = null;
        var start = Stopwatch.GetTimestamp();
        var deadline = start + (long)(limit.TotalSeconds * Stopwatch.Frequency);
        var interval = rate > 0 ? Stopwatch.Frequency / rate : 0;
        // Per-thread histograms (139 KB each, on the large-object heap): one pair per worker allocated hundreds of
        // them per run, and each one counted towards a full collection of the engine's heap.
        using var calls = new ThreadHistograms();
        using var lag = new ThreadHistograms();
        // Every worker starts at once and runs until its first call is pending. A Task.Yield here queued the workers
        // on the thread pool's global queue, which a saturated pool serves only when its local queues are empty, so
        // the workers started over several seconds of the measured phase.
        var workers = Enumerable.Range(0, o.InFlight).Select(async w =>
        {
            var random = new Random(HashCode.Combine(seed, w));
            while (true)
            {
                var n = Interlocked.Increment(ref issued);
                if (n > count || Stopwatch.GetTimestamp() >= deadline)
                {
                    break;
                }
                if (interval > 0)
                {
                    // Open loop: update n is due at start + (n-1)/rate. Sleep when ahead (timer granularity is about
                    // a millisecond, so sends come in small bursts); the lateness of each send is recorded apart.
                    var due = start + (long)((n - 1) * interval);
                    var ahead = due - Stopwatch.GetTimestamp();
                    if (ahead > Stopwatch.Frequency / 1000)
                    {
                        await Task.Delay(TimeSpan.FromSeconds((double)ahead / Stopwatch.Frequency));
                    }
                    if (due >= deadline)
                    {
                        break;
                    }
                    var late = (long)Stopwatch.GetElapsedTime(due).TotalMicroseconds;
                    lag.Record(late);
                }
                var person = people[random.Next(people.Length)];
                var availability = (n & 1) == 0 ? Availability.Available : Availability.Busy;
                var stamp = Stopwatch.GetTimestamp();
                var text = stamp.ToString(CultureInfo.InvariantCulture);
                try
                {
                    if (o.Source == UpdateSource.Status)
                    {
                        await person.SetStatus(new SetStatus(availability, null, text, null));
                    }
                    else
                    {
                        // The stamp rides in the city: colleagues see locations to city precision at work.
                        await person.PutDevice(new DeviceReport("bench-desktop", DeviceKind.Desktop, availability, null, null, [],
                            new Location(Country: "XX", City: text), TimeSpan.FromMinutes(30)));
                    }
                    Interlocked.Increment(ref completed);
                }
                catch (Exception ex)
                {
                    if (Interlocked.Increment(ref errors) == 1)
                    {
                        firstError = $"{ex.GetType().Name}: {ex.Message}";
                    }
                }
                var micros = (long)Stopwatch.GetElapsedTime(stamp).TotalMicroseconds;
                calls.Record(micros);
            }
        }).ToArray();
        await Task.WhenAll(workers);
        return new DriveResult(completed, errors, firstError, calls.Merge(), lag.Merge());
    }

    /// <summary>
    /// Waits until the hub has delivered <paramref name="target"/> views in total, or nothing moved for a while, or
    /// the drain limit passed. Returns the timestamp at which the last delivery was observed.
    /// </summary>
    private static async Task<long> Drain(SiloPresenceHub hub, long target)
    {
        var start = Stopwatch.GetTimestamp();
        var last = hub.Deliveries;
        var lastMoved = start;
        while (true)
        {
            var now = Stopwatch.GetTimestamp();
            var current = hub.Deliveries;
            if (current != last)
            {
                last = current;
                lastMoved = now;
            }
            if (current >= target)
            {
                return now;
            }
            if (Stopwatch.GetElapsedTime(lastMoved, now) > DrainQuiet || Stopwatch.GetElapsedTime(start, now) > DrainLimit)
            {
                Progress($"drain stopped at {current} of {target} deliveries");
                return lastMoved;
            }
            await Task.Delay(1);
        }
    }

    private static LatencySummary Percentiles(LongHistogram h) => h.TotalCount == 0
        ? new LatencySummary(0, 0, 0, 0, 0, 0, 0)
        : new LatencySummary(h.GetValueAtPercentile(50), h.GetValueAtPercentile(90), h.GetValueAtPercentile(99),
            h.GetValueAtPercentile(99.9), h.GetMaxValue(), Round(h.GetMean(), 1), h.TotalCount);

    private static void PrintTable(FanoutResult r)
    {
        var rows = new (string Name, string Value)[]
        {
            ("workload", $"{r.Users} people x {r.Roster} watchers, teams of {r.TeamSize}, source {r.Source}, {r.InFlight} calls in flight"),
            ("updates sent (ok / errors)", $"{r.Updates:N0} / {r.Errors:N0} in {r.SendSeconds:0.00} s ({r.UpdatesPerSecond:N0}/s)"),
            ("deliveries / expected", $"{r.Delivered:N0} / {r.Expected:N0} = {r.DeliveredRatio:P3} (stale {r.Stale}, unstamped {r.Unstamped})"),
            ("deliveries/s", $"{r.DeliveriesPerSecond:N0} (over {r.Seconds:0.00} s to the last delivery)"),
            ("update->delivery p50 / p99 / p99.9", $"{Ms(r.LatencyMicros.P50)} / {Ms(r.LatencyMicros.P99)} / {Ms(r.LatencyMicros.P999)} (max {Ms(r.LatencyMicros.Max)})"),
            ("grain call p50 / p99", $"{Ms(r.CallMicros.P50)} / {Ms(r.CallMicros.P99)}"),
            ("generator lateness p50 / p99", r.SendLagMicros is { } lag ? $"{Ms(lag.P50)} / {Ms(lag.P99)} (offered {r.OfferedRate:N0} updates/s)" : "n/a (saturating, closed loop)"),
            ("CPU per 1,000 deliveries", $"{r.CpuMsPer1000Deliveries:0.000} ms (process, {r.CpuCoresBusy:0.00} cores busy of {r.ProcessorCount})"),
            ("allocated per delivery", $"{r.AllocatedBytesPerDelivery:N0} B; GC gen0/1/2 {string.Join('/', r.GcCollections)}, pauses {r.GcPauseMs:0.0} ms"),
            ("runtime", $"{r.Runtime}, server GC {r.ServerGc}, setup {r.SetupSeconds:0.0} s"),
            ("machine load (1 min avg)", $"{r.LoadAverageBefore} before, {r.LoadAverageAfter} after (other processes share these cores)"),
        };
        var width = rows.Max(x => x.Name.Length);
        Console.WriteLine();
        Console.WriteLine("In-process fan-out (one silo, no sockets)");
        foreach (var (name, value) in rows)
        {
            Console.WriteLine($"  {name.PadRight(width)}  {value}");
        }
        Console.WriteLine();
    }

    /// <summary>The 1-minute load average (Linux), to tell a quiet machine from a busy one.</summary>
    private static string LoadAverage()
    {
        try
        {
            return File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "n/a";
        }
        catch (IOException)
        {
            return "n/a";
        }
    }

    private static string Ms(long micros) => (micros / 1000.0).ToString("0.000' ms'", CultureInfo.InvariantCulture);

    private static double Round(double value, int digits) => double.IsFinite(value) ? Math.Round(value, digits) : 0;

    private static void Progress(string message) => Console.Error.WriteLine($"[{DateTime.UtcNow:HH:mm:ss}] {message}");

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // left behind in the temp directory
        }
    }
}

/// <summary>Receives nothing that matters: stands in for the hub while subscriptions are approved.</summary>
internal sealed class NullObserver : ISiloPresenceObserver
{
    /// <inheritdoc />
    public Task OnPresence(PresenceBroadcast broadcast) => Task.CompletedTask;
}

/// <summary>Latency percentiles in microseconds.</summary>
public sealed record LatencySummary(long P50, long P90, long P99, long P999, long Max, double Mean, long Count);

/// <summary>One run's results, as printed in the JSON line.</summary>
public sealed record FanoutResult
{
    /// <summary>Always <c>herald.bench.fanout</c>.</summary>
    public string Benchmark { get; init; } = "herald.bench.fanout";

    /// <summary>The grain method that carried the updates.</summary>
    public UpdateSource Source { get; init; }

    /// <summary>People.</summary>
    public int Users { get; init; }

    /// <summary>Watchers per person.</summary>
    public int Roster { get; init; }

    /// <summary>People per team (same team = Team tier, else Colleague).</summary>
    public int TeamSize { get; init; }

    /// <summary>Concurrent calls.</summary>
    public int InFlight { get; init; }

    /// <summary>The update bound asked for.</summary>
    public long UpdatesRequested { get; init; }

    /// <summary>Offered updates/s (0 = saturate).</summary>
    public double OfferedRate { get; init; }

    /// <summary>The time bound asked for.</summary>
    public double SecondsLimit { get; init; }

    /// <summary>Updates that completed.</summary>
    public long Updates { get; init; }

    /// <summary>Updates that failed.</summary>
    public long Errors { get; init; }

    /// <summary>The first failure, if any.</summary>
    public string? FirstError { get; init; }

    /// <summary>Seconds until the last call returned.</summary>
    public double SendSeconds { get; init; }

    /// <summary>Seconds until the last delivery.</summary>
    public double Seconds { get; init; }

    /// <summary>Completed updates per second.</summary>
    public double UpdatesPerSecond { get; init; }

    /// <summary>Updates × roster.</summary>
    public long Expected { get; init; }

    /// <summary>Views the hub handed to sinks.</summary>
    public long Delivered { get; init; }

    /// <summary>Views the sinks accepted (sequence above the last one for that person) and timed.</summary>
    public long Accepted { get; init; }

    /// <summary>Views a real sink would drop (out of order or repeated).</summary>
    public long Stale { get; init; }

    /// <summary>Views without a readable stamp.</summary>
    public long Unstamped { get; init; }

    /// <summary>Delivered / expected.</summary>
    public double DeliveredRatio { get; init; }

    /// <summary>Delivered views per second.</summary>
    public double DeliveriesPerSecond { get; init; }

    /// <summary>Update-to-delivery latency (stamp before the call to the sink).</summary>
    public LatencySummary LatencyMicros { get; init; } = null!;

    /// <summary>Grain call round trip as the driver saw it.</summary>
    public LatencySummary CallMicros { get; init; } = null!;

    /// <summary>How late the paced generator sent, when paced.</summary>
    public LatencySummary? SendLagMicros { get; init; }

    /// <summary>Process CPU time per 1,000 deliveries (driver, grains, hub and sinks together).</summary>
    public double CpuMsPer1000Deliveries { get; init; }

    /// <summary>Average cores busy during the measured phase.</summary>
    public double CpuCoresBusy { get; init; }

    /// <summary>Managed allocation per delivery.</summary>
    public double AllocatedBytesPerDelivery { get; init; }

    /// <summary>GC counts (gen0, gen1, gen2) during the measured phase.</summary>
    public int[] GcCollections { get; init; } = [];

    /// <summary>Total GC pause during the measured phase.</summary>
    public double GcPauseMs { get; init; }

    /// <summary>Seconds to start the silo and register every watcher.</summary>
    public double SetupSeconds { get; init; }

    /// <summary>Logical processors.</summary>
    public int ProcessorCount { get; init; }

    /// <summary>The .NET runtime.</summary>
    public string Runtime { get; init; } = "";

    /// <summary>True under server GC.</summary>
    public bool ServerGc { get; init; }

    /// <summary>1-minute load average when the measured phase began.</summary>
    public string LoadAverageBefore { get; init; } = "";

    /// <summary>1-minute load average when it ended.</summary>
    public string LoadAverageAfter { get; init; } = "";

    /// <summary>When the run ended (UTC).</summary>
    public string UtcDate { get; init; } = "";
}
