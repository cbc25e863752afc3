using System.Globalization;
using System.Text.Json;
using CsvHelper;
using CsvHelper.Configuration;
using Herald.Cluster.Directory;
using Herald.Cluster.Presence;
using Herald.Core.Model;
using Herald.Server.Auth;
using Herald.Server.Hosting;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace Herald.Server.Apis;

/// <summary>Directory administration: <c>/api/v1/admin/people</c> and <c>/api/v1/admin/teams</c>.</summary>
public static class AdminApi
{
    private static readonly string[] DayNames = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

    /// <summary>Maps the endpoints.</summary>
    public static void MapAdminApi(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/api/v1/admin").WithTags("Admin").RequireAuthorization(HeraldPolicies.Admin);
        g.MapPost("/people", PostPeople).WithName("CreatePeople").WithSummary("Create or replace one person or an array of people.");
        g.MapPut("/people/{userId}", PutPerson).WithName("PutPerson").WithSummary("Create or replace a person.");
        g.MapDelete("/people/{userId}", DeletePerson).WithName("DeletePerson").WithSummary("Delete a person and their account.");
        g.MapPost("/people/import", ImportPeople).WithName("ImportPeople")
            .WithSummary("Import people from CSV (text/csv, header row) or JSON (an array); all or nothing.");
        g.MapGet("/people/{userId}", GetPerson).WithName("AdminGetPerson").WithSummary("A person's full directory entry.");
        g.MapPost("/teams", PostTeams).WithName("CreateTeams").WithSummary("Create or replace one team or an array of teams.");
        g.MapPut("/teams/{teamId}", PutTeam).WithName("PutTeam").WithSummary("Create or replace a team.");
        g.MapDelete("/teams/{teamId}", DeleteTeam).WithName("DeleteTeam").WithSummary("Delete a team.");
        g.MapPost("/teams/import", ImportTeams).WithName("ImportTeams").WithSummary("Import teams from CSV (id,name,manager) or JSON.");
        app.MapGet("/api/v1/teams", ListTeams).RequireAuthorization(HeraldPolicies.Person).WithTags("People")
            .WithName("ListTeams").WithSummary("All teams.");
    }

    internal static WorkHoursDto? ToDto(WorkHours? w) => w is null ? null
        : new WorkHoursDto([.. w.Days.Select(d => DayNames[(int)d])], w.Start.ToString("HH:mm", CultureInfo.InvariantCulture),
            w.End.ToString("HH:mm", CultureInfo.InvariantCulture));

    private static async Task<IResult> GetPerson(string userId, IDirectoryStore directory, IAccountStore accounts, CancellationToken ct)
    {
        if (!Validation.IsId(userId))
        {
            return Problems.Field("userId", "is not a valid id");
        }
        var p = await directory.GetPerson(userId, ct);
        if (p is null)
        {
            return Problems.NotFound($"No person '{userId}'.");
        }
        var account = await accounts.GetAccount(userId, ct);
        return Results.Ok(new
        {
            p.Id, p.DisplayName, p.Email, p.Team, p.Manager, p.TimeZone, WorkHours = ToDto(p.WorkHours), p.ContactMethods,
            Roles = account?.Roles ?? [], HasPassword = account?.Password is not null,
        });
    }

    private static async Task<IResult> PostPeople(HttpRequest request, PeopleWriter writer, IOptions<JsonOptions> json, CancellationToken ct)
    {
        JsonElement body;
        try
        {
            body = await JsonSerializer.DeserializeAsync<JsonElement>(request.Body, json.Value.SerializerOptions, ct);
        }
        catch (JsonException ex)
        {
            return Problems.Field("body", "is not valid JSON: " + ex.Message.Split(" Path:")[0]);
        }
        List<PersonInput?> inputs;
        try
        {
            inputs = body.ValueKind == JsonValueKind.Array
                ? body.Deserialize<List<PersonInput?>>(json.Value.SerializerOptions) ?? []
                : [body.Deserialize<PersonInput>(json.Value.SerializerOptions)];
        }
        catch (JsonException ex)
        {
            return Problems.Field(ex.Path?.TrimStart('$', '.') is { Length: > 0 } f ? f : "body", ex.Message.Split(" Path:")[0]);
        }
        return await writer.Write(inputs, ct, single: body.ValueKind != JsonValueKind.Array);
    }

