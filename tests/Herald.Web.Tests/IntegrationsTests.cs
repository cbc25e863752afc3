using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Herald.Web.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Herald.Web.Tests;

/// <summary>The Integrations page: API keys, webhooks and the calendar, each checked against the API.</summary>
[Collection(WebCollection.Name)]
public sealed class IntegrationsTests(Browsers browsers, DemoSite site)
{
    [BrowserFact]
    public async Task A_person_creates_and_revokes_a_key_manages_a_webhook_and_uploads_a_calendar()
    {
        using var api = await site.ClientFor("emil");
        var page = await Pages.OpenAs(browsers.Browser, site.BaseAddress, "emil", "demo-emil", site.Now);
        try
        {
            await Pages.Go(page, "Integrations", "Integrations");

            // API keys: the key is shown once, in a dialog; the list never shows it; revoking removes it.
            await page.GetByLabel("Name", new() { Exact = true }).FillAsync("Desk phone");
            await page.GetByRole(AriaRole.Button, new() { Name = "Create key" }).ClickAsync();
            var dialog = page.GetByRole(AriaRole.Dialog, new() { Name = "Your new API key" });
            await Expect(dialog.GetByLabel("Key")).ToHaveValueAsync(new System.Text.RegularExpressions.Regex("^hk_[0-9a-f]{12}_[0-9a-f]{64}$"));
            var key = await dialog.GetByLabel("Key").InputValueAsync();
            await dialog.GetByRole(AriaRole.Button, new() { Name = "Close" }).ClickAsync();
            var keyRow = page.Locator("#keys-table tr", new() { HasText = "Desk phone" });
            await Expect(keyRow).ToContainTextAsync("devices");
            Assert.DoesNotContain(key, await page.ContentAsync(), StringComparison.Ordinal);
            var keys = await api.GetFromJsonAsync<JsonElement>("/api/v1/apikeys");
            Assert.Equal("Desk phone", Assert.Single(keys.EnumerateArray()).GetProperty("name").GetString());
            await keyRow.GetByRole(AriaRole.Button, new() { Name = "Revoke Desk phone" }).ClickAsync();
            await Expect(page.GetByText("You have no API keys.")).ToBeVisibleAsync();
            Assert.Equal(0, (await api.GetFromJsonAsync<JsonElement>("/api/v1/apikeys")).GetArrayLength());

            // Webhooks: a bad URL is refused with the server's reason; a good one shows its secret once.
            await page.GetByRole(AriaRole.Tab, new() { Name = "Webhooks" }).ClickAsync();
            await page.GetByLabel("URL", new() { Exact = true }).FillAsync("ftp://hooks.example.com/herald");
            await page.GetByLabel("People (ids, comma-separated)").FillAsync("anna, ben");
            await page.GetByRole(AriaRole.Button, new() { Name = "Create webhook" }).ClickAsync();
            await Expect(page.Locator("#panel-webhooks [role=alert]")).ToContainTextAsync("url");
            await page.GetByLabel("URL", new() { Exact = true }).FillAsync("https://hooks.example.com/herald");
            await page.GetByRole(AriaRole.Button, new() { Name = "Create webhook" }).ClickAsync();
            var secretDialog = page.GetByRole(AriaRole.Dialog, new() { Name = "Your webhook secret" });
            await Expect(secretDialog.GetByLabel("Secret")).Not.ToHaveValueAsync("");
            await secretDialog.GetByRole(AriaRole.Button, new() { Name = "Close" }).ClickAsync();
            var hookRow = page.Locator("#webhooks-table tr", new() { HasText = "https://hooks.example.com/herald" });
            await Expect(hookRow).ToContainTextAsync("anna, ben");
            await Expect(hookRow).ToContainTextAsync("Active");
            await hookRow.GetByRole(AriaRole.Button, new() { Name = "Send test to https://hooks.example.com/herald" }).ClickAsync();
            await Expect(page.Locator("#toast")).ToContainTextAsync("queued");
            await hookRow.GetByRole(AriaRole.Button, new() { Name = "Deliveries to https://hooks.example.com/herald" }).ClickAsync();
            await Expect(page.Locator("#webhook-log")).ToContainTextAsync("Latest deliveries to https://hooks.example.com/herald");
            var hooks = await api.GetFromJsonAsync<JsonElement>("/api/v1/webhooks");
            Assert.Equal(["anna", "ben"], Assert.Single(hooks.EnumerateArray()).GetProperty("userIds").EnumerateArray().Select(x => x.GetString()));
            await hookRow.GetByRole(AriaRole.Button, new() { Name = "Delete https://hooks.example.com/herald" }).ClickAsync();
            await Expect(page.GetByText("You have no webhooks.")).ToBeVisibleAsync();
            Assert.Equal(0, (await api.GetFromJsonAsync<JsonElement>("/api/v1/webhooks")).GetArrayLength());

            // Calendar: feeds are off on the demo server (no allowed hosts), and the page says why; an upload works.
            await page.GetByRole(AriaRole.Tab, new() { Name = "Calendar" }).ClickAsync();
            await page.GetByLabel("Feed URL (only hosts your administrator allows)").FillAsync("https://calendar.example.com/emil.ics");
            await page.GetByRole(AriaRole.Button, new() { Name = "Subscribe" }).ClickAsync();
            await Expect(page.Locator("#calendar-result .error")).ToBeVisibleAsync();
            var start = site.Now.UtcDateTime.Date.AddDays(2).AddHours(10);
            var ics = string.Join("\r\n",
                "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Herald tests//EN", "BEGIN:VEVENT", "UID:web-1@herald.test",
                "DTSTAMP:" + start.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture),
                "DTSTART:" + start.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture),
                "DTEND:" + start.AddHours(1).ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture),
                "SUMMARY:Planning", "END:VEVENT", "END:VCALENDAR", "");
            await page.GetByLabel("Calendar file (.ics, at most 1 MiB)").SetInputFilesAsync(new FilePayload
            {
                Name = "emil.ics", MimeType = "text/calendar", Buffer = System.Text.Encoding.UTF8.GetBytes(ics),
            });
            await page.GetByRole(AriaRole.Button, new() { Name = "Upload" }).ClickAsync();
            await Expect(page.Locator("#calendar-result")).ToContainTextAsync("1 calendar entries");
            await Expect(page.Locator("#calendar-result")).ToContainTextAsync("InAMeeting");
        }
        finally
        {
            await api.DeleteAsync("/api/v1/me/calendar");
            await page.Context.CloseAsync();
        }
    }
}
