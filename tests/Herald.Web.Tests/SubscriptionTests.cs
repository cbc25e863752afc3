using System.Net.Http.Json;
using Herald.Web.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Herald.Web.Tests;

[Collection(WebCollection.Name)]
public sealed class SubscriptionTests(Browsers browsers, DemoSite site)
{
    [BrowserFact]
    public async Task A_contact_request_waits_for_approval_and_the_approval_shows_on_the_watchers_board_live()
    {
        using var annaApi = await site.ClientFor("anna");
        (await annaApi.PutAsJsonAsync("/api/v1/me/privacy", new { subscriptions = new { Colleague = "Confirm" } })).EnsureSuccessStatusCode();
        (await annaApi.PutAsJsonAsync("/api/v1/me/status", new { availability = "Available", note = "Office hours" })).EnsureSuccessStatusCode();
        var wen = await Pages.OpenAs(browsers.Browser, site.BaseAddress, "wen", "demo-wen", site.Now);
        var anna = await Pages.OpenAs(browsers.Browser, site.BaseAddress, "anna", "demo-anna", site.Now);
        try
        {
            // Wen (a colleague from another team) asks to watch Anna, who confirms colleagues' requests.
            await wen.GetByLabel("Search the directory").FillAsync("Lindqvist");
            var results = wen.Locator("section", new() { Has = wen.GetByRole(AriaRole.Heading, new() { Name = "Directory results for “Lindqvist”" }) });
            await results.GetByRole(AriaRole.Button, new() { Name = "Add contact Anna Lindqvist" }).ClickAsync();
            var contacts = wen.Locator("section", new() { Has = wen.GetByRole(AriaRole.Heading, new() { Name = "My contacts" }) });
            var row = contacts.Locator("li.person[data-user='anna']");
            await Expect(row).ToContainTextAsync("request pending");
            await Expect(row.Locator(".badge .label")).ToHaveTextAsync("Not shared");

            // Anna approves in her privacy center.
            await Pages.Go(anna, "Privacy", "Privacy center");
            await anna.GetByRole(AriaRole.Tab, new() { Name = "Watchers" }).ClickAsync();
            var request = anna.Locator("tr[data-watcher='wen']");
            await Expect(request).ToContainTextAsync("Pending");
            await request.GetByRole(AriaRole.Button, new() { Name = "Approve wen" }).ClickAsync();
            await Expect(anna.Locator("tr[data-watcher='wen']")).ToContainTextAsync("Approved");

            // Wen's open board shows Anna at once, without a reload.
            await Expect(row.Locator(".badge .label")).ToHaveTextAsync("Available", new() { Timeout = 5000 });
            await Expect(row).ToContainTextAsync("Office hours");
            await Expect(row).Not.ToContainTextAsync("request pending");
        }
        finally
        {
            (await annaApi.PutAsJsonAsync("/api/v1/me/privacy", new { })).EnsureSuccessStatusCode();
            (await annaApi.DeleteAsync("/api/v1/me/status")).EnsureSuccessStatusCode();
            using var wenApi = await site.ClientFor("wen");
            await wenApi.DeleteAsync("/api/v1/me/contacts/anna");
            await wen.Context.CloseAsync();
            await anna.Context.CloseAsync();
        }
    }
}
