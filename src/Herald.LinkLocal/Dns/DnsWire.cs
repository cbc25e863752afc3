using System.Buffers.Binary;
using System.Net;
using System.Text;

namespace Herald.LinkLocal.Dns;

/// <summary>
/// The DNS wire format (RFC 1035 §4) with the mDNS class bits (RFC 6762 §10.2, §18.12): encode with name
/// compression, decode with hard limits. Names are dotted strings; a '.' or '\' inside a label is escaped with '\'
/// (the DNS-SD convention, RFC 6763 §4.3).
/// </summary>
public static class DnsWire
{
    /// <summary>Largest message accepted or produced (RFC 6762 §17: 9000 bytes on the link).</summary>
    public const int MaxMessageBytes = 9000;

    /// <summary>Most records accepted in one message (all sections).</summary>
    public const int MaxRecords = 256;

    /// <summary>Largest encoded name (RFC 1035 §3.1).</summary>
    public const int MaxNameBytes = 255;

    /// <summary>Largest label (RFC 1035 §3.1).</summary>
    public const int MaxLabelBytes = 63;

    /// <summary>Most compression pointers followed while reading one name.</summary>
    public const int MaxPointerJumps = 32;

    private const ushort ClassIn = 1;
    private const ushort TopBit = 0x8000;

    /// <summary>Encodes <paramref name="message"/>.</summary>
    /// <exception cref="DnsFormatException">A name, label, string or the message is over its limit.</exception>
    public static byte[] Encode(DnsMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var w = new Writer();
        w.U16(message.Id);
        w.U16(message.IsResponse ? (ushort)0x8400 : (ushort)0); // QR + AA for responses; opcode 0, rcode 0
        w.U16(Count(message.Questions.Count));
        w.U16(Count(message.Answers.Count));
        w.U16(Count(message.Authorities.Count));
        w.U16(Count(message.Additionals.Count));
        foreach (var q in message.Questions)
        {
            w.Name(q.Name);
            w.U16((ushort)q.Type);
            w.U16((ushort)(ClassIn | (q.UnicastResponse ? TopBit : 0)));
        }
        foreach (var r in message.Answers.Concat(message.Authorities).Concat(message.Additionals))
        {
            WriteRecord(w, r);
        }
        var bytes = w.ToArray();
        if (bytes.Length > MaxMessageBytes)
        {
            throw new DnsFormatException($"Message of {bytes.Length} bytes exceeds {MaxMessageBytes}.");
        }
        return bytes;
    }

    private static ushort Count(int n) =>
        n <= MaxRecords ? (ushort)n : throw new DnsFormatException($"More than {MaxRecords} entries in a section.");

    private static void WriteRecord(Writer w, DnsRecord r)
    {
        w.Name(r.Name);
        w.U16((ushort)r.Type);
        w.U16((ushort)(ClassIn | (r.CacheFlush ? TopBit : 0)));
        w.U32(r.Ttl);
        var lengthAt = w.Position;
        w.U16(0);
        var start = w.Position;
        switch (r.Data)
        {
            case PtrData p:
                w.Name(p.Target);
                break;
            case SrvData s:
                w.U16(s.Priority);
                w.U16(s.Weight);
                w.U16(s.Port);
                w.Name(s.Target, compress: false); // RFC 2782: the SRV target is not compressed
                break;
            case TxtData t:
                if (t.Strings.Count == 0)
                {
                    w.Byte(0); // RFC 6763 §6.1: an empty TXT record holds one empty string
                }
                foreach (var s in t.Strings)
                {
                    if (s.Length > 255)
                    {
                        throw new DnsFormatException("A TXT string is longer than 255 bytes.");
                    }
                    w.Byte((byte)s.Length);
                    w.Bytes(s);
                }
                break;
            case AddressData a:
                w.Bytes(a.Address.GetAddressBytes());
                break;
            case OpaqueData o:
                w.Bytes(o.Bytes);
                break;
            default:
                throw new DnsFormatException($"Cannot encode {r.Data.GetType().Name}.");
        }
        w.PatchU16(lengthAt, checked((ushort)(w.Position - start)));
    }

