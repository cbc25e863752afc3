using System.Net.Http.Json;
using System.Text.Json;
using Herald.Web.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Herald.Web.Tests;

[Collection(WebCollection.Name)]
public sealed class PrivacyAndHuddleTests(Browsers browsers, DemoSite site)
{
    [BrowserFact]
    public async Task See_me_as_previews_a_tier_and_a_person_with_the_deciding_layer()
    {
        using var api = await site.ClientFor("anna");
        (await api.PutAsJsonAsync("/api/v1/me/status", new { availability = "Busy", note = "Quarterly planning" })).EnsureSuccessStatusCode();
        var anna = await Pages.OpenAs(browsers.Browser, site.BaseAddress, "anna", "demo-anna", site.Now);
        try
        {
            await Pages.Go(anna, "Privacy", "Privacy center");
            await anna.GetByRole(AriaRole.Tab, new() { Name = "See me as…" }).ClickAsync();
            await anna.GetByLabel("A tier").SelectOptionAsync("Team");
            await anna.GetByRole(AriaRole.Button, new() { Name = "Show" }).ClickAsync();
            var result = anna.GetByRole(AriaRole.Region, new() { Name = "Preview result" });
            await Expect(result.GetByRole(AriaRole.Heading, new() { Name = "What a Team watcher sees" })).ToBeVisibleAsync();
            await Expect(result.Locator("[data-preview=view] .badge .label")).ToHaveTextAsync("Busy");
            await Expect(result).ToContainTextAsync("Quarterly planning");
            // Team does not get the personal mobile number by default, and the page says which layer decided.
            var mobile = result.GetByRole(AriaRole.Row, new() { Name = "Mobile" });
            await Expect(mobile).ToContainTextAsync("hidden");
            await Expect(mobile).ToContainTextAsync("Herald default");

            // A person: Ben, after Anna hides her note from him only.
            (await api.PutAsJsonAsync("/api/v1/me/privacy", new { watchers = new { ben = new { rules = new { any = new { note = false } } } } })).EnsureSuccessStatusCode();
            await anna.GetByLabel("A person").FillAsync("ben");
            await anna.GetByRole(AriaRole.Button, new() { Name = "Show" }).ClickAsync();
            await Expect(result.GetByRole(AriaRole.Heading, new() { Name = "What ben sees" })).ToBeVisibleAsync();
            await Expect(result).Not.ToContainTextAsync("Quarterly planning");
            await Expect(result.GetByRole(AriaRole.Row, new() { Name = "Note" })).ToContainTextAsync("your rule for this person");
        }
        finally
        {
            (await api.PutAsJsonAsync("/api/v1/me/privacy", new { })).EnsureSuccessStatusCode();
            (await api.DeleteAsync("/api/v1/me/status")).EnsureSuccessStatusCode();
            await anna.Context.CloseAsync();
        }
    }

    [BrowserFact]
    public async Task Rules_editor_shows_the_organization_ceiling_and_saves_rules()
    {
        using var admin = await site.ClientFor("admin");
        (await admin.PutAsJsonAsync("/api/v1/admin/policy", new { ceiling = new { Colleague = new { homePhone = false } } })).EnsureSuccessStatusCode();
        using var annaApi = await site.ClientFor("anna");
        (await annaApi.PutAsJsonAsync("/api/v1/me/privacy", new { watchers = new { ben = new { tier = "Trusted" } } })).EnsureSuccessStatusCode();
        var anna = await Pages.OpenAs(browsers.Browser, site.BaseAddress, "anna", "demo-anna", site.Now);
        try
        {
            await Pages.Go(anna, "Privacy", "Privacy center");
            await anna.GetByLabel("Tier", new() { Exact = true }).SelectOptionAsync("Colleague");
            await Expect(anna.GetByRole(AriaRole.Row, new() { Name = "Home phone" })).ToContainTextAsync("at most hidden");
            await anna.GetByLabel("Home phone for Colleague").SelectOptionAsync("true");
            await anna.GetByRole(AriaRole.Button, new() { Name = "Save rules" }).ClickAsync();
            await Expect(anna.GetByText("above the organization ceiling")).ToBeVisibleAsync();
            // Saving from the editor keeps what it does not show (Ben's placement in Trusted).
            var saved = await annaApi.GetFromJsonAsync<JsonElement>("/api/v1/me/privacy");
            Assert.Equal("Trusted", saved.GetProperty("watchers").GetProperty("ben").GetProperty("tier").GetString());
            Assert.True(saved.GetProperty("tiers").GetProperty("Colleague").GetProperty("workHours").GetProperty("homePhone").GetBoolean());
        }
        finally
        {
            (await annaApi.PutAsJsonAsync("/api/v1/me/privacy", new { })).EnsureSuccessStatusCode();
            (await admin.PutAsJsonAsync("/api/v1/admin/policy", new { })).EnsureSuccessStatusCode();
            await anna.Context.CloseAsync();
        }
    }

