using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Client;

/// <summary>
/// Live presence over the SignalR hub, with reconnect, fail-over and resume. When the connection drops (a node died,
/// or a draining node sent <c>reconnect</c>), the watcher connects to the next base URL — the same one when there is
/// only one, e.g. a load balancer — and resumes with <c>WatchFrom</c> and the last sequence seen per person, so it
/// receives exactly what changed meanwhile. Attempts are bounded (<see cref="MaxReconnectAttempts"/>, backoff up to
/// <see cref="MaxReconnectDelay"/>); after the last one <see cref="State"/> stays Disconnected. When the server ends
/// the connection because its credential ended (message <c>closed</c>: 4401 token expired, 4403 revoked) the watcher
/// raises <see cref="CredentialEnded"/>; after 4401 it reconnects only when it was given a token provider (which must
/// then return a fresh token), otherwise it stays Disconnected instead of retrying with a credential the server refuses.
/// </summary>
public sealed class PresenceWatcher : IAsyncDisposable
{
    /// <summary>Reconnect attempts after a loss before giving up.</summary>
    public const int MaxReconnectAttempts = 100;

    /// <summary>Longest wait between reconnect attempts.</summary>
    public static readonly TimeSpan MaxReconnectDelay = TimeSpan.FromSeconds(5);

    private readonly Uri[] _bases;
    private readonly Func<CancellationToken, Task<string>> _tokens;
    private readonly bool _refreshable;
    private CredentialEndedInfo? _lastEnd;
    private readonly ConcurrentDictionary<string, long> _seen = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _reconnecting = new(1, 1);
    private readonly CancellationTokenSource _disposed = new();
    private HubConnection _connection;
    private int _current;

    /// <summary>Creates a watcher.</summary>
    /// <param name="baseAddress">Server (or load balancer) base URL.</param>
    /// <param name="token">Bearer token.</param>
    public PresenceWatcher(Uri baseAddress, string token)
        : this([baseAddress], token)
    {
    }

    /// <summary>Creates a watcher that fails over between several nodes, in order, starting with the first.</summary>
    /// <param name="baseAddresses">Node base URLs (at least one).</param>
    /// <param name="token">Bearer token (any node accepts it: the cluster shares its key ring).</param>
    public PresenceWatcher(IReadOnlyList<Uri> baseAddresses, string token)
    {
        ArgumentNullException.ThrowIfNull(baseAddresses);
        if (baseAddresses.Count == 0)
        {
            throw new ArgumentException("Give at least one base address.", nameof(baseAddresses));
        }
        _bases = [.. baseAddresses];
        _tokens = _ => Task.FromResult(token);
        _connection = Build(_bases[0]);
    }

    /// <summary>
    /// Creates a watcher that asks <paramref name="tokenProvider"/> for the bearer token at every (re)connect, so that
    /// after the token expired (close 4401) it reconnects with a fresh one and resumes.
    /// </summary>
    /// <param name="baseAddresses">Node base URLs (at least one).</param>
    /// <param name="tokenProvider">Returns a valid bearer token (e.g. logs in again when the last one is about to expire).</param>
    public PresenceWatcher(IReadOnlyList<Uri> baseAddresses, Func<CancellationToken, Task<string>> tokenProvider)
    {
        ArgumentNullException.ThrowIfNull(baseAddresses);
        ArgumentNullException.ThrowIfNull(tokenProvider);
        if (baseAddresses.Count == 0)
        {
            throw new ArgumentException("Give at least one base address.", nameof(baseAddresses));
        }
        _bases = [.. baseAddresses];
        _tokens = tokenProvider;
        _refreshable = true;
        _connection = Build(_bases[0]);
    }

    /// <summary>Raised when the server ended the connection because its credential ended (expired token, revoked, account deleted).</summary>
    public event EventHandler<CredentialEndedInfo>? CredentialEnded;

    /// <summary>Raised for each view with a higher sequence than the last seen for that person.</summary>
    public event EventHandler<PresenceView>? PresenceChanged;

    /// <summary>Raised after the watcher reconnected (argument: the base URL now in use).</summary>
    public event EventHandler<Uri>? Reconnected;

    /// <summary>The current connection state.</summary>
    public HubConnectionState State => _connection.State;

    /// <summary>The base URL of the current connection.</summary>
    public Uri CurrentBaseAddress => _bases[_current];

    /// <summary>Connects to the hub.</summary>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <returns>A task.</returns>
    public Task StartAsync(CancellationToken cancellationToken = default) => _connection.StartAsync(cancellationToken);

