using Orleans.Storage;

namespace Herald.Cluster.Storage;

/// <summary>Options for one named <see cref="SqliteGrainStorage"/> provider.</summary>
public sealed class SqliteGrainStorageOptions : IStorageProviderSerializerOptions
{
    /// <summary>
    /// Path to the SQLite database file holding the <c>grain_state</c> table. Required.
    /// The parent directory is created if missing.
    /// </summary>
    public string DatabasePath { get; set; } = string.Empty;

    /// <summary>
    /// The serializer used for grain state payloads. When left unset it is filled in from the
    /// silo's configured <see cref="IGrainStorageSerializer"/> (e.g. by
    /// <c>UseSystemTextJsonGrainStorageSerializer()</c>).
    /// </summary>
    public IGrainStorageSerializer GrainStorageSerializer { get; set; } = null!;
}
