using Herald.Server.Tests.Infrastructure;

namespace Herald.Web.Tests.Infrastructure;

/// <summary>
/// The real server as a child process with <c>--demo</c> (a <see cref="ServerProcess"/> on its own data directory),
/// so it can be killed and started again at the same address (a browser page reconnects to the same origin). It runs
/// on real time.
/// </summary>
public sealed class DemoProcess : IAsyncDisposable
{
    private readonly ServerProcess _server;

    public DemoProcess()
    {
        DataDirectory = Path.Combine(Path.GetTempPath(), "herald-web-" + Guid.NewGuid().ToString("N"));
        _server = new ServerProcess(DataDirectory, "--demo", "--Herald:RateLimits:LoginsPerMinute=10000");
    }

    public string DataDirectory { get; }

    public int Port => _server.Port;

    public Uri BaseAddress => _server.BaseAddress;

    /// <summary>Starts the process and waits until it answers and the demo organization is seeded.</summary>
    public async Task StartAsync()
    {
        await _server.StartAsync();
        using var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        try
        {
            await DemoSite.WaitForDemo(client);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message}\n{_server.Report()}", ex);
        }
    }

    /// <summary>SIGKILL: the server goes away without a goodbye, as in a crash or a pulled cable.</summary>
    public Task KillAsync() => _server.KillAsync();

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
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
