using System.Reflection;
using System.Text.RegularExpressions;
using Herald.Cluster.Directory;
using Herald.Cluster.Presence;
using Herald.Core.Model;
using Herald.Core.Privacy;
using Herald.Server.Demo;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Herald.Server.Tests.Demo;

/// <summary>The <c>--demo</c> data set is valid as the admin API would require it.</summary>
public sealed partial class DemoDataTests
{
    private static readonly DemoDirectory Demo = DemoOrganization.Create();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")]
    private static partial Regex IdPattern();

    [GeneratedRegex(@"^\+[1-9][0-9]{6,14}$")]
    private static partial Regex E164();

    [Fact]
    public void About_25_people_in_4_teams()
    {
        Assert.InRange(Demo.People.Count, 22, 28);
        Assert.Equal(4, Demo.Teams.Count);
        Assert.False(string.IsNullOrWhiteSpace(Demo.Name));
        Assert.All(Demo.Teams, t => Assert.Contains(Demo.People, p => p.Profile.Team == t.Id));
        Assert.All(Demo.People, p => Assert.Contains(Demo.Teams, t => t.Id == p.Profile.Team));
    }

    [Fact]
    public void Ids_are_valid_lowercase_and_unique()
    {
        var ids = Demo.People.Select(p => p.Profile.Id).Concat(Demo.Teams.Select(t => t.Id)).ToList();
        Assert.All(ids, id => Assert.Matches(IdPattern(), id));
        Assert.All(ids, id => Assert.Equal(id.ToLowerInvariant(), id));
        Assert.Equal(Demo.People.Count, Demo.People.Select(p => p.Profile.Id).Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(Demo.Teams.Count, Demo.Teams.Select(t => t.Id).Distinct(StringComparer.Ordinal).Count());
        Assert.DoesNotContain(Demo.People, p => p.Profile.Id == "admin");
    }

    [Fact]
    public void The_readme_tour_people_exist_in_platform_and_are_left_to_the_user()
    {
        Assert.Equal(["anna", "ben"], DemoOrganization.HandsOn);
        Assert.All(DemoOrganization.HandsOn, id => Assert.Equal("platform", Assert.Single(Demo.People, p => p.Profile.Id == id).Profile.Team));
    }

    [Fact]
    public void Every_manager_exists()
    {
        var ids = Demo.People.Select(p => p.Profile.Id).ToHashSet(StringComparer.Ordinal);
        Assert.All(Demo.People.Where(p => p.Profile.Manager is not null), p =>
        {
            Assert.Contains(p.Profile.Manager!, ids);
            Assert.NotEqual(p.Profile.Id, p.Profile.Manager);
        });
    }

    [Fact]
    public void Every_team_has_a_manager_who_exists_in_that_team_and_manages_its_members()
    {
        foreach (var team in Demo.Teams)
        {
            Assert.False(string.IsNullOrWhiteSpace(team.Name));
            Assert.NotNull(team.Manager);
            var manager = Assert.Single(Demo.People, p => p.Profile.Id == team.Manager);
            Assert.Equal(team.Id, manager.Profile.Team);
            Assert.All(Demo.People.Where(p => p.Profile.Team == team.Id && p.Profile.Id != team.Manager),
                p => Assert.Equal(team.Manager, p.Profile.Manager));
        }
    }

    [Fact]
    public void Every_time_zone_is_known_and_there_are_several()
    {
        Assert.All(Demo.People, p => Assert.True(TimeZones.IsKnown(p.Profile.TimeZone), p.Profile.TimeZone));
        Assert.True(Demo.People.Select(p => p.Profile.TimeZone).Distinct().Count() >= 4);
        foreach (var zone in new[] { "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Europe/London" })
        {
            Assert.Contains(Demo.People, p => p.Profile.TimeZone == zone);
        }
    }

    [Fact]
    public void Everyone_has_a_name_an_email_and_work_hours_mostly_nine_to_five()
    {
        Assert.All(Demo.People, p =>
        {
            Assert.False(string.IsNullOrWhiteSpace(p.Profile.DisplayName));
            Assert.Contains('@', p.Profile.Email!);
            Assert.NotNull(p.Profile.WorkHours);
            Assert.NotEmpty(p.Profile.WorkHours!.Days);
            Assert.NotEqual(p.Profile.WorkHours.Start, p.Profile.WorkHours.End);
        });
        var standard = Demo.People.Count(p => p.Profile.WorkHours == WorkHours.Default
            || (p.Profile.WorkHours!.Days.SequenceEqual(WorkHours.Default.Days)
                && p.Profile.WorkHours.Start == WorkHours.Default.Start && p.Profile.WorkHours.End == WorkHours.Default.End));
        Assert.True(standard > Demo.People.Count / 2, $"only {standard} people work the standard hours");
        Assert.True(standard < Demo.People.Count, "nobody works different hours");
    }

    [Fact]
    public void Contact_methods_are_complete_and_non_empty()
    {
        Assert.All(Demo.People, p =>
        {
            var methods = p.Profile.ContactMethods;
            Assert.InRange(methods.Count, 1, 20);
            Assert.All(methods, c => Assert.False(string.IsNullOrWhiteSpace(c.Address)));
            Assert.All(methods, c => Assert.InRange(c.Address.Length, 1, 256));
            foreach (var kind in new[] { ContactKind.WorkPhone, ContactKind.Mobile, ContactKind.Email, ContactKind.Chat, ContactKind.Video })
            {
                Assert.Contains(methods, c => c.Kind == kind);
            }
            Assert.All(methods.Where(c => c.Kind is ContactKind.WorkPhone or ContactKind.Mobile or ContactKind.HomePhone),
                c => Assert.Matches(E164(), c.Address));
            Assert.Contains(methods, c => c.Kind == ContactKind.Email && c.Address == p.Profile.Email);
        });
        Assert.Contains(Demo.People, p => p.Profile.ContactMethods.Any(c => c.Kind == ContactKind.HomePhone));
        Assert.Contains(Demo.People, p => p.Profile.ContactMethods.All(c => c.Kind != ContactKind.HomePhone));
    }

    [Fact]
    public void Passwords_are_demo_id_and_long_enough()
    {
        Assert.All(Demo.People, p =>
        {
            Assert.Equal(DemoOrganization.PasswordPrefix + p.Profile.Id, p.Password);
            Assert.InRange(p.Password.Length, 8, 1024);
        });
    }

    [Fact]
    public void Everyone_is_a_user_and_exactly_one_is_also_an_auditor()
    {
        Assert.All(Demo.People, p =>
        {
            Assert.Contains(Roles.User, p.Roles);
            Assert.All(p.Roles, r => Assert.Contains(r, Roles.All));
            Assert.DoesNotContain(Roles.Admin, p.Roles);
        });
        Assert.Single(Demo.People, p => p.Roles.Contains(Roles.Auditor));
    }

    [Fact]
    public void The_login_table_lists_everyone_and_the_url()
    {
        var table = DemoSeeder.LoginTable(Demo, "http://localhost:5080");
        Assert.All(Demo.People, p => Assert.Contains(p.Password, table, StringComparison.Ordinal));
        Assert.Contains("http://localhost:5080", table, StringComparison.Ordinal);
        Assert.Contains("README", table, StringComparison.Ordinal);
    }
}

/// <summary>The demo simulator against fake grains and a fake clock.</summary>
public sealed class DemoSimulatorTests
{
    private static readonly IReadOnlyList<string> Ids = [.. DemoOrganization.Create().People.Select(p => p.Profile.Id)];

