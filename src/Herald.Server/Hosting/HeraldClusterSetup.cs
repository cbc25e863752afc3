using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Herald.Cluster.Fanout;
using Herald.Cluster.Hosting;
using Herald.Cluster.Presence;
using Herald.Cluster.Privacy;
using Herald.Cluster.Redis;
using Herald.Server.Apis;
using Herald.Server.Auth;
using Herald.Server.Live;
using Herald.Server.Webhooks;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.StackExchangeRedis;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Caching.Memory;
using StackExchange.Redis;

namespace Herald.Server.Hosting;

/// <summary>The cluster modes: where the silo finds its peers and where every durable store lives.</summary>
public static class HeraldClusterSetup
{
    /// <summary>The embedded default.</summary>
    public const string Embedded = "Embedded";

    /// <summary>Several nodes sharing one Redis.</summary>
    public const string Redis = "Redis";

    /// <summary>
    /// Adds the co-hosted silo, the stores and Data Protection for <c>Herald:Cluster:Mode</c>:
    /// <list type="bullet">
    /// <item><c>Embedded</c> (default): one silo with localhost clustering; grain state, directory, accounts, keys,
    /// policy, audit and webhooks in <c>herald.db</c> (SQLite) and the Data Protection key ring in <c>keys/</c> of
    /// the data directory.</item>
    /// <item><c>Redis</c>: Orleans membership and grain state in Redis, Herald's stores in Redis
    /// (<see cref="HeraldRedisExtensions.AddHeraldRedisCluster"/>, <see cref="RedisWebhookStore"/>) and the key ring in
    /// Redis, so a token issued by one node is accepted by every node. Per-node caches are invalidated through
    /// Redis pub/sub (<see cref="ClusterInvalidation"/>).</item>
    /// </list>
    /// Both modes drain live connections on shutdown (<see cref="ConnectionDrain"/>).
    /// </summary>
    public static WebApplicationBuilder AddHeraldCluster(this WebApplicationBuilder builder, HeraldOptions options, string dataDirectory)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        var cluster = options.Cluster;
        var siloPort = cluster.SiloPort == 0 ? FreeTcpPort() : cluster.SiloPort;
        builder.Services.AddSingleton<ConnectionDrain>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ConnectionDrain>());
        // While the node drains, /healthz answers 503 so that a load balancer stops sending it new clients.
        builder.Services.AddHealthChecks().AddCheck<DrainingHealthCheck>("draining");

        if (string.Equals(cluster.Mode, Embedded, StringComparison.OrdinalIgnoreCase))
        {
            builder.UseOrleans(silo =>
            {
                silo.UseLocalhostClustering(siloPort, cluster.GatewayPort, serviceId: "herald", clusterId: cluster.ClusterId);
                silo.AddHeraldSqliteStorage(Path.Combine(dataDirectory, "herald.db"));
                silo.AddHeraldPresence();
            });
            builder.Services.AddDataProtection()
                .SetApplicationName("Herald")
                .PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(dataDirectory, "keys")));
            return builder;
        }

        if (!string.Equals(cluster.Mode, Redis, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"Herald:Cluster:Mode must be '{Embedded}' or '{Redis}', not '{cluster.Mode}'.");
        }
        if (string.IsNullOrWhiteSpace(cluster.Redis))
        {
            throw new InvalidOperationException("Herald:Cluster:Redis (a Redis connection string such as 127.0.0.1:6379) is required when Herald:Cluster:Mode is Redis.");
        }
        if (string.IsNullOrWhiteSpace(cluster.ClusterId))
        {
            throw new InvalidOperationException("Herald:Cluster:ClusterId must not be empty.");
        }
        IPAddress advertised = IPAddress.Loopback;
        if (!string.IsNullOrWhiteSpace(cluster.AdvertisedAddress) && !IPAddress.TryParse(cluster.AdvertisedAddress, out advertised!))
        {
            throw new InvalidOperationException($"Herald:Cluster:AdvertisedAddress '{cluster.AdvertisedAddress}' is not an IP address.");
        }

        var settings = new RedisClusterSettings(cluster.Redis, cluster.ClusterId, siloPort, cluster.GatewayPort, advertised,
            cluster.ProbeTimeout, cluster.MissedProbesLimit);
        builder.UseOrleans(silo =>
        {
            silo.AddHeraldRedisCluster(settings);
            silo.AddHeraldPresence();
        });
        builder.Services.AddSingleton<IWebhookStore>(sp => new RedisWebhookStore(sp.GetRequiredService<HeraldRedis>()));
        builder.Services.AddHostedService<ClusterInvalidation>();
        builder.Services.AddHostedService<WebhookClusterSync>();
        builder.Services.AddDataProtection().SetApplicationName("Herald");
        builder.Services.AddOptions<Microsoft.AspNetCore.DataProtection.KeyManagement.KeyManagementOptions>()
            .Configure<HeraldRedis>((o, redis) => o.XmlRepository = new RedisXmlRepository(() => redis.Db, redis.Key("dataprotection-keys")));
        return builder;
    }

    /// <summary>
    /// A port for the embedded silo's own listener, which Orleans binds later (it cannot listen on port 0). Taken below
    /// the ephemeral range (Linux: from 32768; Windows: from 49152) where it is free now: a port the kernel picked
    /// with port 0 is an ephemeral one, which the next outgoing connection of any process may take before the silo
    /// binds it (seen in CI, many test processes connecting at once). Falls back to such a port after 64 tries.
    /// </summary>
    private static int FreeTcpPort()
    {
        for (var attempt = 0; attempt < 64; attempt++)
        {
            var port = Random.Shared.Next(20_000, 32_000);
            try
            {
                using var probe = new TcpListener(IPAddress.Loopback, port);
                probe.Start();
                return port;
            }
            catch (SocketException)
            {
                // taken: try another
            }
        }
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>
/// Keeps this node's caches correct when another node changes what they hold, through the invalidation channel
/// (<see cref="HeraldRedis.Invalidate"/>): cached credentials (<c>account:</c>, <c>key:</c>; they also expire after
/// 15 s), the phone-number index (<c>directory</c>; also rebuilt after 60 s) and the organization policy
/// (<c>policy:{version}</c>): the node reloads <see cref="OrgPolicyCache"/> and asks the grains of everyone watched
/// here to re-decide, once at once and once after <see cref="PolicySettle"/> (by then every node has reloaded, so a
/// grain living on a node that had not yet reloaded decides again). Pub/sub is at-most-once, so the policy version
/// is also polled every <see cref="PolicyPoll"/>. An <c>account:</c> or <c>key:</c> message also re-checks the live
/// connections this node holds for that person or key (<see cref="Herald.Cluster.Directory.LiveCredentials"/>): a key
/// revoked or an account deleted on another node ends them at once (and at the latest at the next sweep, should the
/// message be lost).
/// </summary>
public sealed partial class ClusterInvalidation(HeraldRedis redis, IMemoryCache cache, PhoneNumbers phones, OrgPolicyCache policies,
    IOrgPolicyStore policyStore, SiloPresenceHub hub, IGrainFactory grains, Herald.Cluster.Directory.LiveCredentials live,
    ILogger<ClusterInvalidation> logger) : BackgroundService
{
    /// <summary>Delay of the second re-decision round after a policy change.</summary>
    public static readonly TimeSpan PolicySettle = TimeSpan.FromSeconds(2);

    /// <summary>How often the policy version is compared with the store.</summary>
    public static readonly TimeSpan PolicyPoll = TimeSpan.FromSeconds(30);

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var subscriber = redis.Multiplexer.GetSubscriber();
        var queue = await subscriber.SubscribeAsync(redis.InvalidateChannel);
        var reader = ReadLoop(queue, stoppingToken);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await Task.Delay(PolicyPoll, stoppingToken);
                try
                {
                    var (_, version) = await policyStore.Get(stoppingToken);
                    if (version != policies.Version)
                    {
                        await PolicyChanged(version, stoppingToken);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogFailed(ex, "policy poll");
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        await queue.UnsubscribeAsync();
        await reader;
    }

    private async Task ReadLoop(ChannelMessageQueue queue, CancellationToken ct)
    {
        try
        {
            await foreach (var message in queue.WithCancellation(ct))
            {
                var text = (string?)message.Message ?? "";
                try
                {
                    if (text.StartsWith("account:", StringComparison.Ordinal))
                    {
                        var userId = text["account:".Length..];
                        HeraldAuthHandler.Evict(cache, userId: userId);
                        _ = live.RecheckUser(userId, ct);
                    }
                    else if (text.StartsWith("key:", StringComparison.Ordinal))
                    {
                        var keyId = text["key:".Length..];
                        HeraldAuthHandler.Evict(cache, keyId: keyId);
                        _ = live.RecheckKey(keyId, ct);
                    }
                    else if (text == "directory")
                    {
                        phones.Invalidate();
                    }
                    else if (text.StartsWith("policy:", StringComparison.Ordinal)
                        && long.TryParse(text.AsSpan("policy:".Length), CultureInfo.InvariantCulture, out var version) && version > policies.Version)
                    {
                        _ = PolicyChanged(version, ct);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogFailed(ex, text);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    private async Task PolicyChanged(long version, CancellationToken ct)
    {
        try
        {
            await policies.Reload(ct);
            await Redecide(ct);
            await Task.Delay(PolicySettle, ct);
            await Redecide(ct);
            LogPolicyReloaded(version);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogFailed(ex, "policy:" + version.ToString(CultureInfo.InvariantCulture));
        }
        catch (OperationCanceledException)
        {
        }
    }

    private Task Redecide(CancellationToken ct) =>
        Parallel.ForEachAsync(hub.WatchedPersonIds(), new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = ct },
            async (id, _) => await grains.Person(id).PolicyChanged());

    [LoggerMessage(Level = LogLevel.Information, Message = "Organization policy v{Version} reloaded after a change on another node")]
    private partial void LogPolicyReloaded(long version);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Handling the cluster invalidation '{What}' failed")]
    private partial void LogFailed(Exception ex, string what);
}

/// <summary>
/// Cluster mode: every node watches every enabled webhook (a webhook created through one node is picked up by the
/// others within <see cref="Period"/>; a deleted or disabled one is released). Copies of the same event from several
/// nodes are dropped by <see cref="RedisWebhookStore"/>, so losing a node loses no webhook watcher.
/// </summary>
public sealed partial class WebhookClusterSync(IWebhookStore store, WebhookService service, ILogger<WebhookClusterSync> logger) : BackgroundService
{
    /// <summary>How often the webhook list is re-read.</summary>
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(10);

    private readonly HashSet<string> _active = new(StringComparer.Ordinal);

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await Task.Delay(Period, stoppingToken);
                try
                {
                    var all = await store.List(null, stoppingToken);
                    var enabled = all.Where(w => !w.Disabled).ToDictionary(w => w.Id, StringComparer.Ordinal);
                    foreach (var gone in _active.Where(id => !enabled.ContainsKey(id)).ToList())
                    {
                        service.Deactivate(gone);
                        _active.Remove(gone);
                    }
                    foreach (var w in enabled.Values)
                    {
                        await service.Activate(w, stoppingToken);
                        _active.Add(w.Id);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogFailed(ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Re-reading the webhooks failed; retrying")]
    private partial void LogFailed(Exception ex);
}

/// <summary>
/// Graceful shutdown: before the node stops, every SignalR client receives <c>reconnect</c> (the SDK then reconnects,
/// through the load balancer or to its next base URL, and resumes with <c>WatchFrom</c>) and every SSE stream ends with
/// a <c>reconnect</c> event and a <c>retry</c> of <see cref="ClientRetry"/>. The node then waits until its live
/// connections are gone, at most <see cref="ClusterOptions.DrainTimeout"/>.
/// </summary>
public sealed partial class ConnectionDrain(IHubContext<PresenceHub> hubContext, LiveConnections live, IHostApplicationLifetime lifetime,
    Microsoft.Extensions.Options.IOptions<HeraldOptions> options, ILogger<ConnectionDrain> logger) : IHostedLifecycleService
{
    /// <summary>The reconnect delay suggested to clients.</summary>
    public static readonly TimeSpan ClientRetry = TimeSpan.FromSeconds(1);

    /// <summary>Cancelled when the node starts draining (SSE streams end on it).</summary>
    public CancellationToken Draining => lifetime.ApplicationStopping;

    /// <inheritdoc />
    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        var before = live.OpenCount;
        try
        {
            await hubContext.Clients.All.SendAsync("reconnect", new { retryAfterMs = (int)ClientRetry.TotalMilliseconds }, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogFailed(ex);
        }
        var deadline = DateTime.UtcNow + options.Value.Cluster.DrainTimeout;
        while (live.OpenCount > 0 && DateTime.UtcNow < deadline && !cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(50, CancellationToken.None);
        }
        LogDrained(before, live.OpenCount);
    }

    /// <inheritdoc />
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Draining: asked {Before} live connections to reconnect elsewhere; {Left} still open")]
    private partial void LogDrained(int before, int left);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Telling SignalR clients to reconnect failed")]
    private partial void LogFailed(Exception ex);
}

/// <summary>Unhealthy from the moment the node starts shutting down (draining), so load balancers take it out.</summary>
public sealed class DrainingHealthCheck(ConnectionDrain drain) : Microsoft.Extensions.Diagnostics.HealthChecks.IHealthCheck
{
    /// <inheritdoc />
    public Task<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult> CheckHealthAsync(
        Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(drain.Draining.IsCancellationRequested
            ? Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Unhealthy("draining: the node is shutting down")
            : Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Healthy());
}
