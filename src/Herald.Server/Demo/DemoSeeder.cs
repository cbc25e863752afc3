namespace Herald.Server.Demo;

/// <summary>Seeds the demo organization and runs the simulator (filled in below).</summary>
public sealed class DemoSeeder : BackgroundService
{
    /// <inheritdoc />
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.CompletedTask;
}
