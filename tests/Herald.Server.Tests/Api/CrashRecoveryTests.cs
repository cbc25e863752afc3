using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Api;

public sealed class CrashRecoveryTests
{
    [Fact]
    public async Task Kill_9_loses_no_acknowledged_durable_write()
    {
        var dir = Path.Combine(Path.GetTempPath(), "herald-kill-" + Guid.NewGuid().ToString("N"));
        try
        {
            string lastNote;
            await using (var server = new ServerProcess(dir))
            {
                await server.StartAsync();
                using var c = new HttpClient { BaseAddress = server.BaseAddress };
                c.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await Login(c, "admin", HeraldTestServer.AdminPassword));
                (await c.PostAsJsonAsync("/api/v1/admin/people", new[] { HeraldTestServer.Person("anna"), HeraldTestServer.Person("bob") })).EnsureSuccessStatusCode();
                c.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await Login(c, "anna", "pw-anna-123"));
                (await c.PutAsync("/api/v1/me/contacts/bob", null)).EnsureSuccessStatusCode();
                lastNote = "";
                for (var i = 0; i < 25; i++)
                {
                    var r = await c.PutAsJsonAsync("/api/v1/me/status", new { availability = "Busy", note = $"write {i}" });
                    r.EnsureSuccessStatusCode(); // acknowledged
                    lastNote = $"write {i}";
                }
                await server.KillAsync();
            }

            await using var again = new ServerProcess(dir);
            await again.StartAsync();
            using var c2 = new HttpClient { BaseAddress = again.BaseAddress };
            c2.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await Login(c2, "anna", "pw-anna-123"));
            var me = await c2.GetFromJsonAsync<JsonElement>("/api/v1/me/presence");
            Assert.Equal(lastNote, me.GetProperty("note").GetString());
            Assert.Equal("Busy", me.GetProperty("availability").GetString());
            var contacts = await c2.GetFromJsonAsync<JsonElement>("/api/v1/me/contacts");
            Assert.Equal("bob", contacts[0].GetProperty("userId").GetString());
        }
        finally
        {
            try
            {
                Directory.Delete(dir, true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static async Task<string> Login(HttpClient c, string user, string password)
    {
        var r = await c.PostAsJsonAsync("/api/v1/auth/token", new { username = user, password });
        r.EnsureSuccessStatusCode();
        return (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accessToken").GetString()!;
    }
}