    /// <summary>Starts watching people. Returns their current views, which become the baseline (no event is raised for them).</summary>
    /// <param name="userIds">People.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <returns>Current views.</returns>
    public async Task<IReadOnlyList<PresenceView>> WatchAsync(IEnumerable<string> userIds, CancellationToken cancellationToken = default)
    {
        var views = await _connection.InvokeAsync<PresenceView[]>("Watch", userIds.ToArray(), cancellationToken);
        lock (_gate)
        {
            foreach (var v in views)
            {
                if (!_seen.TryGetValue(v.UserId, out var s) || s < v.Sequence)
                {
                    _seen[v.UserId] = v.Sequence;
                }
            }
        }
        return views;
    }

    /// <summary>Stops watching people.</summary>
    /// <param name="userIds">People.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <returns>A task.</returns>
    public async Task UnwatchAsync(IEnumerable<string> userIds, CancellationToken cancellationToken = default)
    {
        var ids = userIds.ToArray();
        await _connection.InvokeAsync("Unwatch", ids, cancellationToken);
        foreach (var id in ids)
        {
            _seen.TryRemove(id, out _);
        }
    }

    private HubConnection Build(Uri baseAddress)
    {
        var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(baseAddress, "hubs/presence"), o => o.AccessTokenProvider = async () => await _tokens(_disposed.Token))
            .AddJsonProtocol(o =>
            {
                o.PayloadSerializerOptions.PropertyNamingPolicy = HeraldJson.Options.PropertyNamingPolicy;
                o.PayloadSerializerOptions.PropertyNameCaseInsensitive = true;
                foreach (var c in HeraldJson.Options.Converters)
                {
                    o.PayloadSerializerOptions.Converters.Add(c);
                }
            })
            .Build();
        connection.On<PresenceView[]>("presence", Apply);
        // A draining node asks its clients to go elsewhere before it stops.
        connection.On<object>("reconnect", message => { _ = Task.Run(() => connection.StopAsync()); }); // never await Stop inside a handler
        // The credential ended: the server says why just before it closes the connection.
        connection.On<CredentialEndedInfo>("closed", info => Volatile.Write(ref _lastEnd, info));
        connection.Closed += error =>
        {
            if (Interlocked.Exchange(ref _lastEnd, null) is { } ended && ReferenceEquals(connection, _connection))
            {
                CredentialEnded?.Invoke(this, ended);
                if (ended.Code != CredentialEndedInfo.TokenExpired || !_refreshable)
                {
                    return Task.CompletedTask; // reconnecting with the same credential would be refused
                }
            }
            _ = ReconnectAsync(connection);
            return Task.CompletedTask;
        };
        return connection;
    }

    /// <summary>Connects to the next node (bounded attempts with backoff) and resumes from the last sequences seen.</summary>
    private async Task ReconnectAsync(HubConnection lost)
    {
        if (_disposed.IsCancellationRequested || !await _reconnecting.WaitAsync(0))
        {
            return;
        }
        try
        {
            if (!ReferenceEquals(lost, _connection))
            {
                return;
            }
            for (var attempt = 1; attempt <= MaxReconnectAttempts && !_disposed.IsCancellationRequested; attempt++)
            {
                _current = (_current + 1) % _bases.Length;
                var next = Build(_bases[_current]);
                try
                {
                    await next.StartAsync(_disposed.Token);
                    var known = new Dictionary<string, long>(_seen, StringComparer.Ordinal);
                    _connection = next;
                    await lost.DisposeAsync();
                    if (known.Count > 0)
                    {
                        Apply(await next.InvokeAsync<PresenceView[]>("WatchFrom", known, _disposed.Token));
                    }
                    Reconnected?.Invoke(this, _bases[_current]);
                    return;
                }
                catch (Exception) when (!_disposed.IsCancellationRequested)
                {
                    if (!ReferenceEquals(next, _connection))
                    {
                        await next.DisposeAsync();
                    }
                    else
                    {
                        // Connected but the resume failed: close it and go round again.
                        await next.StopAsync();
                        lost = next;
                    }
                    var delay = TimeSpan.FromMilliseconds(Math.Min(MaxReconnectDelay.TotalMilliseconds, 100 * attempt / _bases.Length));
                    try
                    {
                        await Task.Delay(delay, _disposed.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            _reconnecting.Release();
        }
    }

    private void Apply(PresenceView[] views)
    {
        foreach (var v in views)
        {
            lock (_gate)
            {
                if (_seen.TryGetValue(v.UserId, out var s) && s >= v.Sequence)
                {
                    continue;
                }
                _seen[v.UserId] = v.Sequence;
            }
            PresenceChanged?.Invoke(this, v);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _disposed.CancelAsync();
        await _connection.DisposeAsync();
        _disposed.Dispose();
        _reconnecting.Dispose();
    }
}
