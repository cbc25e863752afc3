using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Client;

/// <summary>Live presence over the SignalR hub, with automatic reconnect and resume.</summary>
public sealed class PresenceWatcher : IAsyncDisposable
{
    private readonly HubConnection _connection;
    private readonly ConcurrentDictionary<string, long> _seen = new(StringComparer.Ordinal);
    private readonly object _gate = new();

    /// <summary>Creates a watcher.</summary>
    /// <param name="baseAddress">Server base URL.</param>
    /// <param name="token">Bearer token.</param>
    public PresenceWatcher(Uri baseAddress, string token)
    {
        _connection = new HubConnectionBuilder()
            .WithUrl(new Uri(baseAddress, "hubs/presence"), o => o.AccessTokenProvider = () => Task.FromResult<string?>(token))
            .AddJsonProtocol(o =>
            {
                o.PayloadSerializerOptions.PropertyNamingPolicy = HeraldJson.Options.PropertyNamingPolicy;
                o.PayloadSerializerOptions.PropertyNameCaseInsensitive = true;
                foreach (var c in HeraldJson.Options.Converters)
                {
                    o.PayloadSerializerOptions.Converters.Add(c);
                }
            })
            .WithAutomaticReconnect()
            .Build();
        _connection.On<PresenceView[]>("presence", Apply);
        _connection.Reconnected += async _ =>
        {
            var known = new Dictionary<string, long>(_seen, StringComparer.Ordinal);
            if (known.Count > 0)
            {
                Apply(await _connection.InvokeAsync<PresenceView[]>("WatchFrom", known));
            }
        };
    }

    /// <summary>Raised for each view with a higher sequence than the last seen for that person.</summary>
    public event EventHandler<PresenceView>? PresenceChanged;

    /// <summary>The current connection state.</summary>
    public HubConnectionState State => _connection.State;

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
    public async ValueTask DisposeAsync() => await _connection.DisposeAsync();
}