    [Fact]
    public async Task Keeps_about_two_thirds_online_and_every_device_alive_while_it_moves_people()
    {
        var (simulator, world) = Create(seed: 42);
        await simulator.WarmUp(CancellationToken.None);
        Assert.InRange(simulator.OnlineCount, 15, 17);

        var counts = new List<int>();
        for (var i = 0; i < 600; i++) // 30 minutes of 3 s ticks
        {
            world.Time.Advance(DemoSimulator.DefaultPeriod);
            await simulator.Tick(CancellationToken.None);
            counts.Add(simulator.OnlineCount);
            Assert.Equal(simulator.OnlineCount, world.Live()); // the simulator's books match the grains' leases
        }

        Assert.All(counts, c => Assert.InRange(c, 12, 20));
        Assert.InRange(counts.Average() / Ids.Count, 0.60, 0.70);
        Assert.Equal(0, world.LapsedHeartbeats);
        Assert.True(world.Heartbeats > 1000);
        Assert.Contains(world.Puts, r => r.Kind == DeviceKind.Desktop);
        Assert.Contains(world.Puts, r => r.Kind == DeviceKind.Mobile);
        Assert.Contains(world.Puts, r => r.Kind == DeviceKind.DeskPhone && r.Activity == Activity.InACall);
        Assert.Contains(world.Puts, r => r.Activity == Activity.Presenting);
        Assert.Contains(world.Puts, r => r.IdleSince is not null);
        Assert.All(world.Puts, r => Assert.Equal(TimeSpan.FromSeconds(90), r.Ttl));
        Assert.Contains(world.Statuses, s => s.Availability == Availability.DoNotDisturb && s.Note is { Length: > 0 }
            && s.Until is { } until && until - world.Time.GetUtcNow() <= TimeSpan.FromHours(1));
        Assert.Contains(world.Statuses, s => s.Availability == Availability.BeRightBack);
        Assert.Contains(world.Statuses, s => s.Availability == Availability.Offline);
        Assert.True(world.Clears > Ids.Count);
        Assert.True(world.Removes > 0);
    }

