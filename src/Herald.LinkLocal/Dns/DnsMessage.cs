using System.Net;

namespace Herald.LinkLocal.Dns;

/// <summary>The DNS record types link-local presence uses (RFC 1035, RFC 2782, RFC 6763).</summary>
public enum DnsType : ushort
{
    /// <summary>IPv4 host address.</summary>
    A = 1,
    /// <summary>Domain name pointer (DNS-SD browse).</summary>
    Ptr = 12,
    /// <summary>Text strings (DNS-SD key/value pairs).</summary>
    Txt = 16,
    /// <summary>IPv6 host address (decoded, never announced).</summary>
    Aaaa = 28,
    /// <summary>Service location.</summary>
    Srv = 33,
    /// <summary>NSEC (negative answers; decoded as opaque data).</summary>
    Nsec = 47,
    /// <summary>Any type (queries only).</summary>
    Any = 255,
}

/// <summary>One question of a DNS message.</summary>
/// <param name="Name">The name asked about (no trailing dot, e.g. "_presence._tcp.local").</param>
/// <param name="Type">The type asked for.</param>
/// <param name="UnicastResponse">The mDNS "QU" bit: the asker prefers a unicast answer.</param>
public sealed record DnsQuestion(string Name, DnsType Type, bool UnicastResponse = false);

/// <summary>The data of a resource record.</summary>
public abstract record DnsRecordData;

/// <summary>PTR data.</summary>
public sealed record PtrData(string Target) : DnsRecordData;

/// <summary>SRV data.</summary>
public sealed record SrvData(ushort Priority, ushort Weight, ushort Port, string Target) : DnsRecordData;

/// <summary>TXT data: the character strings, each at most 255 bytes.</summary>
public sealed record TxtData(IReadOnlyList<byte[]> Strings) : DnsRecordData
{
    /// <inheritdoc />
    public bool Equals(TxtData? other) =>
        other is not null && Strings.Count == other.Strings.Count && Strings.Zip(other.Strings).All(p => p.First.AsSpan().SequenceEqual(p.Second));

    /// <inheritdoc />
    public override int GetHashCode() => Strings.Count;
}

/// <summary>A or AAAA data.</summary>
public sealed record AddressData(IPAddress Address) : DnsRecordData;

/// <summary>Data of a type this codec does not interpret.</summary>
public sealed record OpaqueData(byte[] Bytes) : DnsRecordData
{
    /// <inheritdoc />
    public bool Equals(OpaqueData? other) => other is not null && Bytes.AsSpan().SequenceEqual(other.Bytes);

    /// <inheritdoc />
    public override int GetHashCode() => Bytes.Length;
}

/// <summary>One resource record.</summary>
/// <param name="Name">The owner name (no trailing dot).</param>
/// <param name="Type">The record type.</param>
/// <param name="Ttl">Time to live in seconds; 0 = goodbye (RFC 6762 §10.1).</param>
/// <param name="Data">The record data.</param>
/// <param name="CacheFlush">The mDNS cache-flush bit (top bit of the class): this record replaces older ones of its name and type.</param>
public sealed record DnsRecord(string Name, DnsType Type, uint Ttl, DnsRecordData Data, bool CacheFlush = false);

/// <summary>A DNS message as mDNS uses it.</summary>
public sealed record DnsMessage(
    ushort Id,
    bool IsResponse,
    IReadOnlyList<DnsQuestion> Questions,
    IReadOnlyList<DnsRecord> Answers,
    IReadOnlyList<DnsRecord> Authorities,
    IReadOnlyList<DnsRecord> Additionals)
{
    /// <summary>An mDNS query (id 0).</summary>
    public static DnsMessage Query(params DnsQuestion[] questions) => new(0, false, questions, [], [], []);

    /// <summary>An mDNS response (id 0, authoritative).</summary>
    public static DnsMessage Response(IReadOnlyList<DnsRecord> answers, IReadOnlyList<DnsRecord>? additionals = null) =>
        new(0, true, [], answers, [], additionals ?? []);
}

/// <summary>Malformed or over-limit DNS input.</summary>
public sealed class DnsFormatException(string message) : Exception(message);
