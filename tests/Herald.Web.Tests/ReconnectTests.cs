using System.Net.Http.Json;
using Herald.Web.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Herald.Web.Tests;

[Collection(WebCollection.Name)]
public sealed class ReconnectTests(Browsers browsers)
{
    [BrowserFact]
    public async Task The_page_shows_reconnecting_while_the_server_is_away_and_recovers_when_it_returns()
    {
        await using var server = new DemoProcess();
        await server.StartAsync();
        // Real time here: make the scenario independent of the hour, as the README tour does.
        using (var anna = await DemoSite.ClientFor(server.BaseAddress, "anna", "demo-anna"))
        {
            (await anna.PutAsJsonAsync("/api/v1/me/privacy", new { watchers = new { ben = new { tier = "Trusted" } } })).EnsureSuccessStatusCode();
        }
        var ben = await Pages.OpenAs(browsers.Browser, server.BaseAddress, "ben", "demo-ben");
        try
        {
            var banner = ben.Locator("#conn");
            await Expect(Pages.Row(ben, "anna")).ToBeVisibleAsync();
            await Expect(banner).ToBeEmptyAsync();

            await server.KillAsync();
            await Expect(banner).ToContainTextAsync("Reconnecting", new() { Timeout = 10_000 });
            await Expect(banner).ToHaveAttributeAsync("role", "status");

            await server.StartAsync(); // same port, same data directory
            await Expect(banner).ToContainTextAsync("Reconnected", new() { Timeout = 20_000 });

            // Live again: a change after the restart reaches the open page without a reload.
            using var anna = await DemoSite.ClientFor(server.BaseAddress, "anna", "demo-anna");
            (await anna.PutAsJsonAsync("/api/v1/me/status", new { availability = "DoNotDisturb", note = "back after the restart" })).EnsureSuccessStatusCode();
            await Expect(Pages.Row(ben, "anna").Locator(".badge .label")).ToHaveTextAsync("Do not disturb", new() { Timeout = 5000 });
            await Expect(Pages.Row(ben, "anna")).ToContainTextAsync("back after the restart");
        }
        finally
        {
            await ben.Context.CloseAsync();
        }
    }
}
