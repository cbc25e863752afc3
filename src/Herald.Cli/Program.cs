using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Herald.Client;
using Herald.Cli;
using Spectre.Console;

var root = new RootCommand("herald — Herald presence from the command line");

Option<bool> Json() => new("--json") { Description = "Write JSON output" };

// login
var server = new Option<string>("--server") { Description = "Server URL, e.g. http://localhost:5080", Required = true };
var user = new Option<string>("--user") { Description = "Your person id", Required = true };
var password = new Option<string?>("--password") { Description = "Password (or set HERALD_PASSWORD)" };
var loginJson = Json();
var login = new Command("login", "Log in and store the token") { server, user, password, loginJson };
login.SetAction((p, ct) => Cli.Run(p.GetValue(loginJson), async () =>
{
    var pw = p.GetValue(password) ?? Environment.GetEnvironmentVariable("HERALD_PASSWORD");
    if (string.IsNullOrEmpty(pw))
    {
        throw new UsageException("No password: pass --password or set HERALD_PASSWORD.");
    }
    if (!Uri.TryCreate(p.GetValue(server), UriKind.Absolute, out var url) || (url.Scheme != "http" && url.Scheme != "https"))
    {
        throw new UsageException("--server must be an http:// or https:// URL.");
    }
    using var c = new HeraldClient(url);
    var r = await c.LoginAsync(p.GetValue(user)!, pw, ct);
    Credentials.Save(new Credentials(url.ToString(), r.AccessToken));
    Cli.Output(p.GetValue(loginJson), new { server = url.ToString(), userId = r.UserId, expiresIn = r.ExpiresIn },
        () => AnsiConsole.MarkupLineInterpolated($"Logged in to [bold]{url}[/] as [green]{r.UserId}[/]."));
    return 0;
}));
root.Subcommands.Add(login);

// status
var availabilityArg = new Argument<string>("availability") { Description = "Available, Busy, DoNotDisturb, BeRightBack, Away, OffWork, Offline, or 'clear'" };
var note = new Option<string?>("--note") { Description = "Status note" };
var forOpt = new Option<string?>("--for") { Description = "Duration, e.g. 30m, 2h, 1d" };
var statusJson = Json();
var status = new Command("status", "Set or clear your status") { availabilityArg, note, forOpt, statusJson };
status.SetAction((p, ct) => Cli.Run(p.GetValue(statusJson), async () =>
{
    var a = p.GetValue(availabilityArg)!;
    using var c = Cli.Connect();
    PresenceView view;
    if (a.Equals("clear", StringComparison.OrdinalIgnoreCase))
    {
        view = await c.ClearStatusAsync(ct);
    }
    else
    {
        var valid = Enum.GetNames<Availability>().Where(n => n != nameof(Availability.Unknown)).ToArray();
        var match = valid.FirstOrDefault(n => n.Equals(a, StringComparison.OrdinalIgnoreCase))
            ?? throw new UsageException($"Unknown availability '{a}'. Valid values: {string.Join(", ", valid)} (or 'clear').");
        DateTimeOffset? until = null;
        if (p.GetValue(forOpt) is { } f)
        {
            until = DateTimeOffset.UtcNow + Cli.ParseDuration(f);
        }
        view = await c.SetStatusAsync(Enum.Parse<Availability>(match), null, p.GetValue(note), until, ct);
    }
    Cli.Output(p.GetValue(statusJson), view, () => AnsiConsole.WriteLine(Cli.Line(view)));
    return 0;
}));
root.Subcommands.Add(status);

