using System.Net.Http.Json;
using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;
using Herald.Server.Tests.Infrastructure;
using Herald.Web.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Herald.Web.Tests;

/// <summary>
/// Every page, at 1280×800 and 390×844, in light and dark: an axe-core check (no serious or critical violation) and a
/// screenshot into <c>screenshots/</c> next to the test assembly (with <c>HERALD_UPDATE_SCREENSHOTS=1</c> also into
/// <c>docs/screenshots/</c> of the repository).
/// </summary>
[Collection(WebCollection.Name)]
public sealed class ScreenshotAndAccessibilityTests(Browsers browsers, DemoSite site, Xunit.Abstractions.ITestOutputHelper output)
{
    private sealed record PageShot(string Name, string User, Func<IPage, Task> Open);

    private static readonly (string Name, int Width, int Height)[] Sizes = [("desktop", 1280, 800), ("phone", 390, 844)];

    private static readonly (string Name, ColorScheme Scheme)[] Themes = [("light", ColorScheme.Light), ("dark", ColorScheme.Dark)];

    private static readonly PageShot[] Shots =
    [
        new("signin", "", _ => Task.CompletedTask),
        new("board", "anna", async p =>
        {
            await Pages.Go(p, "Board", "Board");
            await Expect(Pages.Row(p, "carla")).ToBeVisibleAsync();
        }),
        new("status", "anna", async p =>
        {
            await Pages.Go(p, "My status", "My status");
            await Expect(p.Locator(".why")).ToBeVisibleAsync();
        }),
        new("privacy", "anna", async p =>
        {
            await Pages.Go(p, "Privacy", "Privacy center");
            await Expect(p.GetByRole(AriaRole.Row, new() { Name = "Home phone" })).ToBeVisibleAsync();
        }),
        new("privacy-preview", "anna", async p =>
        {
            await Pages.Go(p, "Privacy", "Privacy center");
            await p.GetByRole(AriaRole.Tab, new() { Name = "See me as…" }).ClickAsync();
            await p.GetByLabel("A tier").SelectOptionAsync("Colleague");
            await p.GetByRole(AriaRole.Button, new() { Name = "Show" }).ClickAsync();
            await Expect(p.GetByRole(AriaRole.Region, new() { Name = "Preview result" })).ToBeVisibleAsync();
        }),
        new("ask", "anna", async p =>
        {
            await Pages.Go(p, "Ask the available", "Ask the available");
            await Expect(p.Locator("li.person[data-user='ben']")).ToBeVisibleAsync();
        }),
        new("integrations", "anna", async p =>
        {
            await Pages.Go(p, "Integrations", "Integrations");
            await Expect(p.GetByLabel("Name", new() { Exact = true })).ToBeVisibleAsync();
        }),
        new("admin", "admin", async p =>
        {
            await Pages.Go(p, "Admin", "Admin");
            await Expect(p.GetByLabel("People", new() { Exact = true })).ToBeVisibleAsync();
        }),
    ];

