using System.ComponentModel.DataAnnotations;
using Herald.Cluster.Hosting;
using Herald.Cluster.Presence;

namespace Herald.Cluster.Tests.Hosting;

/// <summary>
/// Time span option bounds: inclusive, with the usual message, and safe when many hosts validate their options at
/// once (the framework's <c>RangeAttribute</c> converted its bounds lazily and threw InvalidCastException under that race).
/// </summary>
public sealed class TimeSpanRangeAttributeTests
{
    [Fact]
    public void Bounds_are_inclusive_and_a_value_outside_gets_a_message_naming_the_field_and_the_range()
    {
        var range = new TimeSpanRangeAttribute("00:00:01", "01:00:00");

        Assert.True(range.IsValid(TimeSpan.FromSeconds(1)));
        Assert.True(range.IsValid(TimeSpan.FromHours(1)));
        Assert.False(range.IsValid(TimeSpan.FromMilliseconds(999)));
        Assert.False(range.IsValid(TimeSpan.FromHours(1) + TimeSpan.FromTicks(1)));
        Assert.False(range.IsValid("00:00:05"));
        Assert.Equal("The field GraceWindow must be between 00:00:01 and 01:00:00.", range.FormatErrorMessage("GraceWindow"));
    }

    [Fact]
    public void Options_validated_on_many_threads_at_once_never_throw()
    {
        var bad = new PresenceOptions { SiloWatchRenewal = TimeSpan.FromDays(400) };
        var good = new PresenceOptions();
        var failures = 0;
        Parallel.For(0, 2000, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            var options = i % 2 == 0 ? good : bad;
            var results = new List<ValidationResult>();
            var valid = Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
            if (valid != (options == good))
            {
                Interlocked.Increment(ref failures);
            }
        });
        Assert.Equal(0, failures);
    }
}
