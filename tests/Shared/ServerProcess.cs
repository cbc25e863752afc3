using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Herald.Testing;

/// <summary>
/// The real server (<c>Herald.Server.dll</c> next to the test assembly) as a separate OS process, for kill -9, drain
/// and cluster tests. Every listener takes a port the OS picks free when it binds, never a fixed one: HTTP binds
/// <c>http://127.0.0.1:0</c> and the bound port is read from the server's "Now listening on" line; the XMPP gateway is
/// off unless the arguments turn it on (<c>--Herald:Xmpp:Port=-1</c>: a free port, read from its "XMPP gateway
/// listening on port" line, see <see cref="XmppPort"/>). A restart of the same instance binds the HTTP port it had
/// (a client reconnects to the same origin). The output (stdout and stderr) is kept bounded: the first
/// <see cref="HeadLines"/> and the last <see cref="TailLines"/> lines, for failure messages (<see cref="Report"/>).
/// Linked as source into every test project that starts server processes.
/// </summary>
public sealed partial class ServerProcess : IAsyncDisposable
{
    public const string AdminPassword = "admin-password-1";

    /// <summary>Lines kept from the start of the output (startup errors, the generated admin password).</summary>
    public const int HeadLines = 40;

    /// <summary>Lines kept from the end of the output.</summary>
    public const int TailLines = 200;

    private readonly string[] _extraArgs;
    private readonly bool _xmpp;
    private readonly object _gate = new();
    private readonly List<string> _head = [];
    private readonly Queue<string> _tail = new();
    private long _dropped;
    private Process? _process;
    private volatile int _port; // 0 until the first start has bound
    private volatile int _xmppPort;
    private volatile bool _xmppFailed;

    /// <param name="dataDirectory">The server's data directory and working directory (created when missing).</param>
    /// <param name="extraArgs">More command-line arguments, e.g. <c>--demo</c>; they win over the defaults.</param>
    public ServerProcess(string dataDirectory, params string[] extraArgs)
    {
        DataDirectory = dataDirectory;
        _extraArgs = extraArgs;
        var xmppPort = extraArgs.LastOrDefault(a => a.StartsWith(XmppPortArg, StringComparison.Ordinal));
        _xmpp = xmppPort is not null && xmppPort[XmppPortArg.Length..] != "0";
    }

    private const string XmppPortArg = "--Herald:Xmpp:Port=";

    /// <summary>A name for messages (e.g. <c>n1</c>).</summary>
    public string Name { get; init; } = "server";

    public string DataDirectory { get; }

    /// <summary>Delete <see cref="DataDirectory"/> on dispose.</summary>
    public bool DeleteDataDirectory { get; init; }

    /// <summary>The HTTP port (known once started).</summary>
    public int Port => _port != 0 ? _port : throw new InvalidOperationException($"{Name} has not started yet: its port is picked when it binds");

    public Uri BaseAddress => new($"http://127.0.0.1:{Port}/");

    /// <summary>The XMPP gateway's port once started with XMPP on; 0 when it is off.</summary>
    public int XmppPort => _xmppPort;

    public bool Running => _process is { HasExited: false };

    /// <summary>The kept output: the first <see cref="HeadLines"/> lines, a marker for lines left out, the last <see cref="TailLines"/>.</summary>
    public IReadOnlyList<string> Output
    {
        get
        {
            lock (_gate)
            {
                return _dropped == 0 ? [.. _head, .. _tail] : [.. _head, $"… {_dropped} lines left out …", .. _tail];
            }
        }
    }

    /// <summary>Name, address, state and the kept output, for a failure message.</summary>
    public string Report()
    {
        var state = _process is null ? "not started" : _process.HasExited ? $"exited with {_process.ExitCode}" : "running";
        var sb = new StringBuilder().Append("----- ").Append(Name).Append(" (")
            .Append(_port != 0 ? $"http port {_port}" : "no port yet").Append(XmppPort > 0 ? $", xmpp port {XmppPort}" : "").Append(", ")
            .Append(state).AppendLine(") output -----");
        foreach (var line in Output)
        {
            sb.AppendLine(line);
        }
        return sb.ToString();
    }

