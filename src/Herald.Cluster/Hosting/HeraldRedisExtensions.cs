using System.Net;
using Herald.Cluster.Directory;
using Herald.Cluster.Presence;
using Herald.Cluster.Privacy;
using Herald.Cluster.Redis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using StackExchange.Redis;

namespace Herald.Cluster.Hosting;

/// <summary>Settings of a silo in Redis cluster mode.</summary>
/// <param name="ConnectionString">StackExchange.Redis connection string, e.g. <c>127.0.0.1:6379</c>.</param>
/// <param name="ClusterId">Orleans cluster id; also scopes Herald's keys (<c>herald:{clusterId}:…</c>).</param>
/// <param name="SiloPort">Silo-to-silo port (must be free and reachable from the other nodes).</param>
/// <param name="GatewayPort">Orleans client gateway port (0 = none).</param>
/// <param name="AdvertisedAddress">The address other silos reach this one at.</param>
/// <param name="ProbeTimeout">Membership probe period/timeout (Orleans default 5 s).</param>
/// <param name="MissedProbesLimit">Missed probes after which a silo is suspected (Orleans default 3).</param>
public sealed record RedisClusterSettings(
    string ConnectionString, string ClusterId, int SiloPort, int GatewayPort, IPAddress AdvertisedAddress,
    TimeSpan ProbeTimeout, int MissedProbesLimit);

/// <summary>Wires a silo for cluster mode: Orleans membership and grain state in Redis, and Herald's stores in Redis.</summary>
public static class HeraldRedisExtensions
{
    /// <summary>The Orleans service id (grain state keys are <c>{serviceId}/state/{grainId}/{stateName}</c>).</summary>
    public const string ServiceId = "herald";

    /// <summary>
    /// Cluster mode. Every durable store lives in the one Redis every node shares: grain state (person, huddle),
    /// membership, directory, accounts, API keys, organization policy and the audit log. Nothing durable stays on
    /// a node's disk, so losing a node loses no acknowledged write and any node can serve any request.
    /// </summary>
    public static ISiloBuilder AddHeraldRedisCluster(this ISiloBuilder silo, RedisClusterSettings settings)
    {
        ArgumentNullException.ThrowIfNull(silo);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentException.ThrowIfNullOrWhiteSpace(settings.ConnectionString);

        var redis = HeraldRedis.Connect(settings.ConnectionString, settings.ClusterId);
        silo.Services.AddSingleton(redis);
        silo.Services.AddSingleton(redis.Multiplexer);
        silo.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = settings.ClusterId;
            o.ServiceId = ServiceId;
        });
        silo.Configure<ClusterMembershipOptions>(o =>
        {
            o.ProbeTimeout = settings.ProbeTimeout;
            o.NumMissedProbesLimit = settings.MissedProbesLimit;
        });
        silo.ConfigureEndpoints(settings.AdvertisedAddress, settings.SiloPort, settings.GatewayPort, listenOnAnyHostAddress: true);
        // Orleans shares Herald's one multiplexer (IsShared: true, so it never disposes it); its validators still want the options.
        silo.UseRedisClustering(o =>
        {
            o.ConfigurationOptions = ConfigurationOptions.Parse(settings.ConnectionString);
            o.CreateMultiplexer = _ => Task.FromResult<(IConnectionMultiplexer, bool)>((redis.Multiplexer, true));
        });
        silo.AddRedisGrainStorage(HeraldStorage.ProviderName, o =>
        {
            o.ConfigurationOptions = ConfigurationOptions.Parse(settings.ConnectionString);
            o.CreateMultiplexer = _ => Task.FromResult<(IConnectionMultiplexer, bool)>((redis.Multiplexer, true));
        });

        silo.Services.AddSingleton<IDirectoryStore>(new RedisDirectoryStore(redis));
        silo.Services.AddSingleton<IAccountStore>(new RedisAccountStore(redis));
        silo.Services.AddSingleton<IApiKeyStore>(new RedisApiKeyStore(redis));
        silo.Services.AddSingleton<IOrgPolicyStore>(new RedisOrgPolicyStore(redis));
        silo.Services.AddSingleton<IAuditLog>(sp => new RedisAuditLog(redis, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<RedisAuditLog>>()));
        silo.Services.AddHostedService<AuditRetention>();
        return silo;
    }
}