    private static async Task<IResult> PutPerson(string userId, PersonInput? body, PeopleWriter writer, CancellationToken ct)
    {
        if (body?.Id is not null && body.Id != userId)
        {
            return Problems.Field("id", "must match the id in the path");
        }
        return await writer.Write([body is null ? null : body with { Id = userId }], ct, single: true);
    }

    private static async Task<IResult> DeletePerson(string userId, IDirectoryStore directory, IAccountStore accounts, IGrainFactory grains,
        IMemoryCache cache, PhoneNumbers phones, IApiKeyStore keys, Herald.Server.Webhooks.IWebhookStore webhooks,
        Herald.Server.Webhooks.WebhookService webhookService, LiveCredentials live, CancellationToken ct)
    {
        if (!Validation.IsId(userId))
        {
            return Problems.Field("userId", "is not a valid id");
        }
        if (userId == BootstrapAdmin.AdminId)
        {
            return Problems.Conflict("The bootstrap admin account cannot be deleted here.");
        }
        var deleted = await directory.DeletePerson(userId, ct);
        var accountDeleted = await accounts.DeleteAccount(userId, ct);
        HeraldAuthHandler.Evict(cache, userId);
        live.EndUser(userId, CredentialEnd.AccountDeleted); // their live connections on this node end now (other nodes: invalidation, sweep)
        phones.Invalidate();
        if (!deleted && !accountDeleted)
        {
            return Problems.NotFound($"No person '{userId}'.");
        }
        // Nothing of theirs outlives them: keys they created, webhooks they own, their calendar feed and presence state.
        foreach (var key in await keys.List(userId, ct))
        {
            await keys.Delete(key.Id, ct);
            HeraldAuthHandler.Evict(cache, keyId: key.Id);
            live.EndKey(key.Id);
        }
        foreach (var hook in await webhooks.List(userId, ct))
        {
            webhookService.Deactivate(hook.Id);
            await webhooks.Delete(hook.Id, ct);
        }
        await grains.GetGrain<Herald.Cluster.Calendars.ICalendarFeedsGrain>(0).RemoveFeed(userId);
        await grains.Person(userId).Erase();
        return Results.NoContent();
    }

    private static async Task<IResult> ImportPeople(HttpRequest request, PeopleWriter writer, IOptions<HeraldOptions> options,
        IOptions<JsonOptions> json, CancellationToken ct)
    {
        var limits = options.Value.Limits;
        if (request.ContentLength > limits.MaxImportBytes)
        {
            return Results.Problem(statusCode: 413, title: "Import too large", detail: $"At most {limits.MaxImportBytes} bytes.");
        }
        var text = await ReadLimited(request, limits.MaxImportBytes, ct);
        if (text is null)
        {
            return Results.Problem(statusCode: 413, title: "Import too large", detail: $"At most {limits.MaxImportBytes} bytes.");
        }
        List<PersonInput?> inputs;
        if (IsJson(request))
        {
            try
            {
                inputs = JsonSerializer.Deserialize<List<PersonInput?>>(text, json.Value.SerializerOptions) ?? [];
            }
            catch (JsonException ex)
            {
                return Problems.Field("body", "is not a JSON array of people: " + ex.Message.Split(" Path:")[0]);
            }
        }
        else
        {
            var parsed = ParsePeopleCsv(text);
            if (parsed.Error is not null)
            {
                return Problems.Field("csv", parsed.Error);
            }
            inputs = parsed.People!;
        }
        if (inputs.Count > limits.MaxImportRows)
        {
            return Problems.Field("body", $"at most {limits.MaxImportRows} rows per import");
        }
        return await writer.Write(inputs, ct);
    }

    private static async Task<IResult> ListTeams(IDirectoryStore directory, CancellationToken ct) =>
        Results.Ok(await directory.ListTeams(ct));

    private static async Task<IResult> PostTeams(HttpRequest request, IDirectoryStore directory, IOptions<JsonOptions> json, CancellationToken ct)
    {
        List<TeamInput?> inputs;
        try
        {
            var body = await JsonSerializer.DeserializeAsync<JsonElement>(request.Body, json.Value.SerializerOptions, ct);
            inputs = body.ValueKind == JsonValueKind.Array
                ? body.Deserialize<List<TeamInput?>>(json.Value.SerializerOptions) ?? []
                : [body.Deserialize<TeamInput>(json.Value.SerializerOptions)];
        }
        catch (JsonException ex)
        {
            return Problems.Field("body", "is not valid JSON: " + ex.Message.Split(" Path:")[0]);
        }
        return await WriteTeams(inputs, directory, ct);
    }

