using System.Globalization;
using System.Text.Json;
using Herald.Core.Model;
using Herald.Core.Privacy;

namespace Herald.Server.Apis;

/// <summary>
/// The JSON form of privacy rules and organization policy, parsed with every error named by its path
/// (e.g. <c>tiers.Colleague.offHours.mobil: unknown field</c>) and written back in the same form.
/// A rule object maps field names to levels: <c>true</c>/<c>false</c> for on/off fields, or a precision name for
/// <c>location</c> (None, Country, City, Building, Exact), <c>lastSeen</c> (None, Day, Hour, Exact) and
/// <c>calendar</c> (None, FreeBusy, Subject).
/// </summary>
public static class PrivacyDocuments
{
    private static readonly string[] ContextNames = ["any", "workHours", "offHours", "dayOff"];

    /// <summary>Parses a person's rules document.</summary>
    public static UserPrivacy? ParseUser(JsonElement doc, Validation v)
    {
        ArgumentNullException.ThrowIfNull(v);
        if (doc.ValueKind != JsonValueKind.Object)
        {
            v.Add("body", "must be a JSON object");
            return null;
        }
        var tiers = new Dictionary<RelationshipTier, TierRules>();
        var watchers = new Dictionary<string, WatcherRules>(StringComparer.Ordinal);
        var subscriptions = new Dictionary<RelationshipTier, SubscriptionHandling>();
        List<RelationshipTier>? appearOffline = null;
        foreach (var prop in doc.EnumerateObject())
        {
            switch (prop.Name)
            {
                case "tiers":
                    foreach (var t in Objects(prop.Value, "tiers", v))
                    {
                        if (ParseEnum<RelationshipTier>(t.Name, $"tiers.{t.Name}", v) is { } tier)
                        {
                            if (ParseTierRules(t.Value, $"tiers.{t.Name}", v) is { } rules)
                            {
                                tiers[tier] = rules;
                            }
                        }
                    }
                    break;
                case "watchers":
                    foreach (var w in Objects(prop.Value, "watchers", v))
                    {
                        var path = $"watchers.{w.Name}";
                        if (!Validation.IsId(w.Name))
                        {
                            v.Add(path, "is not a valid person id");
                            continue;
                        }
                        RelationshipTier? tier = null;
                        TierRules? rules = null;
                        foreach (var wp in Objects(w.Value, path, v))
                        {
                            if (wp.Value.ValueKind == JsonValueKind.Null && wp.Name is "tier" or "rules")
                            {
                                continue; // what GET writes for "not set": a document read can be sent back as it is
                            }
                            if (wp.Name == "tier")
                            {
                                tier = wp.Value.ValueKind == JsonValueKind.String ? ParseEnum<RelationshipTier>(wp.Value.GetString()!, path + ".tier", v) : Bad<RelationshipTier>(path + ".tier", "must be a tier name", v);
                            }
                            else if (wp.Name == "rules")
                            {
                                rules = ParseTierRules(wp.Value, path + ".rules", v);
                            }
                            else
                            {
                                v.Add($"{path}.{wp.Name}", "unknown property (tier, rules)");
                            }
                        }
                        watchers[w.Name] = new WatcherRules(tier, rules);
                    }
                    v.Require(watchers.Count <= 5000, "watchers", "at most 5000 per-watcher rules");
                    break;
                case "subscriptions":
                    foreach (var s in Objects(prop.Value, "subscriptions", v))
                    {
                        if (ParseEnum<RelationshipTier>(s.Name, $"subscriptions.{s.Name}", v) is { } tier
                            && (s.Value.ValueKind == JsonValueKind.String
                                ? ParseEnum<SubscriptionHandling>(s.Value.GetString()!, $"subscriptions.{s.Name}", v)
                                : Bad<SubscriptionHandling>($"subscriptions.{s.Name}", "must be Allow, Confirm, PoliteBlock or Block", v)) is { } h)
                        {
                            subscriptions[tier] = h;
                        }
                    }
                    break;
                case "appearOfflineTiers":
                    if (prop.Value.ValueKind == JsonValueKind.Null)
                    {
                        appearOffline = null;
                    }
                    else if (prop.Value.ValueKind == JsonValueKind.Array)
                    {
                        appearOffline = [];
                        var i = 0;
                        foreach (var e in prop.Value.EnumerateArray())
                        {
                            if (e.ValueKind == JsonValueKind.String && ParseEnum<RelationshipTier>(e.GetString()!, $"appearOfflineTiers[{i}]", v) is { } t)
                            {
                                appearOffline.Add(t);
                            }
                            else if (e.ValueKind != JsonValueKind.String)
                            {
                                v.Add($"appearOfflineTiers[{i}]", "must be a tier name");
                            }
                            i++;
                        }
                    }
                    else
                    {
                        v.Add("appearOfflineTiers", "must be an array of tier names or null (everyone)");
                    }
                    break;
                default:
                    v.Add(prop.Name, "unknown property (tiers, watchers, subscriptions, appearOfflineTiers)");
                    break;
            }
        }
        return v.Ok ? new UserPrivacy(tiers, watchers, subscriptions, appearOffline) : null;
    }

