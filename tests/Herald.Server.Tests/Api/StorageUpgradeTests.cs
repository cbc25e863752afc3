using System.Net.Http.Json;
using System.Text.Json;
using Herald.Server.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace Herald.Server.Tests.Api;

/// <summary>
/// Upgrading a data directory written before session 5 (grain state as JSON) to the binary payload format: nothing is
/// lost, and each person's row is rewritten in the new format by their next write.
/// </summary>
public sealed class StorageUpgradeTests
{
    [Fact]
    public async Task A_data_directory_with_json_grain_state_keeps_every_person_after_an_upgrade_and_is_rewritten_as_binary()
    {
        var directory = Path.Combine(Path.GetTempPath(), "herald-upgrade-" + Guid.NewGuid().ToString("N"));
        await using var before = new HeraldTestServer(directory, null, "--Herald:Storage:PayloadFormat=GrainStorageSerializer");
        await before.StartAsync();
        var tokens = await before.CreatePeople(HeraldTestServer.Person("anna"), HeraldTestServer.Person("bob"));
        using (var anna = before.Client(tokens["anna"]))
        {
            (await anna.PutAsJsonAsync("/api/v1/me/status", new { availability = "Busy", note = "written as json" })).EnsureSuccessStatusCode();
            (await anna.PutAsync("/api/v1/me/contacts/bob", null)).EnsureSuccessStatusCode();
        }
        await before.StopAsync();
        Assert.Equal('{', (char)PersonPayload(directory, "anna")[0]);

        await using var after = new HeraldTestServer(directory);
        await after.StartAsync();
        using var again = after.Client(await after.Login("anna", "pw-anna-123"));
        var me = await again.GetFromJsonAsync<JsonElement>("/api/v1/me/presence");
        Assert.Equal("Busy", me.GetProperty("availability").GetString());
        Assert.Equal("written as json", me.GetProperty("note").GetString());
        var contacts = await again.GetFromJsonAsync<JsonElement>("/api/v1/me/contacts");
        Assert.Equal("bob", contacts[0].GetProperty("userId").GetString());

        (await again.PutAsJsonAsync("/api/v1/me/status", new { availability = "Away", note = "written as binary" })).EnsureSuccessStatusCode();
        await after.StopAsync();
        var payload = PersonPayload(directory, "anna");
        Assert.Equal(0x00, payload[0]);
        Assert.Equal(0x01, payload[1]);

        await after.StartAsync();
        using var third = after.Client(await after.Login("anna", "pw-anna-123"));
        var reread = await third.GetFromJsonAsync<JsonElement>("/api/v1/me/presence");
        Assert.Equal("Away", reread.GetProperty("availability").GetString());
        Assert.Equal("written as binary", reread.GetProperty("note").GetString());
        Assert.Equal("bob", (await third.GetFromJsonAsync<JsonElement>("/api/v1/me/contacts"))[0].GetProperty("userId").GetString());
    }

    private static byte[] PersonPayload(string directory, string person)
    {
        SqliteConnection.ClearAllPools();
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(directory, "herald.db"),
            Pooling = false,
        }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT payload FROM grain_state WHERE state_name = 'person' AND grain_id LIKE $g";
        command.Parameters.AddWithValue("$g", "%/" + person);
        return Assert.IsType<byte[]>(command.ExecuteScalar());
    }
}
