using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Herald.Core.Privacy;

namespace Herald.Core.Tests.Privacy;

/// <summary>
/// <see cref="DisclosureKey"/> writes its equality and hash out by hand (they run on every change of every person):
/// equal exactly when every field is equal, and equal keys hash alike.
/// </summary>
public sealed class DisclosureKeyProperties
{
    private static readonly ViewMode[] Modes = Enum.GetValues<ViewMode>();
    private static readonly PrivacyContext[] Contexts = Enum.GetValues<PrivacyContext>();

    private static Gen<DisclosureKey> Keys() =>
        from self in Gen.Elements(true, false)
        from mode in Gen.Elements(Modes)
        from context in Gen.Elements(Contexts)
        from packed in Gen.Elements(0UL, 1UL, 0b111UL, Disclosure.Everything.Packed, 1UL << 40)
            .Or(ArbMap.Default.GeneratorFor<ulong>())
        select new DisclosureKey(self, mode, context, new Disclosure(packed));

    [Property(MaxTest = 500)]
    public Property Keys_are_equal_exactly_when_every_field_is_equal_and_equal_keys_hash_alike() =>
        Prop.ForAll(Keys().Two().ToArbitrary(), pair =>
        {
            var (a, b) = pair;
            var fieldwise = a.IsSelf == b.IsSelf && a.Mode == b.Mode && a.Context == b.Context && a.Levels == b.Levels;
            var copy = a with { };
            return a.Equals(b) == fieldwise
                && (a == b) == fieldwise
                && a.Equals((object)b) == fieldwise
                && (!fieldwise || a.GetHashCode() == b.GetHashCode())
                && copy.Equals(a) && copy.GetHashCode() == a.GetHashCode();
        });

    [Fact]
    public void Keys_that_differ_in_one_field_are_different_set_members()
    {
        var k = new DisclosureKey(false, ViewMode.Normal, PrivacyContext.WorkHours, Disclosure.Everything);
        var set = new HashSet<DisclosureKey>
        {
            k,
            k with { IsSelf = true },
            k with { Mode = ViewMode.Offline },
            k with { Context = Contexts.First(c => c != PrivacyContext.WorkHours) },
            k with { Levels = Disclosure.Nothing },
            k,
        };
        Assert.Equal(5, set.Count);
    }
}
