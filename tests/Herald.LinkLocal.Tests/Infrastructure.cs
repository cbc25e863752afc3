using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Herald.LinkLocal.Tests;

/// <summary>Runs a command to completion (bounded) and returns its exit code and output.</summary>
internal static class Shell
{
    public static (int Code, string Out, string Err) Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        try
        {
            using var p = Process.Start(psi)!;
            var o = p.StandardOutput.ReadToEndAsync();
            var e = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(20_000))
            {
                p.Kill(entireProcessTree: true);
                return (-1, "", $"{file} {string.Join(' ', args)}: timed out");
            }
            return (p.ExitCode, o.Result, e.Result);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return (-1, "", $"{file}: {ex.Message}");
        }
    }

    public static bool RequireAll => Environment.GetEnvironmentVariable("HERALD_REQUIRE_ALL") == "1";
}

/// <summary>
/// Two network namespaces joined by a veth pair, with link-local 169.254.x.y/16 addresses, lo up and a multicast
/// route; names unique per run; deleted on dispose (deleting a namespace deletes its veth end).
/// </summary>
internal sealed class NetnsPair : IDisposable
{
    private static readonly Lazy<string?> Probe = new(() =>
    {
        if (Environment.UserName != "root")
        {
            return $"not root (user {Environment.UserName}): network namespaces need CAP_SYS_ADMIN";
        }
        try
        {
            using var pair = new NetnsPair();
            return null;
        }
        catch (InvalidOperationException e)
        {
            return e.Message;
        }
    });

    /// <summary>Why namespaces cannot be used here (the exact error), or null when they can.</summary>
    public static string? Unavailable => Probe.Value;

    public string A { get; }
    public string B { get; }
    public string VethA { get; }
    public string VethB { get; }
    public string AddressA { get; }
    public string AddressB { get; }

