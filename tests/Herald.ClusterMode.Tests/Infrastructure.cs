using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using StackExchange.Redis;
using Xunit.Abstractions;

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

/// <summary>
/// A redis-server of our own on a free loopback port, append-only with fsync on every write, in a temp directory.
/// redis-server cannot report a port it picked itself, so the port is picked just before; if another process takes it
/// in between (redis-server exits at once), the start is retried on another port (three attempts).
/// </summary>
public sealed class RedisInstance : IAsyncDisposable
{
    private readonly Process _process;
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _output;

    private RedisInstance(Process process, System.Collections.Concurrent.ConcurrentQueue<string> output, int port, string dir)
    {
        _process = process;
        _output = output;
        Port = port;
        Directory = dir;
    }

    public static string? ServerPath { get; } =
        new[] { "/usr/bin/redis-server", "/usr/local/bin/redis-server" }.FirstOrDefault(File.Exists);

    public int Port { get; }

    public string Directory { get; }

    public string ConnectionString => $"127.0.0.1:{Port}";

    /// <summary>The last lines redis-server printed (at most 50).</summary>
    public IReadOnlyList<string> Output => [.. _output];

    public static async Task<RedisInstance> StartAsync()
    {
        var path = ServerPath ?? throw new InvalidOperationException("redis-server is not installed (HERALD_REQUIRE_ALL=1 requires it)");
        var dir = Path.Combine(Path.GetTempPath(), "herald-redis-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(dir);
        for (var attempt = 1; ; attempt++)
        {
            var port = Ports.Free();
            var psi = new ProcessStartInfo(path) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[] { "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "",
                         "--appendonly", "yes", "--appendfsync", "always", "--dir", dir })
            {
                psi.ArgumentList.Add(a);
            }
            var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
            var process = Process.Start(psi)!;
            process.OutputDataReceived += (_, e) => Keep(output, e.Data);
            process.ErrorDataReceived += (_, e) => Keep(output, e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var instance = new RedisInstance(process, output, port, dir);
            try
            {
                await Eventually.True(async () =>
                {
                    if (process.HasExited)
                    {
                        throw new InvalidOperationException($"redis-server exited with {process.ExitCode} (port {port}): {string.Join('\n', output)}");
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
            catch (InvalidOperationException) when (attempt < 3)
            {
                process.Dispose(); // it exited: most likely its port was taken after it was picked; try another
            }
        }
    }

    private static void Keep(System.Collections.Concurrent.ConcurrentQueue<string> output, string? line)
    {
        if (line is not null)
        {
            output.Enqueue(line);
            while (output.Count > 50 && output.TryDequeue(out _))
            {
            }
        }
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

/// <summary>
/// One Herald node in Redis mode: a <see cref="ServerProcess"/> (free HTTP port, XMPP off unless the extra arguments
/// turn it on with <c>--Herald:Xmpp:Port=-1</c>) with fast membership probing, its own temp data directory, and
/// Information logs of Herald.Cluster (membership changes, stale activations) in its kept output.
/// </summary>
public static class ClusterNode
{
    public static ServerProcess Create(string name, RedisInstance redis, string clusterId, params string[] extra) =>
        new(Path.Combine(Path.GetTempPath(), "herald-node-" + name + "-" + Guid.NewGuid().ToString("N")),
        [
            "--Herald:Cluster:Mode=Redis", "--Herald:Cluster:Redis=" + redis.ConnectionString, "--Herald:Cluster:ClusterId=" + clusterId,
            "--Herald:Cluster:AdvertisedAddress=127.0.0.1", // SiloPort: not given, so the node takes a free one itself
            "--Herald:Cluster:ProbeTimeout=00:00:01", "--Herald:Cluster:MissedProbesLimit=2", "--Herald:Cluster:DrainTimeout=00:00:03",
            "--Herald:Presence:SiloWatchRenewal=00:00:02",
            "--Logging:LogLevel:Herald.Cluster=Information", .. extra,
        ])
        { Name = name, DeleteDataDirectory = true };
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

/// <summary>
/// The processes of one cluster test and their output on failure: nodes made with <see cref="Node"/> are tracked, and
/// when the test body given to <see cref="Run"/> throws, every node's kept output (its first and last lines, see
/// <see cref="ServerProcess"/>) and redis-server's last lines are attached to the failure's message, so that a
/// failure in CI explains itself (a 500's problem details carry a traceId that the node's "Unhandled error" log line
/// repeats, with the exception).
/// </summary>
public sealed class ClusterDiagnostics(ITestOutputHelper output)
{
    private readonly List<ServerProcess> _nodes = [];
    private readonly List<RedisInstance> _redis = [];

    /// <summary>A node (see <see cref="ClusterNode.Create"/>) whose output is reported if the test fails.</summary>
    public ServerProcess Node(string name, RedisInstance redis, string clusterId, params string[] extra)
    {
        var node = ClusterNode.Create(name, redis, clusterId, extra);
        lock (_nodes)
        {
            _nodes.Add(node);
            if (!_redis.Contains(redis))
            {
                _redis.Add(redis);
            }
        }
        return node;
    }

    /// <summary>A line in the test output and on the console (progress of a long test).</summary>
    public void Log(string line)
    {
        output.WriteLine(line);
        Console.WriteLine("[cluster] " + line);
    }

    /// <summary>Runs the test body; if it throws, reports every process's output and fails with it attached.</summary>
    public async Task Run(Func<Task> body)
    {
        try
        {
            await body();
        }
        catch (Exception ex)
        {
            var report = Report();
            output.WriteLine("the processes' output is in the failure message");
            throw new Xunit.Sdk.XunitException($"{ex.GetType().Name}: {ex.Message}\n{report}", ex);
        }
    }

    /// <summary>Every tracked process's state and kept output.</summary>
    public string Report()
    {
        var sb = new System.Text.StringBuilder();
        lock (_nodes)
        {
            foreach (var node in _nodes)
            {
                sb.Append(node.Report());
            }
            foreach (var redis in _redis)
            {
                sb.Append("----- redis-server (port ").Append(redis.Port).AppendLine(") last lines -----").AppendJoin('\n', redis.Output).AppendLine();
            }
        }
        return sb.ToString();
    }
}

