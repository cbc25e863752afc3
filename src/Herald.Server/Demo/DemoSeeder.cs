using System.Globalization;
using System.Text;
using Herald.Cluster.Directory;
using Herald.Cluster.Presence;
using Herald.Server.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace Herald.Server.Demo;

/// <summary>
/// The <c>--demo</c> switch: once the host has started, seeds <see cref="DemoOrganization"/> into an empty directory
/// (people, teams, accounts with <c>demo-&lt;id&gt;</c> passwords, team mates as contacts), prints the logins once,
/// and then runs the <see cref="DemoSimulator"/> until the host stops. A directory that already has people is not
/// reseeded. Nothing here ever stops the host: failures are logged.
/// </summary>
public sealed partial class DemoSeeder(
    IDirectoryStore directory,
    IAccountStore accounts,
    IGrainFactory grains,
    IOptions<HeraldOptions> options,
    TimeProvider time,
    IHostApplicationLifetime lifetime,
    IServer server,
    ILoggerFactory loggerFactory,
    ILogger<DemoSeeder> logger) : BackgroundService
{
    /// <summary>The simulator's random seed.</summary>
    public const int RandomSeed = 42;

    /// <summary>How long one step keeps retrying while the silo (or the store) is not ready.</summary>
    public static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(4);

    private readonly IDirectoryStore _directory = directory;
    private readonly IAccountStore _accounts = accounts;
    private readonly IGrainFactory _grains = grains;
    private readonly IOptions<HeraldOptions> _options = options;
    private readonly TimeProvider _time = time;
    private readonly IHostApplicationLifetime _lifetime = lifetime;
    private readonly IServer _server = server;
    private readonly ILoggerFactory _loggerFactory = loggerFactory;
    private readonly ILogger<DemoSeeder> _logger = logger;

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await WhenStarted(stoppingToken);
            var demo = DemoOrganization.Create();
            var ids = (await Prepare(demo, stoppingToken)).Except(DemoOrganization.HandsOn, StringComparer.Ordinal).ToList();
            if (ids.Count == 0)
            {
                LogNothingToSimulate(demo.Name);
                return;
            }
            var simulator = new DemoSimulator(_grains, _time, _loggerFactory.CreateLogger<DemoSimulator>(), ids, RandomSeed);
            await simulator.Run(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The host is stopping.
        }
        catch (Exception ex)
        {
            LogDemoFailed(ex);
        }
    }

    /// <summary>Waits for the host (silo, then Kestrel) to have started.</summary>
    private async Task WhenStarted(CancellationToken ct)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (_lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        using (ct.Register(() => started.TrySetCanceled(ct)))
        {
            await started.Task;
        }
    }

    /// <summary>Seeds an empty directory (or reminds of the logins); returns the demo people that exist.</summary>
    private async Task<IReadOnlyList<string>> Prepare(DemoDirectory demo, CancellationToken ct)
    {
        var count = await Retry("count people", () => _directory.CountPeople(ct), ct);
        if (count == 0)
        {
            await Seed(demo, ct);
            Console.Write(LoginTable(demo, Url()));
        }
        var wanted = demo.People.Select(p => p.Profile.Id).ToList();
        var existing = await Retry("find demo people", () => _directory.GetPeople(wanted, ct), ct);
        var present = existing.Select(p => p.Id).ToHashSet(StringComparer.Ordinal);
        if (count == 0)
        {
            return [.. wanted.Where(present.Contains)];
        }

        // Seeded by an earlier --demo run when the demo's teams are there: move its people again. Otherwise this is
        // somebody's real directory, whose people the simulator must not touch.
        var teams = (await Retry("list teams", () => _directory.ListTeams(ct), ct)).Select(t => t.Id).ToHashSet(StringComparer.Ordinal);
        if (!demo.Teams.All(t => teams.Contains(t.Id)))
        {
            Console.WriteLine($"Herald demo: the directory already has {count} people and is not a demo directory, so \"{demo.Name}\" "
                + "was neither seeded nor simulated; start with an empty data directory (e.g. --Herald:DataDirectory=<new dir>).");
            return [];
        }
        Console.WriteLine($"Herald demo: \"{demo.Name}\" is already seeded ({present.Count} people); log in as <id> / "
            + $"{DemoOrganization.PasswordPrefix}<id> (e.g. anna / {DemoOrganization.PasswordPrefix}anna) at {Url()}.");
        return [.. wanted.Where(present.Contains)];
    }

    private async Task Seed(DemoDirectory demo, CancellationToken ct)
    {
        await Retry("write teams", () => _directory.UpsertTeams(demo.Teams, ct), ct);
        await Retry("write people", () => _directory.UpsertPeople([.. demo.People.Select(p => p.Profile)], ct), ct);
        var iterations = _options.Value.Auth.PasswordIterations;
        foreach (var person in demo.People)
        {
            var account = new Account(person.Profile.Id, person.Roles, PasswordHasher.Hash(person.Password, iterations)).WithScram(person.Password);
            await Retry("write account", async () =>
            {
                await _accounts.UpsertAccount(account, ct);
                return true;
            }, ct);
        }

        // Grain calls: these wait (with backoff) until the silo accepts them.
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct };
        await Parallel.ForEachAsync(demo.People, parallel, async (person, token) =>
        {
            var grain = _grains.Person(person.Profile.Id);
            await Retry("refresh profile", async () =>
            {
                await grain.ProfileChanged(person.Profile);
                return true;
            }, token);
            var mates = demo.People.Where(p => p.Profile.Team == person.Profile.Team && p.Profile.Id != person.Profile.Id);
            foreach (var mate in mates)
            {
                await Retry("add contact", () => grain.AddContact(mate.Profile.Id), token);
            }
        });
        LogSeeded(demo.Name, demo.People.Count, demo.Teams.Count);
    }

    /// <summary>Runs <paramref name="action"/>, retrying with a growing delay for at most <see cref="ReadyTimeout"/>.</summary>
    private async Task<T> Retry<T>(string what, Func<Task<T>> action, CancellationToken ct)
    {
        var deadline = _time.GetUtcNow() + ReadyTimeout;
        var delay = FirstRetryDelay;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            try
            {
                return await action();
            }
            catch (Exception ex) when (!ct.IsCancellationRequested && _time.GetUtcNow() + delay < deadline)
            {
                LogRetrying(ex, what, delay);
            }
            await Task.Delay(delay, _time, ct);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetryDelay.Ticks));
        }
    }

    /// <summary>The first address Kestrel listens on, or the default.</summary>
    private string Url() =>
        _server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault() ?? HeraldServer.DefaultUrl;

    /// <summary>The logins as a compact table, printed once after seeding.</summary>
    internal static string LoginTable(DemoDirectory demo, string url)
    {
        ArgumentNullException.ThrowIfNull(demo);
        var managers = demo.Teams.Select(t => t.Manager).OfType<string>().ToHashSet(StringComparer.Ordinal);
        var width = Math.Max(4, demo.People.Max(p => p.Profile.Id.Length));
        var pwWidth = Math.Max(8, demo.People.Max(p => p.Password.Length));
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture,
            $"Herald demo: seeded \"{demo.Name}\" with {demo.People.Count} people in {demo.Teams.Count} teams. Log in as any of them:");
        sb.AppendLine(CultureInfo.InvariantCulture, $"  {"user".PadRight(width)}  {"password".PadRight(pwWidth)}  team");
        foreach (var person in demo.People)
        {
            var notes = new List<string>();
            if (managers.Contains(person.Profile.Id))
            {
                notes.Add("manager");
            }
            notes.AddRange(person.Roles.Where(r => r != Roles.User));
            var suffix = notes.Count == 0 ? "" : $" ({string.Join(", ", notes)})";
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"  {person.Profile.Id.PadRight(width)}  {person.Password.PadRight(pwWidth)}  {person.Profile.Team}{suffix}");
        }
        sb.AppendLine(CultureInfo.InvariantCulture,
            $"The simulator moves everybody except {string.Join(" and ", DemoOrganization.HandsOn)}, who are yours to drive.");
        sb.AppendLine(CultureInfo.InvariantCulture, $"Open {url} and log in, or follow the curl tour in README.md.");
        return sb.ToString();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Demo: seeded {Organization} with {People} people in {Teams} teams")]
    private partial void LogSeeded(string organization, int people, int teams);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Demo: {What} not ready yet, retrying in {Delay}")]
    private partial void LogRetrying(Exception exception, string what, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Demo: no {Organization} people to move; the simulator does not run")]
    private partial void LogNothingToSimulate(string organization);

    [LoggerMessage(Level = LogLevel.Error, Message = "Demo: seeding or simulation failed; the server keeps running without the demo")]
    private partial void LogDemoFailed(Exception exception);
}
