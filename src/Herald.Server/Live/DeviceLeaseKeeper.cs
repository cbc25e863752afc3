using System.Collections.Concurrent;
using Herald.Cluster.Presence;

namespace Herald.Server.Live;

/// <summary>
/// Renews the leases of connection-bound devices (see <see cref="PresenceHub.Present"/>) while their connections
/// live: one loop for all of them, every third of the lease, spread over that period. If a renewal finds the device gone (e.g. after a
/// restart of the person's grain), it puts the device again.
/// </summary>
public sealed partial class DeviceLeaseKeeper(IGrainFactory grains, ILogger<DeviceLeaseKeeper> logger) : BackgroundService
{
    private readonly ConcurrentDictionary<string, (string UserId, DeviceReport Report)> _devices = new(StringComparer.Ordinal);

    /// <summary>Keeps the device of a connection alive.</summary>
    public void Keep(string connectionId, string userId, DeviceReport report) => _devices[connectionId] = (userId, report);

    private long _disconnects;

    /// <summary>Number of connection-bound devices kept alive.</summary>
    public int Count => _devices.Count;

    /// <summary>How many disconnects of connection-bound devices have been fully handled.</summary>
    public long Disconnects => Interlocked.Read(ref _disconnects);

    /// <summary>Records that a disconnect was handled (the device's grace window has started).</summary>
    public void DisconnectHandled() => Interlocked.Increment(ref _disconnects);

    /// <summary>Stops renewing the device of a connection.</summary>
    public void Release(string connectionId) => _devices.TryRemove(connectionId, out _);

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Every device once per third of its lease, spread over that period in slices of about a second (not one burst).
        var period = PresenceHub.ConnectionDeviceTtl / 3;
        var slices = (int)Math.Clamp(Math.Floor(period.TotalSeconds), 1, 20);
        using var timer = new PeriodicTimer(period / slices);
        var slice = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                var current = slice;
                slice = (slice + 1) % slices;
                var due = _devices.Where(kv => (StringComparer.Ordinal.GetHashCode(kv.Key) & int.MaxValue) % slices == current).ToArray();
                await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = stoppingToken },
                    async (kv, _) =>
                    {
                        try
                        {
                            var person = grains.Person(kv.Value.UserId);
                            if (!await person.Heartbeat(kv.Value.Report.DeviceId))
                            {
                                await person.PutDevice(kv.Value.Report);
                            }
                        }
                        catch (Exception ex) when (ex is not OperationCanceledException)
                        {
                            LogRenewFailed(ex, kv.Value.UserId);
                        }
                    });
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Renewing a connection device of {UserId} failed")]
    private partial void LogRenewFailed(Exception ex, string userId);
}
