using System.Globalization;
using Herald.Cluster.Directory;
using Herald.Cluster.Presence;
using Herald.Core.Model;
using Herald.Server.Auth;
using Herald.Server.Hosting;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace Herald.Server.Apis;

/// <summary>
/// Validates and writes people (single, batch or import) all-or-nothing: any invalid row rejects the whole request
/// with every error named by row and field, and nothing is written.
/// </summary>
public sealed class PeopleWriter(IDirectoryStore directory, IAccountStore accounts, IGrainFactory grains, IMemoryCache cache,
    IOptions<HeraldOptions> options, PhoneNumbers phones, LiveCredentials live)
{
    /// <summary>Validates and writes; <paramref name="single"/> returns the person instead of counts.</summary>
    public async Task<IResult> Write(IReadOnlyList<PersonInput?> inputs, CancellationToken ct, bool single = false)
    {
        var v = new Validation();
        var people = new List<(PersonProfile Profile, string? Password, IReadOnlyList<string>? Roles)>(inputs.Count);
        for (var i = 0; i < inputs.Count; i++)
        {
            var prefix = single ? "" : $"[{i}].";
            var parsed = Parse(inputs[i], prefix, v);
            if (parsed is { } p)
            {
                people.Add(p);
            }
        }
        v.Require(inputs.Count > 0, "body", "no people given");
        v.Require(people.Select(p => p.Profile.Id).Distinct(StringComparer.Ordinal).Count() == people.Count, "id", "duplicate ids in one request");
        v.Require(people.All(p => p.Profile.Id != BootstrapAdmin.AdminId), "id", $"'{BootstrapAdmin.AdminId}' is reserved");
        if (!v.Ok)
        {
            return v.Problem();
        }

        var ids = people.Select(p => p.Profile.Id).ToList();
        var existing = (await directory.GetPeople(ids, ct)).Select(p => p.Id).ToHashSet(StringComparer.Ordinal);
        var created = await directory.UpsertPeople([.. people.Select(p => p.Profile)], ct);
        phones.Invalidate();
        var iterations = options.Value.Auth.PasswordIterations;
        foreach (var (profile, password, roles) in people)
        {
            if (password is null && roles is null && existing.Contains(profile.Id))
            {
                continue; // account unchanged
            }
            var account = await accounts.GetAccount(profile.Id, ct);
            var newRoles = roles ?? account?.Roles ?? [Roles.User];
            var credential = password is null ? account?.Password : PasswordHasher.Hash(password, iterations);
            var updated = new Account(profile.Id, [.. newRoles], credential);
            await accounts.UpsertAccount(password is null ? updated with { ScramSha1 = account?.ScramSha1 } : updated.WithScram(password), ct);
            HeraldAuthHandler.Evict(cache, profile.Id);
            if (password is not null)
            {
                // Sessions tied to the old password end: XMPP sessions that authenticated with it and live connections
                // opened with a bearer token issued under it (such tokens are refused from now on: the evicted cache
                // entry is re-read with the new password's fingerprint).
                await live.RecheckUser(profile.Id, ct);
            }
        }
        // People who already existed may have live grains holding the old profile.
        await Parallel.ForEachAsync(people.Where(p => existing.Contains(p.Profile.Id)), new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = ct },
            async (p, _) => await grains.Person(p.Profile.Id).ProfileChanged(p.Profile));
        if (single)
        {
            var p = people[0].Profile;
            return existing.Contains(p.Id) ? Results.Ok(Output(p)) : Results.Created($"/api/v1/people/{p.Id}", Output(p));
        }
        return Results.Ok(new { created, updated = people.Count - created });
    }

    private static object Output(PersonProfile p) => new
    {
        p.Id, p.DisplayName, p.Email, p.Team, p.Manager, p.TimeZone, WorkHours = AdminApi.ToDto(p.WorkHours), p.ContactMethods,
    };

    private static (PersonProfile, string?, IReadOnlyList<string>?)? Parse(PersonInput? input, string prefix, Validation v)
    {
        if (input is null)
        {
            v.Add(prefix + "body", "is required");
            return null;
        }
        var before = v.Ok;
        v.Id(input.Id, prefix + "id")
            .Require(!string.IsNullOrWhiteSpace(input.DisplayName), prefix + "displayName", "is required")
            .MaxLength(input.DisplayName, 128, prefix + "displayName")
            .MaxLength(input.Email, 254, prefix + "email")
            .Require(input.Email is null || input.Email.Contains('@', StringComparison.Ordinal), prefix + "email", "must be an e-mail address")
            .Require(input.TimeZone is null || TimeZones.IsKnown(input.TimeZone), prefix + "timeZone", "unknown time zone (use an IANA id such as Europe/Berlin)")
            .Require(input.Password is null || input.Password.Length is >= 8 and <= 1024, prefix + "password", "must be 8-1024 characters")
            .Require(input.Roles is null || input.Roles.All(r => Roles.All.Contains(r)), prefix + "roles", $"each must be one of {string.Join(", ", Roles.All)}")
            .Require(input.ContactMethods is null || input.ContactMethods.Count <= 20, prefix + "contactMethods", "at most 20");
        if (input.Team is not null)
        {
            v.Id(input.Team, prefix + "team");
        }
        if (input.Manager is not null)
        {
            v.Id(input.Manager, prefix + "manager");
        }
        var contacts = new List<ContactMethod>();
        for (var i = 0; i < (input.ContactMethods?.Count ?? 0); i++)
        {
            var c = input.ContactMethods![i];
            var field = $"{prefix}contactMethods[{i}]";
            if (c?.Kind is null || string.IsNullOrWhiteSpace(c.Address) || c.Address.Length > 256)
            {
                v.Add(field, "needs a kind and an address of at most 256 characters");
                continue;
            }
            contacts.Add(new ContactMethod(c.Kind.Value, c.Address.Trim()));
        }
        if (input.Email is { } email && !contacts.Any(c => c.Kind == ContactKind.Email))
        {
            contacts.Add(new ContactMethod(ContactKind.Email, email));
        }
        WorkHours? workHours = null;
        if (input.WorkHours is { } wh)
        {
            var days = new List<DayOfWeek>();
            foreach (var d in wh.Days ?? [])
            {
                if (AdminApi.TryParseDay(d, out var day))
                {
                    days.Add(day);
                }
                else
                {
                    v.Add(prefix + "workHours.days", $"'{d}' is not a day name");
                }
            }
            var startOk = TimeOnly.TryParseExact(wh.Start ?? "09:00", "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out var start);
            var endOk = TimeOnly.TryParseExact(wh.End ?? "17:00", "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out var end);
            v.Require(startOk, prefix + "workHours.start", "must be HH:mm").Require(endOk, prefix + "workHours.end", "must be HH:mm")
                .Require(!startOk || !endOk || start != end, prefix + "workHours", "start and end must differ");
            workHours = new WorkHours([.. days.Distinct().Order()], start, end);
        }
        if (!v.Ok && before)
        {
            return null;
        }
        var profile = new PersonProfile(input.Id ?? "", input.DisplayName?.Trim() ?? "", input.Email, input.Team, input.Manager,
            input.TimeZone ?? "UTC", workHours, contacts);
        return (profile, input.Password, input.Roles);
    }
}
