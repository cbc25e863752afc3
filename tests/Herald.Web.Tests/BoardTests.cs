using System.Net.Http.Json;
using Herald.Web.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Herald.Web.Tests;

[Collection(WebCollection.Name)]
public sealed class BoardTests(Browsers browsers, DemoSite site)
{
    [BrowserFact]
    public async Task Do_not_disturb_set_by_one_person_shows_on_the_others_board_within_a_second()
    {
        var ben = await Pages.OpenAs(browsers.Browser, site.BaseAddress, "ben", "demo-ben", site.Now);
        var anna = await Pages.OpenAs(browsers.Browser, site.BaseAddress, "anna", "demo-anna", site.Now);
        try
        {
            var row = Pages.Row(ben, "anna");
            await Expect(row).ToBeVisibleAsync();
            await Expect(row.Locator(".badge .label")).Not.ToHaveTextAsync("Do not disturb");

            await Pages.Go(anna, "My status", "My status");
            await anna.GetByRole(AriaRole.Button, new() { Name = "Do not disturb for 1 h" }).ClickAsync();

            // Bounded: within one second of the click, without a reload.
            await Expect(row.Locator(".badge .label")).ToHaveTextAsync("Do not disturb", new() { Timeout = 1000 });
            await Expect(row).ToHaveAttributeAsync("data-availability", "DoNotDisturb");
            await Expect(row.Locator(".badge svg")).ToBeVisibleAsync(); // the icon, not only colour and text

            // Anna's own page says why she appears so.
            await Expect(anna.Locator(".why")).ToContainTextAsync("status chosen by the person");
        }
        finally
        {
            await ClearStatus("anna");
            await ben.Context.CloseAsync();
            await anna.Context.CloseAsync();
        }
    }

    // Anna and Ben are the demo's hands-on people: the demo simulator never changes their presence.
    [BrowserFact]
    public async Task Available_now_filter_hides_people_who_are_not_available()
    {
        var ben = await Pages.OpenAs(browsers.Browser, site.BaseAddress, "ben", "demo-ben", site.Now);
        using var anna = await site.ClientFor("anna");
        (await anna.PutAsJsonAsync("/api/v1/me/status", new { availability = "Busy" })).EnsureSuccessStatusCode();
        try
        {
            await Expect(Pages.Row(ben, "anna")).ToBeVisibleAsync();
            await ben.GetByLabel("Available now only").CheckAsync();
            await Expect(Pages.Row(ben, "anna")).ToBeHiddenAsync();
            await Expect(Pages.Row(ben, "ben")).ToBeVisibleAsync(); // Ben's own tab makes him available
            (await anna.PutAsJsonAsync("/api/v1/me/status", new { availability = "Available" })).EnsureSuccessStatusCode();
            await Expect(Pages.Row(ben, "anna")).ToBeVisibleAsync(); // live, no reload
            await ben.GetByLabel("Available now only").UncheckAsync();
        }
        finally
        {
            (await anna.DeleteAsync("/api/v1/me/status")).EnsureSuccessStatusCode();
            await ben.Context.CloseAsync();
        }
    }

    [BrowserFact]
    public async Task How_to_reach_popover_lists_the_options_the_watcher_may_use()
    {
        using var anna = await site.ClientFor("anna");
        (await anna.PutAsJsonAsync("/api/v1/me/status", new { availability = "Available" })).EnsureSuccessStatusCode();
        var ben = await Pages.OpenAs(browsers.Browser, site.BaseAddress, "ben", "demo-ben", site.Now);
        try
        {
            await Pages.Row(ben, "anna").GetByRole(AriaRole.Button, new() { Name = "How to reach Anna Lindqvist" }).ClickAsync();
            var dialog = ben.GetByRole(AriaRole.Dialog, new() { Name = "How to reach Anna Lindqvist" });
            await Expect(dialog).ToBeVisibleAsync();
            await Expect(dialog.Locator(".reach-list li").First).ToContainTextAsync("Work phone: +49");
            await dialog.GetByLabel("It is urgent").CheckAsync();
            await Expect(dialog.Locator(".reach-list li").First).ToContainTextAsync(":");
            await ben.Keyboard.PressAsync("Escape");
            await Expect(dialog).ToBeHiddenAsync();
            // Focus returns to the button that opened the dialog.
            await Expect(Pages.Row(ben, "anna").GetByRole(AriaRole.Button, new() { Name = "How to reach Anna Lindqvist" })).ToBeFocusedAsync();
        }
        finally
        {
            (await anna.DeleteAsync("/api/v1/me/status")).EnsureSuccessStatusCode();
            await ben.Context.CloseAsync();
        }
    }

    [BrowserFact]
    public async Task Directory_search_adds_a_contact()
    {
        var ben = await Pages.OpenAs(browsers.Browser, site.BaseAddress, "ben", "demo-ben", site.Now);
        try
        {
            await ben.GetByLabel("Search the directory").FillAsync("Wen");
            var results = ben.GetByRole(AriaRole.Region, new() { Name = "Directory results for “Wen” (1)" });
            await Expect(results).ToBeVisibleAsync();
            await results.GetByRole(AriaRole.Button, new() { Name = "Add contact Wen Li" }).ClickAsync();
            var contacts = ben.GetByRole(AriaRole.Region, new() { Name = "My contacts", Exact = false });
            await Expect(contacts.Locator("li.person[data-user='wen']")).ToBeVisibleAsync();
        }
        finally
        {
            using var c = await site.ClientFor("ben");
            await c.DeleteAsync("/api/v1/me/contacts/wen");
            await ben.Context.CloseAsync();
        }
    }

    private async Task ClearStatus(string user)
    {
        using var c = await site.ClientFor(user);
        (await c.DeleteAsync("/api/v1/me/status")).EnsureSuccessStatusCode();
    }
}
