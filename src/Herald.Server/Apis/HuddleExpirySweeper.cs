using Herald.Cluster.Huddles;

namespace Herald.Server.Apis;

/// <summary>
/// On every node, once at start and then every <see cref="Interval"/> (on the injected clock), asks the open-huddle
/// list to wake the huddles whose expiry is due, so that an expiry is announced even when the huddle's grain was not
/// active at the time (the server restarted, or the node holding it was lost). Idempotent across nodes.
/// </summary>
public sealed partial class HuddleExpirySweeper(IGrainFactory grains, TimeProvider time, ILogger<HuddleExpirySweeper> logger) : BackgroundService
{
    /// <summary>Time between two sweeps: the latest an expiry missed by its grain's timer is announced.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await grains.GetGrain<IOpenHuddlesGrain>(OpenHuddlesGrain.Key).Sweep(time.GetUtcNow());
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // the loop must survive a failed round (e.g. the silo still starting)
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogSweepFailed(ex);
            }
            try
            {
                await Task.Delay(Interval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A huddle expiry sweep failed")]
    private partial void LogSweepFailed(Exception ex);
}
