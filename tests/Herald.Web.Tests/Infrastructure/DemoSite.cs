using System.Net.Http.Json;
using System.Text.Json;
using Herald.Server.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Herald.Web.Tests.Infrastructure;

/// <summary>
/// The real server in this process with the demo organization (<c>--demo</c>) and time pinned to a Wednesday 10:00
/// UTC (inside everyone's work hours). Browsers get the same instant as a fixed <c>Date.now()</c>, so expiries the
/// page computes ("for 1 hour") agree with the server, and screenshots do not depend on the hour.
/// </summary>
public sealed class DemoSite : IAsyncLifetime
{
    public HeraldTestServer Server { get; } = new(null, null, "--demo", "--Herald:RateLimits:LoginsPerMinute=10000");

    public Uri BaseAddress => Server.BaseAddress;

    public DateTimeOffset Now => Server.Time.GetUtcNow();

    public async Task InitializeAsync()
    {
        await Server.StartAsync();
        await WaitForDemo(Server.Client());
    }

    public Task DisposeAsync() => Server.DisposeAsync().AsTask();

    /// <summary>The demo seeder runs after start: wait until the last demo person can log in.</summary>
    public static async Task WaitForDemo(HttpClient client)
    {
        var last = "no answer yet";
        try
        {
            await Eventually.True(async () =>
            {
                try
                {
                    using var r = await client.PostAsJsonAsync("/api/v1/auth/token", new { username = "quinn", password = "demo-quinn" });
                    last = r.IsSuccessStatusCode ? "" : await ServerProcess.Describe(r);
                    return r.IsSuccessStatusCode;
                }
                catch (HttpRequestException ex)
                {
                    last = ex.Message;
                    return false;
                }
            }, TimeSpan.FromSeconds(60), "the demo organization is seeded");
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message}; last answer: {last}", ex);
        }
    }

    public static async Task<HttpClient> ClientFor(Uri baseAddress, string user, string password)
    {
        var c = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
        var r = await c.PostAsJsonAsync("/api/v1/auth/token", new { username = user, password });
        r.EnsureSuccessStatusCode();
        var token = (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accessToken").GetString();
        c.DefaultRequestHeaders.Authorization = new("Bearer", token);
        return c;
    }

    public Task<HttpClient> ClientFor(string user) =>
        ClientFor(BaseAddress, user, user == "admin" ? HeraldTestServer.AdminPassword : "demo-" + user);
}

/// <summary>Browser contexts (one per person) and the steps every test shares.</summary>
public static class Pages
{
    public static async Task<IPage> OpenAs(IBrowser browser, Uri baseAddress, string user, string password, DateTimeOffset? now = null,
        ColorScheme scheme = ColorScheme.Light, int width = 1280, int height = 800)
    {
        var context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = baseAddress.ToString(),
            ViewportSize = new ViewportSize { Width = width, Height = height },
            ColorScheme = scheme,
            Locale = "en-GB",
            TimezoneId = "UTC",
            ReducedMotion = ReducedMotion.Reduce,
        });
        context.SetDefaultTimeout(15_000);
        if (now is { } t)
        {
            await context.Clock.SetFixedTimeAsync(t.UtcDateTime);
        }
        var page = await context.NewPageAsync();
        var errors = new List<string>();
        page.PageError += (_, e) => errors.Add(e);
        await page.GotoAsync("/");
        await SignIn(page, user, password);
        return page;
    }

    public static async Task SignIn(IPage page, string user, string password)
    {
        await page.GetByLabel("Username").FillAsync(user);
        await page.GetByLabel("Password").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Board", Level = 1 })).ToBeVisibleAsync();
    }

    public static async Task Go(IPage page, string linkName, string heading)
    {
        await page.GetByRole(AriaRole.Navigation, new() { Name = "Main" }).GetByRole(AriaRole.Link, new() { Name = linkName, Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = heading, Level = 1 })).ToBeVisibleAsync();
    }

    /// <summary>A person's row on the board (the first one: contacts come before teams).</summary>
    public static ILocator Row(IPage page, string userId) => page.Locator($"li.person[data-user='{userId}']").First;
}
