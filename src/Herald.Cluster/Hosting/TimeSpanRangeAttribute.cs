using System.ComponentModel.DataAnnotations;
using System.Globalization;

namespace Herald.Cluster.Hosting;

/// <summary>
/// A time span option must lie within [minimum, maximum] (inclusive; c-format strings such as <c>"00:00:30"</c> or
/// <c>"1.00:00:00"</c>). Used instead of <c>[Range(typeof(TimeSpan), …)]</c>: <see cref="RangeAttribute"/> converts its
/// bounds lazily on first use without synchronization, and two hosts validating their options at once could see
/// <see cref="InvalidCastException"/> from the shared attribute (seen in CI). Here the bounds are parsed once, in the
/// constructor, so the attribute is immutable.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field, AllowMultiple = false)]
public sealed class TimeSpanRangeAttribute : ValidationAttribute
{
    /// <summary>Creates the range from two invariant <c>c</c>-format time spans.</summary>
    public TimeSpanRangeAttribute(string minimum, string maximum)
        : base("The field {0} must be between {1} and {2}.")
    {
        Minimum = TimeSpan.ParseExact(minimum, "c", CultureInfo.InvariantCulture);
        Maximum = TimeSpan.ParseExact(maximum, "c", CultureInfo.InvariantCulture);
    }

    /// <summary>The smallest allowed value.</summary>
    public TimeSpan Minimum { get; }

    /// <summary>The largest allowed value.</summary>
    public TimeSpan Maximum { get; }

    /// <inheritdoc />
    public override bool IsValid(object? value) => value is null || (value is TimeSpan t && t >= Minimum && t <= Maximum);

    /// <inheritdoc />
    public override string FormatErrorMessage(string name) =>
        string.Format(CultureInfo.CurrentCulture, ErrorMessageString, name, Minimum, Maximum);
}
