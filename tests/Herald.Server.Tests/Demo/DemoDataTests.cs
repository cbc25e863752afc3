using System.Text.RegularExpressions;
using Herald.Cluster.Directory;
using Herald.Core.Model;
using Herald.Server.Demo;

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
