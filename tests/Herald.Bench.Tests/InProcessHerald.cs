using Herald.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Bench.Tests;

/// <summary>
/// A real Herald server in this process on a free loopback port with a fresh temp data directory, configured as the
/// benchmark runs it (PBKDF2 iterations = 1, login and per-principal rate limits raised), XMPP off; deleted on dispose.
/// </summary>
internal sealed class InProcessHerald : IAsyncDisposable
{
    public const string AdminPassword = "smoke-admin-pass";

    private readonly WebApplication _app;
    private readonly string _data;

    private InProcessHerald(WebApplication app, string data, string url)
    {
        _app = app;
        _data = data;
        Url = url;
    }

    /// <summary>The base URL, without a trailing slash.</summary>
    public string Url { get; }

    public static async Task<InProcessHerald> Start()
    {
        var data = Path.Combine(Path.GetTempPath(), "herald-bench-smoke-" + Guid.NewGuid().ToString("N"));
        var app = HeraldServer.Build(
        [
            "--urls", "http://127.0.0.1:0",
            "--Herald:DataDirectory=" + data,
            "--Herald:Bootstrap:AdminPassword=" + AdminPassword,
            "--Herald:Auth:PasswordIterations=1",
            "--Herald:RateLimits:LoginsPerMinute=1000000",
            "--Herald:RateLimits:PerPrincipalPerSecond=100000",
            "--Herald:RateLimits:PerPrincipalBurst=100000",
            "--Herald:Xmpp:Port=0", // XMPP off: its default port 5222 is fixed, and two of these servers may run at once
            "--Logging:LogLevel:Default=Warning",
        ]);
        var herald = new InProcessHerald(app, data, "");
        try
        {
            await app.StartAsync();
        }
        catch
        {
            await herald.DisposeAsync();
            throw;
        }
        var url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
        return new InProcessHerald(app, data, url);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _app.StopAsync();
        }
        finally
        {
            await _app.DisposeAsync();
            try
            {
                Directory.Delete(_data, recursive: true);
            }
            catch (IOException)
            {
                // best effort (DirectoryNotFoundException is an IOException)
            }
        }
    }
}
