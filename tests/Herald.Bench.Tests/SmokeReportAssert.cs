using Herald.Bench.Net;

namespace Herald.Bench.Tests;

/// <summary>What every PRES-2C smoke run of the .NET generator must show, whatever the server: never a speed.</summary>
internal static class SmokeReportAssert
{
    /// <summary>
    /// No login error, full rosters, no foreign or stale stamp, <paramref name="steps"/> steps that each sent updates
    /// without errors and delivered at least <paramref name="minimumRatio"/> of what was expected — counting a view
    /// superseded by a newer one of the same person as delivered only when <paramref name="supersededCounts"/> (live
    /// connections keep the newest view per person; nothing is lost); otherwise every presence must arrive itself (with a ratio of 1: exactly once).
    /// </summary>
    public static void Clean(NetReport report, int steps, double minimumRatio, bool supersededCounts)
    {
        Assert.True(report.LoginErrors == 0, $"login errors: {report.LoginErrors} (first: {report.FirstLoginError})");
        Assert.Equal(0, report.ShortRosters);
        Assert.Equal(0, report.ForeignStamps);
        Assert.Equal(0, report.Stale);
        Assert.Equal(steps, report.Steps.Count);
        foreach (var step in report.Steps)
        {
            Assert.True(step.Updates > 0, $"step {step.Step} sent nothing");
            Assert.True(step.Errors == 0, $"step {step.Step}: {step.Errors} errors");
            if (!supersededCounts)
            {
                Assert.Equal(0, step.Superseded);
                if (minimumRatio >= 1.0)
                {
                    Assert.Equal(step.Expected, step.Delivered); // every presence, exactly once
                }
            }
            var ratio = (step.Delivered + (supersededCounts ? step.Superseded : 0)) / (double)step.Expected;
            Assert.True(ratio >= minimumRatio,
                $"step {step.Step}: delivered {step.Delivered} (+{step.Superseded} superseded) of {step.Expected} ({ratio:P3})");
        }
    }
}
