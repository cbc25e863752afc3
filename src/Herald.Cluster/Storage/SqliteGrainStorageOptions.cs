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
    /// The serializer of unmarked payloads: it reads rows written before the binary format (session 5), and writes
    /// when <see cref="PayloadFormat"/> is <see cref="SqlitePayloadFormat.GrainStorageSerializer"/> or a state type
    /// has no Orleans codec. When left unset it is filled in from the silo's configured
    /// <see cref="IGrainStorageSerializer"/> (e.g. by <c>UseSystemTextJsonGrainStorageSerializer()</c>).
    /// </summary>
    public IGrainStorageSerializer GrainStorageSerializer { get; set; } = null!;

    /// <summary>
    /// The format payloads are written in (every format is always read). Default
    /// <see cref="SqlitePayloadFormat.OrleansBinary"/>; <see cref="SqlitePayloadFormat.GrainStorageSerializer"/> keeps
    /// the pre-session-5 format, which earlier versions can read (staged upgrade, rollback).
    /// </summary>
    public SqlitePayloadFormat PayloadFormat { get; set; } = SqlitePayloadFormat.OrleansBinary;
}