    /// <summary>Decodes one message.</summary>
    /// <exception cref="DnsFormatException">The input is malformed or over a limit.</exception>
    public static DnsMessage Decode(ReadOnlySpan<byte> data)
    {
        if (data.Length > MaxMessageBytes)
        {
            throw new DnsFormatException($"Message of {data.Length} bytes exceeds {MaxMessageBytes}.");
        }
        if (data.Length < 12)
        {
            throw new DnsFormatException("Message shorter than the 12-byte header.");
        }
        var buf = data.ToArray();
        var pos = 0;
        var id = ReadU16(buf, ref pos);
        var flags = ReadU16(buf, ref pos);
        int qd = ReadU16(buf, ref pos), an = ReadU16(buf, ref pos), ns = ReadU16(buf, ref pos), ar = ReadU16(buf, ref pos);
        if (qd + an + ns + ar > MaxRecords)
        {
            throw new DnsFormatException($"More than {MaxRecords} entries in a message.");
        }
        var questions = new List<DnsQuestion>(qd);
        for (var i = 0; i < qd; i++)
        {
            var name = ReadName(buf, ref pos);
            var type = ReadU16(buf, ref pos);
            var cls = ReadU16(buf, ref pos);
            questions.Add(new DnsQuestion(name, (DnsType)type, (cls & TopBit) != 0));
        }
        var answers = ReadRecords(buf, ref pos, an);
        var authorities = ReadRecords(buf, ref pos, ns);
        var additionals = ReadRecords(buf, ref pos, ar);
        return new DnsMessage(id, (flags & 0x8000) != 0, questions, answers, authorities, additionals);
    }

    private static List<DnsRecord> ReadRecords(byte[] buf, ref int pos, int count)
    {
        var list = new List<DnsRecord>(count);
        for (var i = 0; i < count; i++)
        {
            var name = ReadName(buf, ref pos);
            var type = (DnsType)ReadU16(buf, ref pos);
            var cls = ReadU16(buf, ref pos);
            var ttl = ReadU32(buf, ref pos);
            var len = ReadU16(buf, ref pos);
            if (pos + len > buf.Length)
            {
                throw new DnsFormatException("Record data runs past the end of the message.");
            }
            var end = pos + len;
            DnsRecordData data;
            switch (type)
            {
                case DnsType.Ptr:
                    data = new PtrData(ReadName(buf, ref pos));
                    break;
                case DnsType.Srv:
                    var prio = ReadU16(buf, ref pos);
                    var weight = ReadU16(buf, ref pos);
                    var port = ReadU16(buf, ref pos);
                    data = new SrvData(prio, weight, port, ReadName(buf, ref pos));
                    break;
                case DnsType.Txt:
                    var strings = new List<byte[]>();
                    while (pos < end)
                    {
                        var l = buf[pos++];
                        if (pos + l > end)
                        {
                            throw new DnsFormatException("A TXT string runs past its record.");
                        }
                        strings.Add(buf[pos..(pos + l)]);
                        pos += l;
                    }
                    data = new TxtData(strings);
                    break;
                case DnsType.A when len == 4:
                case DnsType.Aaaa when len == 16:
                    data = new AddressData(new IPAddress(buf.AsSpan(pos, len)));
                    pos = end;
                    break;
                case DnsType.A or DnsType.Aaaa:
                    throw new DnsFormatException($"Address record of {len} bytes.");
                default:
                    data = new OpaqueData(buf[pos..end]);
                    pos = end;
                    break;
            }
            if (pos != end)
            {
                throw new DnsFormatException($"{type} record data length {len} does not match its content.");
            }
            list.Add(new DnsRecord(name, type, ttl, data, (cls & TopBit) != 0));
        }
        return list;
    }

    private static ushort ReadU16(byte[] buf, ref int pos)
    {
        if (pos + 2 > buf.Length)
        {
            throw new DnsFormatException("Message truncated.");
        }
        var v = BinaryPrimitives.ReadUInt16BigEndian(buf.AsSpan(pos));
        pos += 2;
        return v;
    }

    private static uint ReadU32(byte[] buf, ref int pos)
    {
        if (pos + 4 > buf.Length)
        {
            throw new DnsFormatException("Message truncated.");
        }
        var v = BinaryPrimitives.ReadUInt32BigEndian(buf.AsSpan(pos));
        pos += 4;
        return v;
    }