// who
var team = new Option<string?>("--team") { Description = "Only people of this team" };
var whoJson = Json();
var who = new Command("who", "List people and their availability") { team, whoJson };
who.SetAction((p, ct) => Cli.Run(p.GetValue(whoJson), async () =>
{
    using var c = Cli.Connect();
    var people = await c.SearchPeopleAsync(null, p.GetValue(team), ct);
    Cli.Output(p.GetValue(whoJson), people, () =>
    {
        var t = new Table().AddColumns("Id", "Name", "Team", "Availability", "Note");
        foreach (var x in people)
        {
            t.AddRow(Markup.Escape(x.Id), Markup.Escape(x.DisplayName), Markup.Escape(x.Team ?? ""),
                Markup.Escape(x.Presence?.Availability.ToString() ?? ""), Markup.Escape(x.Presence?.Note ?? ""));
        }
        AnsiConsole.Write(t);
    });
    return 0;
}));
root.Subcommands.Add(who);

// watch
var users = new Argument<string[]>("user") { Description = "People to watch", Arity = ArgumentArity.OneOrMore };
var count = new Option<int?>("--count") { Description = "Exit after this many changes" };
var timeout = new Option<string?>("--timeout") { Description = "Give up after this long (e.g. 30s, 5m); exits 0 if no --count" };
var watchJson = Json();
var watch = new Command("watch", "Print presence changes live") { users, count, timeout, watchJson };
watch.SetAction((p, ct) => Cli.Run(p.GetValue(watchJson), async () =>
{
    var json = p.GetValue(watchJson);
    var n = p.GetValue(count);
    if (n is <= 0)
    {
        throw new UsageException("--count must be at least 1.");
    }
    TimeSpan? limit = p.GetValue(timeout) is { } to ? Cli.ParseDuration(to) : null;
    var creds = Credentials.Load() ?? throw new NotLoggedInException();
    await using var w = new PresenceWatcher(new Uri(creds.Server), creds.Token);
    var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    var seen = 0;
    var gate = new object();
    w.PresenceChanged += (_, v) =>
    {
        lock (gate)
        {
            if (n is not null && seen >= n)
            {
                return;
            }
            seen++;
            Console.Out.WriteLine(json ? JsonSerializer.Serialize(v, HeraldJson.Options) : Cli.Line(v));
            Console.Out.Flush();
            if (n is not null && seen >= n)
            {
                done.TrySetResult();
            }
        }
    };
    using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
    if (limit is { } l)
    {
        cts.CancelAfter(l);
    }
    await w.StartAsync(cts.Token);
    var initial = await w.WatchAsync(p.GetValue(users)!, cts.Token);
    if (!json)
    {
        foreach (var v in initial)
        {
            Console.Out.WriteLine(Cli.Line(v));
        }
    }
    Console.Error.WriteLine($"watching {string.Join(", ", initial.Select(v => v.UserId))}");
    try
    {
        await done.Task.WaitAsync(cts.Token);
        return 0;
    }
    catch (OperationCanceledException) when (!ct.IsCancellationRequested)
    {
        if (n is null)
        {
            return 0;
        }
        Console.Error.WriteLine($"herald: timed out after {seen} of {n} changes.");
        return 1;
    }
}));
root.Subcommands.Add(watch);

// reach
var reachUser = new Argument<string>("user") { Description = "Person to reach" };
var urgent = new Option<bool>("--urgent") { Description = "Urgent" };
var reachJson = Json();
var reach = new Command("reach", "How to reach a person now") { reachUser, urgent, reachJson };
reach.SetAction((p, ct) => Cli.Run(p.GetValue(reachJson), async () =>
{
    using var c = Cli.Connect();
    var r = await c.ReachAsync(p.GetValue(reachUser)!, p.GetValue(urgent), ct);
    Cli.Output(p.GetValue(reachJson), r, () =>
    {
        if (r.Presence is not null)
        {
            AnsiConsole.WriteLine(Cli.Line(r.Presence));
        }
        if (r.Options.Count == 0)
        {
            AnsiConsole.WriteLine("No way to reach them right now.");
        }
        foreach (var o in r.Options)
        {
            AnsiConsole.MarkupLineInterpolated($"  [bold]{o.Method}[/] {o.Address}  [grey]{o.Reason ?? ""}[/]");
        }
        if (r.AvailableAgainAt is { } at)
        {
            AnsiConsole.WriteLine($"Available again at {at.ToLocalTime():g}");
        }
    });
    return 0;
}));
root.Subcommands.Add(reach);