    /// <summary>Writes a person's rules document.</summary>
    public static object Write(UserPrivacy p)
    {
        ArgumentNullException.ThrowIfNull(p);
        return new Dictionary<string, object?>
        {
            ["tiers"] = p.Tiers.ToDictionary(kv => kv.Key.ToString(), kv => WriteTierRules(kv.Value)),
            ["watchers"] = p.Watchers.ToDictionary(kv => kv.Key, kv => new Dictionary<string, object?>
            {
                ["tier"] = kv.Value.Tier?.ToString(),
                ["rules"] = kv.Value.Rules is null ? null : WriteTierRules(kv.Value.Rules),
            }),
            ["subscriptions"] = p.Subscriptions.ToDictionary(kv => kv.Key.ToString(), kv => kv.Value.ToString()),
            ["appearOfflineTiers"] = p.AppearOfflineTiers?.Select(t => t.ToString()).ToList(),
        };
    }

    /// <summary>Parses a rule object (field → level).</summary>
    public static DisclosureRule? ParseRule(JsonElement rule, string path, Validation v)
    {
        ArgumentNullException.ThrowIfNull(v);
        if (rule.ValueKind != JsonValueKind.Object)
        {
            v.Add(path, "must be an object of field: level");
            return null;
        }
        var levels = new Dictionary<DisclosureField, int>();
        foreach (var f in rule.EnumerateObject())
        {
            var fp = $"{path}.{f.Name}";
            if (!DisclosureFields.TryParse(f.Name, out var field))
            {
                v.Add(fp, $"unknown field (one of: {string.Join(", ", DisclosureFields.All.Select(DisclosureFields.Name))})");
                continue;
            }
            var text = f.Value.ValueKind switch
            {
                JsonValueKind.True => "true",
                JsonValueKind.False => "false",
                JsonValueKind.String => f.Value.GetString(),
                _ => null,
            };
            if (text is null || text.Length == 0 || !DisclosureFields.TryParseLevel(field, text, out var level))
            {
                v.Add(fp, DisclosureFields.MaxLevel(field) > 1
                    ? $"must be one of {string.Join(", ", Enumerable.Range(0, DisclosureFields.MaxLevel(field) + 1).Select(l => DisclosureFields.LevelName(field, l)))}"
                    : "must be true or false");
                continue;
            }
            levels[field] = level;
        }
        return new DisclosureRule(levels);
    }

    /// <summary>Writes a rule object.</summary>
    public static Dictionary<string, object> WriteRule(DisclosureRule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        return rule.Levels.OrderBy(kv => kv.Key).ToDictionary(kv => DisclosureFields.Name(kv.Key),
            kv => DisclosureFields.MaxLevel(kv.Key) > 1 ? (object)DisclosureFields.LevelName(kv.Key, kv.Value) : kv.Value > 0);
    }

