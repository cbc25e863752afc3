using System.Net;
using System.Net.Sockets;
using System.Text;
using Herald.Core.Model;
using Herald.Core.Privacy;
using Herald.LinkLocal.Dns;
using Herald.LinkLocal.Xmpp;

namespace Herald.LinkLocal;

/// <summary>Options of a link-local peer.</summary>
public sealed record LinkPeerOptions
{
    /// <summary>The user name (XEP-0174 instance "name@host"; also the nick).</summary>
    public required string Name { get; init; }

    /// <summary>The host label in the instance name (default: the machine name); the A record is "name-host.local".</summary>
    public string? Host { get; init; }

    /// <summary>The interface (null: the first multicast-capable, non-loopback IPv4 interface that is up).</summary>
    public string? Interface { get; init; }

    /// <summary>The TCP port of the direct stream (0: any free port; XEP-0174 suggests 5298).</summary>
    public int Port { get; init; }

    /// <summary>True: the user's rule shows the note (and when the status ends) to the link audience.</summary>
    public bool ShareNote { get; init; }

    /// <summary>The clock.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Direct stream parser limits.</summary>
    public StreamLimits Limits { get; init; } = new();

    /// <summary>Longest wait for a peer's answer when sending.</summary>
    public TimeSpan SendTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Most incoming direct streams served at once; more are closed at once.</summary>
    public int MaxConnections { get; init; } = 32;

    /// <summary>TTL of the SRV and A records (RFC 6762 §10: 120 s for records with host names).</summary>
    public uint HostTtl { get; init; } = 120;

    /// <summary>TTL of the PTR and TXT records (RFC 6762 §10: 75 minutes).</summary>
    public uint OtherTtl { get; init; } = 4500;
}

/// <summary>
/// A Herald peer on the local link (XEP-0174): announces the user's presence as a _presence._tcp DNS-SD service over
/// mDNS (only what <see cref="LinkDisclosure"/> lets the link audience see), answers queries, re-announces on status
/// changes, says goodbye on leaving, browses the other peers into a live list, and serves direct streams with the
/// busy answer.
/// </summary>
public sealed class LinkLocalNode : IAsyncDisposable
{
    /// <summary>The XEP-0174 service type.</summary>
    public const string Service = "_presence._tcp.local";

    /// <summary>The DNS-SD service type enumeration name (RFC 6763 §9).</summary>
    public const string ServiceEnumeration = "_services._dns-sd._udp.local";

    /// <summary>Longest browse query interval (RFC 6762 §5.2: 60 minutes).</summary>
    public static readonly TimeSpan MaxBrowseInterval = TimeSpan.FromMinutes(60);

    /// <summary>Most questions in one query we send (keeps it far below the 9000-byte limit).</summary>
    public const int MaxQuestions = 30;

