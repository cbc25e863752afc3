using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Bench.Net;

/// <summary>
/// One user on Herald's native live protocol: <c>POST /api/v1/auth/token</c>, <c>GET /api/v1/me/contacts</c>, a
/// SignalR connection to <c>/hubs/presence</c> over WebSockets (JSON or MessagePack hub protocol) that watches the
/// contacts, and for the initial presence and every update (the stamp in the note) the hub's <c>SetStatus</c> method
/// (<c>--publish hub</c>, default) or <c>PUT /api/v1/me/status</c> (<c>--publish rest</c>).
/// </summary>
public sealed class HeraldBenchClient : IBenchConnection
{
    private readonly NetOptions _o;
    private readonly int _index;
    private readonly DeliveryRecorder _recorder;
    private readonly HttpClient _http;
    private readonly SemaphoreSlim _publishLock = new(1, 1);
    private HubConnection? _hub;
    private string _token = "";
    private long _errors;
    private bool _closing;

    /// <summary>Creates the client of user <paramref name="index"/>; <paramref name="http"/> is shared.</summary>
    public HeraldBenchClient(NetOptions options, int index, DeliveryRecorder recorder, HttpClient http)
    {
        _o = options;
        _index = index;
        _recorder = recorder;
        _http = http;
    }

    /// <inheritdoc />
    public long Errors => Interlocked.Read(ref _errors);

    /// <inheritdoc />
    public int RosterSize { get; private set; }

    private string User => _o.Prefix + _index.ToString(CultureInfo.InvariantCulture);

    /// <inheritdoc />
    public async Task Login(CancellationToken ct)
    {
        string[] contacts;
        (_token, contacts) = await HeraldLogin.TokenAndContacts(_http, _o, User, ct);
        RosterSize = contacts.Length;
        var builder = new HubConnectionBuilder()
            .WithUrl($"{_o.Url}/hubs/presence", o =>
            {
                o.AccessTokenProvider = () => Task.FromResult<string?>(_token);
                o.Transports = HttpTransportType.WebSockets;
                o.SkipNegotiation = true;
            });
        if (_o.Protocol == WireProtocol.SignalRMessagePack)
        {
            builder.AddMessagePackProtocol();
        }
        _hub = builder.Build();
        _hub.ServerTimeout = TimeSpan.FromMinutes(5);
        _hub.On<List<BenchView>>("presence", OnPresence);
        _hub.Closed += _ =>
        {
            if (!_closing)
            {
                Interlocked.Increment(ref _errors);
            }
            return Task.CompletedTask;
        };
        await _hub.StartAsync(ct);
        await _hub.InvokeAsync<List<BenchView>>("Watch", contacts, ct);
        await PutStatus("online", false, ct);
    }

    /// <inheritdoc />
    public async Task Publish(string stamp, bool busy, CancellationToken ct)
    {
        // One update at a time per user, like a real client: two PUTs of one person in flight on different HTTP
        // connections could be applied in either order (XMPP gets this order from its single stream).
        await _publishLock.WaitAsync(ct);
        try
        {
            await PutStatus(stamp, busy, ct);
        }
        finally
        {
            _publishLock.Release();
        }
    }

    private async Task PutStatus(string note, bool busy, CancellationToken ct)
    {
        if (_o.Publish == "hub")
        {
            try
            {
                // Same body as the REST call; both hub protocols bind it by name (MessagePack: the property names as written).
                await _hub!.InvokeAsync<BenchView>("SetStatus", new BenchStatus { Availability = busy ? "Busy" : "Available", Note = note }, ct);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Interlocked.Increment(ref _errors);
                throw new InvalidOperationException($"status of {User}: {ex.Message}", ex);
            }
            return;
        }
        using var req = new HttpRequestMessage(HttpMethod.Put, $"{_o.Url}/api/v1/me/status")
        {
            Content = JsonContent.Create(new { availability = busy ? "Busy" : "Available", note }),
        };
        req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _token);
        using var r = await _http.SendAsync(req, ct);
        if (!r.IsSuccessStatusCode)
        {
            Interlocked.Increment(ref _errors);
            await HeraldProvisioner.EnsureOk(r, $"status of {User}", ct);
        }
    }

    private void OnPresence(List<BenchView> views)
    {
        foreach (var v in views)
        {
            if (v.Note is { } note)
            {
                _recorder.OnStamp(note.AsSpan(), _index);
            }
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        _closing = true;
        if (_hub is not null)
        {
            try
            {
                await _hub.DisposeAsync();
            }
            catch (Exception)
            {
                // best effort
            }
        }
    }
}

/// <summary>A status change as the hub's <c>SetStatus</c> takes it (the fields the benchmark sets).</summary>
public sealed class BenchStatus
{
    /// <summary>Available or Busy.</summary>
    public string? Availability { get; set; }

    /// <summary>The note (the stamp).</summary>
    public string? Note { get; set; }
}

/// <summary>The part of a view the benchmark reads (both hub protocols bind by name and ignore the rest).</summary>
public sealed class BenchView
{
    /// <summary>Whose view.</summary>
    public string? UserId { get; set; }

    /// <summary>The note (the stamp).</summary>
    public string? Note { get; set; }

    /// <summary>Sequence.</summary>
    public long Sequence { get; set; }
}

/// <summary>The HTTP part of a native login, shared by the SignalR and WebSocket clients.</summary>
internal static class HeraldLogin
{
    /// <summary><c>POST /api/v1/auth/token</c>, then <c>GET /api/v1/me/contacts</c>: the token and the contact ids.</summary>
    public static async Task<(string Token, string[] Contacts)> TokenAndContacts(HttpClient http, NetOptions o, string user, CancellationToken ct)
    {
        var token = await Token(http, o, user, ct);
        using var req = new HttpRequestMessage(HttpMethod.Get, $"{o.Url}/api/v1/me/contacts");
        req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await http.SendAsync(req, ct);
        await HeraldProvisioner.EnsureOk(response, $"contacts of {user}", ct);
        using var contacts = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
        return (token, [.. contacts.RootElement.EnumerateArray().Select(e => e.GetProperty("userId").GetString()!)]);
    }

    /// <summary><c>POST /api/v1/auth/token</c>: the access token.</summary>
    public static async Task<string> Token(HttpClient http, NetOptions o, string user, CancellationToken ct)
    {
        using var r = await http.PostAsJsonAsync($"{o.Url}/api/v1/auth/token", new { username = user, password = o.Password }, ct);
        await HeraldProvisioner.EnsureOk(r, $"login {user}", ct);
        using var doc = JsonDocument.Parse(await r.Content.ReadAsStringAsync(ct));
        return doc.RootElement.GetProperty("accessToken").GetString()!;
    }
}