    [BrowserFact]
    public async Task Every_page_in_light_and_dark_at_desktop_and_phone_width_has_no_serious_accessibility_violations()
    {
        await Stage();
        var outDir = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(outDir);
        var failures = new List<string>();
        foreach (var (sizeName, width, height) in Sizes)
        {
            foreach (var (themeName, scheme) in Themes)
            {
                // One signed-in page per person and variant; the pages are reached through the navigation.
                var open = new Dictionary<string, IPage>();
                try
                {
                    foreach (var shot in Shots)
                    {
                        var clock = System.Diagnostics.Stopwatch.StartNew();
                        if (!open.TryGetValue(shot.User, out var page))
                        {
                            open[shot.User] = page = await Open(shot, scheme, width, height);
                        }
                        await shot.Open(page);
                        await page.Mouse.MoveAsync(0, 0);
                        await page.EvaluateAsync("() => { document.activeElement?.blur(); window.scrollTo(0, 0); }");
                        var file = Path.Combine(outDir, $"{shot.Name}-{sizeName}-{themeName}.png");
                        await page.ScreenshotAsync(new() { Path = file, Animations = ScreenshotAnimations.Disabled });
                        var shotTime = clock.ElapsedMilliseconds;
                        if (sizeName == "phone" && themeName == "dark")
                        {
                            continue; // colours are checked at desktop width in dark, the phone layout in light (axe is slow)
                        }
                        var axe = await page.RunAxe();
                        output.WriteLine($"{shot.Name} {sizeName} {themeName}: page+shot {shotTime} ms, axe {clock.ElapsedMilliseconds - shotTime} ms");
                        failures.AddRange(axe.Violations
                            .Where(v => v.Impact is "serious" or "critical")
                            .Select(v => $"{shot.Name} {sizeName} {themeName}: {v.Id} ({v.Impact}) {v.Help} — " +
                                string.Join(" | ", v.Nodes.Take(3).Select(n => n.Html))));
                    }
                }
                finally
                {
                    foreach (var p in open.Values)
                    {
                        await p.Context.CloseAsync();
                    }
                }
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        CopyToDocs(outDir);
    }

    [BrowserFact]
    public async Task The_theme_toggle_switches_between_automatic_light_and_dark()
    {
        var page = await Pages.OpenAs(browsers.Browser, site.BaseAddress, "ben", "demo-ben", site.Now);
        try
        {
            var html = page.Locator("html");
            var toggle = page.Locator("#theme");
            await Expect(html).Not.ToHaveAttributeAsync("data-theme", new System.Text.RegularExpressions.Regex(".+"));
            await toggle.ClickAsync();
            await Expect(html).ToHaveAttributeAsync("data-theme", "light");
            await toggle.ClickAsync();
            await Expect(html).ToHaveAttributeAsync("data-theme", "dark");
            await Expect(toggle).ToHaveAttributeAsync("aria-label", new System.Text.RegularExpressions.Regex("dark"));
            var axe = await page.RunAxe();
            Assert.DoesNotContain(axe.Violations, v => v.Impact is "serious" or "critical");
            await toggle.ClickAsync(); // back to automatic
        }
        finally
        {
            await page.Context.CloseAsync();
        }
    }

    [BrowserFact]
    public async Task Keyboard_alone_signs_in_and_moves_between_pages()
    {
        var context = await browsers.Browser.NewContextAsync(new() { BaseURL = site.BaseAddress.ToString() });
        await context.Clock.SetFixedTimeAsync(site.Now.UtcDateTime);
        var page = await context.NewPageAsync();
        try
        {
            await page.GotoAsync("/");
            await Expect(page.GetByLabel("Username")).ToBeFocusedAsync();
            await page.Keyboard.TypeAsync("ben");
            await page.Keyboard.PressAsync("Tab");
            await page.Keyboard.TypeAsync("demo-ben");
            await page.Keyboard.PressAsync("Enter");
            await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Board", Level = 1 })).ToBeVisibleAsync();
            await page.Keyboard.PressAsync("g");
            await page.Keyboard.PressAsync("s");
            await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "My status", Level = 1 })).ToBeFocusedAsync();
            await page.Keyboard.PressAsync("g");
            await page.Keyboard.PressAsync("b");
            await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Board", Level = 1 })).ToBeFocusedAsync();
            await page.Keyboard.PressAsync("/");
            await Expect(page.GetByLabel("Search the directory")).ToBeFocusedAsync();
        }
        finally
        {
            await context.CloseAsync();
        }
    }

    private async Task<IPage> Open(PageShot shot, ColorScheme scheme, int width, int height)
    {
        if (shot.User == "")
        {
            var context = await browsers.Browser.NewContextAsync(new()
            {
                BaseURL = site.BaseAddress.ToString(), ViewportSize = new() { Width = width, Height = height }, ColorScheme = scheme,
                Locale = "en-GB", TimezoneId = "UTC", ReducedMotion = ReducedMotion.Reduce,
            });
            await context.Clock.SetFixedTimeAsync(site.Now.UtcDateTime);
            var page = await context.NewPageAsync();
            await page.GotoAsync("/");
            await Expect(page.GetByLabel("Username")).ToBeVisibleAsync();
            return page;
        }
        var password = shot.User == "admin" ? HeraldTestServer.AdminPassword : "demo-" + shot.User;
        return await Pages.OpenAs(browsers.Browser, site.BaseAddress, shot.User, password, site.Now, scheme, width, height);
    }

    /// <summary>A lived-in board: a few statuses, notes and a device with a location.</summary>
    private async Task Stage()
    {
        async Task Status(string user, object body)
        {
            using var c = await site.ClientFor(user);
            (await c.PutAsJsonAsync("/api/v1/me/status", body)).EnsureSuccessStatusCode();
        }
        await Status("anna", new { availability = "Available", note = "Reviewing the Q4 roadmap" });
        await Status("carla", new { availability = "Busy", activity = "InAMeeting", note = "Design review" });
        await Status("deniz", new { availability = "DoNotDisturb", activity = "Focusing" });
        await Status("emil", new { availability = "BeRightBack" });
        await Status("ben", new { availability = "Available", note = "On call this week" });
        using var ivan = await site.ClientFor("ivan");
        (await ivan.PutAsJsonAsync("/api/v1/me/devices/laptop", new
        {
            kind = "Desktop", ttlSeconds = 3600, location = new { country = "Poland", city = "Warsaw", building = "Mokotów Office", floor = "4" },
        })).EnsureSuccessStatusCode();
    }

    private static void CopyToDocs(string outDir)
    {
        if (Environment.GetEnvironmentVariable("HERALD_UPDATE_SCREENSHOTS") != "1")
        {
            return;
        }
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Herald.slnx")))
        {
            dir = dir.Parent;
        }
        if (dir is null)
        {
            return;
        }
        var docs = Path.Combine(dir.FullName, "docs", "screenshots");
        Directory.CreateDirectory(docs);
        foreach (var f in Directory.GetFiles(outDir, "*.png"))
        {
            File.Copy(f, Path.Combine(docs, Path.GetFileName(f)), overwrite: true);
        }
    }
}