// huddle: ask the available
var huddleTeam = new Option<string?>("--team") { Description = "Invite the available people of this team" };
var huddleUsers = new Option<string[]>("--users") { Description = "Invite the available ones of these people", AllowMultipleArgumentsPerToken = true };
var huddleTopic = new Option<string>("--topic") { Description = "What it is about", Required = true };
var huddleFor = new Option<string?>("--for") { Description = "How long it stays open, e.g. 15m (default 15m)" };
var huddleJson = Json();
var huddle = new Command("huddle", "Ask the available: invite only the people available now") { huddleTeam, huddleUsers, huddleTopic, huddleFor, huddleJson };
huddle.SetAction((p, ct) => Cli.Run(p.GetValue(huddleJson), async () =>
{
    var team = p.GetValue(huddleTeam);
    var people = p.GetValue(huddleUsers) ?? [];
    if ((team is null) == (people.Length == 0))
    {
        throw new Herald.Cli.UsageException("give either --team or --users");
    }
    var minutes = 15;
    if (p.GetValue(huddleFor) is { } span)
    {
        var t = span.Trim().ToLowerInvariant();
        if (!(t.EndsWith('m') && int.TryParse(t[..^1], System.Globalization.CultureInfo.InvariantCulture, out minutes))
            && !(t.EndsWith('h') && int.TryParse(t[..^1], System.Globalization.CultureInfo.InvariantCulture, out var hours) && (minutes = hours * 60) > 0))
        {
            throw new Herald.Cli.UsageException($"--for must look like 15m or 1h, not '{span}'");
        }
    }
    using var c = Cli.Connect();
    var h = await c.CreateHuddleAsync(team, people.Length == 0 ? null : people, p.GetValue(huddleTopic)!, minutes, ct);
    Cli.Output(p.GetValue(huddleJson), h, () =>
    {
        var invited = h.GetProperty("invited").EnumerateArray().Select(i => i.GetProperty("displayName").GetString()).ToList();
        AnsiConsole.WriteLine($"Invited {invited.Count}: {string.Join(", ", invited)}; {h.GetProperty("skipped").GetInt32()} not available.");
        AnsiConsole.WriteLine($"Huddle {h.GetProperty("id").GetString()} open until {h.GetProperty("expiresAt").GetDateTimeOffset().ToLocalTime():t}.");
    });
    return 0;
}));
root.Subcommands.Add(huddle);

// admin import
var importFile = new Argument<FileInfo>("file") { Description = "CSV with a header row (id,displayName,email,team,…)" };
var importJson = Json();
var import = new Command("import", "Import people from CSV (all or nothing)") { importFile, importJson };
import.SetAction((p, ct) => Cli.Run(p.GetValue(importJson), async () =>
{
    var file = p.GetValue(importFile)!;
    if (!file.Exists)
    {
        throw new Herald.Cli.UsageException($"no such file: {file.FullName}");
    }
    using var c = Cli.Connect();
    var r = await c.ImportPeopleAsync(await File.ReadAllTextAsync(file.FullName, ct), ct);
    Cli.Output(p.GetValue(importJson), r, () =>
        AnsiConsole.WriteLine($"Imported: {r.GetProperty("created").GetInt32()} created, {r.GetProperty("updated").GetInt32()} updated."));
    return 0;
}));
var admin = new Command("admin", "Administration") { import };
root.Subcommands.Add(admin);
root.Subcommands.Add(PeerCommand.Create());

var parse = root.Parse(args);
if (parse.Errors.Count > 0)
{
    foreach (var e in parse.Errors)
    {
        Console.Error.WriteLine("herald: " + e.Message);
    }
    Console.Error.WriteLine("Run 'herald --help' for usage.");
    return 2;
}
return await parse.InvokeAsync();

namespace Herald.Cli
{
    internal sealed class UsageException(string message) : Exception(message);

