using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Herald.Bench.Net;

/// <summary>The ring roster of PRES-2C: user i's contacts are i±1 … i±R/2 (mod N), all mutually approved.</summary>
public static class Ring
{
    /// <summary>The contacts of <paramref name="i"/>.</summary>
    public static IEnumerable<int> Contacts(int i, int users, int roster)
    {
        for (var d = 1; d <= roster / 2; d++)
        {
            yield return (i + d) % users;
            yield return (i - d + users) % users;
        }
    }

    /// <summary>Runs <paramref name="work"/> for 0 … count-1 with at most <paramref name="parallel"/> at once.</summary>
    public static Task ForEach(int count, int parallel, Func<int, CancellationToken, Task> work, CancellationToken ct) =>
        Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = parallel, CancellationToken = ct },
            async (i, c) => await work(i, c));
}

/// <summary>Provisions PRES-2C users on Herald through its admin API and each user's contacts.</summary>
public static class HeraldProvisioner
{
    /// <summary>Throws with the body when <paramref name="r"/> failed.</summary>
    public static async Task EnsureOk(HttpResponseMessage r, string what, CancellationToken ct)
    {
        if (!r.IsSuccessStatusCode)
        {
            var body = await r.Content.ReadAsStringAsync(ct);
            throw new InvalidOperationException($"{what}: HTTP {(int)r.StatusCode} {body[..Math.Min(body.Length, 300)]}");
        }
    }

    /// <summary>
    /// A fixed-offset zone (Etc/GMT±h) where it is about noon now, so that with work hours 00:00–23:59 every day
    /// the run never meets the one minute outside work hours (colleagues see the note only at work).
    /// </summary>
    public static string NoonZone(DateTimeOffset now)
    {
        var offset = 12 - now.UtcDateTime.Hour; // -11 … +12
        return offset switch
        {
            0 => "Etc/GMT",
            > 0 => $"Etc/GMT-{offset}", // POSIX sign: Etc/GMT-3 is UTC+3
            _ => $"Etc/GMT+{-offset}",
        };
    }

    /// <summary>Logs in and returns a bearer token.</summary>
    public static async Task<string> Token(HttpClient http, string url, string user, string password, CancellationToken ct)
    {
        using var r = await http.PostAsJsonAsync($"{url}/api/v1/auth/token", new { username = user, password }, ct);
        await EnsureOk(r, $"login {user}", ct);
        using var doc = JsonDocument.Parse(await r.Content.ReadAsStringAsync(ct));
        return doc.RootElement.GetProperty("accessToken").GetString()!;
    }

