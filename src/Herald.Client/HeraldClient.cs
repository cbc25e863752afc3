using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Herald.Client;

/// <summary>REST client for the Herald API v1.</summary>
public sealed class HeraldClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;

    /// <summary>Creates a client for a server.</summary>
    /// <param name="baseAddress">Server base URL, e.g. http://localhost:5080.</param>
    /// <param name="token">Bearer token, or null before logging in.</param>
    public HeraldClient(Uri baseAddress, string? token = null)
        : this(new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) }, token, ownsHttp: true)
    {
    }

    /// <summary>Creates a client over an existing HttpClient (its BaseAddress must be set).</summary>
    /// <param name="http">The HttpClient.</param>
    /// <param name="token">Bearer token, or null.</param>
    public HeraldClient(HttpClient http, string? token = null) : this(http, token, ownsHttp: false)
    {
    }

    private HeraldClient(HttpClient http, string? token, bool ownsHttp)
    {
        _http = http;
        _ownsHttp = ownsHttp;
        Token = token;
    }

    /// <summary>The server base URL.</summary>
    public Uri BaseAddress => _http.BaseAddress!;

    /// <summary>The bearer token in use.</summary>
    public string? Token { get; set; }

    /// <summary>Logs in and keeps the token.</summary>
    /// <param name="user">Person id.</param>
    /// <param name="password">Password.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <returns>The login result.</returns>
    public async Task<LoginResult> LoginAsync(string user, string password, CancellationToken cancellationToken = default)
    {
        var r = await SendAsync<LoginResult>(HttpMethod.Post, "api/v1/auth/token", new { username = user, password }, cancellationToken);
        Token = r.AccessToken;
        return r;
    }

    /// <summary>My own full presence.</summary>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <returns>The owner's view.</returns>
    public Task<PresenceView> GetMyPresenceAsync(CancellationToken cancellationToken = default) =>
        SendAsync<PresenceView>(HttpMethod.Get, "api/v1/me/presence", null, cancellationToken);

    /// <summary>Replaces my status and note.</summary>
    /// <param name="availability">Availability.</param>
    /// <param name="activity">Activity.</param>
    /// <param name="note">Note.</param>
    /// <param name="until">When it ends.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <returns>The owner's view.</returns>
    public Task<PresenceView> SetStatusAsync(Availability? availability = null, Activity? activity = null, string? note = null,
        DateTimeOffset? until = null, CancellationToken cancellationToken = default) =>
        SendAsync<PresenceView>(HttpMethod.Put, "api/v1/me/status", new { availability, activity, note, until }, cancellationToken);

    /// <summary>Clears my status and note.</summary>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <returns>The owner's view.</returns>
    public Task<PresenceView> ClearStatusAsync(CancellationToken cancellationToken = default) =>
        SendAsync<PresenceView>(HttpMethod.Delete, "api/v1/me/status", null, cancellationToken);

    /// <summary>One person's presence.</summary>
    /// <param name="userId">Person id.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <returns>The view for the caller.</returns>
    public Task<PresenceView> GetPresenceAsync(string userId, CancellationToken cancellationToken = default) =>
        SendAsync<PresenceView>(HttpMethod.Get, "api/v1/presence/" + Uri.EscapeDataString(userId), null, cancellationToken);

    /// <summary>Searches the directory.</summary>
    /// <param name="q">Substring of id, name or e-mail.</param>
    /// <param name="team">Team id.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <returns>Person cards.</returns>
    public Task<IReadOnlyList<PersonCard>> SearchPeopleAsync(string? q = null, string? team = null, CancellationToken cancellationToken = default)
    {
        var query = new List<string>();
        if (!string.IsNullOrEmpty(q))
        {
            query.Add("q=" + Uri.EscapeDataString(q));
        }
        if (!string.IsNullOrEmpty(team))
        {
            query.Add("team=" + Uri.EscapeDataString(team));
        }
        var path = "api/v1/people" + (query.Count > 0 ? "?" + string.Join('&', query) : "");
        return SendAsync<IReadOnlyList<PersonCard>>(HttpMethod.Get, path, null, cancellationToken);
    }

    /// <summary>How the caller may reach a person now.</summary>
    /// <param name="userId">Person id.</param>
    /// <param name="urgent">Urgent rather than normal.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <returns>The options.</returns>
    public Task<ReachResult> ReachAsync(string userId, bool urgent = false, CancellationToken cancellationToken = default) =>
        SendAsync<ReachResult>(HttpMethod.Get, $"api/v1/people/{Uri.EscapeDataString(userId)}/reach?urgency={(urgent ? "urgent" : "normal")}",
            null, cancellationToken);

    /// <summary>Asks the available: invites the people of a team (or list) who are available now.</summary>
    /// <param name="team">Team id, or null to use <paramref name="userIds"/>.</param>
    /// <param name="userIds">People, when no team is given.</param>
    /// <param name="topic">What it is about.</param>
    /// <param name="forMinutes">How long the huddle stays open.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <returns>The huddle as the requester sees it (invited, skipped count, responses).</returns>
    public Task<System.Text.Json.JsonElement> CreateHuddleAsync(string? team, IReadOnlyList<string>? userIds, string topic, int forMinutes = 15,
        CancellationToken cancellationToken = default) =>
        SendAsync<System.Text.Json.JsonElement>(HttpMethod.Post, "api/v1/huddles", new { team, userIds, topic, forMinutes }, cancellationToken);

    /// <summary>Imports people from CSV (admin): all or nothing.</summary>
    /// <param name="csv">CSV text with a header row.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <returns><c>{created, updated}</c>.</returns>
    public async Task<System.Text.Json.JsonElement> ImportPeopleAsync(string csv, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(csv);
        using var content = new StringContent(csv, System.Text.Encoding.UTF8, "text/csv");
        return await SendRawAsync<System.Text.Json.JsonElement>(HttpMethod.Post, "api/v1/admin/people/import", content, cancellationToken);
    }

    private async Task<T> SendRawAsync<T>(HttpMethod method, string path, HttpContent content, CancellationToken cancellationToken)
    {
        using var req = new HttpRequestMessage(method, path) { Content = content };
        return await SendRequestAsync<T>(req, cancellationToken);
    }

    private async Task<T> SendAsync<T>(HttpMethod method, string path, object? body, CancellationToken cancellationToken)
    {
        using var req = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            req.Content = JsonContent.Create(body, body.GetType(), options: HeraldJson.Options);
        }
        return await SendRequestAsync<T>(req, cancellationToken);
    }

    private async Task<T> SendRequestAsync<T>(HttpRequestMessage req, CancellationToken cancellationToken)
    {
        if (Token is not null)
        {
            req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        }
        using var resp = await _http.SendAsync(req, cancellationToken);
        if (!resp.IsSuccessStatusCode)
        {
            string? title = resp.ReasonPhrase;
            string? detail = null;
            try
            {
                var text = await resp.Content.ReadAsStringAsync(cancellationToken);
                using var doc = JsonDocument.Parse(text);
                if (doc.RootElement.TryGetProperty("title", out var t) && t.ValueKind == JsonValueKind.String)
                {
                    title = t.GetString();
                }
                if (doc.RootElement.TryGetProperty("detail", out var d) && d.ValueKind == JsonValueKind.String)
                {
                    detail = d.GetString();
                }
            }
            catch (JsonException)
            {
            }
            throw new HeraldApiException(resp.StatusCode, title, detail);
        }
        var result = await resp.Content.ReadFromJsonAsync<T>(HeraldJson.Options, cancellationToken);
        return result ?? throw new HeraldApiException(resp.StatusCode, "Empty response", null);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }
}
