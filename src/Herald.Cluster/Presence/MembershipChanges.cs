using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace Herald.Cluster.Presence;

/// <summary>
/// Remembers when this silo last saw another silo change in the cluster membership (join, suspicion, death, leave).
/// Around such changes Orleans' default grain directory can briefly hold two activations of one person (e.g. before
/// a SIGKILLed node is declared dead); <see cref="PersonGrain"/> therefore compares its state with storage before
/// every call while <see cref="Recent"/> is true (<see cref="PresenceOptions.StaleActivationWindow"/> after the last
/// change). A single silo (the embedded mode) never sees such a change, so it never pays for the check.
/// </summary>
public sealed partial class MembershipChanges(IClusterMembershipService membership, ILocalSiloDetails local, IOptions<PresenceOptions> options,
    ILogger<MembershipChanges> logger) : BackgroundService
{
    private long _changedAt = long.MinValue;

    /// <summary>True while the last change of another silo is less than the window ago.</summary>
    public bool Recent
    {
        get
        {
            var at = Interlocked.Read(ref _changedAt);
            return at != long.MinValue && Stopwatch.GetElapsedTime(at) < options.Value.StaleActivationWindow;
        }
    }

    /// <summary>Time since the last change of another silo; null when none was seen.</summary>
    public TimeSpan? SinceLastChange
    {
        get
        {
            var at = Interlocked.Read(ref _changedAt);
            return at == long.MinValue ? null : Stopwatch.GetElapsedTime(at);
        }
    }

    /// <summary>Records a change now.</summary>
    public void Changed() => Interlocked.Exchange(ref _changedAt, Stopwatch.GetTimestamp());

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Polls the silo's own membership view (in memory, cheap) twice a second: simple and independent of how the
        // update stream batches snapshots.
        var known = new Dictionary<SiloAddress, SiloStatus>();
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(500));
        try
        {
            do
            {
                var snapshot = membership.CurrentSnapshot;
                var changed = false;
                foreach (var (silo, member) in snapshot.Members)
                {
                    if (!silo.Equals(local.SiloAddress) && (!known.TryGetValue(silo, out var status) || status != member.Status))
                    {
                        known[silo] = member.Status;
                        changed = true;
                    }
                }
                if (changed)
                {
                    Changed();
                    LogChanged(snapshot.Version.Value);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // stopping
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Cluster membership changed (version {Version}): person grains check their state against storage for a while")]
    private partial void LogChanged(long version);
}
