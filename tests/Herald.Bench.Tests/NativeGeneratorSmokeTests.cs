using System.Diagnostics;
using System.Text.Json;
using Herald.Bench.Net;
using Herald.Floor;

namespace Herald.Bench.Tests;

/// <summary>
/// The native PRES-2C generator (bench/native/pres2c.c), built with gcc by bench/native/build.sh into a temp directory
/// (one per source version) and run as a child process against the floor server and against a real Herald server, both
/// in this process on loopback: every presence must arrive (delivered/expected ≥ 99.9 %, superseded counting as delivered for Herald as in
/// <see cref="Pres2cSmokeTests"/>; 100 % for the floor, which never drops a view), no errors, full ring rosters. Never a
/// speed assertion. Bounded: 300 users, two 3–4-second steps, the generator's own --max-seconds and a kill after 150 s.
/// </summary>
public sealed class NativeGeneratorSmokeTests
{
    [NativeGeneratorTheory]
    [InlineData("kestrel-each")]
    [InlineData("raw")]
    public async Task Native_generator_receives_every_presence_from_the_floor_server(string transport)
    {
        Assert.True(FloorHost.TryParse(["--port", "0", "--transport", transport, "--users", "300", "--roster", "20"], out var floorOptions, out var error), error);
        await using var floor = await FloorHost.Start(floorOptions);

        var run = await NativeGenerator.Run(floor.Url.ToString().TrimEnd('/'), "floor-smoke");

        run.AssertClean(exact: true);
    }

    [NativeGeneratorFact]
    public async Task Native_generator_receives_every_presence_from_Herald()
    {
        await using var herald = await InProcessHerald.Start();
        Assert.True(NetOptions.TryParse(["--url", herald.Url, "--users", "300", "--roster", "20"], out var options, out var error), error);
        using (var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) })
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120)))
        {
            await HeraldProvisioner.Run(http, options, InProcessHerald.AdminPassword, cts.Token);
        }

        var run = await NativeGenerator.Run(herald.Url, "herald-smoke");

        run.AssertClean(exact: false);
    }

    [NativeGeneratorFact]
    public async Task Native_generator_refuses_a_non_loopback_server_and_bad_options()
    {
        var exe = await NativeGenerator.Build();
        var (code, _, stderr) = await NativeGenerator.Exec(exe, ["--url", "http://10.1.2.3:80", "--users", "10", "--roster", "2"], TimeSpan.FromSeconds(30));
        Assert.Equal(2, code);
        Assert.Contains("loopback", stderr, StringComparison.Ordinal);
        (code, _, stderr) = await NativeGenerator.Exec(exe, ["--roster", "3"], TimeSpan.FromSeconds(30));
        Assert.Equal(2, code);
        Assert.Contains("--roster", stderr, StringComparison.Ordinal);
    }

    [NativeGeneratorFact]
    public async Task Native_generator_reports_a_server_that_refuses_logins_as_errors_and_stops()
    {
        // The floor server knows users u0…u(N-1) only by index; a prefix it cannot parse gets 401 from the token endpoint.
        Assert.True(FloorHost.TryParse(["--port", "0", "--transport", "raw", "--users", "50", "--roster", "2"], out var floorOptions, out var error), error);
        await using var floor = await FloorHost.Start(floorOptions);
        var exe = await NativeGenerator.Build();
        var (code, stdout, stderr) = await NativeGenerator.Exec(exe,
            ["--url", floor.Url.ToString().TrimEnd('/'), "--users", "20", "--roster", "2", "--prefix", "nobody", "--login-rate", "200",
             "--settle", "0", "--steps", "100", "--step-seconds", "1", "--max-seconds", "60"], TimeSpan.FromSeconds(90));
        Assert.True(code == 1, $"exit code {code}\n{stderr}");
        var summary = NativeGenerator.Summary(stdout);
        Assert.Equal(20, summary.GetProperty("loginErrors").GetInt64());
        Assert.Contains("token: HTTP", summary.GetProperty("firstError").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, summary.GetProperty("steps").GetInt32());
    }
}

/// <summary>Builds and runs bench/native/pres2c.c.</summary>
internal static class NativeGenerator
{
    private static readonly Lazy<Task<string>> Built = new(BuildOnce);

    /// <summary>Whether gcc is on the PATH.</summary>
    public static bool GccAvailable =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Any(d => File.Exists(Path.Combine(d, "gcc")));

    /// <summary>The built generator (built once per test run, into a temp directory named by the source's hash).</summary>
    public static Task<string> Build() => Built.Value;