    /// <summary>
    /// Creates N people (teams of 10 consecutive ids; work hours every day 00:00–23:59 in a zone where it is
    /// about noon, so that the colleague tier sees the note whatever the hour) and adds every ring contact as each person's contact (auto-approved: the
    /// default handling for colleagues is Allow).
    /// </summary>
    public static async Task Run(HttpClient http, NetOptions o, string adminPassword, CancellationToken ct)
    {
        var admin = await Token(http, o.Url, "admin", adminPassword, ct);
        var days = new[] { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
        for (var from = 0; from < o.Users; from += 500)
        {
            var rows = Enumerable.Range(from, Math.Min(500, o.Users - from)).Select(i => new
            {
                id = o.Prefix + i.ToString(CultureInfo.InvariantCulture),
                displayName = "Bench " + i.ToString(CultureInfo.InvariantCulture),
                team = "t" + (i / 10).ToString(CultureInfo.InvariantCulture),
                timeZone = NoonZone(DateTimeOffset.UtcNow),
                workHours = new { days, start = "00:00", end = "23:59" },
                password = o.Password,
            }).ToArray();
            using var req = new HttpRequestMessage(HttpMethod.Post, $"{o.Url}/api/v1/admin/people") { Content = JsonContent.Create(rows) };
            req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", admin);
            using var r = await http.SendAsync(req, ct);
            await EnsureOk(r, "import people", ct);
        }
        Console.Error.WriteLine($"provision: {o.Users} people created; adding contacts");
        await Ring.ForEach(o.Users, 32, async (i, c) =>
        {
            var user = o.Prefix + i.ToString(CultureInfo.InvariantCulture);
            var token = await Token(http, o.Url, user, o.Password, c);
            foreach (var j in Ring.Contacts(i, o.Users, o.Roster))
            {
                using var req = new HttpRequestMessage(HttpMethod.Put, $"{o.Url}/api/v1/me/contacts/{o.Prefix}{j}");
                req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                using var r = await http.SendAsync(req, c);
                await EnsureOk(r, $"contact {user}->{j}", c);
            }
        }, ct);
        Console.Error.WriteLine($"provision: {o.Users * o.Roster} contacts added");
    }
}

/// <summary>Provisions users and ring rosters on ejabberd through mod_http_api (register, add_rosteritem).</summary>
public static class EjabberdProvisioner
{
    /// <summary>Runs the provisioning against <paramref name="api"/> (e.g. http://127.0.0.1:5281/api).</summary>
    public static async Task Run(HttpClient http, NetOptions o, string api, CancellationToken ct)
    {
        await Ring.ForEach(o.Users, 16, async (i, c) =>
        {
            using var r = await http.PostAsync($"{api}/register", Json(new { user = $"{o.Prefix}{i}", host = o.Domain, password = o.Password }), c);
            var body = await r.Content.ReadAsStringAsync(c);
            if (!r.IsSuccessStatusCode && !body.Contains("already", StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException($"register {i}: {(int)r.StatusCode} {body}");
            }
        }, ct);
        Console.Error.WriteLine($"provision: {o.Users} users registered; adding roster items");
        await Ring.ForEach(o.Users, 16, async (i, c) =>
        {
            foreach (var j in Ring.Contacts(i, o.Users, o.Roster))
            {
                using var r = await http.PostAsync($"{api}/add_rosteritem", Json(new
                {
                    localuser = $"{o.Prefix}{i}", localhost = o.Domain, user = $"{o.Prefix}{j}", host = o.Domain,
                    nick = $"{o.Prefix}{j}", group = "bench", subs = "both",
                }), c);
                await HeraldProvisioner.EnsureOk(r, $"roster {i}->{j}", c);
            }
        }, ct);
        Console.Error.WriteLine($"provision: {o.Users * o.Roster} roster items added; verifying");
        // Concurrent add_rosteritem calls have been seen to lose a few items (13 of 1,000 rosters short at 16 in
        // flight): read every roster back with get_roster and add what is missing, a few rounds at most.
        for (var round = 1; ; round++)
        {
            var repaired = 0;
            await Ring.ForEach(o.Users, 16, async (i, c) =>
            {
                using var r = await http.PostAsync($"{api}/get_roster", Json(new { user = $"{o.Prefix}{i}", server = o.Domain }), c);
                await HeraldProvisioner.EnsureOk(r, $"get_roster {i}", c);
                using var doc = JsonDocument.Parse(await r.Content.ReadAsStringAsync(c));
                var have = doc.RootElement.EnumerateArray()
                    .Select(item => item.TryGetProperty("jid", out var jid) ? jid.GetString() : null)
                    .Where(jid => jid is not null).ToHashSet(StringComparer.Ordinal);
                foreach (var j in Ring.Contacts(i, o.Users, o.Roster).Where(j => !have.Contains($"{o.Prefix}{j}@{o.Domain}")))
                {
                    using var add = await http.PostAsync($"{api}/add_rosteritem", Json(new
                    {
                        localuser = $"{o.Prefix}{i}", localhost = o.Domain, user = $"{o.Prefix}{j}", host = o.Domain,
                        nick = $"{o.Prefix}{j}", group = "bench", subs = "both",
                    }), c);
                    await HeraldProvisioner.EnsureOk(add, $"roster {i}->{j}", c);
                    Interlocked.Increment(ref repaired);
                }
            }, ct);
            Console.Error.WriteLine($"provision: verification round {round}: {repaired} missing roster items added again");
            if (repaired == 0)
            {
                break;
            }
            if (round == 3)
            {
                throw new InvalidOperationException($"ejabberd rosters still incomplete after {round} rounds ({repaired} items re-added in the last)");
            }
        }
    }

    // ejabberd_http does not read chunked bodies: send a Content-Length.
    private static StringContent Json(object body) => new(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
}

/// <summary>Writes Prosody's internal storage files (plain passwords, rosters with subscription both).</summary>
public static class ProsodyProvisioner
{
    /// <summary>Writes accounts and rosters for <c>o.Domain</c> under <paramref name="dataPath"/>.</summary>
    public static void Run(NetOptions o, string dataPath)
    {
        var host = Encode(o.Domain);
        var accounts = Path.Combine(dataPath, host, "accounts");
        var rosters = Path.Combine(dataPath, host, "roster");
        Directory.CreateDirectory(accounts);
        Directory.CreateDirectory(rosters);
        for (var i = 0; i < o.Users; i++)
        {
            var user = $"{o.Prefix}{i}";
            File.WriteAllText(Path.Combine(accounts, Encode(user) + ".dat"), $"return {{\n\t[\"password\"] = \"{o.Password}\";\n}};\n");
            var sb = new StringBuilder("return {\n\t[false] = {\n\t\t[\"version\"] = 1;\n\t\t[\"pending\"] = {};\n\t};\n");
            foreach (var j in Ring.Contacts(i, o.Users, o.Roster))
            {
                sb.Append(CultureInfo.InvariantCulture,
                    $"\t[\"{o.Prefix}{j}@{o.Domain}\"] = {{\n\t\t[\"subscription\"] = \"both\";\n\t\t[\"groups\"] = {{}};\n\t\t[\"name\"] = \"{o.Prefix}{j}\";\n\t}};\n");
            }
            sb.Append("};\n");
            File.WriteAllText(Path.Combine(rosters, Encode(user) + ".dat"), sb.ToString());
        }
        Console.Error.WriteLine($"provision: {o.Users} Prosody accounts and rosters under {dataPath}");
    }

    /// <summary>Prosody's file name encoding: every character but letters and digits as %xx.</summary>
    private static string Encode(string s)
    {
        var sb = new StringBuilder();
        foreach (var ch in s)
        {
            if (char.IsAsciiLetterOrDigit(ch))
            {
                sb.Append(ch);
            }
            else
            {
                sb.Append('%').Append(((int)ch).ToString("x2", CultureInfo.InvariantCulture));
            }
        }
        return sb.ToString();
    }
}
