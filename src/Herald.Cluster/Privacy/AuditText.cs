using System.Collections.Concurrent;
using Herald.Core.Privacy;

namespace Herald.Cluster.Privacy;

/// <summary>
/// The <c>fields</c> and <c>rule</c> texts of a disclosure's audit entry, rendered once per distinct decision (the
/// key, tier, context and the deciding layer of every field) and then reused: a login's 20 watches, and every other
/// watcher of the same standing, share the same few decisions. The texts are exactly what rendering the decision
/// gives (<see cref="Render"/>); only the string building is saved, every disclosure is still recorded.
/// </summary>
public static class AuditText
{
    /// <summary>Most distinct decisions kept; past it the cache starts over (decisions are few: tiers × contexts × rules).</summary>
    public const int Capacity = 4096;

    private static readonly ConcurrentDictionary<(DisclosureKey Key, RelationshipTier Tier, PrivacyContext Context, ulong Layers), (string Fields, string Rule)> Cache = new();

    /// <summary>The audit texts of <paramref name="decision"/>.</summary>
    public static (string Fields, string Rule) Of(DisclosureDecision decision)
    {
        ArgumentNullException.ThrowIfNull(decision);
        if (Pack(decision.DecidedBy) is not { } layers)
        {
            return Render(decision);
        }
        var key = (decision.Key, decision.Tier, decision.Context, layers);
        if (Cache.TryGetValue(key, out var texts))
        {
            return texts;
        }
        texts = Render(decision);
        if (Cache.Count >= Capacity)
        {
            Cache.Clear();
        }
        Cache[key] = texts;
        return texts;
    }

    /// <summary>Renders the texts (what every entry held before the cache, unchanged).</summary>
    public static (string Fields, string Rule) Render(DisclosureDecision decision)
    {
        ArgumentNullException.ThrowIfNull(decision);
        var fields = decision.Key.Mode switch
        {
            ViewMode.Nothing => "nothing",
            ViewMode.Offline => "offline;" + decision.Key.Levels,
            _ => decision.Key.Levels.ToString(),
        };
        var deciding = string.Join(",", decision.DecidedBy.Where(kv => kv.Value != PolicyLayer.Default)
            .Select(kv => $"{DisclosureFields.Name(kv.Key)}:{kv.Value}"));
        return (fields, $"tier={decision.Tier}; context={decision.Context}" + (deciding.Length > 0 ? "; " + deciding : ""));
    }

    /// <summary>4 bits per field (16 fields); null when a field or layer does not fit (then nothing is cached).</summary>
    private static ulong? Pack(IReadOnlyDictionary<DisclosureField, PolicyLayer> decidedBy)
    {
        if (decidedBy is FieldLayerDictionary complete)
        {
            // Every field present, each layer + 1 as below (layers are at most 8: no overflow into the next field).
            return complete.Packed + 0x1111_1111_1111_1111UL;
        }
        ulong packed = 0;
        foreach (var (field, layer) in decidedBy)
        {
            var f = (int)field;
            var l = (int)layer;
            if (f is < 0 or >= 16 || l is < 0 or >= 15)
            {
                return null;
            }
            // +1: a field absent from the map and a field decided by the default layer must not pack alike.
            packed |= (ulong)(l + 1) << (4 * f);
        }
        return packed;
    }
}
