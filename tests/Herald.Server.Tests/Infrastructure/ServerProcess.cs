using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Herald.Server.Tests.Infrastructure;

/// <summary>
/// The real server as a separate OS process (for kill -9 tests), on a free port picked once, so that it can be
/// killed and started again at the same address. Also linked into Herald.Web.Tests (the demo server for the browser).
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly string[] _extraArgs;
    private Process? _process;

    /// <param name="dataDirectory">The server's data directory (created when missing).</param>
    /// <param name="extraArgs">More command-line arguments, e.g. <c>--demo</c>.</param>
    public ServerProcess(string dataDirectory, params string[] extraArgs)
    {
        DataDirectory = dataDirectory;
        _extraArgs = extraArgs;
        Port = FreePort();
        BaseAddress = new Uri($"http://127.0.0.1:{Port}");
    }

    public string DataDirectory { get; }

    public int Port { get; }

    public Uri BaseAddress { get; }

    public async Task StartAsync()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Herald.Server.dll");
        var psi = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = DataDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[]
        {
            dll, "--urls", BaseAddress.ToString(), "--Herald:DataDirectory=" + DataDirectory,
            "--Herald:Bootstrap:AdminPassword=" + HeraldTestServer.AdminPassword, "--Herald:Auth:PasswordIterations=4096",
            "--Herald:Xmpp:Port=0",
            "--Logging:LogLevel:Default=Warning",
        }.Concat(_extraArgs))
        {
            psi.ArgumentList.Add(a);
        }
        Directory.CreateDirectory(DataDirectory);
        _process = Process.Start(psi)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        using var c = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        await Eventually.True(async () =>
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"server exited with {_process.ExitCode}");
            }
            try
            {
                return (await c.GetAsync("/healthz")).IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false;
            }
            catch (TaskCanceledException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(60), "the server process answers /healthz");
    }

    /// <summary>SIGKILL: no shutdown hooks run.</summary>
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

    public async ValueTask DisposeAsync() => await KillAsync();

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
