using System.Net;
using System.Text;
using Herald.LinkLocal.Dns;

namespace Herald.LinkLocal.Tests;

public sealed class DnsWireTests
{
    private static readonly DnsRecord[] Records =
    [
        new("_presence._tcp.local", DnsType.Ptr, 4500, new PtrData("alice@host._presence._tcp.local")),
        new("alice@host._presence._tcp.local", DnsType.Srv, 120, new SrvData(0, 0, 5298, "alice-host.local"), CacheFlush: true),
        new("alice@host._presence._tcp.local", DnsType.Txt, 4500,
            new TxtData([Encoding.UTF8.GetBytes("txtvers=1"), Encoding.UTF8.GetBytes("status=dnd")]), CacheFlush: true),
        new("alice-host.local", DnsType.A, 120, new AddressData(IPAddress.Parse("169.254.1.2")), CacheFlush: true),
    ];

    [Fact]
    public void A_response_round_trips_with_every_record_type_and_the_cache_flush_bit()
    {
        var bytes = DnsWire.Encode(DnsMessage.Response(Records[..2], Records[2..]));
        var m = DnsWire.Decode(bytes);
        Assert.True(m.IsResponse);
        Assert.Equal(0, m.Id);
        Assert.Equal(Records[..2], m.Answers);
        Assert.Equal(Records[2..], m.Additionals);
        Assert.False(m.Answers[0].CacheFlush);
        Assert.True(m.Answers[1].CacheFlush);
    }

    [Fact]
    public void Header_flags_and_class_bits_are_on_the_wire_as_RFC_6762_says()
    {
        var bytes = DnsWire.Encode(DnsMessage.Response([Records[1]]));
        Assert.Equal(0x84, bytes[2]); // QR + AA
        Assert.Equal(0x00, bytes[3]);
        // name, type SRV (33), class IN with the cache-flush bit (0x8001), TTL 120
        var name = DnsWire.Labels(Records[1].Name).Sum(l => Encoding.UTF8.GetByteCount(l) + 1) + 1;
        var at = 12 + name;
        Assert.Equal(new byte[] { 0, 33, 0x80, 0x01, 0, 0, 0, 120 }, bytes[at..(at + 8)]);
    }

    [Fact]
    public void Names_are_compressed_and_compressed_names_decode()
    {
        var bytes = DnsWire.Encode(DnsMessage.Response(Records));
        var plain = Records.Sum(r => DnsWire.Labels(r.Name).Sum(l => l.Length + 1) + 1);
        Assert.True(bytes.Length < 12 + plain + 100, "expected compression pointers");
        Assert.Equal(Records, DnsWire.Decode(bytes).Answers);
    }

    [Fact]
    public void A_query_with_the_unicast_response_bit_round_trips()
    {
        var m = DnsWire.Decode(DnsWire.Encode(DnsMessage.Query(new DnsQuestion("_presence._tcp.local", DnsType.Ptr, true))));
        Assert.False(m.IsResponse);
        Assert.Equal(new DnsQuestion("_presence._tcp.local", DnsType.Ptr, true), Assert.Single(m.Questions));
    }

    [Fact]
    public void Dots_inside_an_instance_label_are_escaped()
    {
        var name = DnsWire.EscapeLabel("J. Doe@host") + "._presence._tcp.local";
        var m = DnsWire.Decode(DnsWire.Encode(DnsMessage.Response([new DnsRecord(name, DnsType.Txt, 1, new TxtData([]))])));
        Assert.Equal(name, m.Answers[0].Name);
        Assert.Equal("J. Doe@host", DnsWire.Labels(m.Answers[0].Name)[0]);
        Assert.Equal([Array.Empty<byte>()], ((TxtData)m.Answers[0].Data).Strings); // an empty TXT holds one empty string
    }

    [Fact]
    public void Unknown_types_are_kept_opaque()
    {
        var r = new DnsRecord("x.local", DnsType.Nsec, 10, new OpaqueData([1, 2, 3]));
        Assert.Equal(r, Assert.Single(DnsWire.Decode(DnsWire.Encode(DnsMessage.Response([r]))).Answers));
    }

    [Theory]
    [InlineData("short header", new byte[] { 0, 0, 0x84 })]
    [InlineData("count but no record", new byte[] { 0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0 })]
    [InlineData("pointer to itself", new byte[] { 0, 0, 0x84, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1 })]
    [InlineData("forward pointer", new byte[] { 0, 0, 0x84, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 20, 0, 1, 0, 1 })]
    [InlineData("label past end", new byte[] { 0, 0, 0x84, 0, 0, 1, 0, 0, 0, 0, 0, 0, 9, 0x61 })]
    [InlineData("rdlength past end", new byte[] { 0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 9, 1 })]
    [InlineData("A record of 3 bytes", new byte[] { 0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 3, 1, 2, 3 })]
    [InlineData("too many records", new byte[] { 0, 0, 0x84, 0, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0 })]
    public void Malformed_input_is_a_format_error_never_a_crash(string why, byte[] data)
    {
        var e = Assert.Throws<DnsFormatException>(() => DnsWire.Decode(data));
        Assert.False(string.IsNullOrEmpty(e.Message), why);
    }

    [Fact]
    public void Oversized_messages_names_and_strings_are_refused()
    {
        Assert.Throws<DnsFormatException>(() => DnsWire.Decode(new byte[DnsWire.MaxMessageBytes + 1]));
        Assert.Throws<DnsFormatException>(() => DnsWire.Encode(DnsMessage.Response([new DnsRecord(new string('a', 64) + ".local", DnsType.A, 1,
            new AddressData(IPAddress.Loopback))])));
        Assert.Throws<DnsFormatException>(() => DnsWire.Encode(DnsMessage.Response([new DnsRecord("x.local", DnsType.Txt, 1,
            new TxtData([new byte[256]]))])));
        var longName = string.Join('.', Enumerable.Repeat(new string('a', 60), 5));
        Assert.Throws<DnsFormatException>(() => DnsWire.Encode(DnsMessage.Query(new DnsQuestion(longName, DnsType.A))));
    }

    [Fact]
    public void Random_garbage_never_throws_anything_but_a_format_error()
    {
        var rng = new Random(174);
        var valid = DnsWire.Encode(DnsMessage.Response(Records));
        for (var i = 0; i < 2000; i++)
        {
            var data = (byte[])valid.Clone();
            for (var k = 0; k < 1 + rng.Next(6); k++)
            {
                data[rng.Next(data.Length)] = (byte)rng.Next(256);
            }
            var cut = data[..rng.Next(data.Length + 1)];
            try
            {
                DnsWire.Decode(cut);
            }
            catch (DnsFormatException)
            {
            }
        }
    }
}
