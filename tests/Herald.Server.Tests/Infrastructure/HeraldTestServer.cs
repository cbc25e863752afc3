using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Herald.Server.Hosting;
using Orleans.TestingHost;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Time.Testing;

namespace Herald.Server.Tests.Infrastructure;

/// <summary>
/// The real server (Kestrel on a free loopback port, the co-hosted silo, SQLite in a temp directory) with time
/// from a <see cref="FakeTimeProvider"/>. Restartable on the same data directory.
/// </summary>
public sealed class HeraldTestServer : IAsyncDisposable
{
    public const string AdminPassword = "admin-password-1";

    private readonly string[] _extraArgs;
    private WebApplication? _app;

    public HeraldTestServer(string? dataDirectory = null, FakeTimeProvider? time = null, params string[] extraArgs)
    {
        DataDirectory = dataDirectory ?? Path.Combine(Path.GetTempPath(), "herald-test-" + Guid.NewGuid().ToString("N"));
        Time = time ?? new FakeTimeProvider(NextWorkingMorning());
        _extraArgs = extraArgs;
    }

    /// <summary>
    /// The next Wednesday 10:00 UTC: inside everyone's default work hours, and never in the past (token expiry is
    /// checked by Data Protection against the real clock).
    /// </summary>
    public static DateTimeOffset NextWorkingMorning()
    {
        var d = DateTimeOffset.UtcNow.Date.AddDays(1);
        while (d.DayOfWeek != DayOfWeek.Wednesday)
        {
            d = d.AddDays(1);
        }
        return new DateTimeOffset(d.AddHours(10), TimeSpan.Zero);
    }

    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    public string DataDirectory { get; }

    public FakeTimeProvider Time { get; }

    public Uri BaseAddress { get; private set; } = null!;

    public IServiceProvider Services => _app!.Services;

    public async Task StartAsync()
    {
        string[] args =
        [
            "--urls", "http://127.0.0.1:0",
            "--Herald:DataDirectory=" + DataDirectory,
            "--Herald:Bootstrap:AdminPassword=" + AdminPassword,
            "--Herald:Auth:PasswordIterations=4096",
            "--Herald:Presence:SiloWatchRenewal=00:00:01",
            "--Herald:Xmpp:Port=0", // XMPP off unless a test passes --Herald:Xmpp:Port=-1 (a free port)
            "--Logging:LogLevel:Default=Warning",
            .. _extraArgs,
        ];
        for (var attempt = 1; ; attempt++)
        {
            _app = HeraldServer.Build(args, b =>
            {
                b.Services.AddSingleton<TimeProvider>(Time);
                b.Services.UseTimeProviderForBackgroundAreas(TimeProvider.System);
            });
            try
            {
                await _app.StartAsync();
                break;
            }
            catch (Microsoft.AspNetCore.Connections.AddressInUseException) when (attempt < 3)
            {
                // The embedded silo's port was free when chosen and taken by another process before the silo bound it
                // (test assemblies run in parallel): start again with a newly chosen port.
                await _app.DisposeAsync();
            }
        }
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseAddress = new Uri(address);
    }

    public async Task StopAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
            _app = null;
        }
    }

    public async Task RestartAsync()
    {
        await StopAsync();
        await StartAsync();
    }

    public HttpClient Client(string? token = null)
    {
        var c = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        if (token is not null)
        {
            c.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        return c;
    }

    public async Task<string> Login(string user, string password)
    {
        using var c = Client();
        var r = await c.PostAsJsonAsync("/api/v1/auth/token", new { username = user, password });
        r.EnsureSuccessStatusCode();
        return (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accessToken").GetString()!;
    }

    /// <summary>Creates people (each with password "pw-&lt;id&gt;-123") and returns their tokens.</summary>
    public async Task<Dictionary<string, string>> CreatePeople(params object[] people)
    {
        using var admin = Client(await Login("admin", AdminPassword));
        var r = await admin.PostAsJsonAsync("/api/v1/admin/people", people, Json);
        Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
        var tokens = new Dictionary<string, string>();
        foreach (var p in people)
        {
            var id = (string)p.GetType().GetProperty("id")!.GetValue(p)!;
            tokens[id] = await Login(id, $"pw-{id}-123");
        }
        return tokens;
    }

    public static object Person(string id, string? team = null, object[]? contactMethods = null, object? workHours = null, string timeZone = "UTC") =>
        new { id, displayName = char.ToUpperInvariant(id[0]) + id[1..], email = $"{id}@example.com", team, password = $"pw-{id}-123", contactMethods, workHours, timeZone };

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // best effort
        }
    }
}

/// <summary>
/// The common set-up of a test class: its own <see cref="HeraldTestServer"/> (with <c>extraArgs</c>), started before
/// each test with the given people created (their tokens in <see cref="Tokens"/>), disposed after it.
/// </summary>
public abstract class ServerWithPeople(string[] extraArgs, params object[] people) : IAsyncLifetime
{
    protected HeraldTestServer Server { get; } = new(null, null, extraArgs);

    /// <summary>Each created person's bearer token, by id.</summary>
    protected Dictionary<string, string> Tokens { get; private set; } = null!;

    public virtual async Task InitializeAsync()
    {
        await Server.StartAsync();
        Tokens = await Server.CreatePeople(people);
    }

    public virtual async Task DisposeAsync() => await Server.DisposeAsync();
}