    private readonly LinkPeerOptions _options;
    private readonly TimeProvider _time;
    private readonly UserPrivacy _rules;
    private readonly Lock _gate = new();
    private readonly RecordCache _cache = new();
    private readonly Dictionary<string, DateTimeOffset> _lastAsked = new(StringComparer.OrdinalIgnoreCase);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];
    private readonly SemaphoreSlim _connections;
    private LocalStatus _status;
    private TxtData? _announcedTxt;
    private IReadOnlyList<LinkPeer> _peers = [];
    private MdnsSocket? _socket;
    private TcpListener? _listener;
    private bool _disposed;

    /// <summary>Creates the node (nothing is sent until <see cref="StartAsync"/>).</summary>
    public LinkLocalNode(LinkPeerOptions options, LocalStatus status)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _status = status ?? throw new ArgumentNullException(nameof(status));
        if (string.IsNullOrWhiteSpace(options.Name) || options.Name.Length > 40 || options.Name.Any(c => char.IsControl(c) || c is '@' or '.'))
        {
            throw new ArgumentException("The name must be 1 to 40 characters without '@', '.' or control characters.", nameof(options));
        }
        _time = options.Time;
        _rules = LinkDisclosure.Rules(options.ShareNote);
        _connections = new SemaphoreSlim(options.MaxConnections);
        var host = Sanitize(options.Host ?? Environment.MachineName);
        // The A record's name is per user, so that two peers on one machine (or in two network namespaces, which
        // share the host name) never claim the same host name.
        HostName = Sanitize(options.Name + "-" + host) + ".local";
        InstanceLabel = $"{options.Name}@{host}";
        InstanceName = DnsWire.EscapeLabel(InstanceLabel) + "." + Service;
    }

    /// <summary>The instance label, "name@host".</summary>
    public string InstanceLabel { get; }

    /// <summary>The full service instance name.</summary>
    public string InstanceName { get; }

    /// <summary>The announced host name ("host.local").</summary>
    public string HostName { get; }

    /// <summary>The interface, once started.</summary>
    public LinkInterface? Interface => _socket?.Interface;

    /// <summary>The direct stream port, once started.</summary>
    public int Port { get; private set; }

    /// <summary>The peers currently seen (sorted by instance).</summary>
    public IReadOnlyList<LinkPeer> Peers
    {
        get
        {
            lock (_gate)
            {
                return _peers;
            }
        }
    }

    /// <summary>The user's status as set.</summary>
    public LocalStatus Status
    {
        get
        {
            lock (_gate)
            {
                return _status;
            }
        }
    }

    /// <summary>Raised (on a background thread) when the peer list changes.</summary>
    public event Action<IReadOnlyList<LinkPeer>>? PeersChanged;

    /// <summary>Raised (on a background thread) for each delivered message.</summary>
    public event Action<IncomingMessage>? MessageReceived;

    /// <summary>Raised (on a background thread) when a direct contact was refused with the busy answer (sender as claimed, answer).</summary>
    public event Action<string, BusyAnswer>? Refused;

    /// <summary>What the link audience sees of the user now.</summary>
    public PresenceView View() => LinkDisclosure.View(InstanceLabel, Status, _rules, _time.GetUtcNow());

    /// <summary>The answer a direct contact gets now.</summary>
    public BusyAnswer Decide() => BusyAnswer.Decide(InstanceLabel, Status, _rules, _time);

    /// <summary>Opens the sockets, announces the user and starts browsing.</summary>
    public async Task StartAsync(CancellationToken ct = default)
    {
        var iface = LinkInterface.Resolve(_options.Interface);
        _listener = new TcpListener(IPAddress.Any, _options.Port);
        _listener.Start(_options.MaxConnections);
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _socket = new MdnsSocket(iface);
        _loops.Add(Task.Run(() => ReceiveLoop(_stop.Token), CancellationToken.None));
        _loops.Add(Task.Run(() => AcceptLoop(_stop.Token), CancellationToken.None));
        _loops.Add(Task.Run(() => TickLoop(_stop.Token), CancellationToken.None));
        await AnnounceAsync(ct);
        await BrowseAsync(ct);
    }

    /// <summary>Changes the user's status: the TXT record is announced again at once (cache-flush) and once more a second later.</summary>
    public async Task SetStatusAsync(LocalStatus status, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(status);
        lock (_gate)
        {
            _status = status;
        }
        await AnnounceAsync(ct);
    }

    /// <summary>Finds a peer by instance, nick or instance prefix (case-insensitive).</summary>
    public LinkPeer? Find(string name)
    {
        var peers = Peers;
        return peers.FirstOrDefault(p => p.Instance.Equals(name, StringComparison.OrdinalIgnoreCase))
            ?? peers.FirstOrDefault(p => p.Nick.Equals(name, StringComparison.OrdinalIgnoreCase))
            ?? peers.FirstOrDefault(p => p.Instance.StartsWith(name + "@", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>Sends a message to a peer over a direct stream.</summary>
    public Task<SendResult> SendMessageAsync(LinkPeer peer, string body, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(peer);
        if (peer.Address is null || peer.Port is <= 0 or > 65535)
        {
            return Task.FromResult(new SendResult(false, null, $"The address of {peer.Instance} is not known yet."));
        }
        return DirectStream.SendAsync(new IPEndPoint(peer.Address, peer.Port), InstanceLabel, peer.Instance, body, _options.Limits,
            _options.SendTimeout, ct);
    }

    /// <summary>The records announcing the user (TTL 0 for goodbye).</summary>
    public List<DnsRecord> Records(bool goodbye = false)
    {
        var txt = TxtMapping.ToTxt(View(), _options.Name, Port);
        uint HostTtl() => goodbye ? 0 : _options.HostTtl;
        uint OtherTtl() => goodbye ? 0 : _options.OtherTtl;
        var records = new List<DnsRecord>
        {
            new(Service, DnsType.Ptr, OtherTtl(), new PtrData(InstanceName)),
            new(InstanceName, DnsType.Srv, HostTtl(), new SrvData(0, 0, (ushort)Port, HostName), CacheFlush: true),
            new(InstanceName, DnsType.Txt, OtherTtl(), txt, CacheFlush: true),
        };
        if (Interface is { } i)
        {
            records.Add(new DnsRecord(HostName, DnsType.A, HostTtl(), new AddressData(i.Address), CacheFlush: true));
        }
        return records;
    }

    private async Task AnnounceAsync(CancellationToken ct)
    {
        if (_socket is null)
        {
            return;
        }
        var records = Records();
        lock (_gate)
        {
            _announcedTxt = (TxtData)records.First(r => r.Type == DnsType.Txt).Data;
        }
        await _socket.SendAsync(DnsMessage.Response(records), null, ct);
        _ = RepeatAnnounce();
    }

    private async Task RepeatAnnounce()
    {
        // RFC 6762 §8.3/§8.4: at least two announcements, one second apart.
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(1), _time, _stop.Token);
            if (_socket is { } s)
            {
                await s.SendAsync(DnsMessage.Response(Records()), null, _stop.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }
    }

    private Task BrowseAsync(CancellationToken ct) =>
        _socket?.SendAsync(DnsMessage.Query(new DnsQuestion(Service, DnsType.Ptr)), null, ct) ?? Task.CompletedTask;

    private async Task ReceiveLoop(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                var (message, from) = await _socket!.ReceiveAsync(ct);
                if (message.IsResponse)
                {
                    OnResponse(message);
                }
                else
                {
                    await OnQuery(message, from, ct);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (Exception e) when (e is SocketException or DnsFormatException)
            {
                // A transient send/receive error must not stop the peer; pause briefly so a broken socket cannot spin.
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(100), _time, ct);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private bool IsOwn(string name) => DnsWire.SameName(name, InstanceName) || DnsWire.SameName(name, HostName);

    private void OnResponse(DnsMessage message)
    {
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            foreach (var r in message.Answers.Concat(message.Additionals))
            {
                if (IsOwn(r.Name) || (r.Type == DnsType.Ptr && r.Data is PtrData p && IsOwn(p.Target)))
                {
                    continue;
                }
                if (r.Type is DnsType.Ptr or DnsType.Srv or DnsType.Txt or DnsType.A)
                {
                    _cache.Add(r, now);
                }
            }
        }
        Recompute();
    }

    private async Task OnQuery(DnsMessage query, IPEndPoint from, CancellationToken ct)
    {
        var own = Records();
        var answers = new List<DnsRecord>();
        foreach (var q in query.Questions)
        {
            if (DnsWire.SameName(q.Name, ServiceEnumeration) && q.Type is DnsType.Ptr or DnsType.Any)
            {
                answers.Add(new DnsRecord(ServiceEnumeration, DnsType.Ptr, _options.OtherTtl, new PtrData(Service)));
                continue;
            }
            foreach (var r in own)
            {
                if (DnsWire.SameName(q.Name, r.Name) && (q.Type == r.Type || q.Type == DnsType.Any) && !answers.Contains(r))
                {
                    // Known-answer suppression (RFC 6762 §7.1): skip what the asker already holds with at least half our TTL.
                    if (query.Answers.Any(k => k.Type == r.Type && DnsWire.SameName(k.Name, r.Name) && k.Data.Equals(r.Data) && k.Ttl >= r.Ttl / 2))
                    {
                        continue;
                    }
                    answers.Add(r);
                }
            }
        }
        if (answers.Count == 0)
        {
            return;
        }
        var additionals = own.Where(r => !answers.Contains(r) && answers.Any(a => a.Type is DnsType.Ptr or DnsType.Srv)).ToList();
        if (from.Port != MdnsSocket.Port)
        {
            // Legacy unicast (RFC 6762 §6.7): answer the sender directly, echo id and questions, short TTLs, no cache-flush bit.
            static DnsRecord Legacy(DnsRecord r) => r with { Ttl = Math.Min(r.Ttl, 10), CacheFlush = false };
            await _socket!.SendAsync(new DnsMessage(query.Id, true, query.Questions, answers.Select(Legacy).ToList(), [],
                additionals.Select(Legacy).ToList()), from, ct);
            return;
        }
        await _socket!.SendAsync(DnsMessage.Response(answers, additionals), null, ct);
    }

    private void Recompute()
    {
        var now = _time.GetUtcNow();
        var incomplete = new List<string>();
        IReadOnlyList<LinkPeer>? changed = null;
        var ask = new List<DnsQuestion>();
        lock (_gate)
        {
            var peers = _cache.Peers(Service, InstanceName, incomplete);
            if (!peers.SequenceEqual(_peers))
            {
                _peers = peers;
                changed = peers;
            }
            foreach (var name in incomplete)
            {
                if (_lastAsked.TryGetValue(name, out var at) && now - at < TimeSpan.FromSeconds(1))
                {
                    continue;
                }
                _lastAsked[name] = now;
                ask.Add(new DnsQuestion(name, DnsType.Srv));
                ask.Add(new DnsQuestion(name, DnsType.Txt));
                if (_cache.Get(name, DnsType.Srv).FirstOrDefault()?.Data is SrvData srv)
                {
                    ask.Add(new DnsQuestion(srv.Target, DnsType.A));
                }
            }
            if (_lastAsked.Count > 1024)
            {
                _lastAsked.Clear();
            }
        }
        if (ask.Count > 0 && _socket is { } s)
        {
            _ = s.SendAsync(DnsMessage.Query([.. ask.Take(MaxQuestions)]), null, _stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
        }
        if (changed is not null)
        {
            PeersChanged?.Invoke(changed);
        }
    }

    private async Task TickLoop(CancellationToken ct)
    {
        var nextBrowse = _time.GetUtcNow() + TimeSpan.FromSeconds(1);
        var browseInterval = TimeSpan.FromSeconds(1);
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(1), _time, ct);
                var now = _time.GetUtcNow();
                List<DnsQuestion> refresh;
                bool expired;
                TxtData? announced;
                lock (_gate)
                {
                    (expired, refresh) = _cache.Sweep(now);
                    announced = _announcedTxt;
                }
                if (now >= nextBrowse)
                {
                    refresh.Add(new DnsQuestion(Service, DnsType.Ptr));
                    browseInterval = TimeSpan.FromTicks(Math.Min(browseInterval.Ticks * 2, MaxBrowseInterval.Ticks));
                    nextBrowse = now + browseInterval;
                }
                if (refresh.Count > 0)
                {
                    await _socket!.SendAsync(DnsMessage.Query([.. refresh.Take(MaxQuestions)]), null, ct);
                }
                if (expired)
                {
                    Recompute();
                }
                // A status that ended on its own (its Until passed) changes what the link sees: announce it.
                if (announced is not null && !announced.Equals(TxtMapping.ToTxt(View(), _options.Name, Port)))
                {
                    await AnnounceAsync(ct);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or DnsFormatException)
            {
                if (ct.IsCancellationRequested)
                {
                    return;
                }
            }
        }
    }

    private async Task AcceptLoop(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener!.AcceptTcpClientAsync(ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100), _time, CancellationToken.None);
                continue;
            }
            if (!_connections.Wait(0, CancellationToken.None))
            {
                client.Dispose();
                continue;
            }
            _ = Task.Run(async () =>
            {
                try
                {
                    using var c = client;
                    using var session = CancellationTokenSource.CreateLinkedTokenSource(ct);
                    session.CancelAfter(_options.Limits.SessionTimeout);
                    await DirectStream.ServeAsync(c.GetStream(), InstanceLabel, _options.Limits, from =>
                    {
                        var answer = Decide();
                        if (!answer.Deliver)
                        {
                            Refused?.Invoke(from, answer);
                        }
                        return answer;
                    }, m => MessageReceived?.Invoke(m), c.Client.RemoteEndPoint as IPEndPoint, session.Token);
                }
                catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
                {
                }
                finally
                {
                    _connections.Release();
                }
            }, CancellationToken.None);
        }
    }

    /// <summary>Sends the goodbye records (TTL 0) and closes everything.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        if (_socket is { } s)
        {
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await s.SendAsync(DnsMessage.Response(Records(goodbye: true)), null, cts.Token);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
            }
        }
        await _stop.CancelAsync();
        _listener?.Stop();
        _socket?.Dispose();
        try
        {
            await Task.WhenAll(_loops).WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
        }
        _listener?.Dispose();
        _stop.Dispose();
        _connections.Dispose();
    }

    private static string Sanitize(string host)
    {
        var sb = new StringBuilder();
        foreach (var c in host)
        {
            sb.Append(char.IsAsciiLetterOrDigit(c) || c == '-' ? c : '-');
        }
        var s = sb.ToString().Trim('-');
        return s.Length == 0 ? "herald" : s.Length > 40 ? s[..40] : s;
    }
}