    /// <summary>Starts the process and waits (bounded) until its ports are known and it answers <c>/healthz</c>.</summary>
    public async Task StartAsync(TimeSpan? timeout = null)
    {
        if (Running)
        {
            throw new InvalidOperationException($"{Name} is running");
        }
        _process?.Dispose();
        _xmppPort = 0;
        _xmppFailed = false;
        var psi = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = DataDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[]
        {
            Path.Combine(AppContext.BaseDirectory, "Herald.Server.dll"),
            "--urls", $"http://127.0.0.1:{_port}",
            "--Herald:DataDirectory=" + DataDirectory,
            "--Herald:Bootstrap:AdminPassword=" + AdminPassword,
            "--Herald:Auth:PasswordIterations=4096",
            XmppPortArg + "0", // off unless the extra arguments turn it on (-1: a free port)
            "--Logging:LogLevel:Default=Warning",
            "--Logging:LogLevel:Microsoft.Hosting.Lifetime=Information", // "Now listening on: …" (the bound HTTP port)
            "--Logging:LogLevel:Herald.Xmpp.XmppGateway=Information", // "XMPP gateway listening on port …"
        }.Concat(_extraArgs))
        {
            psi.ArgumentList.Add(a);
        }
        Directory.CreateDirectory(DataDirectory);
        lock (_gate)
        {
            Keep($"===== {Name} starting at {DateTime.UtcNow:HH:mm:ss.fff} =====");
        }
        var process = Process.Start(psi)!;
        _process = process;
        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var c = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        try
        {
            await Eventually.True(async () =>
            {
                if (process.HasExited)
                {
                    throw new InvalidOperationException($"{Name} exited with {process.ExitCode} while starting");
                }
                if (_xmppFailed)
                {
                    throw new InvalidOperationException($"{Name}: the XMPP gateway could not listen");
                }
                if (_port == 0 || (_xmpp && _xmppPort == 0))
                {
                    return false; // the listening lines have not come yet
                }
                try
                {
                    return (await c.GetAsync(new Uri(BaseAddress, "healthz"))).IsSuccessStatusCode;
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                    return false;
                }
            }, timeout ?? TimeSpan.FromSeconds(120), $"{Name} binds its ports and answers /healthz"); // cold .NET starts on a loaded 2-core machine take long
        }
        catch (Exception ex) when (ex is TimeoutException or InvalidOperationException)
        {
            throw new InvalidOperationException($"{ex.Message}\n{Report()}", ex);
        }
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }
        if (_port == 0 && HttpListening().Match(line) is { Success: true } http)
        {
            _port = int.Parse(http.Groups[1].ValueSpan, CultureInfo.InvariantCulture);
        }
        if (XmppListening().Match(line) is { Success: true } xmpp)
        {
            _xmppPort = int.Parse(xmpp.Groups[1].ValueSpan, CultureInfo.InvariantCulture);
        }
        if (line.Contains("XMPP gateway could not listen", StringComparison.Ordinal))
        {
            _xmppFailed = true;
        }
        lock (_gate)
        {
            Keep(line);
        }
    }

    private void Keep(string line)
    {
        if (_head.Count < HeadLines)
        {
            _head.Add(line);
            return;
        }
        _tail.Enqueue(line);
        if (_tail.Count > TailLines)
        {
            _tail.Dequeue();
            _dropped++;
        }
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

    /// <summary>SIGTERM (graceful shutdown, drain) without waiting for the exit.</summary>
    public async Task SignalTermAsync()
    {
        if (_process is { HasExited: false })
        {
            using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]);
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

    /// <summary>SIGTERM, then waits (bounded) for the exit.</summary>
    public async Task StopGracefullyAsync(TimeSpan timeout)
    {
        await SignalTermAsync();
        await WaitForExitAsync(timeout);
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process?.Dispose();
        _process = null;
        if (DeleteDataDirectory)
        {
            try
            {
                Directory.Delete(DataDirectory, recursive: true);
            }
            catch (IOException)
            {
                // best effort
            }
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
        Assert.True(r.IsSuccessStatusCode, $"login of {user} on {Name}: {await Describe(r)}");
        return (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accessToken").GetString()!;
    }

    /// <summary>A response for a failure message: status, reason and (the first 2,000 characters of) the body, e.g. problem details with a traceId.</summary>
    public static async Task<string> Describe(HttpResponseMessage response)
    {
        string body;
        try
        {
            body = await response.Content.ReadAsStringAsync();
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or TaskCanceledException or ObjectDisposedException)
        {
            body = $"(body unreadable: {ex.GetType().Name})";
        }
        return $"{(int)response.StatusCode} {response.ReasonPhrase} {response.RequestMessage?.Method} {response.RequestMessage?.RequestUri?.PathAndQuery}: "
            + (body.Length > 2000 ? body[..2000] + "…" : body);
    }

    [GeneratedRegex(@"Now listening on: http://127\.0\.0\.1:(\d+)")]
    private static partial Regex HttpListening();

    [GeneratedRegex(@"XMPP gateway listening on port (\d+)")]
    private static partial Regex XmppListening();
}
