using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Herald.Cluster.Directory;
using Herald.Cluster.Fanout;
using Herald.Cluster.Presence;
using Herald.Cluster.Xmpp;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Herald.Xmpp;

/// <summary>Where the gateway keeps its generated certificate (the server's data directory).</summary>
public sealed record XmppDataDirectory(string Path);

/// <summary>
/// The XMPP client-to-server gateway of one server process: a TCP listener (one async loop per connection, no
/// thread per connection), the registry of local sessions (for routing messages, directed presence and subscription
/// stanzas between them) and the lease keeper of the sessions' devices.
/// </summary>
public sealed partial class XmppGateway : BackgroundService
{
    private readonly ConcurrentDictionary<string, List<XmppSession>> _sessions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<XmppSession, byte> _all = new();
    private readonly TaskCompletionSource<int> _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly byte[] _decoySecret = RandomNumberGenerator.GetBytes(32);
    private Socket? _listener;
    private X509Certificate2? _certificate;
    private CancellationToken _stopping;

    /// <summary>Creates the gateway.</summary>
    public XmppGateway(IOptions<XmppOptions> options, XmppDataDirectory data, IGrainFactory grains, SiloPresenceHub hub,
        IAccountStore accounts, IDirectoryStore directory, ILogger<XmppGateway> logger, TimeProvider? time = null, LiveCredentials? credentials = null)
    {
        Credentials = credentials;
        Options = options.Value;
        Data = data;
        Grains = grains;
        Hub = hub;
        Accounts = accounts;
        Directory = directory;
        Logger = logger;
        Time = time ?? TimeProvider.System;
        Caps = new CapsCache(Options.CapsCacheSize);
        Presences = new PresenceStanzaEncoder(Options.Domain);
        Limits = new ParserLimits
        {
            MaxStanzaBytes = Options.MaxStanzaBytes,
            MaxDepth = Options.MaxDepth,
            MaxAttributes = Options.MaxAttributes,
            MaxAttributeLength = Options.MaxAttributeLength,
        };
    }

    internal XmppOptions Options { get; }
    internal XmppDataDirectory Data { get; }
    internal IGrainFactory Grains { get; }
    internal SiloPresenceHub Hub { get; }
    internal IAccountStore Accounts { get; }

    /// <summary>Where authenticated sessions register, so that deleting the account or changing its password ends them.</summary>
    internal LiveCredentials? Credentials { get; }
    internal IDirectoryStore Directory { get; }
    internal ILogger Logger { get; }
    internal TimeProvider Time { get; }
    internal ParserLimits Limits { get; }

    /// <summary>Presence stanzas as UTF-8, rendered once per view instance for all sessions of this process.</summary>
    internal PresenceStanzaEncoder Presences { get; }

    /// <summary>Verified XEP-0115 capabilities (ver → features), shared by all sessions of this process.</summary>
    public CapsCache Caps { get; }

    /// <summary>Caps queries in flight, so that sessions seeing the same unknown ver at once ask only one client.</summary>
    internal ConcurrentDictionary<string, Task<IReadOnlySet<string>?>> CapsInFlight { get; } = new(StringComparer.Ordinal);
    internal DateTimeOffset StartedAt { get; private set; }
    internal byte[] DecoySecret => _decoySecret;
    internal X509Certificate2 Certificate => _certificate ??= XmppCertificate.Load(Options, Data.Path, Time);

    /// <summary>The bound port once listening; 0 when the gateway is disabled or could not listen.</summary>
    public Task<int> Started => _started.Task;

    /// <summary>Open client connections.</summary>
    public int Connections => _all.Count;

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stopping = stoppingToken;
        StartedAt = Time.GetUtcNow();
        if (Options.Port == 0)
        {
            _started.TrySetResult(0);
            return;
        }
        try
        {
            _ = Certificate; // fail early (and visibly) on a bad certificate configuration
            var address = string.IsNullOrEmpty(Options.ListenAddress) ? (Socket.OSSupportsIPv6 ? IPAddress.IPv6Any : IPAddress.Any) : IPAddress.Parse(Options.ListenAddress);
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            if (address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }
            socket.Bind(new IPEndPoint(address, Options.Port < 0 ? 0 : Options.Port));
            socket.Listen(512);
            _listener = socket;
        }
        catch (Exception ex) when (ex is SocketException or CryptographicException or IOException or FormatException or UnauthorizedAccessException)
        {
            LogListenFailed(Logger, ex, Options.Port);
            _started.TrySetResult(0);
            return;
        }
        var port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        LogListening(Logger, port, Options.Domain);
        _started.TrySetResult(port);
        _ = KeepLeases(stoppingToken);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var client = await _listener.AcceptAsync(stoppingToken);
                if (_all.Count >= Options.MaxConnections)
                {
                    client.Dispose();
                    continue;
                }
                client.NoDelay = true;
                var session = new XmppSession(this, client);
                _all[session] = 0;
                _ = RunSession(session);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private async Task RunSession(XmppSession session)
    {
        try
        {
            await session.RunAsync(_stopping);
        }
        catch (Exception ex)
        {
            LogSessionFailed(Logger, ex);
        }
        finally
        {
            _all.TryRemove(session, out _);
        }
    }

