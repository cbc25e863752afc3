using Herald.Bench.Net;
using Herald.Floor;

namespace Herald.Bench.Tests;

/// <summary>The benchmark tools share one command-line shape: every problem is one clear line, never an exception.</summary>
public sealed class BenchArgsTests
{
    [Theory]
    [InlineData(new[] { "--nope", "1" }, "unknown option --nope")]
    [InlineData(new[] { "--users" }, "missing value after --users")]
    [InlineData(new[] { "--users", "x" }, "bad value 'x' for --users")]
    [InlineData(new[] { "--roster", "3" }, "bad value '3' for --roster")]
    [InlineData(new[] { "--users", "10", "--roster", "10" }, "--roster must be below --users")]
    [InlineData(new[] { "--steps", "1000,-5" }, "bad value '1000,-5' for --steps")]
    [InlineData(new[] { "--protocol", "smtp" }, "bad value 'smtp' for --protocol")]
    public void The_generator_reports_bad_options_in_one_line(string[] args, string expected)
    {
        Assert.False(NetOptions.TryParse(args, out _, out var error));
        Assert.Equal(expected, error);
    }

    [Fact]
    public void The_generator_takes_flags_and_pairs()
    {
        Assert.True(NetOptions.TryParse(["--users", "40", "--login-only", "--roster", "6", "--steps", "1000,2000"], out var o, out var error), error);
        Assert.True(o.LoginOnly);
        Assert.Equal(40, o.Users);
        Assert.Equal(6, o.Roster);
        Assert.Equal([1000.0, 2000.0], o.Steps);
    }

    [Theory]
    [InlineData(new[] { "--transport", "udp" }, "bad value 'udp' for --transport")]
    [InlineData(new[] { "--login-only" }, "missing value after --login-only")]
    [InlineData(new[] { "--port", "70000" }, "bad value '70000' for --port")]
    [InlineData(new[] { "--users", "4", "--roster", "4" }, "--roster must be below --users")]
    public void The_floor_server_reports_bad_options_in_one_line(string[] args, string expected)
    {
        Assert.False(FloorHost.TryParse(args, out _, out var error));
        Assert.Equal(expected, error);
    }

    [Fact]
    public void The_floor_server_takes_its_options()
    {
        Assert.True(FloorHost.TryParse(["--port", "0", "--transport", "raw", "--users", "30", "--roster", "4"], out var o, out var error), error);
        Assert.Equal(FloorTransport.Raw, o.Transport);
        Assert.Equal(30, o.Users);
    }
}