    [Fact]
    public async Task The_same_seed_gives_the_same_moves()
    {
        async Task<string> Run(int seed)
        {
            var (simulator, world) = Create(seed);
            await simulator.WarmUp(CancellationToken.None);
            for (var i = 0; i < 100; i++)
            {
                world.Time.Advance(DemoSimulator.DefaultPeriod);
                await simulator.Tick(CancellationToken.None);
            }
            return string.Join("\n", world.Log);
        }

        Assert.Equal(await Run(42), await Run(42));
        Assert.NotEqual(await Run(42), await Run(7));
    }

    [Fact]
    public async Task Failing_grains_are_logged_and_never_stop_the_simulator()
    {
        var (simulator, world) = Create(seed: 42);
        world.Fail = true;
        await simulator.WarmUp(CancellationToken.None);
        for (var i = 0; i < 20; i++)
        {
            world.Time.Advance(DemoSimulator.DefaultPeriod);
            await simulator.Tick(CancellationToken.None);
        }
        world.Fail = false;
        for (var i = 0; i < 20; i++)
        {
            world.Time.Advance(DemoSimulator.DefaultPeriod);
            await simulator.Tick(CancellationToken.None);
        }
        Assert.InRange(simulator.OnlineCount, 12, 20);
    }

    [Fact]
    public async Task Run_stops_with_the_token()
    {
        var (simulator, _) = Create(seed: 42, time: TimeProvider.System, period: TimeSpan.FromMilliseconds(20));
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => simulator.Run(cts.Token));
    }

    private static (DemoSimulator Simulator, FakeWorld World) Create(int seed, TimeProvider? time = null, TimeSpan? period = null)
    {
        var world = new FakeWorld();
        var simulator = new DemoSimulator(world.Factory, time ?? world.Time, NullLogger<DemoSimulator>.Instance, Ids, seed, period);
        return (simulator, world);
    }

    /// <summary>Person grains as plain objects, with device leases that lapse on the fake clock.</summary>
    internal sealed class FakeWorld
    {
        public FakeWorld()
        {
            Factory = DispatchProxy.Create<IGrainFactory, FactoryProxy>();
            ((FactoryProxy)(object)Factory).World = this;
        }

