using System.Net;

namespace Herald.LinkLocal.Dns;

/// <summary>
/// The mDNS record cache of a browser (RFC 6762 §10): records expire after their TTL, a goodbye (TTL 0) removes a
/// record one second later, a cache-flush record retires older records of its name and type one second after they
/// were received (§10.2), and records nearing their end are queried again at 80% and 90% of their lifetime (§5.2).
/// Not thread-safe: the owner serializes access. Bounded: at most <see cref="MaxEntries"/> records.
/// </summary>
public sealed class RecordCache
{
    /// <summary>Most records kept; further records are ignored until some expire.</summary>
    public const int MaxEntries = 4096;

    /// <summary>Longest TTL honoured (seconds); larger values are clamped.</summary>
    public const uint MaxTtl = 24 * 3600;

    private readonly List<Entry> _entries = [];

    private sealed class Entry(DnsRecord record, DateTimeOffset received, DateTimeOffset expires)
    {
        public DnsRecord Record { get; set; } = record;
        public DateTimeOffset Received { get; set; } = received;
        public DateTimeOffset Expires { get; set; } = expires;
        public int Refreshes { get; set; }
    }

    /// <summary>Records currently held.</summary>
    public int Count => _entries.Count;

    /// <summary>Adds or refreshes a record received at <paramref name="now"/>.</summary>
    public void Add(DnsRecord record, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (record.CacheFlush && record.Ttl > 0)
        {
            foreach (var e in _entries)
            {
                if (e.Record.Type == record.Type && DnsWire.SameName(e.Record.Name, record.Name) && !e.Record.Data.Equals(record.Data)
                    && e.Received < now - TimeSpan.FromSeconds(1) && e.Expires > now + TimeSpan.FromSeconds(1))
                {
                    e.Expires = now + TimeSpan.FromSeconds(1);
                }
            }
        }
        var existing = _entries.FirstOrDefault(e => e.Record.Type == record.Type && DnsWire.SameName(e.Record.Name, record.Name)
            && e.Record.Data.Equals(record.Data));
        var expires = record.Ttl == 0 ? now + TimeSpan.FromSeconds(1) : now + TimeSpan.FromSeconds(Math.Min(record.Ttl, MaxTtl));
        if (existing is not null)
        {
            existing.Record = record;
            existing.Received = now;
            existing.Expires = expires;
            existing.Refreshes = 0;
            return;
        }
        if (record.Ttl == 0 || _entries.Count >= MaxEntries)
        {
            return;
        }
        _entries.Add(new Entry(record, now, expires));
    }

    /// <summary>Drops expired records; returns true when any went, and the questions to ask for records nearing their end.</summary>
    public (bool Changed, List<DnsQuestion> Refresh) Sweep(DateTimeOffset now)
    {
        var removed = _entries.RemoveAll(e => e.Expires <= now) > 0;
        var refresh = new List<DnsQuestion>();
        foreach (var e in _entries)
        {
            var life = (e.Expires - e.Received).TotalSeconds;
            if (life < 2 || e.Record.Ttl == 0)
            {
                continue;
            }
            var used = (now - e.Received).TotalSeconds / life;
            var step = used >= 0.9 ? 2 : used >= 0.8 ? 1 : 0;
            if (step > e.Refreshes)
            {
                e.Refreshes = step;
                var q = new DnsQuestion(e.Record.Name, e.Record.Type);
                if (!refresh.Contains(q))
                {
                    refresh.Add(q);
                }
            }
        }
        return (removed, refresh);
    }

    /// <summary>The live records of a name and type, newest first.</summary>
    public IEnumerable<DnsRecord> Get(string name, DnsType type) =>
        _entries.Where(e => e.Record.Type == type && DnsWire.SameName(e.Record.Name, name)).OrderByDescending(e => e.Received)
            .Select(e => e.Record);

    /// <summary>
    /// The service instances browsed under <paramref name="service"/> (e.g. "_presence._tcp.local"), except
    /// <paramref name="ownInstance"/>, as peers; instances whose TXT record has not arrived yet are left out and
    /// returned in <paramref name="incomplete"/>.
    /// </summary>
    public List<LinkPeer> Peers(string service, string? ownInstance, List<string> incomplete)
    {
        ArgumentNullException.ThrowIfNull(incomplete);
        var peers = new List<LinkPeer>();
        foreach (var ptr in Get(service, DnsType.Ptr).Select(r => ((PtrData)r.Data).Target).Distinct(StringComparer.OrdinalIgnoreCase))
        {
            if (ownInstance is not null && DnsWire.SameName(ptr, ownInstance))
            {
                continue;
            }
            var txt = Get(ptr, DnsType.Txt).FirstOrDefault();
            var srv = Get(ptr, DnsType.Srv).FirstOrDefault()?.Data as SrvData;
            IPAddress? address = null;
            if (srv is not null)
            {
                address = Get(srv.Target, DnsType.A).Select(r => ((AddressData)r.Data).Address).FirstOrDefault();
            }
            if (txt is null || srv is null || address is null)
            {
                incomplete.Add(ptr);
            }
            if (txt is null)
            {
                continue;
            }
            var labels = DnsWire.Labels(ptr);
            var instance = labels.Count > 0 ? labels[0] : ptr;
            peers.Add(TxtMapping.PeerOf(instance, TxtMapping.Parse((TxtData)txt.Data), srv, address));
        }
        return peers.OrderBy(p => p.Instance, StringComparer.OrdinalIgnoreCase).ToList();
    }
}
