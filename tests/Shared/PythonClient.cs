using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;

namespace Herald.Testing;

/// <summary>
/// A python client script (from <c>clients/</c> next to the test assembly) run as a child process: commands on stdin,
/// events as stdout lines. Shared as source by the XMPP and cluster-mode tests.
/// </summary>
public sealed class PythonClient : IAsyncDisposable
{
    /// <summary>Debian's python (its python3-slixmpp / python3-aioxmpp packages are for it, not for a pyenv python3 on PATH).</summary>
    public const string Python = "/usr/bin/python3";

    private static readonly ConcurrentDictionary<string, Lazy<bool>> Modules = new(StringComparer.Ordinal);

    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly StringBuilder _stderr = new();

    private PythonClient(Process process) => _process = process;

    public string Name { get; private init; } = "";

    /// <summary>Whether <see cref="Python"/> can import <paramref name="module"/> (asked once per module).</summary>
    public static bool Imports(string module) => Modules.GetOrAdd(module, m => new Lazy<bool>(() => TryImport(m))).Value;

    private static bool TryImport(string module)
    {
        if (!File.Exists(Python))
        {
            return false;
        }
        try
        {
            using var p = Process.Start(new ProcessStartInfo(Python, ["-c", $"import {module}"]) { RedirectStandardError = true, RedirectStandardOutput = true })!;
            return p.WaitForExit(30_000) && p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    public static PythonClient Start(string script, params string[] args)
    {
        var psi = new ProcessStartInfo(Python)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "clients", script));
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        var p = Process.Start(psi)!;
        var c = new PythonClient(p) { Name = args.Length > 0 ? args[0] : script };
        p.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (c._lines)
                {
                    c._lines.Add(e.Data);
                }
            }
        };
        p.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (c._stderr)
                {
                    c._stderr.AppendLine(e.Data);
                }
            }
        };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return c;
    }

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    public async Task Send(string command)
    {
        await _process.StandardInput.WriteLineAsync(command);
        await _process.StandardInput.FlushAsync();
    }

    /// <summary>Waits (bounded) for a line matching <paramref name="predicate"/>; returns it.</summary>
    public async Task<string> WaitFor(Func<string, bool> predicate, TimeSpan? timeout = null, string? because = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (true)
        {
            var hit = Lines.FirstOrDefault(predicate);
            if (hit is not null)
            {
                return hit;
            }
            if (DateTime.UtcNow > deadline || (_process.HasExited && await Task.Delay(200).ContinueWith(_ => !Lines.Any(predicate), TaskScheduler.Default)))
            {
                string err;
                lock (_stderr)
                {
                    err = _stderr.ToString();
                }
                throw new TimeoutException($"{Name}: no line for {because ?? "the condition"}.\nstdout:\n{string.Join("\n", Lines)}\nstderr:\n{err}");
            }
            await Task.Delay(20);
        }
    }

    public Task<string> WaitForLine(string prefix, TimeSpan? timeout = null) => WaitFor(l => l.StartsWith(prefix, StringComparison.Ordinal), timeout, prefix);

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                try
                {
                    await Send("quit");
                }
                catch (IOException)
                {
                }
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                try
                {
                    await _process.WaitForExitAsync(cts.Token);
                }
                catch (OperationCanceledException)
                {
                    _process.Kill(entireProcessTree: true);
                }
            }
        }
        finally
        {
            _process.Dispose();
        }
    }
}