        public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 3, 2, 10, 0, 0, TimeSpan.Zero));

        public IGrainFactory Factory { get; }

        public Dictionary<string, FakePerson> Grains { get; } = new(StringComparer.Ordinal);

        public List<DeviceReport> Puts { get; } = [];

        public List<SetStatus> Statuses { get; } = [];

        public List<string> Log { get; } = [];

        public int Heartbeats { get; set; }

        public int LapsedHeartbeats { get; set; }

        public int Clears { get; set; }

        public int Removes { get; set; }

        public bool Fail { get; set; }

        /// <summary>People with an unexpired device lease who do not appear offline.</summary>
        public int Live() => Grains.Values.Count(g => g.Devices.Values.Any(expires => expires > Time.GetUtcNow()) && !g.AppearsOffline);

        public FakePerson Person(string id)
        {
            if (!Grains.TryGetValue(id, out var person))
            {
                person = new FakePerson();
                Grains[id] = person;
            }
            return person;
        }

        public object? Call(string id, MethodInfo method, object?[]? args)
        {
            if (Fail)
            {
                var down = new InvalidOperationException("silo down");
                return method.ReturnType == typeof(Task<bool>) ? Task.FromException<bool>(down)
                    : method.ReturnType == typeof(ValueTask<PresenceView>) ? new ValueTask<PresenceView>(Task.FromException<PresenceView>(down))
                    : Task.FromException<PresenceView>(down);
            }
            var now = Time.GetUtcNow();
            var p = Person(id);
            Log.Add($"{now:HH:mm:ss} {id} {method.Name} {string.Join(",", args ?? [])}");
            p.Devices.Where(d => d.Value <= now).Select(d => d.Key).ToList().ForEach(k => p.Devices.Remove(k));
            switch (method.Name)
            {
                case nameof(IPersonGrain.PutDevice):
                    var report = (DeviceReport)args![0]!;
                    Puts.Add(report);
                    p.Devices[report.DeviceId] = now + report.Ttl;
                    return new ValueTask<PresenceView>((PresenceView)null!);
                case nameof(IPersonGrain.Heartbeat):
                    Heartbeats++;
                    var deviceId = (string)args![0]!;
                    if (!p.Devices.ContainsKey(deviceId))
                    {
                        LapsedHeartbeats++;
                        return Task.FromResult(false);
                    }
                    p.Devices[deviceId] = now + DemoSimulator.DeviceTtl;
                    return Task.FromResult(true);
                case nameof(IPersonGrain.RemoveDevice):
                    Removes++;
                    return Task.FromResult(p.Devices.Remove((string)args![0]!));
                case nameof(IPersonGrain.SetStatus):
                    var status = (SetStatus)args![0]!;
                    Statuses.Add(status);
                    p.AppearsOffline = status.Availability == Availability.Offline;
                    return new ValueTask<PresenceView>((PresenceView)null!);
                case nameof(IPersonGrain.ClearStatus):
                    Clears++;
                    p.AppearsOffline = false;
                    return Task.FromResult<PresenceView>(null!);
                default:
                    throw new NotSupportedException(method.Name);
            }
        }
    }

    /// <summary>One fake person grain: device lease expiries and appear offline.</summary>
    internal sealed class FakePerson
    {
        public Dictionary<string, DateTimeOffset> Devices { get; } = new(StringComparer.Ordinal);

        public bool AppearsOffline { get; set; }
    }

    /// <summary>Answers <c>GetGrain&lt;IPersonGrain&gt;(id)</c>.</summary>
    public class FactoryProxy : DispatchProxy
    {
        internal FakeWorld World { get; set; } = null!;

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod is { Name: nameof(IGrainFactory.GetGrain), ReturnType: var t } && t == typeof(IPersonGrain))
            {
                var grain = DispatchProxy.Create<IPersonGrain, PersonProxy>();
                var proxy = (PersonProxy)(object)grain;
                proxy.World = World;
                proxy.Id = (string)args![0]!;
                return grain;
            }
            throw new NotSupportedException(targetMethod?.Name);
        }
    }

    /// <summary>Forwards person grain calls to the <see cref="FakeWorld"/>.</summary>
    public class PersonProxy : DispatchProxy
    {
        internal FakeWorld World { get; set; } = null!;

        internal string Id { get; set; } = "";

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) => World.Call(Id, targetMethod!, args);
    }
}
