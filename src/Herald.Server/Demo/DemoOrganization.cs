using Herald.Cluster.Directory;
using Herald.Core.Model;

namespace Herald.Server.Demo;

/// <summary>One person of the demo organization: directory entry, login password and roles.</summary>
/// <param name="Profile">The directory entry.</param>
/// <param name="Password">The clear-text demo password (<c>demo-&lt;id&gt;</c>).</param>
/// <param name="Roles">The account's roles.</param>
public sealed record DemoPerson(PersonProfile Profile, string Password, IReadOnlyList<string> Roles);

/// <summary>The whole demo data set.</summary>
/// <param name="Name">The organization's name.</param>
/// <param name="Teams">Its teams.</param>
/// <param name="People">Its people, team by team, each team's manager first.</param>
public sealed record DemoDirectory(string Name, IReadOnlyList<Team> Teams, IReadOnlyList<DemoPerson> People);

/// <summary>
/// The fictional organization seeded by <c>--demo</c>: 25 people in 4 teams across several time zones. All phone
/// numbers are made up and all addresses use the reserved <c>.example</c> domain.
/// </summary>
public static class DemoOrganization
{
    /// <summary>The organization's name.</summary>
    public const string Name = "Lumen Harbor Labs";

    /// <summary>The e-mail and chat domain.</summary>
    public const string Domain = "lumenharbor.example";

    /// <summary>The prefix of every demo password: the password of <c>anna</c> is <c>demo-anna</c>.</summary>
    public const string PasswordPrefix = "demo-";

    /// <summary>
    /// The people of the README's curl tour (<c>anna</c> and <c>ben</c>, both in <c>platform</c>): the simulator leaves
    /// their presence to whoever logs in as them, so the tour's steps are not overwritten.
    /// </summary>
    public static IReadOnlyList<string> HandsOn { get; } = ["anna", "ben"];

    private static readonly DayOfWeek[] Weekdays =
        [DayOfWeek.Monday, DayOfWeek.Tuesday, DayOfWeek.Wednesday, DayOfWeek.Thursday, DayOfWeek.Friday];

    private static readonly WorkHours Standard = WorkHours.Default;
    private static readonly WorkHours Early = new(Weekdays, new TimeOnly(8, 0), new TimeOnly(16, 0));
    private static readonly WorkHours Late = new(Weekdays, new TimeOnly(10, 0), new TimeOnly(18, 30));
    private static readonly WorkHours PartTime =
        new([DayOfWeek.Monday, DayOfWeek.Tuesday, DayOfWeek.Wednesday, DayOfWeek.Thursday], new TimeOnly(9, 0), new TimeOnly(14, 0));
    private static readonly WorkHours NightShift =
        new([DayOfWeek.Sunday, DayOfWeek.Monday, DayOfWeek.Tuesday, DayOfWeek.Wednesday, DayOfWeek.Thursday],
            new TimeOnly(22, 0), new TimeOnly(6, 0));
    private static readonly WorkHours Weekend =
        new([DayOfWeek.Friday, DayOfWeek.Saturday, DayOfWeek.Sunday], new TimeOnly(10, 0), new TimeOnly(18, 0));

    /// <summary>Phone number prefixes of one country (fictional ranges).</summary>
    private sealed record Region(string Work, string Mobile, string Home);

    private static readonly Region Germany = new("+4930", "+49151", "+4940");
    private static readonly Region Spain = new("+3491", "+34612", "+3493");
    private static readonly Region Turkey = new("+90212", "+90532", "+90216");
    private static readonly Region Poland = new("+4822", "+48501", "+4812");
    private static readonly Region Britain = new("+4420", "+447700", "+44118");
    private static readonly Region Ireland = new("+3531", "+35385", "+35321");
    private static readonly Region India = new("+9180", "+9198", "+9122");
    private static readonly Region UnitedStates = new("+1212", "+1646", "+1718");
    private static readonly Region Brazil = new("+5511", "+55119", "+5521");
    private static readonly Region Japan = new("+813", "+8190", "+816");
    private static readonly Region Singapore = new("+65", "+658", "+656");
    private static readonly Region Australia = new("+612", "+614", "+613");

