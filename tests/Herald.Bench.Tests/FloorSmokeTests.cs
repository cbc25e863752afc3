using Herald.Bench.Net;
using Herald.Floor;

namespace Herald.Bench.Tests;

/// <summary>
/// The bare fan-out floor server (bench/Herald.Floor) against the herald-ws generator, in this process on loopback:
/// every transport must deliver every presence (100 %, nothing superseded: the floor never drops a view) without
/// errors, with full ring rosters. Never a speed assertion. Bounded: 200 users, two 3-second steps.
/// </summary>
public sealed class FloorSmokeTests
{
    [Theory]
    [InlineData("kestrel-each")]
    [InlineData("kestrel-coalesced")]
    [InlineData("raw")]
    public async Task Floor_server_delivers_every_presence_to_the_generator(string transport)
    {
        Assert.True(FloorHost.TryParse(["--port", "0", "--transport", transport, "--users", "200", "--roster", "20"], out var floorOptions, out var error), error);
        await using var floor = await FloorHost.Start(floorOptions);
        Assert.True(NetOptions.TryParse(
            ["--protocol", "herald-ws", "--server", "floor-smoke", "--url", floor.Url.ToString(), "--users", "200", "--roster", "20",
             "--login-rate", "400", "--login-inflight", "20", "--settle", "0.2", "--steps", "1000,3000",
             "--step-seconds", "3", "--drain", "20", "--stop-after", "10", "--max-seconds", "120"],
            out var options, out error), error);

        var report = await NetBenchmark.Execute(options);

        SmokeReportAssert.Clean(report, steps: 2, minimumRatio: 1.0, supersededCounts: false);
    }
}
