using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Herald.Core.Model;
using Herald.LinkLocal.Dns;

namespace Herald.LinkLocal.Tests;

/// <summary>Two nodes in one process on the loopback interface (multicast looped back).</summary>
[Collection("link")]
public sealed class LinkLocalNodeTests
{
    private static LinkLocalNode Node(string name, string host, Availability a = Availability.Available, string? note = null) =>
        new(new LinkPeerOptions { Name = name, Host = host, Interface = "lo", ShareNote = true },
            new LocalStatus(a, note, null, DateTimeOffset.UtcNow));

    private static async Task Until(Func<bool> condition, TimeSpan timeout, string what)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(sw.Elapsed < timeout, $"timed out waiting for {what}");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task Garbage_on_the_mDNS_port_is_dropped_and_the_node_keeps_working()
    {
        var tag = Guid.NewGuid().ToString("N")[..6];
        await using var a = Node("ann", "h" + tag + "a");
        await using var b = Node("ben", "h" + tag + "b", Availability.Busy, "call");
        await a.StartAsync();
        using (var junk = new UdpClient(AddressFamily.InterNetwork))
        {
            junk.Client.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastInterface, IPAddress.Loopback.GetAddressBytes());
            var rng = new Random(5353);
            for (var i = 0; i < 200; i++)
            {
                var bytes = new byte[rng.Next(0, 600)];
                rng.NextBytes(bytes);
                await junk.SendAsync(bytes, new IPEndPoint(MdnsSocket.Group, MdnsSocket.Port));
            }
            // A response claiming huge counts and a compression loop.
            await junk.SendAsync(new byte[] { 0, 0, 0x84, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1 }, new IPEndPoint(MdnsSocket.Group, MdnsSocket.Port));
        }
        await b.StartAsync();
        await Until(() => a.Find("ben") is { Address: not null } p && p.Availability == Availability.Busy && p.Note == "call", TimeSpan.FromSeconds(10), "ben");
        await b.SetStatusAsync(b.Status with { Availability = Availability.Available, Note = null });
        await Until(() => a.Find("ben") is { Availability: Availability.Available, Note: null }, TimeSpan.FromSeconds(2), "ben available");
        var r = await a.SendMessageAsync(a.Find("ben")!, "hello");
        Assert.True(r.Delivered, r.Error);
    }

    [Fact]
    public async Task A_legacy_unicast_query_gets_a_direct_answer_with_the_query_id()
    {
        var tag = Guid.NewGuid().ToString("N")[..6];
        await using var a = Node("cid", "h" + tag);
        await a.StartAsync();
        using var q = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        q.Client.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastInterface, IPAddress.Loopback.GetAddressBytes());
        var query = new DnsMessage(4242, false, [new DnsQuestion(a.InstanceName, DnsType.Txt)], [], [], []);
        await q.SendAsync(DnsWire.Encode(query), new IPEndPoint(MdnsSocket.Group, MdnsSocket.Port));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        var reply = DnsWire.Decode((await q.ReceiveAsync(cts.Token)).Buffer);
        Assert.Equal(4242, reply.Id);
        Assert.True(reply.IsResponse);
        Assert.Equal(query.Questions, reply.Questions);
        var txt = Assert.Single(reply.Answers, r => r.Type == DnsType.Txt);
        Assert.True(txt.Ttl <= 10);
        Assert.False(txt.CacheFlush);
        Assert.Equal("avail", TxtMapping.Parse((TxtData)txt.Data)["status"]);
    }
}