    public NetnsPair()
    {
        var id = Convert.ToHexString(Guid.NewGuid().ToByteArray()[..3]).ToLowerInvariant();
        A = $"herald-{id}-a";
        B = $"herald-{id}-b";
        VethA = $"hv{id}a";
        VethB = $"hv{id}b";
        var x = Random.Shared.Next(1, 254);
        AddressA = $"169.254.{x}.1";
        AddressB = $"169.254.{x}.2";
        try
        {
            Ip("netns", "add", A);
            Ip("netns", "add", B);
            Ip("link", "add", VethA, "netns", A, "type", "veth", "peer", "name", VethB, "netns", B);
            foreach (var (ns, dev, addr) in new[] { (A, VethA, AddressA), (B, VethB, AddressB) })
            {
                Ip("-n", ns, "addr", "add", addr + "/16", "dev", dev);
                Ip("-n", ns, "link", "set", dev, "up");
                Ip("-n", ns, "link", "set", "lo", "up");
                Ip("-n", ns, "route", "add", "224.0.0.0/4", "dev", dev);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    private static void Ip(params string[] args)
    {
        var (code, _, err) = Shell.Run("ip", args);
        if (code != 0)
        {
            throw new InvalidOperationException($"ip {string.Join(' ', args)} failed ({code}): {err.Trim()}");
        }
    }

    public void Dispose()
    {
        Shell.Run("ip", "netns", "del", A);
        Shell.Run("ip", "netns", "del", B);
    }
}

/// <summary>A fact that needs network namespaces: skipped when they are unavailable, unless HERALD_REQUIRE_ALL=1 (then it runs and fails with the exact error).</summary>
public sealed class NetnsFactAttribute : FactAttribute
{
    public NetnsFactAttribute()
    {
        if (!Shell.RequireAll && NetnsPair.Unavailable is { } why)
        {
            Skip = "Network namespaces unavailable: " + why;
        }
    }
}

/// <summary>A netns fact that also needs Debian's python3-zeroconf.</summary>
public sealed class ZeroconfFactAttribute : FactAttribute
{
    public static string? Missing
    {
        get
        {
            var (code, _, err) = Shell.Run("/usr/bin/python3", "-c", "import zeroconf");
            return code == 0 ? null : "python3-zeroconf missing (/usr/bin/python3 -c 'import zeroconf'): " + err.Trim();
        }
    }

    public ZeroconfFactAttribute()
    {
        if (!Shell.RequireAll && (NetnsPair.Unavailable ?? Missing) is { } why)
        {
            Skip = why;
        }
    }
}

/// <summary>A child process printing JSON lines (a `herald peer --json`, or the zeroconf peer), driven over stdin.</summary>
internal sealed class JsonLineProcess : IDisposable
{
    private readonly Process _p;
    private readonly List<JsonElement> _events = [];
    private readonly StringBuilder _log = new();
    private readonly SemaphoreSlim _arrived = new(0);
    private bool _quitSent;

    public string Name { get; }

    public JsonLineProcess(string name, string file, IEnumerable<string> args)
    {
        Name = name;
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        _p = Process.Start(psi)!;
        _p.OutputDataReceived += (_, d) =>
        {
            if (d.Data is null)
            {
                return;
            }
            lock (_log)
            {
                _log.AppendLine("out: " + d.Data);
                try
                {
                    _events.Add(JsonDocument.Parse(d.Data).RootElement.Clone());
                }
                catch (JsonException)
                {
                }
            }
            _arrived.Release();
        };
        _p.ErrorDataReceived += (_, d) =>
        {
            if (d.Data is not null)
            {
                lock (_log)
                {
                    _log.AppendLine("err: " + d.Data);
                }
            }
        };
        _p.BeginOutputReadLine();
        _p.BeginErrorReadLine();
    }

    /// <summary>Starts `herald peer --json` (inside <paramref name="netns"/> when given).</summary>
    public static JsonLineProcess Herald(string name, string? netns, params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "herald.dll");
        string[] peer = ["dotnet", dll, "peer", "--name", name, "--json", .. args];
        return netns is null
            ? new JsonLineProcess(name, peer[0], peer[1..])
            : new JsonLineProcess(name, "ip", ["netns", "exec", netns, .. peer]);
    }

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    public void Send(string line)
    {
        _p.StandardInput.WriteLine(line);
        _p.StandardInput.Flush();
    }

    /// <summary>Waits (bounded) for an event after index <paramref name="from"/> that matches; fails with the log when none comes.</summary>
    public async Task<JsonElement> WaitFor(string what, Func<JsonElement, bool> match, TimeSpan timeout, int from = 0)
    {
        var sw = Stopwatch.StartNew();
        while (true)
        {
            lock (_log)
            {
                for (var i = from; i < _events.Count; i++)
                {
                    if (match(_events[i]))
                    {
                        return _events[i];
                    }
                }
            }
            var left = timeout - sw.Elapsed;
            if (left <= TimeSpan.Zero || _p.HasExited && !await _arrived.WaitAsync(200))
            {
                throw new Xunit.Sdk.XunitException($"{Name}: no '{what}' within {timeout.TotalSeconds:0.#} s (exited: {_p.HasExited}).\n{Log}");
            }
            await _arrived.WaitAsync(left < TimeSpan.FromMilliseconds(250) ? left : TimeSpan.FromMilliseconds(250));
        }
    }

    public int Count
    {
        get
        {
            lock (_log)
            {
                return _events.Count;
            }
        }
    }

    /// <summary>Asks the process to quit (stdin "quit" and EOF) and waits for it; kills it after 10 s.</summary>
    public async Task QuitAsync()
    {
        if (_quitSent)
        {
            await Task.Run(() => _p.WaitForExit(10_000));
            return;
        }
        _quitSent = true;
        try
        {
            Send("quit");
            _p.StandardInput.Close();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
        }
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await _p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
        }
    }

    public void Dispose()
    {
        try
        {
            if (!_p.HasExited)
            {
                _p.Kill(entireProcessTree: true);
                _p.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
        }
        _p.Dispose();
        _arrived.Dispose();
    }
}

internal static class Json
{
    public static string? Str(this JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    public static bool Is(this JsonElement e, string evt) => e.Str("event") == evt;

    /// <summary>The peer named <paramref name="instance"/> in a "peers" event, if there.</summary>
    public static JsonElement? Peer(this JsonElement e, string instance)
    {
        if (!e.Is("peers"))
        {
            return null;
        }
        foreach (var p in e.GetProperty("peers").EnumerateArray())
        {
            if (p.Str("instance") == instance)
            {
                return p;
            }
        }
        return null;
    }
}