    /// <summary>Parses the organization policy document.</summary>
    public static OrgPolicy? ParseOrg(JsonElement doc, Validation v)
    {
        ArgumentNullException.ThrowIfNull(v);
        if (doc.ValueKind != JsonValueKind.Object)
        {
            v.Add("body", "must be a JSON object");
            return null;
        }
        var d = OrgPolicy.Default;
        var ceiling = new Dictionary<RelationshipTier, DisclosureRule>();
        var floor = new Dictionary<RelationshipTier, TierRules>();
        var appearOffline = d.AppearOfflineAllowed;
        var defaults = new Dictionary<RelationshipTier, SubscriptionHandling>(d.SubscriptionDefaults);
        var minimum = new Dictionary<RelationshipTier, SubscriptionHandling>();
        var retention = d.AuditRetentionDays;
        var workHours = d.DefaultWorkHours;
        List<RelationshipTier>? breakThrough = null;
        foreach (var prop in doc.EnumerateObject())
        {
            switch (prop.Name)
            {
                case "ceiling":
                    foreach (var t in Objects(prop.Value, "ceiling", v))
                    {
                        if (ParseEnum<RelationshipTier>(t.Name, $"ceiling.{t.Name}", v) is { } tier && ParseRule(t.Value, $"ceiling.{t.Name}", v) is { } r)
                        {
                            ceiling[tier] = r;
                        }
                    }
                    break;
                case "floor":
                    foreach (var t in Objects(prop.Value, "floor", v))
                    {
                        if (ParseEnum<RelationshipTier>(t.Name, $"floor.{t.Name}", v) is { } tier && ParseTierRules(t.Value, $"floor.{t.Name}", v) is { } r)
                        {
                            floor[tier] = r;
                        }
                    }
                    break;
                case "appearOfflineAllowed":
                    if (prop.Value.ValueKind is JsonValueKind.True or JsonValueKind.False)
                    {
                        appearOffline = prop.Value.GetBoolean();
                    }
                    else
                    {
                        v.Add("appearOfflineAllowed", "must be true or false");
                    }
                    break;
                case "subscriptionDefaults":
                case "subscriptionMinimum":
                    var target = prop.Name == "subscriptionDefaults" ? defaults : minimum;
                    foreach (var s in Objects(prop.Value, prop.Name, v))
                    {
                        if (ParseEnum<RelationshipTier>(s.Name, $"{prop.Name}.{s.Name}", v) is { } tier
                            && s.Value.ValueKind == JsonValueKind.String
                            && ParseEnum<SubscriptionHandling>(s.Value.GetString()!, $"{prop.Name}.{s.Name}", v) is { } h)
                        {
                            target[tier] = h;
                        }
                    }
                    break;
                case "auditRetentionDays":
                    if (prop.Value.ValueKind == JsonValueKind.Number && prop.Value.TryGetInt32(out var days) && days is >= 1 and <= 3650)
                    {
                        retention = days;
                    }
                    else
                    {
                        v.Add("auditRetentionDays", "must be a whole number of days between 1 and 3650");
                    }
                    break;
                case "defaultWorkHours":
                    workHours = ParseWorkHours(prop.Value, "defaultWorkHours", v) ?? workHours;
                    break;
                case "breakThroughTiers":
                    if (prop.Value.ValueKind == JsonValueKind.Array)
                    {
                        breakThrough = [];
                        foreach (var e in prop.Value.EnumerateArray())
                        {
                            if (e.ValueKind == JsonValueKind.String && ParseEnum<RelationshipTier>(e.GetString()!, "breakThroughTiers", v) is { } t)
                            {
                                breakThrough.Add(t);
                            }
                            else if (e.ValueKind != JsonValueKind.String)
                            {
                                v.Add("breakThroughTiers", "must be tier names");
                            }
                        }
                    }
                    else if (prop.Value.ValueKind != JsonValueKind.Null)
                    {
                        v.Add("breakThroughTiers", "must be an array of tier names or null (every tier but Blocked)");
                    }
                    break;
                default:
                    v.Add(prop.Name, "unknown property (ceiling, floor, appearOfflineAllowed, subscriptionDefaults, subscriptionMinimum, auditRetentionDays, defaultWorkHours, breakThroughTiers)");
                    break;
            }
        }
        // A floor above the ceiling cannot be honoured: say exactly where.
        foreach (var (tier, rules) in floor)
        {
            foreach (var (name, rule) in new[] { ("any", rules.Any), ("workHours", rules.WorkHours), ("offHours", rules.OffHours), ("dayOff", rules.DayOff) })
            {
                foreach (var (field, level) in rule?.Levels ?? new Dictionary<DisclosureField, int>())
                {
                    var max = ceiling.TryGetValue(tier, out var c) && c.Get(field) is { } cl ? cl : DisclosureFields.MaxLevel(field);
                    if (level > max)
                    {
                        v.Add($"floor.{tier}.{name}.{DisclosureFields.Name(field)}",
                            $"the floor ({DisclosureFields.LevelName(field, level)}) is above the ceiling ({DisclosureFields.LevelName(field, max)})");
                    }
                }
            }
        }
        return v.Ok ? new OrgPolicy(ceiling, floor, appearOffline, defaults, minimum, retention, workHours) { BreakThroughTiers = breakThrough } : null;
    }