    /// <summary>Reads a possibly compressed name; pointers must point strictly backwards (no loops).</summary>
    private static string ReadName(byte[] buf, ref int pos)
    {
        var sb = new StringBuilder();
        var p = pos;
        var jumps = 0;
        var total = 0;
        var resume = -1;
        while (true)
        {
            if (p >= buf.Length)
            {
                throw new DnsFormatException("Name runs past the end of the message.");
            }
            var len = buf[p];
            if ((len & 0xC0) == 0xC0)
            {
                if (p + 1 >= buf.Length)
                {
                    throw new DnsFormatException("Truncated compression pointer.");
                }
                var target = ((len & 0x3F) << 8) | buf[p + 1];
                if (target >= p || ++jumps > MaxPointerJumps)
                {
                    throw new DnsFormatException("Invalid compression pointer.");
                }
                if (resume < 0)
                {
                    resume = p + 2;
                }
                p = target;
                continue;
            }
            if ((len & 0xC0) != 0)
            {
                throw new DnsFormatException("Unsupported label type.");
            }
            p++;
            if (len == 0)
            {
                break;
            }
            if (p + len > buf.Length)
            {
                throw new DnsFormatException("Label runs past the end of the message.");
            }
            total += len + 1;
            if (total > MaxNameBytes)
            {
                throw new DnsFormatException($"Name longer than {MaxNameBytes} bytes.");
            }
            if (sb.Length > 0)
            {
                sb.Append('.');
            }
            var label = Encoding.UTF8.GetString(buf, p, len);
            sb.Append(label.Replace("\\", "\\\\", StringComparison.Ordinal).Replace(".", "\\.", StringComparison.Ordinal));
            p += len;
        }
        pos = resume >= 0 ? resume : p;
        return sb.ToString();
    }

    /// <summary>Splits a dotted name into labels, honouring '\' escapes.</summary>
    public static List<string> Labels(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var labels = new List<string>();
        var sb = new StringBuilder();
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (c == '\\' && i + 1 < name.Length)
            {
                sb.Append(name[++i]);
            }
            else if (c == '.')
            {
                labels.Add(sb.ToString());
                sb.Clear();
            }
            else
            {
                sb.Append(c);
            }
        }
        if (sb.Length > 0)
        {
            labels.Add(sb.ToString());
        }
        return labels;
    }

    /// <summary>Escapes one label for use in a dotted name.</summary>
    public static string EscapeLabel(string label) =>
        label.Replace("\\", "\\\\", StringComparison.Ordinal).Replace(".", "\\.", StringComparison.Ordinal);

    /// <summary>DNS names compare case-insensitively (ASCII).</summary>
    public static bool SameName(string a, string b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);

    private sealed class Writer
    {
        private readonly List<byte> _s = new(512);
        private readonly Dictionary<string, int> _names = new(StringComparer.OrdinalIgnoreCase);

        public int Position => _s.Count;

        public void Byte(byte b) => _s.Add(b);

        public void Bytes(byte[] b) => _s.AddRange(b);

        public void U16(ushort v)
        {
            _s.Add((byte)(v >> 8));
            _s.Add((byte)v);
        }

        public void U32(uint v)
        {
            U16((ushort)(v >> 16));
            U16((ushort)v);
        }

        public void PatchU16(int at, ushort v)
        {
            _s[at] = (byte)(v >> 8);
            _s[at + 1] = (byte)v;
        }

        public void Name(string name, bool compress = true)
        {
            var labels = Labels(name);
            var encoded = labels.Sum(l => Encoding.UTF8.GetByteCount(l) + 1) + 1;
            if (encoded > MaxNameBytes)
            {
                throw new DnsFormatException($"Name '{name}' is longer than {MaxNameBytes} bytes.");
            }
            for (var i = 0; i < labels.Count; i++)
            {
                var suffix = string.Join('.', labels.Skip(i).Select(EscapeLabel));
                if (compress && _names.TryGetValue(suffix, out var at))
                {
                    U16((ushort)(0xC000 | at));
                    return;
                }
                if (Position < 0x3FFF)
                {
                    _names.TryAdd(suffix, Position);
                }
                var bytes = Encoding.UTF8.GetBytes(labels[i]);
                if (bytes.Length is 0 or > MaxLabelBytes)
                {
                    throw new DnsFormatException($"Label '{labels[i]}' must be 1 to {MaxLabelBytes} bytes.");
                }
                Byte((byte)bytes.Length);
                Bytes(bytes);
            }
            Byte(0);
        }

        public byte[] ToArray() => [.. _s];
    }
}
