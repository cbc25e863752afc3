using Herald.Cluster.Directory;
using Herald.Cluster.Fanout;
using Herald.Cluster.Presence;
using Herald.Cluster.Privacy;
using Herald.Cluster.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Herald.Cluster.Hosting;

/// <summary>Wires Herald's presence engine into an Orleans silo.</summary>
public static class HeraldSiloExtensions
{
    /// <summary>
    /// Adds the person grains' services, the per-silo fan-out hub and its renewal loop, and options bound to
    /// <c>Herald:Presence</c> (validated at start). The silo's grain-storage serializer is System.Text.Json (Redis grain
    /// storage writes it; the SQLite storage reads rows written with it before session 5 and writes Orleans' binary format).
    /// </summary>
    public static ISiloBuilder AddHeraldPresence(this ISiloBuilder silo, Action<PresenceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(silo);
        var options = silo.Services.AddOptions<PresenceOptions>().BindConfiguration(PresenceOptions.Section);
        if (configure is not null)
        {
            options.Configure(configure);
        }
        options.ValidateDataAnnotations()
            .Validate(o => o.MinLeaseTtl <= o.MaxLeaseTtl, "Herald:Presence:MinLeaseTtl must not exceed MaxLeaseTtl")
            .ValidateOnStart();
        silo.Services.TryAddSingleton(TimeProvider.System);
        silo.Services.AddSingleton<SiloPresenceHub>();
        silo.Services.AddSingleton<OrgPolicyCache>();
        silo.Services.AddHostedService<SiloPresenceRenewal>();
        silo.Services.AddSingleton<MembershipChanges>();
        silo.Services.AddHostedService(sp => sp.GetRequiredService<MembershipChanges>());
        silo.UseSystemTextJsonGrainStorageSerializer();
        return silo;
    }

    /// <summary>Configuration key of the grain state payload format (<see cref="SqlitePayloadFormat"/>).</summary>
    public const string PayloadFormatKey = "Herald:Storage:PayloadFormat";

    /// <summary>
    /// The embedded default: one SQLite file (WAL) at <paramref name="databasePath"/> holds grain state and the
    /// directory, accounts and API keys. Grain state is written in Orleans' binary format unless
    /// <see cref="PayloadFormatKey"/> says <c>GrainStorageSerializer</c> (the pre-session-5 JSON); both are read.
    /// </summary>
    public static ISiloBuilder AddHeraldSqliteStorage(this ISiloBuilder silo, string databasePath)
    {
        ArgumentNullException.ThrowIfNull(silo);
        ArgumentException.ThrowIfNullOrWhiteSpace(databasePath);
        var full = Path.GetFullPath(databasePath);
        var db = new SqliteDatabase(full);
        silo.Services.AddSingleton(db);
        // Every directory write of the embedded mode goes through this node, so its profile cache is invalidated exactly.
        silo.Services.AddSingleton<IDirectoryStore>(sp =>
        {
            var store = new SqliteDirectoryStore(db);
            var o = sp.GetService<Microsoft.Extensions.Options.IOptions<PresenceOptions>>()?.Value ?? new PresenceOptions();
            return o.ProfileCacheCapacity == 0 ? store
                : new CachedDirectoryStore(store, sp.GetService<TimeProvider>() ?? TimeProvider.System, o.ProfileCacheCapacity, o.ProfileCacheTtl);
        });
        silo.Services.AddSingleton<IAccountStore>(new SqliteAccountStore(db));
        silo.Services.AddSingleton<IApiKeyStore>(new SqliteApiKeyStore(db));
        silo.Services.AddSingleton<IOrgPolicyStore>(new SqliteOrgPolicyStore(db));
        silo.Services.AddSingleton<IAuditLog>(sp => new SqliteAuditLog(db, sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<SqliteAuditLog>>()));
        silo.Services.AddHostedService<AuditRetention>();
        var format = silo.Configuration[PayloadFormatKey];
        silo.AddSqliteGrainStorage(HeraldStorage.ProviderName, o =>
        {
            o.DatabasePath = full;
            if (!string.IsNullOrWhiteSpace(format))
            {
                o.PayloadFormat = Enum.TryParse<SqlitePayloadFormat>(format, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed)
                    && !int.TryParse(format, out _)
                    ? parsed
                    : throw new InvalidOperationException(
                        $"{PayloadFormatKey} must be {nameof(SqlitePayloadFormat.OrleansBinary)} or {nameof(SqlitePayloadFormat.GrainStorageSerializer)}, not '{format}'.");
            }
        });
        return silo;
    }
}