    private static async Task<string> BuildOnce()
    {
        var root = RepositoryRoot();
        // One directory per version of the source and build script, reused by later runs (no temp directory per run
        // left behind); build.sh writes a file of its own and renames it, so concurrent runs do not collide.
        var source = Path.Combine(root, "bench", "native");
        var hash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(
            [.. File.ReadAllBytes(Path.Combine(source, "pres2c.c")), .. File.ReadAllBytes(Path.Combine(source, "build.sh"))]))[..16];
        var output = Path.Combine(Path.GetTempPath(), "herald-native-" + hash, "pres2c-native");
        var (code, stdout, stderr) = await Exec("bash", [Path.Combine(root, "bench", "native", "build.sh"), output], TimeSpan.FromSeconds(120));
        Assert.True(code == 0, $"build.sh failed ({code}):\n{stdout}\n{stderr}");
        return output;
    }

    /// <summary>A smoke run: 300 users, R = 20, two fan-out steps.</summary>
    public static async Task<NativeRun> Run(string url, string label)
    {
        var exe = await Build();
        var (code, stdout, stderr) = await Exec(exe,
            ["--url", url, "--server", label, "--users", "300", "--roster", "20", "--login-rate", "300", "--login-inflight", "20",
             "--settle", "0.3", "--steps", "1000,3000", "--step-seconds", "3", "--drain", "20", "--stop-after", "10", "--max-seconds", "120"],
            TimeSpan.FromSeconds(150));
        return new NativeRun(code, stdout, stderr);
    }

    public static JsonElement Summary(string stdout) =>
        stdout.Split('\n').Where(l => l.Contains("\"herald.bench.pres2c.native.summary\"", StringComparison.Ordinal))
            .Select(l => JsonDocument.Parse(l).RootElement).Single();

    public static async Task<(int Code, string Stdout, string Stderr)> Exec(string file, string[] args, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            await p.WaitForExitAsync();
            Assert.Fail($"{Path.GetFileName(file)} did not finish within {timeout}:\n{await stderr}");
        }
        return (p.ExitCode, await stdout, await stderr);
    }

    private static string RepositoryRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "bench", "native", "pres2c.c")))
            {
                return d.FullName;
            }
        }
        throw new InvalidOperationException("bench/native/pres2c.c not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>What one run of the native generator printed.</summary>
internal sealed record NativeRun(int Code, string Stdout, string Stderr)
{
    public void AssertClean(bool exact)
    {
        var context = $"\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
        Assert.True(Code == 0, $"exit code {Code}{context}");
        var summary = NativeGenerator.Summary(Stdout);
        Assert.True(summary.GetProperty("loginErrors").GetInt64() == 0, "login errors" + context);
        Assert.True(summary.GetProperty("shortRosters").GetInt32() == 0, "short rosters" + context);
        Assert.True(summary.GetProperty("foreignStamps").GetInt64() == 0, "foreign stamps" + context);
        Assert.True(summary.GetProperty("staleDeliveries").GetInt64() == 0, "stale deliveries" + context);
        var steps = Stdout.Split('\n').Where(l => l.Contains("\"herald.bench.pres2c.native\"", StringComparison.Ordinal))
            .Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.True(steps.Count == 2, "two steps expected" + context);
        foreach (var s in steps)
        {
            var expected = s.GetProperty("expected").GetInt64();
            var delivered = s.GetProperty("delivered").GetInt64();
            var superseded = s.GetProperty("superseded").GetInt64();
            Assert.True(s.GetProperty("updates").GetInt64() > 0, "a step sent nothing" + context);
            Assert.True(s.GetProperty("errors").GetInt64() == 0, "errors" + context);
            if (exact)
            {
                Assert.True(delivered == expected && superseded == 0, $"delivered {delivered} (+{superseded} superseded) of {expected}{context}");
            }
            else
            {
                Assert.True(delivered + superseded >= 0.999 * expected, $"delivered {delivered} (+{superseded} superseded) of {expected}{context}");
            }
        }
    }
}

/// <summary>A fact that needs gcc: skipped when it is missing, unless <c>HERALD_REQUIRE_ALL=1</c> (CI), where it runs and fails.</summary>
public sealed class NativeGeneratorFactAttribute : FactAttribute
{
    public NativeGeneratorFactAttribute()
    {
        if (!NativeGenerator.GccAvailable && Environment.GetEnvironmentVariable("HERALD_REQUIRE_ALL") != "1")
        {
            Skip = "gcc is not installed (apt-get install gcc libc6-dev); set HERALD_REQUIRE_ALL=1 to fail instead";
        }
    }
}

/// <summary>A theory that needs gcc (as <see cref="NativeGeneratorFactAttribute"/>).</summary>
public sealed class NativeGeneratorTheoryAttribute : TheoryAttribute
{
    public NativeGeneratorTheoryAttribute()
    {
        if (!NativeGenerator.GccAvailable && Environment.GetEnvironmentVariable("HERALD_REQUIRE_ALL") != "1")
        {
            Skip = "gcc is not installed (apt-get install gcc libc6-dev); set HERALD_REQUIRE_ALL=1 to fail instead";
        }
    }
}
