using System.Net;
using System.Text;
using Herald.Core.Model;
using Herald.LinkLocal.Dns;

namespace Herald.LinkLocal.Tests;

public sealed class RecordCacheTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 27, 10, 0, 0, TimeSpan.Zero);
    private const string Service = "_presence._tcp.local";
    private const string Carol = "carol@zc._presence._tcp.local";

    private static TxtData Txt(params string[] s) => new(s.Select(Encoding.UTF8.GetBytes).ToList());

    private static void AddCarol(RecordCache c, DateTimeOffset at, string status = "avail", uint ttl = 120)
    {
        c.Add(new DnsRecord(Service, DnsType.Ptr, 4500, new PtrData(Carol)), at);
        c.Add(new DnsRecord(Carol, DnsType.Srv, ttl, new SrvData(0, 0, 5298, "carol.local"), true), at);
        c.Add(new DnsRecord(Carol, DnsType.Txt, 4500, Txt("txtvers=1", "status=" + status), true), at);
        c.Add(new DnsRecord("carol.local", DnsType.A, ttl, new AddressData(IPAddress.Parse("169.254.9.9")), true), at);
    }

    private static List<LinkPeer> Peers(RecordCache c, string? own = null) => c.Peers(Service, own, []);

    [Fact]
    public void A_browsed_instance_becomes_a_peer_with_address_and_port()
    {
        var c = new RecordCache();
        AddCarol(c, T0);
        var p = Assert.Single(Peers(c));
        Assert.Equal(("carol@zc", 5298, "169.254.9.9"), (p.Instance, p.Port, p.Address?.ToString()));
        Assert.Empty(Peers(c, Carol));
    }

    [Fact]
    public void An_instance_without_its_TXT_is_incomplete_and_not_shown_yet()
    {
        var c = new RecordCache();
        c.Add(new DnsRecord(Service, DnsType.Ptr, 4500, new PtrData(Carol)), T0);
        var incomplete = new List<string>();
        Assert.Empty(c.Peers(Service, null, incomplete));
        Assert.Equal([Carol], incomplete);
    }

    [Fact]
    public void A_cache_flush_TXT_replaces_the_old_one_at_once_for_display_and_retires_it_a_second_later()
    {
        var c = new RecordCache();
        AddCarol(c, T0);
        c.Add(new DnsRecord(Carol, DnsType.Txt, 4500, Txt("txtvers=1", "status=dnd"), true), T0.AddSeconds(5));
        Assert.Equal(Availability.DoNotDisturb, Assert.Single(Peers(c)).Availability);
        Assert.Equal(2, c.Get(Carol, DnsType.Txt).Count());
        c.Sweep(T0.AddSeconds(6.5));
        Assert.Single(c.Get(Carol, DnsType.Txt));
    }

    [Fact]
    public void A_goodbye_removes_the_peer_one_second_later()
    {
        var c = new RecordCache();
        AddCarol(c, T0);
        c.Add(new DnsRecord(Service, DnsType.Ptr, 0, new PtrData(Carol)), T0.AddSeconds(10));
        Assert.False(c.Sweep(T0.AddSeconds(10.5)).Changed);
        Assert.Single(Peers(c));
        Assert.True(c.Sweep(T0.AddSeconds(11)).Changed);
        Assert.Empty(Peers(c));
    }

    [Fact]
    public void Records_expire_after_their_TTL_and_are_queried_again_at_80_and_90_percent()
    {
        var c = new RecordCache();
        AddCarol(c, T0, ttl: 100);
        var (changed, refresh) = c.Sweep(T0.AddSeconds(79));
        Assert.False(changed);
        Assert.Empty(refresh);
        refresh = c.Sweep(T0.AddSeconds(80)).Refresh;
        Assert.Contains(new DnsQuestion(Carol, DnsType.Srv), refresh);
        Assert.Contains(new DnsQuestion("carol.local", DnsType.A), refresh);
        Assert.Empty(c.Sweep(T0.AddSeconds(85)).Refresh);
        Assert.NotEmpty(c.Sweep(T0.AddSeconds(90)).Refresh);
        Assert.True(c.Sweep(T0.AddSeconds(100)).Changed);
        var p = Assert.Single(Peers(c)); // PTR and TXT (TTL 4500) are still alive; SRV and A are gone
        Assert.Null(p.Address);
    }

    [Fact]
    public void A_refreshed_record_lives_on()
    {
        var c = new RecordCache();
        AddCarol(c, T0, ttl: 100);
        AddCarol(c, T0.AddSeconds(90), ttl: 100);
        c.Sweep(T0.AddSeconds(150));
        Assert.NotNull(Assert.Single(Peers(c)).Address);
    }

    [Fact]
    public void The_cache_is_bounded()
    {
        var c = new RecordCache();
        for (var i = 0; i < RecordCache.MaxEntries + 10; i++)
        {
            c.Add(new DnsRecord(Service, DnsType.Ptr, 4500, new PtrData($"p{i}.{Service}")), T0);
        }
        Assert.Equal(RecordCache.MaxEntries, c.Count);
    }
}
