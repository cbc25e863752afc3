using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace Herald.Core.Privacy;

/// <summary>
/// The deciding layer of every disclosure field, packed into one word (4 bits per field): what
/// <see cref="DisclosureDecision.DecidedBy"/> holds. Immutable, always complete (all 16 fields, in field order), so
/// a decision costs one small object instead of a dictionary; reads are as a read-only dictionary.
/// </summary>
public sealed class FieldLayerDictionary : IReadOnlyDictionary<DisclosureField, PolicyLayer>
{
    private static readonly FieldLayerDictionary[] Uniform = CreateUniform();

    private FieldLayerDictionary(ulong packed) => Packed = packed;

    /// <summary>The layers, field <c>f</c> in bits <c>4f … 4f+3</c>.</summary>
    public ulong Packed { get; }

    /// <summary>Every field decided by <paramref name="layer"/> (shared instances).</summary>
    public static FieldLayerDictionary All(PolicyLayer layer) => Uniform[(int)layer];

    /// <summary>The layers packed in <paramref name="packed"/> (as <see cref="With"/> builds them).</summary>
    public static FieldLayerDictionary FromPacked(ulong packed) => new(packed);

    /// <inheritdoc />
    public PolicyLayer this[DisclosureField key] =>
        IsField(key) ? (PolicyLayer)((Packed >> (4 * (int)key)) & 0xF) : throw new KeyNotFoundException($"No field {key}.");

    /// <inheritdoc />
    public IEnumerable<DisclosureField> Keys => DisclosureFields.All;

    /// <inheritdoc />
    public IEnumerable<PolicyLayer> Values
    {
        get
        {
            for (var i = 0; i < DisclosureFields.Count; i++)
            {
                yield return this[(DisclosureField)i];
            }
        }
    }

    /// <inheritdoc />
    public int Count => DisclosureFields.Count;

    /// <inheritdoc />
    public bool ContainsKey(DisclosureField key) => IsField(key);

    /// <inheritdoc />
    public bool TryGetValue(DisclosureField key, [MaybeNullWhen(false)] out PolicyLayer value)
    {
        if (!IsField(key))
        {
            value = default;
            return false;
        }
        value = this[key];
        return true;
    }

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<DisclosureField, PolicyLayer>> GetEnumerator()
    {
        for (var i = 0; i < DisclosureFields.Count; i++)
        {
            var f = (DisclosureField)i;
            yield return new KeyValuePair<DisclosureField, PolicyLayer>(f, this[f]);
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc />
    public override string ToString() => string.Join(", ", this.Select(kv => $"{kv.Key}:{kv.Value}"));

    /// <summary>Sets field <paramref name="field"/> of <paramref name="packed"/> to <paramref name="layer"/>.</summary>
    public static ulong With(ulong packed, DisclosureField field, PolicyLayer layer)
    {
        var shift = 4 * (int)field;
        return (packed & ~(0xFUL << shift)) | ((ulong)layer << shift);
    }

    private static bool IsField(DisclosureField key) => (uint)key < DisclosureFields.Count;

    private static FieldLayerDictionary[] CreateUniform()
    {
        var layers = Enum.GetValues<PolicyLayer>();
        var all = new FieldLayerDictionary[layers.Max(l => (int)l) + 1];
        foreach (var layer in layers)
        {
            ulong packed = 0;
            for (var i = 0; i < DisclosureFields.Count; i++)
            {
                packed = With(packed, (DisclosureField)i, layer);
            }
            all[(int)layer] = new FieldLayerDictionary(packed);
        }
        return all;
    }
}
