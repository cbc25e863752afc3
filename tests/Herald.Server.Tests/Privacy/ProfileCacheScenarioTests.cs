using System.Net.Http.Json;
using System.Text.Json;
using Herald.Cluster.Directory;
using Herald.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Server.Tests.Privacy;

/// <summary>
/// The node's directory profile cache (embedded mode) never lets a tier decision use a profile older than the last
/// directory write: the grains' watcher tiers come from the directory, through the cache.
/// </summary>
public sealed class ProfileCacheScenarioTests : IAsyncLifetime
{
    private readonly HeraldTestServer _server = new();
    private Dictionary<string, string> _tokens = null!;
    private string _admin = null!;

    public async Task InitializeAsync()
    {
        await _server.StartAsync();
        _tokens = await _server.CreatePeople(HeraldTestServer.Person("anna", team: "ops"), HeraldTestServer.Person("bob"));
        _admin = await _server.Login("admin", HeraldTestServer.AdminPassword);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public void The_embedded_node_reads_the_directory_through_the_profile_cache()
    {
        Assert.IsType<CachedDirectoryStore>(_server.Services.GetRequiredService<IDirectoryStore>());
    }

    [Fact]
    public async Task A_watcher_moved_into_the_team_is_decided_as_team_once_the_persons_profile_changes()
    {
        using var anna = _server.Client(_tokens["anna"]);
        using var admin = _server.Client(_admin);
        // Anna's grain reads Bob's profile (he has no team): a colleague. Both profiles are in the cache now.
        Assert.Equal("Colleague", (await Preview(anna, "bob")).GetProperty("tier").GetString());
        Assert.Equal("Colleague", (await Preview(anna, "bob")).GetProperty("tier").GetString());

        // Bob joins ops; then Anna's own profile changes, which makes her grain decide every watcher's tier again from
        // the directory. A cache that still held Bob's old profile would keep him a colleague.
        (await admin.PutAsJsonAsync("/api/v1/admin/people/bob", new { id = "bob", displayName = "Bob", email = "bob@example.com", team = "ops" }))
            .EnsureSuccessStatusCode();
        (await admin.PutAsJsonAsync("/api/v1/admin/people/anna", new { id = "anna", displayName = "Anna B.", email = "anna@example.com", team = "ops" }))
            .EnsureSuccessStatusCode();
        Assert.Equal("Team", (await Preview(anna, "bob")).GetProperty("tier").GetString());

        // And back out of the team (the written profile wins over the cached one every time).
        (await admin.PutAsJsonAsync("/api/v1/admin/people/bob", new { id = "bob", displayName = "Bob", email = "bob@example.com" }))
            .EnsureSuccessStatusCode();
        (await admin.PutAsJsonAsync("/api/v1/admin/people/anna", new { id = "anna", displayName = "Anna", email = "anna@example.com", team = "ops" }))
            .EnsureSuccessStatusCode();
        Assert.Equal("Colleague", (await Preview(anna, "bob")).GetProperty("tier").GetString());
    }

    [Fact]
    public async Task A_deleted_watcher_is_no_longer_found_through_the_cache()
    {
        var directory = _server.Services.GetRequiredService<IDirectoryStore>();
        Assert.NotNull(await directory.GetPerson("bob"));
        Assert.NotNull(await directory.GetPerson("bob")); // cached
        using var admin = _server.Client(_admin);
        (await admin.DeleteAsync("/api/v1/admin/people/bob")).EnsureSuccessStatusCode();
        Assert.Null(await directory.GetPerson("bob"));
        Assert.Empty(await directory.GetPeople(["bob"]));
    }

    private static async Task<JsonElement> Preview(HttpClient client, string asWatcher)
    {
        var r = await client.GetAsync($"/api/v1/me/privacy/preview?as={asWatcher}");
        Assert.True(r.IsSuccessStatusCode, $"{(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
        return await r.Content.ReadFromJsonAsync<JsonElement>();
    }
}
