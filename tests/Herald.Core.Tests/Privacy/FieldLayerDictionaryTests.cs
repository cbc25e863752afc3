using Herald.Core.Privacy;

namespace Herald.Core.Tests.Privacy;

public sealed class FieldLayerDictionaryTests
{
    [Fact]
    public void Every_layer_fits_in_four_bits_and_every_field_in_the_word()
    {
        // ≤ 14, not 15: the audit text cache packs layer + 1 per field and adds that 1 to every nibble of the word at
        // once (AuditText), which must not carry into the next field.
        Assert.All(Enum.GetValues<PolicyLayer>(), l => Assert.InRange((int)l, 0, 14));
        Assert.Equal(DisclosureFields.Count, Enum.GetValues<DisclosureField>().Length);
        Assert.Equal(Enumerable.Range(0, DisclosureFields.Count), DisclosureFields.All.Select(f => (int)f));
    }

    [Fact]
    public void Setting_one_field_leaves_every_other_field_as_it_was()
    {
        foreach (var field in DisclosureFields.All)
        {
            foreach (var layer in Enum.GetValues<PolicyLayer>())
            {
                var packed = FieldLayerDictionary.All(PolicyLayer.Subscription).Packed;
                var map = FieldLayerDictionary.FromPacked(FieldLayerDictionary.With(packed, field, layer));
                foreach (var f in DisclosureFields.All)
                {
                    Assert.Equal(f == field ? layer : PolicyLayer.Subscription, map[f]);
                }
            }
        }
    }

    [Fact]
    public void It_reads_as_a_complete_dictionary_in_field_order()
    {
        var map = FieldLayerDictionary.FromPacked(FieldLayerDictionary.With(FieldLayerDictionary.All(PolicyLayer.Default).Packed,
            DisclosureField.Location, PolicyLayer.OrganizationCeiling));
        Assert.Equal(DisclosureFields.Count, map.Count);
        Assert.Equal(DisclosureFields.All, map.Keys);
        Assert.Equal(map.Keys.Select(k => map[k]), map.Values);
        Assert.Equal(map.Keys.Zip(map.Values, KeyValuePair.Create), map.ToList());
        Assert.True(map.ContainsKey(DisclosureField.OtherContact));
        Assert.False(map.ContainsKey((DisclosureField)DisclosureFields.Count));
        Assert.False(map.TryGetValue((DisclosureField)(-1), out _));
        Assert.Throws<KeyNotFoundException>(() => map[(DisclosureField)DisclosureFields.Count]);
        Assert.Equal(PolicyLayer.OrganizationCeiling, map[DisclosureField.Location]);
        Assert.Same(FieldLayerDictionary.All(PolicyLayer.Self), FieldLayerDictionary.All(PolicyLayer.Self));
    }
}
