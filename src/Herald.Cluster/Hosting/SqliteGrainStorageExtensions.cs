using Herald.Cluster.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Runtime.Hosting;
using Orleans.Serialization;
using Orleans.Serialization.Serializers;
using Orleans.Storage;

namespace Herald.Cluster.Hosting;

/// <summary>Silo registration for <see cref="SqliteGrainStorage"/>.</summary>
public static class SqliteGrainStorageExtensions
{
    /// <summary>
    /// Registers a named <see cref="SqliteGrainStorage"/> grain storage provider. Options are
    /// validated when the silo starts (<see cref="SqliteGrainStorageOptions.DatabasePath"/> is
    /// required); an unset serializer falls back to the silo's <see cref="IGrainStorageSerializer"/>.
    /// Payloads are written with Orleans' binary serializer unless
    /// <see cref="SqliteGrainStorageOptions.PayloadFormat"/> says otherwise; see <see cref="GrainStatePayloadCodec"/>.
    /// If a <see cref="SqliteDatabase"/> singleton for the same file is registered it is reused;
    /// otherwise the provider opens the file itself.
    /// </summary>
    /// <param name="builder">The silo builder.</param>
    /// <param name="name">The provider name used by <c>[PersistentState(stateName, name)]</c>.</param>
    /// <param name="configure">Configures the provider's options.</param>
    /// <returns>The same silo builder.</returns>
    public static ISiloBuilder AddSqliteGrainStorage(this ISiloBuilder builder, string name, Action<SqliteGrainStorageOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(configure);

        var services = builder.Services;
        services.AddOptions<SqliteGrainStorageOptions>(name)
            .Configure(configure)
            .Validate(o => !string.IsNullOrWhiteSpace(o.DatabasePath), $"{nameof(SqliteGrainStorageOptions)}.{nameof(SqliteGrainStorageOptions.DatabasePath)} is required (provider '{name}').")
            .Validate(o => Enum.IsDefined(o.PayloadFormat), $"{nameof(SqliteGrainStorageOptions)}.{nameof(SqliteGrainStorageOptions.PayloadFormat)} is not a known format (provider '{name}').")
            .Validate(o => o.GrainStorageSerializer is not null, $"{nameof(SqliteGrainStorageOptions)}.{nameof(SqliteGrainStorageOptions.GrainStorageSerializer)} could not be resolved (provider '{name}').")
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Transient<
            IPostConfigureOptions<SqliteGrainStorageOptions>,
            DefaultStorageProviderSerializerOptionsConfigurator<SqliteGrainStorageOptions>>());

        services.AddGrainStorage(name, static (sp, providerName) =>
        {
            var options = sp.GetRequiredService<IOptionsMonitor<SqliteGrainStorageOptions>>().Get(providerName);
            return new SqliteGrainStorage(
                providerName,
                options,
                sp.GetRequiredService<Serializer>(),
                ResolveDatabase(sp, options.DatabasePath),
                sp.GetRequiredService<IOptions<ClusterOptions>>(),
                sp.GetRequiredService<IActivatorProvider>(),
                sp.GetService<TimeProvider>() ?? TimeProvider.System,
                sp.GetRequiredService<ILogger<SqliteGrainStorage>>());
        });

        return builder;
    }

    private static SqliteDatabase ResolveDatabase(IServiceProvider services, string databasePath)
    {
        var fullPath = Path.GetFullPath(databasePath);
        foreach (var database in services.GetServices<SqliteDatabase>())
        {
            if (string.Equals(database.FilePath, fullPath, StringComparison.Ordinal))
            {
                return database;
            }
        }

        return new SqliteDatabase(fullPath);
    }
}