    /// <summary>Writes the organization policy document.</summary>
    public static object Write(OrgPolicy p)
    {
        ArgumentNullException.ThrowIfNull(p);
        return new Dictionary<string, object?>
        {
            ["ceiling"] = p.Ceiling.ToDictionary(kv => kv.Key.ToString(), kv => WriteRule(kv.Value)),
            ["floor"] = p.Floor.ToDictionary(kv => kv.Key.ToString(), kv => WriteTierRules(kv.Value)),
            ["appearOfflineAllowed"] = p.AppearOfflineAllowed,
            ["subscriptionDefaults"] = p.SubscriptionDefaults.ToDictionary(kv => kv.Key.ToString(), kv => kv.Value.ToString()),
            ["subscriptionMinimum"] = p.SubscriptionMinimum.ToDictionary(kv => kv.Key.ToString(), kv => kv.Value.ToString()),
            ["auditRetentionDays"] = p.AuditRetentionDays,
            ["defaultWorkHours"] = AdminApi.ToDto(p.DefaultWorkHours),
            ["breakThroughTiers"] = p.BreakThroughTiers?.Select(t => t.ToString()).ToList(),
        };
    }

    private static TierRules? ParseTierRules(JsonElement e, string path, Validation v)
    {
        DisclosureRule? any = null, work = null, off = null, dayOff = null;
        foreach (var c in Objects(e, path, v))
        {
            var r = ParseRule(c.Value, $"{path}.{c.Name}", v);
            switch (c.Name)
            {
                case "any": any = r; break;
                case "workHours": work = r; break;
                case "offHours": off = r; break;
                case "dayOff": dayOff = r; break;
                default: v.Add($"{path}.{c.Name}", $"unknown context (one of: {string.Join(", ", ContextNames)})"); break;
            }
        }
        return new TierRules(any, work, off, dayOff);
    }

    private static Dictionary<string, object> WriteTierRules(TierRules r)
    {
        var d = new Dictionary<string, object>();
        foreach (var (name, rule) in new[] { ("any", r.Any), ("workHours", r.WorkHours), ("offHours", r.OffHours), ("dayOff", r.DayOff) })
        {
            if (rule is not null)
            {
                d[name] = WriteRule(rule);
            }
        }
        return d;
    }

    private static WorkHours? ParseWorkHours(JsonElement e, string path, Validation v)
    {
        if (e.ValueKind != JsonValueKind.Object)
        {
            v.Add(path, "must be {days, start, end}");
            return null;
        }
        var days = new List<DayOfWeek>();
        TimeOnly start = new(9, 0), end = new(17, 0);
        foreach (var p in e.EnumerateObject())
        {
            switch (p.Name)
            {
                case "days" when p.Value.ValueKind == JsonValueKind.Array:
                    foreach (var d in p.Value.EnumerateArray())
                    {
                        if (d.ValueKind == JsonValueKind.String && AdminApi.TryParseDay(d.GetString()!, out var day))
                        {
                            days.Add(day);
                        }
                        else
                        {
                            v.Add($"{path}.days", $"'{d}' is not a day name");
                        }
                    }
                    break;
                case "start" when p.Value.ValueKind == JsonValueKind.String && TimeOnly.TryParseExact(p.Value.GetString(), "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out var s):
                    start = s;
                    break;
                case "end" when p.Value.ValueKind == JsonValueKind.String && TimeOnly.TryParseExact(p.Value.GetString(), "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out var en):
                    end = en;
                    break;
                default:
                    v.Add($"{path}.{p.Name}", "expected days (array of day names), start and end (HH:mm)");
                    break;
            }
        }
        v.Require(start != end, path, "start and end must differ");
        return new WorkHours([.. days.Distinct().Order()], start, end);
    }

    private static IEnumerable<JsonProperty> Objects(JsonElement e, string path, Validation v)
    {
        if (e.ValueKind != JsonValueKind.Object)
        {
            v.Add(path, "must be an object");
            return [];
        }
        return e.EnumerateObject();
    }

    private static T? ParseEnum<T>(string text, string path, Validation v)
        where T : struct, Enum
    {
        if (text.Length > 0 && char.IsLetter(text[0]) && !text.Contains(',', StringComparison.Ordinal)
            && Enum.TryParse<T>(text, true, out var value) && Enum.IsDefined(value))
        {
            return value;
        }
        v.Add(path, $"'{text}' is not a {typeof(T).Name} (one of: {string.Join(", ", Enum.GetNames<T>())})");
        return null;
    }

    private static T? Bad<T>(string path, string message, Validation v)
        where T : struct
    {
        v.Add(path, message);
        return null;
    }
}
