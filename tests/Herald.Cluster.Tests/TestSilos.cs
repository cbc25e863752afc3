using Herald.Cluster.Directory;
using Herald.Cluster.Hosting;
using Herald.Cluster.Storage;
using Herald.Core.Model;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace Herald.Cluster.Tests;

/// <summary>What the cluster tests share: temp SQLite files, and in-process silos of Herald's presence grains on one.</summary>
internal static class TestSilos
{
    /// <summary>A fresh path for a SQLite file in the temp directory.</summary>
    public static string TempDatabase(string prefix) => Path.Combine(Path.GetTempPath(), $"herald-{prefix}-{Guid.NewGuid():N}.db");

    /// <summary>Closes pooled connections and deletes a SQLite file with its -wal, -shm and -journal (best effort).</summary>
    public static void DeleteDatabase(string path)
    {
        SqliteConnection.ClearAllPools();
        foreach (var file in new[] { path, path + "-wal", path + "-shm", path + "-journal" })
        {
            try
            {
                File.Delete(file);
            }
            catch (IOException)
            {
                // Best effort: a leftover temp file is harmless.
            }
        }
    }

    /// <summary>
    /// Deploys <paramref name="silos"/> in-process silos: the people in the SQLite directory (minimal profiles, so all
    /// colleagues), Herald's SQLite grain storage on <paramref name="database"/>, grain time from
    /// <paramref name="time"/> (background areas on real time) and fan-out registrations renewed every
    /// <paramref name="siloWatchRenewal"/>. <paramref name="configure"/> and <paramref name="silo"/> add to the
    /// cluster and to each silo (the latter before Herald's registrations).
    /// </summary>
    public static async Task<InProcessTestCluster> Start(string database, int silos, IEnumerable<string> people, TimeProvider time,
        TimeSpan siloWatchRenewal, Action<InProcessTestClusterBuilder>? configure = null, Action<ISiloBuilder>? silo = null)
    {
        var directory = new SqliteDirectoryStore(new SqliteDatabase(database));
        await directory.UpsertPeople([.. people.Select(id => PersonProfile.Minimal(id))]);
        SqliteConnection.ClearAllPools();
        var builder = new InProcessTestClusterBuilder((short)silos);
        configure?.Invoke(builder);
        builder.ConfigureSilo((_, s) =>
        {
            silo?.Invoke(s);
            s.Services.AddSingleton(time);
            s.Services.UseTimeProviderForBackgroundAreas(TimeProvider.System);
            s.AddHeraldSqliteStorage(database);
            s.AddHeraldPresence(o => o.SiloWatchRenewal = siloWatchRenewal);
        });
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }
}
