using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using StackExchange.Redis;

namespace Herald.ClusterMode.Tests;

/// <summary>
/// A fact that needs <c>redis-server</c>: skipped when it is not installed, unless <c>HERALD_REQUIRE_ALL=1</c> (CI),
/// where the test runs and fails.
/// </summary>
public sealed class RedisFactAttribute : FactAttribute
{
    public RedisFactAttribute()
    {
        if (RedisInstance.ServerPath is null && Environment.GetEnvironmentVariable("HERALD_REQUIRE_ALL") != "1")
        {
            Skip = "redis-server is not installed (apt-get install redis-server); set HERALD_REQUIRE_ALL=1 to fail instead";
        }
    }
}

/// <summary>A redis-server of our own on a free loopback port, append-only with fsync on every write, in a temp directory.</summary>
public sealed class RedisInstance : IAsyncDisposable
{
    private readonly Process _process;

    private RedisInstance(Process process, int port, string dir)
    {
        _process = process;
        Port = port;
        Directory = dir;
    }

    public static string? ServerPath { get; } =
        new[] { "/usr/bin/redis-server", "/usr/local/bin/redis-server" }.FirstOrDefault(File.Exists);

    public int Port { get; }

    public string Directory { get; }

    public string ConnectionString => $"127.0.0.1:{Port}";

    public static async Task<RedisInstance> StartAsync()
    {
        var path = ServerPath ?? throw new InvalidOperationException("redis-server is not installed (HERALD_REQUIRE_ALL=1 requires it)");
        var dir = Path.Combine(Path.GetTempPath(), "herald-redis-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(dir);
        var port = Ports.Free();
        var psi = new ProcessStartInfo(path) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "",
                     "--appendonly", "yes", "--appendfsync", "always", "--dir", dir })
        {
            psi.ArgumentList.Add(a);
        }
        var process = Process.Start(psi)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var instance = new RedisInstance(process, port, dir);
        await Eventually.True(async () =>
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"redis-server exited with {process.ExitCode}");
            }
            try
            {
                await using var m = await ConnectionMultiplexer.ConnectAsync(instance.ConnectionString + ",connectTimeout=500");
                return m.IsConnected;
            }
            catch (RedisConnectionException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(20), "redis-server answers");
        return instance;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>One Herald node in Redis mode as a separate OS process (SIGKILL-able).</summary>
public sealed class NodeProcess : IAsyncDisposable
{
    public const string AdminPassword = "admin-password-1";

    private readonly string[] _args;
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _output = new();
    private Process? _process;

    public NodeProcess(string name, RedisInstance redis, string clusterId, params string[] extra)
    {
        Name = name;
        DataDirectory = Path.Combine(Path.GetTempPath(), "herald-node-" + name + "-" + Guid.NewGuid().ToString("N"));
        Port = Ports.Free();
        BaseAddress = new Uri($"http://127.0.0.1:{Port}/");
        _args =
        [
            "--urls", BaseAddress.ToString(), "--Herald:DataDirectory=" + DataDirectory,
            "--Herald:Bootstrap:AdminPassword=" + AdminPassword, "--Herald:Auth:PasswordIterations=4096",
            "--Herald:Cluster:Mode=Redis", "--Herald:Cluster:Redis=" + redis.ConnectionString, "--Herald:Cluster:ClusterId=" + clusterId,
            "--Herald:Cluster:SiloPort=" + Ports.Free(), "--Herald:Cluster:AdvertisedAddress=127.0.0.1",
            "--Herald:Cluster:ProbeTimeout=00:00:01", "--Herald:Cluster:MissedProbesLimit=2", "--Herald:Cluster:DrainTimeout=00:00:03",
            "--Herald:Presence:SiloWatchRenewal=00:00:02",
            "--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:Herald.Cluster=Information", .. extra,
        ];
    }

    public string Name { get; }

    public string DataDirectory { get; }

    public int Port { get; }

    public Uri BaseAddress { get; }

    public bool Running => _process is { HasExited: false };

    public async Task StartAsync()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Herald.Server.dll");
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = Path.GetTempPath(), RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(dll);
        foreach (var a in _args)
        {
            psi.ArgumentList.Add(a);
        }
        System.IO.Directory.CreateDirectory(DataDirectory);
        var output = _output;
        _process = Process.Start(psi)!;
        _process.OutputDataReceived += (_, e) => Keep(output, e.Data);
        _process.ErrorDataReceived += (_, e) => Keep(output, e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        using var c = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        await Eventually.True(async () =>
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"node {Name} exited with {_process.ExitCode}: {string.Join('\n', output)}");
            }
            try
            {
                return (await c.GetAsync("healthz")).IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false;
            }
            catch (TaskCanceledException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(120), $"node {Name} answers /healthz"); // three cold .NET starts at once took up to 56 s on a loaded 2-core machine
    }

    /// <summary>SIGKILL: no shutdown hooks run.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    private static void Keep(System.Collections.Concurrent.ConcurrentQueue<string> output, string? line)
    {
        if (line is null)
        {
            return;
        }
        output.Enqueue(line);
        while (output.Count > 400 && output.TryDequeue(out _))
        {
        }
    }

    /// <summary>The node's last lines of output (stdout and stderr, at most 400).</summary>
    public IReadOnlyList<string> Output => [.. _output];

    /// <summary>SIGTERM without waiting for the exit.</summary>
    public async Task SignalTermAsync()
    {
        if (_process is { HasExited: false })
        {
            using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            await kill.WaitForExitAsync();
        }
    }

    /// <summary>Waits (bounded) for the process to exit.</summary>
    public async Task WaitForExitAsync(TimeSpan timeout)
    {
        if (_process is not null)
        {
            using var cts = new CancellationTokenSource(timeout);
            await _process.WaitForExitAsync(cts.Token);
        }
    }

    /// <summary>SIGTERM: graceful shutdown (drain).</summary>
    public async Task StopGracefullyAsync(TimeSpan timeout)
    {
        if (_process is { HasExited: false })
        {
            using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            await kill.WaitForExitAsync();
            using var cts = new CancellationTokenSource(timeout);
            await _process.WaitForExitAsync(cts.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process?.Dispose();
        try
        {
            System.IO.Directory.Delete(DataDirectory, true);
        }
        catch (IOException)
        {
        }
    }

    public HttpClient Client(string? token = null)
    {
        var c = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(15) };
        if (token is not null)
        {
            c.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        }
        return c;
    }

    public async Task<string> Login(string user, string password)
    {
        using var c = Client();
        var r = await c.PostAsJsonAsync("api/v1/auth/token", new { username = user, password });
        r.EnsureSuccessStatusCode();
        return (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accessToken").GetString()!;
    }
}

public static class Ports
{
    public static int Free()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}

/// <summary>Bounded polling on a condition: the only way tests wait.</summary>
public static class Eventually
{
    public static async Task True(Func<Task<bool>> condition, TimeSpan? timeout = null, string? because = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (true)
        {
            if (await condition())
            {
                return;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"condition not met in time{(because is null ? "" : ": " + because)}");
            }
            await Task.Delay(50);
        }
    }

    public static Task True(Func<bool> condition, TimeSpan? timeout = null, string? because = null) =>
        True(() => Task.FromResult(condition()), timeout, because);
}