    private static async Task<IResult> PutTeam(string teamId, TeamInput? body, IDirectoryStore directory, CancellationToken ct)
    {
        if (body?.Id is not null && body.Id != teamId)
        {
            return Problems.Field("id", "must match the id in the path");
        }
        return await WriteTeams([body is null ? null : body with { Id = teamId }], directory, ct, single: true);
    }

    private static async Task<IResult> DeleteTeam(string teamId, IDirectoryStore directory, CancellationToken ct) =>
        await directory.DeleteTeam(teamId, ct) ? Results.NoContent() : Problems.NotFound($"No team '{teamId}'.");

    private static async Task<IResult> ImportTeams(HttpRequest request, IDirectoryStore directory, IOptions<HeraldOptions> options,
        IOptions<JsonOptions> json, CancellationToken ct)
    {
        var text = await ReadLimited(request, options.Value.Limits.MaxImportBytes, ct);
        if (text is null)
        {
            return Results.Problem(statusCode: 413, title: "Import too large");
        }
        List<TeamInput?> inputs;
        try
        {
            inputs = IsJson(request)
                ? JsonSerializer.Deserialize<List<TeamInput?>>(text, json.Value.SerializerOptions) ?? []
                : ReadCsv(text).Select(r => (TeamInput?)new TeamInput(r.GetValueOrDefault("id"), r.GetValueOrDefault("name"), r.GetValueOrDefault("manager"))).ToList();
        }
        catch (Exception ex) when (ex is JsonException or CsvHelperException)
        {
            return Problems.Field("body", "could not be parsed: " + ex.Message.Split(Environment.NewLine)[0]);
        }
        if (inputs.Count > options.Value.Limits.MaxImportRows)
        {
            return Problems.Field("body", $"at most {options.Value.Limits.MaxImportRows} rows per import");
        }
        return await WriteTeams(inputs, directory, ct);
    }

    private static async Task<IResult> WriteTeams(List<TeamInput?> inputs, IDirectoryStore directory, CancellationToken ct, bool single = false)
    {
        var v = new Validation();
        var teams = new List<Team>();
        for (var i = 0; i < inputs.Count; i++)
        {
            var prefix = single ? "" : $"[{i}].";
            var t = inputs[i];
            if (t is null)
            {
                v.Add(prefix + "body", "is required");
                continue;
            }
            v.Id(t.Id, prefix + "id").Require(!string.IsNullOrWhiteSpace(t.Name), prefix + "name", "is required")
                .MaxLength(t.Name, 128, prefix + "name");
            if (t.Manager is not null)
            {
                v.Id(t.Manager, prefix + "manager");
            }
            teams.Add(new Team(t.Id ?? "", t.Name ?? "", t.Manager));
        }
        v.Require(teams.Select(t => t.Id).Distinct().Count() == teams.Count, "id", "duplicate ids in one request");
        if (!v.Ok)
        {
            return v.Problem();
        }
        var created = await directory.UpsertTeams(teams, ct);
        return single ? Results.Ok(teams[0]) : Results.Ok(new { created, updated = teams.Count - created });
    }

    private static bool IsJson(HttpRequest request) =>
        request.ContentType?.Contains("json", StringComparison.OrdinalIgnoreCase) == true;

    private static async Task<string?> ReadLimited(HttpRequest request, long max, CancellationToken ct)
    {
        var feature = request.HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>();
        if (feature is { IsReadOnly: false })
        {
            feature.MaxRequestBodySize = max;
        }
        using var reader = new StreamReader(request.Body);
        var buffer = new char[8192];
        var sb = new System.Text.StringBuilder();
        int n;
        while ((n = await reader.ReadAsync(buffer, ct)) > 0)
        {
            sb.Append(buffer, 0, n);
            if (sb.Length > max)
            {
                return null;
            }
        }
        return sb.ToString();
    }

