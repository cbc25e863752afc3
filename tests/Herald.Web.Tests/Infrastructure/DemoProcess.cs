using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Web.Tests.Infrastructure;

/// <summary>
/// The real server as a child process with <c>--demo</c> on a fixed free port and data directory, so it can be
/// killed and started again at the same address (a browser page reconnects to the same origin). It runs on real time.
/// </summary>
public sealed class DemoProcess : IAsyncDisposable
{
    private Process? _process;

    public DemoProcess()
    {
        DataDirectory = Path.Combine(Path.GetTempPath(), "herald-web-" + Guid.NewGuid().ToString("N"));
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        Port = ((IPEndPoint)l.LocalEndpoint).Port;
        BaseAddress = new Uri($"http://127.0.0.1:{Port}");
    }

    public string DataDirectory { get; }

    public int Port { get; }

    public Uri BaseAddress { get; }

    public async Task StartAsync()
    {
        Directory.CreateDirectory(DataDirectory);
        var psi = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = DataDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[]
        {
            Path.Combine(AppContext.BaseDirectory, "Herald.Server.dll"), "--demo", "--urls", BaseAddress.ToString(),
            "--Herald:DataDirectory=" + DataDirectory, "--Herald:Bootstrap:AdminPassword=" + HeraldTestServer.AdminPassword,
            "--Herald:Auth:PasswordIterations=4096", "--Herald:RateLimits:LoginsPerMinute=10000", "--Logging:LogLevel:Default=Warning",
        })
        {
            psi.ArgumentList.Add(a);
        }
        _process = Process.Start(psi)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        using var c = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        await Poll.Until(async () =>
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"server exited with {_process.ExitCode}");
            }
            try
            {
                return (await c.GetAsync("/healthz")).IsSuccessStatusCode;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(60), "the server process answers /healthz");
        using var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        await DemoSite.WaitForDemo(client);
    }

    /// <summary>SIGKILL: the server goes away without a goodbye, as in a crash or a pulled cable.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process?.Dispose();
        _process = null;
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
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
