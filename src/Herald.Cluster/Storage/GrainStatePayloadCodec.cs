using System.Collections.Concurrent;
using Orleans.Serialization;
using Orleans.Serialization.Buffers;
using Orleans.Storage;

namespace Herald.Cluster.Storage;

/// <summary>How <see cref="SqliteGrainStorage"/> writes a state payload. Every format is always readable.</summary>
public enum SqlitePayloadFormat
{
    /// <summary>
    /// Orleans' binary serializer behind a two-byte marker (<c>0x00 0x01</c>). Version tolerant through the
    /// <c>[Id]</c> of every member. A state type without an Orleans codec is written as
    /// <see cref="GrainStorageSerializer"/> instead. The default.
    /// </summary>
    OrleansBinary = 0,

    /// <summary>
    /// The configured <see cref="IGrainStorageSerializer"/> (System.Text.Json in Herald), unmarked: the format
    /// written before session 5, readable by earlier versions (for a staged upgrade or a rollback).
    /// </summary>
    GrainStorageSerializer = 1,
}

/// <summary>
/// Encodes and decodes the <c>payload</c> column of <c>grain_state</c>. A payload that starts with the byte
/// <see cref="Marker"/> carries its format in the second byte (<see cref="OrleansBinaryV1"/> = Orleans' binary
/// serializer); any other payload is a legacy one written by the configured <see cref="IGrainStorageSerializer"/>
/// (JSON text, which never starts with a NUL byte) and is decoded with it.
/// </summary>
public sealed class GrainStatePayloadCodec
{
    /// <summary>First byte of a marked payload (never the first byte of JSON text).</summary>
    public const byte Marker = 0x00;

    /// <summary>Second byte of a marked payload: Orleans' binary serializer follows.</summary>
    public const byte OrleansBinaryV1 = 0x01;

    private readonly Serializer _binary;
    private readonly IGrainStorageSerializer _legacy;
    private readonly SqlitePayloadFormat _format;
    private readonly ConcurrentDictionary<Type, bool> _hasCodec = new();

    /// <summary>Creates the codec.</summary>
    /// <param name="binary">Orleans' serializer (the silo's, so it knows every generated codec).</param>
    /// <param name="legacy">Reads unmarked payloads, and writes when <paramref name="format"/> says so.</param>
    /// <param name="format">The format written.</param>
    public GrainStatePayloadCodec(Serializer binary, IGrainStorageSerializer legacy, SqlitePayloadFormat format)
    {
        ArgumentNullException.ThrowIfNull(binary);
        ArgumentNullException.ThrowIfNull(legacy);
        if (!Enum.IsDefined(format))
        {
            throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown payload format.");
        }
        _binary = binary;
        _legacy = legacy;
        _format = format;
    }

    /// <summary>The format written.</summary>
    public SqlitePayloadFormat Format => _format;

    /// <summary>Encodes <paramref name="state"/> into a new array of exactly the payload's length.</summary>
    public byte[] Encode<T>(T state)
    {
        if (_format == SqlitePayloadFormat.OrleansBinary && HasCodec<T>())
        {
            using var session = _binary.SessionPool.GetSession();
            var writer = Writer.CreatePooled(session);
            try
            {
                writer.WriteByte(Marker);
                writer.WriteByte(OrleansBinaryV1);
                _binary.Serialize(state, ref writer);
                return writer.Output.ToArray();
            }
            finally
            {
                writer.Dispose();
            }
        }

        var data = _legacy.Serialize(state);
        return data.ToArray();
    }

    /// <summary>Decodes a payload of any format ever written.</summary>
    /// <exception cref="InvalidDataException">The payload is marked with a format this version does not know.</exception>
    public T? Decode<T>(byte[] payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        if (payload.Length > 0 && payload[0] == Marker)
        {
            if (payload.Length >= 2 && payload[1] == OrleansBinaryV1)
            {
                return _binary.Deserialize<T>(new ReadOnlySpan<byte>(payload, 2, payload.Length - 2));
            }
            throw new InvalidDataException(
                $"Grain state payload has unknown format marker {(payload.Length >= 2 ? payload[1] : -1)}; it was written by a newer version of Herald.");
        }
        return _legacy.Deserialize<T>(new BinaryData(payload));
    }

    /// <summary>The format of a stored payload: marked binary, or legacy (the configured serializer).</summary>
    public static SqlitePayloadFormat FormatOf(ReadOnlySpan<byte> payload) =>
        payload.Length >= 2 && payload[0] == Marker && payload[1] == OrleansBinaryV1
            ? SqlitePayloadFormat.OrleansBinary
            : SqlitePayloadFormat.GrainStorageSerializer;

    private bool HasCodec<T>() => _hasCodec.GetOrAdd(typeof(T), static (type, serializer) => serializer.CanSerialize(type), _binary);
}