    private static List<Dictionary<string, string>> ReadCsv(string text)
    {
        var config = new CsvConfiguration(CultureInfo.InvariantCulture)
        {
            PrepareHeaderForMatch = a => a.Header.Trim().ToLowerInvariant(),
            TrimOptions = TrimOptions.Trim,
            BadDataFound = null,
            MissingFieldFound = null,
        };
        using var csv = new CsvReader(new StringReader(text), config);
        var rows = new List<Dictionary<string, string>>();
        if (!csv.Read() || !csv.ReadHeader())
        {
            return rows;
        }
        var headers = csv.HeaderRecord!.Select(h => h.Trim().ToLowerInvariant()).ToArray();
        while (csv.Read())
        {
            var row = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var i = 0; i < headers.Length; i++)
            {
                var value = csv.GetField(i);
                if (!string.IsNullOrEmpty(value))
                {
                    row[headers[i]] = value;
                }
            }
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>
    /// CSV columns (header row, any order, case-insensitive): id, displayName, email, team, manager, timeZone,
    /// workDays (e.g. <c>Mon-Fri</c> or <c>Mon;Tue;Thu</c>), workStart, workEnd (<c>HH:mm</c>), workPhone, mobile,
    /// homePhone, chat, video, sip, password, roles (<c>;</c>-separated).
    /// </summary>
    internal static (List<PersonInput?>? People, string? Error) ParsePeopleCsv(string text)
    {
        List<Dictionary<string, string>> rows;
        try
        {
            rows = ReadCsv(text);
        }
        catch (CsvHelperException ex)
        {
            return (null, "could not be parsed: " + ex.Message.Split(Environment.NewLine)[0]);
        }
        var people = new List<PersonInput?>(rows.Count);
        foreach (var r in rows)
        {
            var contacts = new List<ContactMethodDto>();
            foreach (var (column, kind) in new[] { ("workphone", ContactKind.WorkPhone), ("mobile", ContactKind.Mobile), ("homephone", ContactKind.HomePhone),
                ("chat", ContactKind.Chat), ("video", ContactKind.Video), ("sip", ContactKind.Sip) })
            {
                if (r.TryGetValue(column, out var address))
                {
                    contacts.Add(new ContactMethodDto(kind, address));
                }
            }
            if (r.TryGetValue("email", out var email))
            {
                contacts.Add(new ContactMethodDto(ContactKind.Email, email));
            }
            WorkHoursDto? wh = r.ContainsKey("workdays") || r.ContainsKey("workstart") || r.ContainsKey("workend")
                ? new WorkHoursDto(ExpandDays(r.GetValueOrDefault("workdays") ?? "Mon-Fri"), r.GetValueOrDefault("workstart") ?? "09:00",
                    r.GetValueOrDefault("workend") ?? "17:00")
                : null;
            people.Add(new PersonInput(r.GetValueOrDefault("id"), r.GetValueOrDefault("displayname"), email, r.GetValueOrDefault("team"),
                r.GetValueOrDefault("manager"), r.GetValueOrDefault("timezone"), wh, contacts, r.GetValueOrDefault("password"),
                r.TryGetValue("roles", out var roles) ? roles.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : null));
        }
        return (people, null);
    }

    private static List<string> ExpandDays(string spec)
    {
        var result = new List<string>();
        foreach (var part in spec.Split([';', ' ', ','], StringSplitOptions.RemoveEmptyEntries))
        {
            var range = part.Split('-');
            if (range.Length == 2 && TryParseDay(range[0], out var a) && TryParseDay(range[1], out var b))
            {
                for (var d = (int)a; ; d = (d + 1) % 7)
                {
                    result.Add(DayNames[d]);
                    if (d == (int)b)
                    {
                        break;
                    }
                }
            }
            else
            {
                result.Add(part);
            }
        }
        return result;
    }

    internal static bool TryParseDay(string text, out DayOfWeek day)
    {
        var t = text.Trim();
        for (var i = 0; i < 7; i++)
        {
            var full = ((DayOfWeek)i).ToString();
            if (t.Equals(full, StringComparison.OrdinalIgnoreCase) || t.Equals(DayNames[i], StringComparison.OrdinalIgnoreCase))
            {
                day = (DayOfWeek)i;
                return true;
            }
        }
        day = default;
        return false;
    }
}