    internal sealed class NotLoggedInException() : Exception("Not logged in: run 'herald login --server URL --user NAME' first.");

    internal sealed record Credentials(string Server, string Token)
    {
        private static string Dir => Environment.GetEnvironmentVariable("HERALD_CONFIG_DIR") is { Length: > 0 } d
            ? d
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config", "herald");

        private static string FilePath => Path.Combine(Dir, "credentials.json");

        public static Credentials? Load()
        {
            if (!File.Exists(FilePath))
            {
                return null;
            }
            try
            {
                var c = JsonSerializer.Deserialize<Credentials>(File.ReadAllText(FilePath), HeraldJson.Options);
                return c is { Server.Length: > 0, Token.Length: > 0 } ? c : null;
            }
            catch (JsonException)
            {
                return null;
            }
        }

        public static void Save(Credentials c)
        {
            Directory.CreateDirectory(Dir);
            var tmp = FilePath + ".tmp";
            File.WriteAllText(tmp, "");
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(tmp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
            File.WriteAllText(tmp, JsonSerializer.Serialize(c, HeraldJson.Options));
            File.Move(tmp, FilePath, overwrite: true);
        }
    }

    internal static class Cli
    {
        public static HeraldClient Connect()
        {
            var c = Credentials.Load() ?? throw new NotLoggedInException();
            return new HeraldClient(new Uri(c.Server), c.Token);
        }

        public static TimeSpan ParseDuration(string s)
        {
            s = s.Trim();
            if (s.Length >= 2 && double.TryParse(s[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v > 0)
            {
                switch (char.ToLowerInvariant(s[^1]))
                {
                    case 's': return TimeSpan.FromSeconds(v);
                    case 'm': return TimeSpan.FromMinutes(v);
                    case 'h': return TimeSpan.FromHours(v);
                    case 'd': return TimeSpan.FromDays(v);
                }
            }
            throw new UsageException($"Invalid duration '{s}': use a number followed by s, m, h or d (e.g. 30m, 2h).");
        }

        public static string Line(PresenceView v)
        {
            var s = $"{v.UserId}: {v.Availability}";
            if (v.Activity is { } a)
            {
                s += $" ({a})";
            }
            if (!string.IsNullOrEmpty(v.Note))
            {
                s += $" — {v.Note}";
            }
            return s;
        }

        public static void Output(bool json, object value, Action human)
        {
            if (json)
            {
                Console.Out.WriteLine(JsonSerializer.Serialize(value, value.GetType(), HeraldJson.Options));
            }
            else
            {
                human();
            }
        }

        public static async Task<int> Run(bool json, Func<Task<int>> body)
        {
            try
            {
                return await body();
            }
            catch (UsageException e)
            {
                return Fail(json, 2, "usage", e.Message);
            }
            catch (NotLoggedInException e)
            {
                return Fail(json, 3, "auth", e.Message);
            }
            catch (HeraldApiException e) when (e.Status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                return Fail(json, 3, "auth", e.Status == HttpStatusCode.Unauthorized && e.Title != "Login failed"
                    ? $"{e.Message} (your login may have expired: run 'herald login' again)" : e.Message);
            }
            catch (HeraldApiException e) when ((int)e.Status is >= 400 and < 500)
            {
                return Fail(json, 2, "request", e.Message);
            }
            catch (HeraldApiException e)
            {
                return Fail(json, 4, "server", e.Message);
            }
            catch (Exception e) when (e is HttpRequestException or SocketException or TaskCanceledException or IOException
                                       or Microsoft.AspNetCore.SignalR.HubException or InvalidOperationException)
            {
                return Fail(json, 4, "server", "Cannot reach the server: " + e.Message);
            }
        }

        private static int Fail(bool json, int code, string kind, string message)
        {
            if (json)
            {
                Console.Out.WriteLine(JsonSerializer.Serialize(new { error = kind, message, exitCode = code }, HeraldJson.Options));
            }
            Console.Error.WriteLine("herald: " + message);
            return code;
        }
    }
}
