using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Herald.Cluster.Privacy;

/// <summary>
/// Enforces the organization's audit retention: at start and then every <see cref="Period"/>, deletes audit
/// entries older than <see cref="Core.Privacy.OrgPolicy.AuditRetentionDays"/> days. Failures are logged and retried
/// next period; they never stop the host.
/// </summary>
/// <param name="log">The audit log to purge.</param>
/// <param name="policies">Where the retention period comes from.</param>
/// <param name="time">The clock (for "now" and the period).</param>
/// <param name="logger">Where purges and failures are reported.</param>
public sealed partial class AuditRetention(IAuditLog log, IOrgPolicyStore policies, TimeProvider time, ILogger<AuditRetention> logger)
    : BackgroundService
{
    /// <summary>How often the retention runs.</summary>
    public static readonly TimeSpan Period = TimeSpan.FromHours(6);

    private readonly IAuditLog _log = log ?? throw new ArgumentNullException(nameof(log));
    private readonly IOrgPolicyStore _policies = policies ?? throw new ArgumentNullException(nameof(policies));
    private readonly TimeProvider _time = time ?? throw new ArgumentNullException(nameof(time));
    private readonly ILogger<AuditRetention> _logger = logger ?? throw new ArgumentNullException(nameof(logger));

    /// <summary>
    /// Purges once: deletes the entries older than now minus the policy's retention days. Does nothing (and returns 0)
    /// when the retention is not positive.
    /// </summary>
    /// <param name="ct">Cancels the purge.</param>
    /// <returns>How many entries were deleted.</returns>
    public async Task<int> RunOnce(CancellationToken ct)
    {
        var (policy, _) = await _policies.Get(ct);
        var days = policy.AuditRetentionDays;
        if (days <= 0)
        {
            LogRetentionDisabled(days);
            return 0;
        }

        var before = _time.GetUtcNow() - TimeSpan.FromDays(days);
        var deleted = await _log.Purge(before, ct);
        LogPurged(deleted, days, before);
        return deleted;
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await RunOnce(stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    LogPurgeFailed(ex, Period);
                }
                await Task.Delay(Period, _time, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The host is stopping.
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Audit retention: deleted {Count} entries older than {Days} days (before {Before:O})")]
    private partial void LogPurged(int count, int days, DateTimeOffset before);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Audit retention: retention is {Days} days; nothing is purged")]
    private partial void LogRetentionDisabled(int days);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Audit retention: purging failed; retrying in {Period}")]
    private partial void LogPurgeFailed(Exception exception, TimeSpan period);
}
