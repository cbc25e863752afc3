using System.Buffers;
using System.Diagnostics;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;
using Herald.Cluster.Directory;
using Herald.Cluster.Fanout;
using Herald.Cluster.Presence;
using Herald.Core.Model;
using Herald.Core.Presence;
using Herald.Core.Privacy;
using Microsoft.Extensions.Logging;

namespace Herald.Xmpp;

/// <summary>
/// One client connection: stream negotiation (STARTTLS, SASL, bind), then one XMPP resource = one Herald device
/// session, and an <see cref="IPresenceSink"/> that receives the filtered views of the people on its roster.
/// One read loop and one write loop per connection; everything the write loop sends goes out in batches.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The stream is disposed at the end of RunAsync; the semaphores never allocate wait handles.")]
internal sealed partial class XmppSession : LiveCredential, IPresenceSink
{
    private static readonly XNamespace TlsNs = "urn:ietf:params:xml:ns:xmpp-tls";
    private static readonly XNamespace SaslNs = "urn:ietf:params:xml:ns:xmpp-sasl";
    private static readonly XNamespace BindNs = "urn:ietf:params:xml:ns:xmpp-bind";
    private static readonly XNamespace SessionNs = "urn:ietf:params:xml:ns:xmpp-session";
    private static readonly XNamespace StreamErrNs = "urn:ietf:params:xml:ns:xmpp-streams";
    private static readonly XNamespace CsiNs = "urn:xmpp:csi:0";
    private static readonly XNamespace DiscoInfo = "http://jabber.org/protocol/disco#info";
    private static readonly XNamespace DiscoItems = "http://jabber.org/protocol/disco#items";
    private static readonly XNamespace PingNs = "urn:xmpp:ping";
    private static readonly XNamespace LastNs = "jabber:iq:last";
    private static readonly XNamespace BlockingNs = "urn:xmpp:blocking";
    private const int MaxAuthFailures = 3;

    private readonly XmppGateway _gw;
    private readonly Socket _socket;
    private Stream _stream;
    private StreamParser _parser;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly SemaphoreSlim _signal = new(0, 1);
    private readonly Lock _signalLock = new();
    private readonly LatestStateMailbox<PresenceView> _views = new(v => v.UserId, v => v.Sequence);
    private readonly Queue<XElement> _queue = new();
    private byte[]? _recipient;
    private CancellationTokenSource? _writeTimeout;
    private readonly HashSet<string> _shownAvailable = new(StringComparer.Ordinal);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, PresenceView> _current = new(StringComparer.Ordinal);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _watching = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _closed = new();
    private readonly string _streamId = Convert.ToHexString(RandomNumberGenerator.GetBytes(8)).ToLowerInvariant();
    private bool _headerSent;
    private bool _tls;
    private bool _authenticated;
    private volatile bool _bound;
    private volatile bool _available;
    private volatile bool _routable;
    private volatile bool _inactive;
    private volatile bool _ending;
    private int _replaced;
    private bool _interested;
    private bool _wasAvailable;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _rosterJids = new(StringComparer.Ordinal);
    private int _authFailures;
    private ScramServer? _scram;
    private HashAlgorithmName _scramHash;
    private Account? _account;
    private DeviceReport? _report;
    private string? _lastNote;
    private int _priority;
    private XElement? _caps;

    public XmppSession(XmppGateway gateway, Socket socket)
    {
        _gw = gateway;
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _parser = new StreamParser(gateway.Limits);
    }

    public string UserId { get; private set; } = "";

    public string Resource { get; private set; } = "";

    public string FullJid => $"{UserId}@{Domain}/{Resource}";

    private string BareJid => $"{UserId}@{Domain}";

    private string Domain => _gw.Options.Domain;

    public string DeviceId { get; private set; } = "";

    /// <summary>This session's binding in the person's router grain (a stream binds at most once: its id).</summary>
    internal string Binding => _streamId;

    /// <inheritdoc />
    public string WatcherId => UserId;

    /// <summary>
    /// True from the moment the resource's available presence starts being applied until it goes unavailable: messages
    /// are routed here before anyone can see the presence it announces (whoever sees it can reach it).
    /// </summary>
    public bool Available => _routable;

