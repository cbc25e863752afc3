using Microsoft.Playwright;

namespace Herald.Web.Tests.Infrastructure;

/// <summary>
/// Debian's Chromium driven by Playwright. Playwright never downloads a browser here: it launches
/// <see cref="ChromiumPath"/> with the flags below.
/// </summary>
public sealed class Browsers : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    public static readonly string[] LaunchArgs =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
        "--no-first-run", "--disable-component-update", "--disable-sync",
    ];

    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            // BrowserFact skipped the tests, unless HERALD_REQUIRE_ALL=1: then they fail here.
            return;
        }
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Args = LaunchArgs,
            Headless = true,
            Timeout = 60_000,
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }
        _playwright?.Dispose();
    }
}

/// <summary>
/// A browser test: skipped when Chromium is not installed, except with <c>HERALD_REQUIRE_ALL=1</c> (CI), where it
/// runs and fails.
/// </summary>
public sealed class BrowserFactAttribute : FactAttribute
{
    public BrowserFactAttribute()
    {
        if (!File.Exists(Browsers.ChromiumPath) && Environment.GetEnvironmentVariable("HERALD_REQUIRE_ALL") != "1")
        {
            Skip = $"Chromium is not installed at {Browsers.ChromiumPath} (apt-get install chromium).";
        }
    }
}