    [BrowserFact]
    public async Task A_huddle_sent_from_the_board_reaches_an_available_person_and_the_answer_comes_back_live()
    {
        var ben = await Pages.OpenAs(browsers.Browser, site.BaseAddress, "ben", "demo-ben", site.Now);
        using var benApi = await site.ClientFor("ben");
        (await benApi.PutAsJsonAsync("/api/v1/me/status", new { availability = "Available" })).EnsureSuccessStatusCode();
        var anna = await Pages.OpenAs(browsers.Browser, site.BaseAddress, "anna", "demo-anna", site.Now);
        try
        {
            await anna.GetByRole(AriaRole.Link, new() { Name = "Ask who’s available in Platform Engineering" }).ClickAsync();
            await Expect(anna.GetByRole(AriaRole.Heading, new() { Name = "Ask the available", Level = 1 })).ToBeVisibleAsync();
            await Expect(anna.Locator("li.person[data-user='ben']")).ToBeVisibleAsync();
            await anna.GetByLabel("Topic").FillAsync("Release go/no-go");
            await anna.GetByRole(AriaRole.Button, new() { Name = "Send huddle" }).ClickAsync();
            var invitee = anna.Locator("#huddle-result li[data-invitee='ben']");
            await Expect(invitee).ToHaveAttributeAsync("data-response", "waiting");

            var invitation = ben.GetByRole(AriaRole.Region, new() { Name = "Huddle invitation: Release go/no-go" });
            await Expect(invitation).ToBeVisibleAsync();
            await invitation.GetByRole(AriaRole.Button, new() { Name = "Accept" }).ClickAsync();

            await Expect(invitee).ToHaveAttributeAsync("data-response", "accepted");
            await Expect(anna.Locator("#huddle-result [data-summary]")).ToContainTextAsync("1 accepted");
        }
        finally
        {
            (await benApi.DeleteAsync("/api/v1/me/status")).EnsureSuccessStatusCode();
            await ben.Context.CloseAsync();
            await anna.Context.CloseAsync();
        }
    }

    [BrowserFact]
    public async Task Admin_imports_people_from_csv()
    {
        var admin = await Pages.OpenAs(browsers.Browser, site.BaseAddress, "admin", Server.Tests.Infrastructure.HeraldTestServer.AdminPassword, site.Now);
        try
        {
            await Pages.Go(admin, "Admin", "Admin");
            await admin.GetByLabel("Format").SelectOptionAsync("csv");
            await admin.GetByLabel("People", new() { Exact = true }).FillAsync(
                "id,displayName,email,team,workPhone,password\nfrank,Frank Example,frank@example.com,platform,+49 30 555 0199,frank-pass-1\n");
            await admin.GetByRole(AriaRole.Button, new() { Name = "Import" }).ClickAsync();
            await Expect(admin.Locator("#import-result")).ToContainTextAsync("1 created, 0 updated");

            // A bad row: nothing is imported, and the page says which field.
            await admin.GetByLabel("People", new() { Exact = true }).FillAsync("id,displayName\n-bad,Nobody\n");
            await admin.GetByRole(AriaRole.Button, new() { Name = "Import" }).ClickAsync();
            await Expect(admin.Locator("#import-result")).ToContainTextAsync("Nothing was imported");

            using var ben = await site.ClientFor("ben");
            var frank = await ben.GetFromJsonAsync<JsonElement>("/api/v1/people/frank");
            Assert.Equal("Frank Example", frank.GetProperty("displayName").GetString());
        }
        finally
        {
            using var api = await site.ClientFor("admin");
            await api.DeleteAsync("/api/v1/admin/people/frank");
            await admin.Context.CloseAsync();
        }
    }
}