    public int Priority => _priority;

    // ---------------------------------------------------------------- read loop

    public async Task RunAsync(CancellationToken stopping)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stopping, _closed.Token);
        var ct = linked.Token;
        var buffer = ArrayPool<byte>.Shared.Rent(8192);
        var events = new List<StreamEvent>();
        var connectedAt = Stopwatch.GetTimestamp();
        long? stanzaStartedAt = null;
        var tokens = (double)_gw.Options.StanzaBurst;
        var byteTokens = (double)_gw.Options.BytesPerSecond;
        var lastRefill = Stopwatch.GetTimestamp();
        var graceful = false;
        Task? writer = null;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var timeout = _gw.Options.IdleTimeout;
                if (!_bound)
                {
                    timeout = Min(timeout, _gw.Options.NegotiationTimeout - Stopwatch.GetElapsedTime(connectedAt));
                }
                if (stanzaStartedAt is { } started)
                {
                    timeout = Min(timeout, _gw.Options.StanzaTimeout - Stopwatch.GetElapsedTime(started));
                }
                if (timeout <= TimeSpan.Zero)
                {
                    throw new XmppStreamException(StreamErrors.ConnectionTimeout, _bound ? "stanza not completed in time" : "negotiation not completed in time");
                }
                int n;
                using (var readTimeout = CancellationTokenSource.CreateLinkedTokenSource(ct))
                {
                    readTimeout.CancelAfter(timeout);
                    try
                    {
                        n = await _stream.ReadAsync(buffer.AsMemory(), readTimeout.Token);
                    }
                    catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                    {
                        throw new XmppStreamException(StreamErrors.ConnectionTimeout, stanzaStartedAt is null && _bound ? "idle" : "too slow");
                    }
                }
                if (n == 0)
                {
                    break; // transport closed without a stream close
                }

                // Per-connection rate limits: beyond the burst, reading pauses (the client slows down; others are unaffected).
                var now = Stopwatch.GetTimestamp();
                var elapsed = Stopwatch.GetElapsedTime(lastRefill, now).TotalSeconds;
                lastRefill = now;
                byteTokens = Math.Min(_gw.Options.BytesPerSecond, byteTokens + elapsed * _gw.Options.BytesPerSecond) - n;
                tokens = Math.Min(_gw.Options.StanzaBurst, tokens + elapsed * _gw.Options.StanzasPerSecond);
                if (byteTokens < 0)
                {
                    await Task.Delay(TimeSpan.FromSeconds(-byteTokens / _gw.Options.BytesPerSecond), ct);
                }

                events.Clear();
                _parser.Feed(buffer.AsSpan(0, n), events);
                stanzaStartedAt = _parser.InStanza ? stanzaStartedAt ?? Stopwatch.GetTimestamp() : null;
                foreach (var e in events)
                {
                    switch (e.Kind)
                    {
                        case StreamEventKind.Open:
                            await OnStreamOpen(e.Element!);
                            break;
                        case StreamEventKind.Close:
                            graceful = true;
                            goto done;
                        default:
                            tokens -= 1;
                            if (tokens < 0)
                            {
                                await Task.Delay(TimeSpan.FromSeconds(-tokens / _gw.Options.StanzasPerSecond), ct);
                            }
                            var restart = await OnElement(e.Element!);
                            if (restart)
                            {
                                stanzaStartedAt = null;
                                goto nextRead; // the parser was replaced: the rest of this batch belongs to the old stream
                            }
                            if (_bound && writer is null)
                            {
                                writer = Task.Run(() => WriteLoop(ct), CancellationToken.None);
                            }
                            break;
                    }
                }
            nextRead:;
            }
        done:
            if (graceful)
            {
                await SendRaw("</stream:stream>");
            }
        }
        catch (XmppStreamException ex)
        {
            await SendStreamError(ex.Condition, ex.Text);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // ShutdownAsync sent system-shutdown
        }
        catch (Exception ex) when (ex is IOException or SocketException or AuthenticationException or ObjectDisposedException or OperationCanceledException)
        {
            // transport gone
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            _ending = true;
            _gw.Credentials?.Unregister(this);
            await _closed.CancelAsync();
            Signal();
            if (writer is not null)
            {
                await writer.ContinueWith(_ => { }, TaskScheduler.Default);
            }
            await EndSession(graceful);
            await _stream.DisposeAsync();
            _writeTimeout?.Dispose();
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    /// <summary>Sends system-shutdown and closes (graceful stop of the server).</summary>
    public async Task ShutdownAsync()
    {
        await SendStreamError(StreamErrors.SystemShutdown, "the server is stopping");
        await _closed.CancelAsync();
    }

    private async Task EndSession(bool graceful)
    {
        if (!_bound)
        {
            return;
        }
        _gw.Unregister(this);
        _gw.Hub.Detach(this);
        if (!_gw.SessionsOf(UserId).Any(s => s.Resource == Resource))
        {
            try
            {
                await _gw.Router(UserId).Unregister(Resource, _gw.NodeId);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LogEndFailed(_gw.Logger, ex, UserId); // the entry's lease runs out by itself
            }
        }
        foreach (var id in _watching.Keys)
        {
            _gw.Hub.Unwatch(this, id);
        }
        if (_report is not null)
        {
            try
            {
                var person = _gw.Person(UserId);
                // A closed stream (or an unavailable presence) ends the resource at once; a lost transport only
                // starts the grace window, so a quick reconnect shows nobody a flicker.
                if (graceful)
                {
                    await person.RemoveDevice(DeviceId);
                }
                else
                {
                    await person.ConnectionLost(DeviceId);
                }
            }
            catch (Exception ex)
            {
                LogEndFailed(_gw.Logger, ex, UserId);
            }
        }
    }

    // ---------------------------------------------------------------- negotiation

    private async Task OnStreamOpen(XElement header)
    {
        if (!_headerSent || _tls || _authenticated)
        {
            await SendHeader();
        }
        var to = (string?)header.Attribute("to");
        if (to is not null && !string.Equals(to, Domain, StringComparison.OrdinalIgnoreCase))
        {
            throw new XmppStreamException(StreamErrors.HostUnknown, $"this server serves {Domain}");
        }
        var version = (string?)header.Attribute("version");
        if (version is null || !version.StartsWith("1.", StringComparison.Ordinal))
        {
            throw new XmppStreamException(StreamErrors.UnsupportedVersion, "XMPP 1.0 streams only");
        }
        var features = new XElement(Ns.Streams + "features", new XAttribute(XNamespace.Xmlns + "stream", StreamParser.StreamsNs));
        if (!_authenticated)
        {
            if (!_tls)
            {
                var starttls = new XElement(TlsNs + "starttls");
                if (!_gw.Options.AllowPlainWithoutTls)
                {
                    starttls.Add(new XElement(TlsNs + "required"));
                }
                features.Add(starttls);
            }
            if (_tls || _gw.Options.AllowPlainWithoutTls)
            {
                features.Add(new XElement(SaslNs + "mechanisms",
                    new XElement(SaslNs + "mechanism", "SCRAM-SHA-256"),
                    new XElement(SaslNs + "mechanism", "SCRAM-SHA-1"),
                    new XElement(SaslNs + "mechanism", "PLAIN")));
            }
        }
        else
        {
            features.Add(new XElement(BindNs + "bind"));
            features.Add(new XElement(SessionNs + "session", new XElement(SessionNs + "optional")));
            features.Add(new XElement(CsiNs + "csi"));
            features.Add(new XElement((XNamespace)"urn:xmpp:features:rosterver" + "ver"));
            features.Add(new XElement((XNamespace)"urn:xmpp:features:pre-approval" + "sub"));
        }
        await Send(features);
    }

    private Task SendHeader()
    {
        _headerSent = true;
        return SendRaw($"<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='{StreamParser.StreamsNs}' id='{_streamId}' from='{Domain}' version='1.0' xml:lang='en'>");
    }

    /// <summary>Handles one top-level element; true when the stream restarts (new parser).</summary>
    private async Task<bool> OnElement(XElement e)
    {
        if (!_authenticated)
        {
            if (e.Name == TlsNs + "starttls" && !_tls)
            {
                await StartTls();
                return true;
            }
            if (e.Name.Namespace == SaslNs)
            {
                return await OnSasl(e);
            }
            if (e.Name.Namespace == Ns.Client && e.Name.LocalName is "iq" or "message" or "presence")
            {
                throw new XmppStreamException(StreamErrors.NotAuthorized, "authenticate first");
            }
            throw new XmppStreamException(StreamErrors.UnsupportedStanzaType, $"unexpected <{e.Name.LocalName}>");
        }
        if (e.Name.Namespace == CsiNs)
        {
            if (e.Name.LocalName == "inactive")
            {
                _inactive = true;
            }
            else if (e.Name.LocalName == "active")
            {
                _inactive = false;
                Signal();
            }
            return false;
        }
        if (e.Name.Namespace != Ns.Client)
        {
            throw new XmppStreamException(StreamErrors.UnsupportedStanzaType, $"unexpected <{e.Name.LocalName}>");
        }
        switch (e.Name.LocalName)
        {
            case "iq":
                await OnIq(e);
                break;
            case "message":
                if (!_bound)
                {
                    throw new XmppStreamException(StreamErrors.NotAuthorized, "bind a resource first");
                }
                await OnMessage(e);
                break;
            case "presence":
                if (!_bound)
                {
                    throw new XmppStreamException(StreamErrors.NotAuthorized, "bind a resource first");
                }
                await OnPresence(e);
                break;
            default:
                throw new XmppStreamException(StreamErrors.UnsupportedStanzaType, $"unexpected <{e.Name.LocalName}>");
        }
        return false;
    }

    private async Task StartTls()
    {
        await _writeLock.WaitAsync();
        try
        {
            await WriteString("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
            var ssl = new SslStream(_stream, leaveInnerStreamOpen: false);
            using var handshake = new CancellationTokenSource(_gw.Options.NegotiationTimeout);
            await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
            {
                ServerCertificate = _gw.Certificate,
                EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                ClientCertificateRequired = false,
            }, handshake.Token);
            _stream = ssl;
            _tls = true;
            _parser = new StreamParser(_gw.Limits);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async Task<bool> OnSasl(XElement e)
    {
        if (!_tls && !_gw.Options.AllowPlainWithoutTls)
        {
            await SaslFailure("encryption-required", "use STARTTLS first");
            return false;
        }
        switch (e.Name.LocalName)
        {
            case "auth":
                var mechanism = (string?)e.Attribute("mechanism");
                var initial = DecodeSasl(e.Value);
                if (initial is null)
                {
                    await SaslFailure("incorrect-encoding", null);
                    return false;
                }
                switch (mechanism)
                {
                    case "PLAIN":
                        return await Plain(initial);
                    case "SCRAM-SHA-256":
                    case "SCRAM-SHA-1":
                        _scramHash = mechanism == "SCRAM-SHA-1" ? HashAlgorithmName.SHA1 : HashAlgorithmName.SHA256;
                        _scram = new ScramServer(_scramHash);
                        return await ScramFirst(Encoding.UTF8.GetString(initial));
                    default:
                        await SaslFailure("invalid-mechanism", null);
                        return false;
                }
            case "response" when _scram is not null:
                var data = DecodeSasl(e.Value);
                if (data is null)
                {
                    await SaslFailure("incorrect-encoding", null);
                    return false;
                }
                return await ScramFinal(Encoding.UTF8.GetString(data));
            case "abort":
                _scram = null;
                await Send(new XElement(SaslNs + "failure", new XElement(SaslNs + "aborted")));
                return false;
            default:
                throw new XmppStreamException(StreamErrors.UnsupportedStanzaType, $"unexpected <{e.Name.LocalName}>");
        }
    }

    private static byte[]? DecodeSasl(string text)
    {
        text = text.Trim();
        if (text is "" or "=")
        {
            return [];
        }
        try
        {
            return Convert.FromBase64String(text);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private async Task<bool> Plain(byte[] data)
    {
        var parts = Encoding.UTF8.GetString(data).Split('\0');
        if (parts.Length != 3 || parts[1].Length is 0 or > 64 || parts[2].Length is 0 or > 1024 || (parts[0].Length > 0 && parts[0] != parts[1] && parts[0] != $"{parts[1]}@{Domain}"))
        {
            await SaslFailure("not-authorized", null);
            return false;
        }
        var user = UserPart(parts[1]);
        var account = await _gw.Accounts.GetAccount(user);
        var decoy = new PasswordCredential(account?.Password?.Iterations ?? 4096, new byte[16], new byte[32]);
        var ok = PasswordHasher.Verify(parts[2], account?.Password ?? decoy) && account?.Password is not null;
        if (!ok)
        {
            await SaslFailure("not-authorized", null);
            return false;
        }
        if (account!.ScramSha1 is null)
        {
            // The password is known only here: give the account its SCRAM-SHA-1 keys now.
            account = account.WithScram(parts[2]);
            await _gw.Accounts.UpsertAccount(account);
        }
        return await Authenticated(account, null);
    }

    private string UserPart(string name)
    {
        var at = name.IndexOf('@', StringComparison.Ordinal);
        return at > 0 && string.Equals(name[(at + 1)..], Domain, StringComparison.OrdinalIgnoreCase) ? name[..at] : name;
    }

    private async Task<bool> ScramFirst(string message)
    {
        string user;
        try
        {
            user = UserPart(_scram!.ClientFirst(message));
        }
        catch (FormatException ex)
        {
            _scram = null;
            await SaslFailure("malformed-request", ex.Message);
            return false;
        }
        var account = user.Length is > 0 and <= 64 ? await _gw.Accounts.GetAccount(user) : null;
        ScramCredential? credential = null;
        if (account?.Password is { } pw && _scramHash == HashAlgorithmName.SHA256 && pw.Hash.Length == 32)
        {
            credential = ScramKeys.FromSaltedPassword(HashAlgorithmName.SHA256, pw.Hash, pw.Salt, pw.Iterations);
        }
        else if (account?.ScramSha1 is { } sha1 && _scramHash == HashAlgorithmName.SHA1)
        {
            credential = sha1;
        }
        _account = credential is null ? null : account;
        var serverFirst = _scram!.ServerFirst(credential ?? ScramServer.Decoy(_scramHash, user, _gw.DecoySecret, account?.Password?.Iterations ?? 4096));
        await Send(new XElement(SaslNs + "challenge", Convert.ToBase64String(Encoding.UTF8.GetBytes(serverFirst))));
        return false;
    }

    private async Task<bool> ScramFinal(string message)
    {
        string? serverFinal;
        try
        {
            serverFinal = _scram!.ClientFinal(message);
        }
        catch (FormatException ex)
        {
            _scram = null;
            await SaslFailure("malformed-request", ex.Message);
            return false;
        }
        _scram = null;
        if (serverFinal is null || _account is null)
        {
            await SaslFailure("not-authorized", null);
            return false;
        }
        return await Authenticated(_account, serverFinal);
    }

    private async Task<bool> Authenticated(Account account, string? additional)
    {
        await _writeLock.WaitAsync();
        try
        {
            await WriteString(new XElement(SaslNs + "success", additional is null ? null : Convert.ToBase64String(Encoding.UTF8.GetBytes(additional)))
                .ToString(SaveOptions.DisableFormatting));
            UserId = account.UserId;
            _authenticated = true;
            _parser = new StreamParser(_gw.Limits);
            _account = null; // not needed any more (keeps the session small)
            // The session ends when the account is deleted or its password changed (LiveCredentials).
            _gw.Credentials?.RegisterPerson(this, account.UserId, expires: null, LiveCredentials.StampOf(account.Password));
        }
        finally
        {
            _writeLock.Release();
        }
        return true;
    }

    private async Task SaslFailure(string condition, string? text)
    {
        var failure = new XElement(SaslNs + "failure", new XElement(SaslNs + condition));
        if (text is not null)
        {
            failure.Add(new XElement(SaslNs + "text", text));
        }
        await Send(failure);
        if (condition == "not-authorized" && ++_authFailures >= MaxAuthFailures)
        {
            throw new XmppStreamException(StreamErrors.PolicyViolation, $"more than {MaxAuthFailures - 1} failed authentication attempts");
        }
    }

    private async Task Bind(XElement iq)
    {
        if (_bound)
        {
            await SendIqError(iq, "cancel", "not-allowed", "already bound");
            return;
        }
        var requested = iq.Element(BindNs + "bind")?.Element(BindNs + "resource")?.Value.Trim();
        if (string.IsNullOrEmpty(requested) || requested.Length > 256 || requested.Any(char.IsControl))
        {
            requested = "h" + Convert.ToHexString(RandomNumberGenerator.GetBytes(5)).ToLowerInvariant();
        }
        Resource = requested;
        DeviceId = DeviceIdOf(requested);
        var old = _gw.Register(this);
        if (old is not null)
        {
            _ = old.Replaced();
        }
        _bound = true;
        await RegisterRoute(available: false, bind: true);
        await _gw.Hub.Attach(this);
        await SendIq(iq, new XElement(BindNs + "bind", new XElement(BindNs + "jid", FullJid)));
        // Watch the roster now; presence is written only after the client's initial presence.
        var contacts = await _gw.Person(UserId).GetContacts();
        foreach (var c in contacts.Take(_gw.Options.MaxRosterItems))
        {
            await Watch(c);
        }
    }

    /// <summary>Herald device id of a resource: stable per resource, so a reconnect continues the same device.</summary>
    internal static string DeviceIdOf(string resource)
    {
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(resource)))[..8].ToLowerInvariant();
        var clean = new string([.. resource.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '_').Take(40)]);
        return $"xmpp-{hash}-{clean}".TrimEnd('-');
    }

    /// <summary>The client (re)sent available presence after being unavailable: give it everyone's current presence again.</summary>
    private void Replay()
    {
        foreach (var view in _current.Values)
        {
            _views.Forget(view.UserId);
            _views.Offer(view);
        }
        Signal();
    }

    /// <inheritdoc />
    protected override void OnCredentialEnded(CredentialEnd reason) => _ = CredentialGone(reason);

    /// <summary>
    /// The account was deleted or its password changed: <c>&lt;not-authorized/&gt;</c> with the reason as text, then the
    /// stream closes (RFC 6120 4.9.3.12). Nothing is written to the client after it (see <see cref="WriteLoop"/>).
    /// </summary>
    private async Task CredentialGone(CredentialEnd reason)
    {
        await SendStreamError(StreamErrors.NotAuthorized, reason switch
        {
            CredentialEnd.AccountDeleted => "account deleted",
            CredentialEnd.PasswordChanged => "password changed",
            CredentialEnd.KeyRevoked => "credential revoked",
            _ => "credential expired",
        });
        await _closed.CancelAsync();
    }

    /// <summary>
    /// A newer session bound this resource, on this process or another: <c>conflict</c>, then the stream closes
    /// (RFC 6120 7.7.2.2). Once only: the local replacement, the other process's notice and a refused renewal may
    /// all report it.
    /// </summary>
    internal async Task Replaced()
    {
        if (Interlocked.Exchange(ref _replaced, 1) != 0)
        {
            return;
        }
        _report = null; // the new session owns the device now
        await SendStreamError(StreamErrors.Conflict, "another session bound this resource");
        await _closed.CancelAsync();
    }

    private async Task Watch(string userId)
    {
        if (!_watching.TryAdd(userId, 0))
        {
            return;
        }
        var view = await _gw.Hub.Watch(this, userId);
        Deliver(view);
    }

    private void Unwatch(string userId)
    {
        if (_watching.TryRemove(userId, out _))
        {
            _current.TryRemove(userId, out _);
            _gw.Hub.Unwatch(this, userId);
            _views.Forget(userId);
        }
    }

    // ---------------------------------------------------------------- sink and write loop

    /// <inheritdoc />
    public void Deliver(PresenceView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        if (!CredentialValid)
        {
            return; // nothing is delivered once the credential was found invalid
        }
        _current.AddOrUpdate(view.UserId, static (_, v) => v, static (_, old, v) => old.Sequence >= v.Sequence ? old : v, view);
        if (_views.Offer(view))
        {
            Signal();
        }
    }

    /// <inheritdoc />
    public void DeliverEvent(UserEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (e.Type == "roster.changed")
        {
            _ = RosterChanged(e);
        }
    }

    /// <summary>Queues a stanza for this client (routing from other sessions); false when the client does not keep up.</summary>
    public bool Enqueue(XElement stanza)
    {
        lock (_queue)
        {
            if (_queue.Count >= _gw.Options.MaxQueuedStanzas)
            {
                _ = SlowReader();
                return false;
            }
            _queue.Enqueue(stanza);
        }
        Signal();
        return true;
    }

    private async Task SlowReader()
    {
        await SendStreamError(StreamErrors.PolicyViolation, "too many stanzas waiting: the client does not read fast enough");
        await _closed.CancelAsync();
    }

    private void Signal()
    {
        lock (_signalLock)
        {
            if (_signal.CurrentCount == 0)
            {
                _signal.Release();
            }
        }
    }

    /// <summary>
    /// The one writer of fan-out output: per wake-up, everything pending — queued stanzas first, then the newest
    /// presence of each contact that changed (coalesced per contact, never dropped: see <see cref="Deliver"/>) — is
    /// encoded into one pooled buffer and written with one socket write. A failure of this loop closes the
    /// connection (a session never lives on without its writer: that would lose presence for good).
    /// </summary>
    private async Task WriteLoop(CancellationToken ct)
    {
        var output = new PooledByteWriter();
        var batch = new List<XElement>();
        try
        {
            while (!ct.IsCancellationRequested)
            {
                await _signal.WaitAsync(ct);
                if (!CredentialValid)
                {
                    break; // the credential ended: the stream error is the last thing the client gets
                }
                batch.Clear();
                lock (_queue)
                {
                    while (_queue.Count > 0)
                    {
                        batch.Add(_queue.Dequeue());
                    }
                }
                foreach (var s in batch)
                {
                    output.Write(s.ToString(SaveOptions.DisableFormatting));
                }
                if (_available && !_inactive && (_views.Count > 0 || _pepResync))
                {
                    AppendPepResync(output);
                    var to = _recipient ??= PresenceStanzaEncoder.Recipient(FullJid);
                    foreach (var view in _views.TakeAll())
                    {
                        lock (_shownAvailable)
                        {
                            var online = view.Availability is not (Availability.Offline or Availability.Unknown);
                            if (!online && !_shownAvailable.Remove(view.UserId))
                            {
                                continue; // never shown available: nothing to retract
                            }
                            if (online)
                            {
                                _shownAvailable.Add(view.UserId);
                            }
                        }
                        _gw.Presences.Write(view, to, output);
                        AppendPep(output, view);
                    }
                }
                if (output.Length > 0 && CredentialValid)
                {
                    await SendBytes(output.WrittenMemory);
                }
                output.Reset();
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            await _closed.CancelAsync(); // the transport failed, or the client accepted nothing within the write timeout
        }
        catch (Exception ex)
        {
            LogWriterFailed(_gw.Logger, ex, UserId);
            await _closed.CancelAsync();
        }
        finally
        {
            output.Dispose(); // closing ends the read loop too: the client reconnects and gets every current presence
        }
    }

    private Task Send(XElement e) => SendRaw(e.ToString(SaveOptions.DisableFormatting));

    private async Task SendRaw(string text)
    {
        await _writeLock.WaitAsync();
        try
        {
            await WriteString(text);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async Task SendBytes(ReadOnlyMemory<byte> bytes)
    {
        await _writeLock.WaitAsync();
        try
        {
            await WriteBytes(bytes);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async Task WriteString(string text)
    {
        var bytes = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(text.Length));
        try
        {
            var n = Encoding.UTF8.GetBytes(text, bytes);
            await WriteBytes(bytes.AsMemory(0, n));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }

    /// <summary>
    /// Writes under <see cref="_writeLock"/>: the client must accept the bytes within
    /// <see cref="XmppOptions.WriteTimeout"/> (one reusable timer per session, not one per write).
    /// </summary>
    private async Task WriteBytes(ReadOnlyMemory<byte> bytes)
    {
        var timeout = _writeTimeout;
        if (timeout is null || timeout.IsCancellationRequested)
        {
            timeout?.Dispose();
            timeout = _writeTimeout = new CancellationTokenSource();
        }
        timeout.CancelAfter(_gw.Options.WriteTimeout);
        await _stream.WriteAsync(bytes, timeout.Token);
        await _stream.FlushAsync(timeout.Token);
        timeout.TryReset(); // disarms the timer until the next write
    }

    private async Task SendStreamError(string condition, string? text)
    {
        try
        {
            var sb = new StringBuilder();
            if (!_headerSent)
            {
                _headerSent = true;
                sb.Append($"<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='{StreamParser.StreamsNs}' id='{_streamId}' from='{Domain}' version='1.0'>");
            }
            sb.Append("<stream:error>").Append(new XElement(StreamErrNs + condition).ToString(SaveOptions.DisableFormatting));
            if (text is not null)
            {
                sb.Append(new XElement(StreamErrNs + "text", text).ToString(SaveOptions.DisableFormatting));
            }
            sb.Append("</stream:error></stream:stream>");
            await SendRaw(sb.ToString());
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
        {
            // the peer is gone
        }
    }

    // ---------------------------------------------------------------- helpers for stanzas

    private Task SendIq(XElement request, XElement? payload) =>
        Send(new XElement(Ns.Client + "iq", new XAttribute("type", "result"), new XAttribute("id", (string?)request.Attribute("id") ?? ""),
            FromAttr(request), new XAttribute("to", FullJidOrBare()), payload));

    private object? FromAttr(XElement request) => (string?)request.Attribute("to") is { } to ? new XAttribute("from", to) : null;

    private string FullJidOrBare() => _bound ? FullJid : BareJid;

    private Task SendIqError(XElement request, string type, string condition, string? text = null, XElement? appError = null) =>
        Send(StanzaError(request, type, condition, text, appError));

    private XElement StanzaError(XElement request, string type, string condition, string? text, XElement? appError = null)
    {
        var reply = new XElement(request.Name, new XAttribute("type", "error"));
        if ((string?)request.Attribute("id") is { } id)
        {
            reply.Add(new XAttribute("id", id));
        }
        reply.Add(new XAttribute("from", (string?)request.Attribute("to") ?? Domain));
        reply.Add(new XAttribute("to", FullJidOrBare()));
        var error = new XElement(Ns.Client + "error", new XAttribute("type", type), new XElement(Ns.Stanzas + condition));
        if (text is not null)
        {
            error.Add(new XElement(Ns.Stanzas + "text", text));
        }
        if (appError is not null)
        {
            error.Add(appError);
        }
        reply.Add(error);
        return reply;
    }

    /// <summary>Splits a JID into (local, domain, resource); null when it is not of this domain or malformed.</summary>
    internal static (string? Local, string Domain, string? Resource)? ParseJid(string? jid)
    {
        if (string.IsNullOrEmpty(jid) || jid.Length > 3071)
        {
            return null;
        }
        var slash = jid.IndexOf('/', StringComparison.Ordinal);
        var resource = slash >= 0 ? jid[(slash + 1)..] : null;
        var bare = slash >= 0 ? jid[..slash] : jid;
        var at = bare.IndexOf('@', StringComparison.Ordinal);
        var local = at >= 0 ? bare[..at] : null;
        var domain = at >= 0 ? bare[(at + 1)..] : bare;
        if (domain.Length == 0 || local is { Length: 0 } || resource is { Length: 0 })
        {
            return null;
        }
        return (local, domain, resource);
    }

    /// <summary>The Herald user id a JID names on this server, or null.</summary>
    private string? LocalUser(string? jid) =>
        ParseJid(jid) is { Local: { } local } j && string.Equals(j.Domain, Domain, StringComparison.OrdinalIgnoreCase) ? local : null;

    private bool IsServer(string? to) => to is null || string.Equals(to, Domain, StringComparison.OrdinalIgnoreCase);

    private bool IsSelfBare(string? to) => to is not null && string.Equals(to, BareJid, StringComparison.OrdinalIgnoreCase);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ending the XMPP resource of {UserId} failed")]
    private static partial void LogEndFailed(ILogger logger, Exception ex, string userId);

    [LoggerMessage(Level = LogLevel.Error, Message = "The XMPP writer of {UserId} failed; the connection is closed")]
    private static partial void LogWriterFailed(ILogger logger, Exception ex, string userId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "XMPP stanza of {UserId} failed")]
    private static partial void LogStanzaFailed(ILogger logger, Exception ex, string userId);
}