    /// <summary>Creates the demo data set (a fresh copy each time).</summary>
    public static DemoDirectory Create()
    {
        Team[] teams =
        [
            new("platform", "Platform Engineering", "anna"),
            new("design", "Product Design", "george"),
            new("sales", "Sales & Partnerships", "marco"),
            new("support", "Customer Support", "kenji"),
        ];
        var people = new List<DemoPerson>(25);
        void Add(string id, string name, string team, string? manager, string zone, Region region, WorkHours hours,
            bool homePhone = false, bool auditor = false) =>
            people.Add(Person(people.Count + 1, id, name, team, manager, zone, region, hours, homePhone, auditor));

        Add("anna", "Anna Lindqvist", "platform", null, "Europe/Berlin", Germany, Standard, homePhone: true);
        Add("ben", "Ben Achterberg", "platform", "anna", "Europe/Berlin", Germany, Early);
        Add("carla", "Carla Fuentes", "platform", "anna", "Europe/Madrid", Spain, Standard, homePhone: true);
        Add("deniz", "Deniz Aksoy", "platform", "anna", "Europe/Istanbul", Turkey, Standard);
        Add("emil", "Emil Brandt", "platform", "anna", "Europe/Berlin", Germany, Late);
        Add("fatima", "Fatima Haddad", "platform", "anna", "Europe/Berlin", Germany, PartTime);
        Add("ivan", "Ivan Kowalczyk", "platform", "anna", "Europe/Warsaw", Poland, Standard, homePhone: true);

        Add("george", "George Pemberton", "design", "anna", "Europe/London", Britain, Standard);
        Add("hana", "Hana Novak", "design", "george", "Europe/London", Britain, Standard, homePhone: true);
        Add("julia", "Julia O'Connell", "design", "george", "Europe/Dublin", Ireland, Standard);
        Add("lena", "Lena Whitfield", "design", "george", "Europe/London", Britain, Early);
        Add("nora", "Nora Castellan", "design", "george", "Europe/London", Britain, Standard, auditor: true);
        Add("priya", "Priya Raman", "design", "george", "Asia/Kolkata", India, Late, homePhone: true);

        Add("marco", "Marco Bellini", "sales", "anna", "America/New_York", UnitedStates, Standard, homePhone: true);
        Add("omar", "Omar Farouk", "sales", "marco", "America/New_York", UnitedStates, Standard);
        Add("rosa", "Rosa Delgado", "sales", "marco", "America/Chicago", UnitedStates, Standard);
        Add("sven", "Sven Halvorsen", "sales", "marco", "America/Los_Angeles", UnitedStates, Early, homePhone: true);
        Add("tomas", "Tomas Varga", "sales", "marco", "America/New_York", UnitedStates, Late);
        Add("uma", "Uma Carvalho", "sales", "marco", "America/Sao_Paulo", Brazil, Standard);

        Add("kenji", "Kenji Morita", "support", "anna", "Asia/Tokyo", Japan, Standard);
        Add("yuki", "Yuki Tanabe", "support", "kenji", "Asia/Tokyo", Japan, Early, homePhone: true);
        Add("wen", "Wen Li", "support", "kenji", "Asia/Singapore", Singapore, Standard);
        Add("zoe", "Zoe Marsh", "support", "kenji", "Australia/Sydney", Australia, Standard);
        Add("victor", "Victor Okafor", "support", "kenji", "Europe/London", Britain, NightShift);
        Add("quinn", "Quinn Harper", "support", "kenji", "America/New_York", UnitedStates, Weekend, homePhone: true);

        return new DemoDirectory(Name, teams, people);
    }

    private static DemoPerson Person(int n, string id, string name, string team, string? manager, string zone, Region region,
        WorkHours hours, bool homePhone, bool auditor)
    {
        var email = $"{id}@{Domain}";
        var contacts = new List<ContactMethod>
        {
            new(ContactKind.WorkPhone, $"{region.Work}5550{n:000}"),
            new(ContactKind.Mobile, $"{region.Mobile}5551{n:000}"),
        };
        if (homePhone)
        {
            contacts.Add(new(ContactKind.HomePhone, $"{region.Home}5552{n:000}"));
        }
        contacts.Add(new(ContactKind.Email, email));
        contacts.Add(new(ContactKind.Chat, $"xmpp:{id}@chat.{Domain}"));
        contacts.Add(new(ContactKind.Video, $"https://meet.{Domain}/{id}"));
        var profile = new PersonProfile(id, name, email, team, manager, zone, hours, contacts);
        string[] roles = auditor ? [Roles.User, Roles.Auditor] : [Roles.User];
        return new DemoPerson(profile, PasswordPrefix + id, roles);
    }
}