    /// <inheritdoc />
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _listener?.Dispose();
        var closing = _all.Keys.Select(s => s.ShutdownAsync()).ToList();
        await Task.WhenAll(closing).WaitAsync(TimeSpan.FromSeconds(5), cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
        await base.StopAsync(cancellationToken);
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        if (_nodeRef is not null)
        {
            try
            {
                Grains.DeleteObjectReference<IXmppNodeObserver>(_nodeRef);
            }
            catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or ObjectDisposedException)
            {
            }
        }
        _listener?.Dispose();
        _certificate?.Dispose();
        base.Dispose();
    }

    /// <summary>Registers a bound session; returns a session of the same full JID that it replaces, if any.</summary>
    internal XmppSession? Register(XmppSession session)
    {
        var list = _sessions.GetOrAdd(session.UserId, static _ => []);
        lock (list)
        {
            var old = list.FirstOrDefault(s => s.Resource == session.Resource);
            if (old is not null)
            {
                list.Remove(old);
            }
            list.Add(session);
            return old;
        }
    }

    /// <summary>Removes a session from the registry.</summary>
    internal void Unregister(XmppSession session)
    {
        if (_sessions.TryGetValue(session.UserId, out var list))
        {
            lock (list)
            {
                list.Remove(session);
            }
        }
    }

    /// <summary>The bound local sessions of a person.</summary>
    internal XmppSession[] SessionsOf(string userId)
    {
        if (!_sessions.TryGetValue(userId, out var list))
        {
            return [];
        }
        lock (list)
        {
            return [.. list];
        }
    }

    /// <summary>
    /// Renews every session's device lease and route once per third of the lease, spread over that period in slices of
    /// about a second: renewing 5,000 sessions in one burst (two grain calls each) stalled every delivery behind it.
    /// </summary>
    private async Task KeepLeases(CancellationToken ct)
    {
        var period = Options.ResourceLease / 3;
        var slices = (int)Math.Clamp(Math.Floor(period.TotalSeconds), 1, 20);
        using var timer = new PeriodicTimer(period / slices);
        var slice = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                var current = slice;
                slice = (slice + 1) % slices;
                var due = _all.Keys.Where(s => slices == 1 || (System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(s) & int.MaxValue) % slices == current).ToArray();
                await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = ct },
                    async (s, _) => await s.RenewLease());
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>The person's grain.</summary>
    internal IPersonGrain Person(string userId) => Grains.Person(userId);

    /// <summary>The registry of a person's XMPP resources across all server processes.</summary>
    internal IXmppRouterGrain Router(string userId) => Grains.GetGrain<IXmppRouterGrain>(userId);

    /// <summary>This process's id in the resource registry.</summary>
    internal string NodeId { get; } = Guid.NewGuid().ToString("N");

    private IXmppNodeObserver? _nodeRef;
    private readonly Lock _nodeRefLock = new();

    /// <summary>The Orleans reference other processes deliver stanzas through (created once).</summary>
    internal IXmppNodeObserver NodeRef
    {
        get
        {
            lock (_nodeRefLock)
            {
                return _nodeRef ??= Grains.CreateObjectReference<IXmppNodeObserver>(new NodeObserver(this));
            }
        }
    }

    /// <summary>A stanza routed here from another process: queue it for the local resource.</summary>
    internal bool DeliverLocal(string userId, string resource, string stanza)
    {
        var session = SessionsOf(userId).FirstOrDefault(s => s.Resource == resource);
        if (session is null)
        {
            return false;
        }
        System.Xml.Linq.XElement element;
        try
        {
            element = System.Xml.Linq.XElement.Parse(stanza);
        }
        catch (System.Xml.XmlException)
        {
            return false;
        }
        return session.Enqueue(element);
    }

    /// <summary>
    /// A newer binding of a local session's resource on another process: that session ends with <c>conflict</c>
    /// (the one with <paramref name="binding"/> only: a session bound here since then keeps the resource).
    /// </summary>
    internal void ReplacedRemotely(string userId, string resource, string binding)
    {
        if (SessionsOf(userId).FirstOrDefault(s => s.Resource == resource && s.Binding == binding) is { } session)
        {
            _ = session.Replaced();
        }
    }

    private sealed class NodeObserver(XmppGateway gateway) : IXmppNodeObserver
    {
        public Task<bool> Deliver(string userId, string resource, string stanza) => Task.FromResult(gateway.DeliverLocal(userId, resource, stanza));

        public Task Replaced(string userId, string resource, string binding)
        {
            gateway.ReplacedRemotely(userId, resource, binding);
            return Task.CompletedTask;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "XMPP gateway listening on port {Port} for domain {Domain}")]
    private static partial void LogListening(ILogger logger, int port, string domain);

    [LoggerMessage(Level = LogLevel.Error, Message = "XMPP gateway could not listen on port {Port}; XMPP is unavailable (set Herald:Xmpp:Port to a free port, or 0 to disable)")]
    private static partial void LogListenFailed(ILogger logger, Exception ex, int port);

    [LoggerMessage(Level = LogLevel.Warning, Message = "XMPP session failed")]
    private static partial void LogSessionFailed(ILogger logger, Exception ex);
}

/// <summary>Registration of the gateway.</summary>
public static class XmppServiceCollectionExtensions
{
    /// <summary>Adds the XMPP gateway (options from <c>Herald:Xmpp</c>); port 0 disables it.</summary>
    public static IServiceCollection AddHeraldXmpp(this IServiceCollection services, string dataDirectory)
    {
        services.AddOptions<XmppOptions>().BindConfiguration(XmppOptions.Section);
        services.AddSingleton(new XmppDataDirectory(dataDirectory));
        services.AddSingleton(sp => new XmppGateway(sp.GetRequiredService<IOptions<XmppOptions>>(), sp.GetRequiredService<XmppDataDirectory>(),
            sp.GetRequiredService<IGrainFactory>(), sp.GetRequiredService<SiloPresenceHub>(), sp.GetRequiredService<IAccountStore>(),
            sp.GetRequiredService<IDirectoryStore>(), sp.GetRequiredService<ILogger<XmppGateway>>(), sp.GetService<TimeProvider>(),
            sp.GetService<LiveCredentials>()));
        services.AddHostedService(sp => sp.GetRequiredService<XmppGateway>());
        return services;
    }
}
