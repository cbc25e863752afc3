using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Herald.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Herald.Server.Tests.Calendars;

/// <summary>
/// A real feed host: Kestrel on 127.0.0.1:0 serving a calendar that the test changes, with ETag / If-None-Match,
/// plus a missing path, an oversized one and a redirect to a host that is not allowed.
/// </summary>
public sealed class FeedHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private volatile string _ics = "";
    private volatile int _version;

    private FeedHost(WebApplication app) => _app = app;

    public Uri BaseAddress { get; private set; } = null!;

    public ConcurrentQueue<(string Path, string? IfNoneMatch, int Status)> Requests { get; } = new();

    public bool Failing { get; set; }

    public string Ics
    {
        set
        {
            _ics = value;
            Interlocked.Increment(ref _version);
        }
    }

    public static async Task<FeedHost> Start()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        var host = new FeedHost(app);
        app.MapGet("/cal.ics", host.Calendar);
        app.MapGet("/missing.ics", (HttpContext c) => host.Answer(c, 404));
        app.MapGet("/away", (HttpContext c) =>
        {
            host.Requests.Enqueue((c.Request.Path, null, 302));
            return Results.Redirect("http://127.0.0.2:9/elsewhere.ics");
        });
        app.MapGet("/big.ics", (HttpContext c) =>
        {
            host.Requests.Enqueue((c.Request.Path, null, 200));
            return Results.Text("BEGIN:VCALENDAR\r\n" + new string('X', 2 * 1024 * 1024), "text/calendar");
        });
        await app.StartAsync();
        host.BaseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return host;
    }

    private IResult Answer(HttpContext c, int status)
    {
        Requests.Enqueue((c.Request.Path, c.Request.Headers.IfNoneMatch.ToString(), status));
        return Results.StatusCode(status);
    }

    private IResult Calendar(HttpContext c)
    {
        if (Failing)
        {
            return Answer(c, 503);
        }
        var etag = $"\"v{_version}\"";
        if (c.Request.Headers.IfNoneMatch.ToString() == etag)
        {
            return Answer(c, 304);
        }
        Requests.Enqueue((c.Request.Path, c.Request.Headers.IfNoneMatch.ToString(), 200));
        c.Response.Headers.ETag = etag;
        return Results.Text(_ics, "text/calendar", Encoding.UTF8);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

public sealed class CalendarFeedTests : IAsyncLifetime
{
    private FeedHost _feeds = null!;
    private HeraldTestServer _server = null!;
    private Dictionary<string, string> _tokens = null!;

    public async Task InitializeAsync()
    {
        _feeds = await FeedHost.Start();
        _server = new HeraldTestServer(extraArgs:
        [
            "--Herald:Calendars:AllowedFeedHosts:0=127.0.0.1",
            "--Herald:Outbound:AllowNetworks:0=127.0.0.1/32",
        ]);
        await _server.StartAsync();
        _tokens = await _server.CreatePeople(HeraldTestServer.Person("anna", timeZone: "Europe/Berlin"), HeraldTestServer.Person("bob"));
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        await _feeds.DisposeAsync();
    }

    private string Event(string uid, TimeSpan from, TimeSpan length, string extra = "") => $"""
        BEGIN:VEVENT
        UID:{uid}@example.com
        DTSTAMP:20260101T000000Z
        SUMMARY:Private subject {uid}
        DTSTART:{(_server.Time.GetUtcNow() + from).UtcDateTime:yyyyMMdd'T'HHmmss'Z'}
        DTEND:{(_server.Time.GetUtcNow() + from + length).UtcDateTime:yyyyMMdd'T'HHmmss'Z'}
        {extra}
        END:VEVENT
        """;

    private static string Calendar(params string[] events) =>
        ("BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Herald tests//EN\n" + string.Join("\n", events) + "\nEND:VCALENDAR\n")
            .Replace("\n\n", "\n", StringComparison.Ordinal).ReplaceLineEndings("\r\n");

    private Uri Feed(string path = "/cal.ics") => new(_feeds.BaseAddress, path);

    private static async Task<JsonElement> Presence(HttpClient c) => await c.GetFromJsonAsync<JsonElement>("/api/v1/me/presence");

    [Fact]
    public async Task A_feed_is_read_at_once_then_refreshed_on_the_interval_with_a_conditional_request()
    {
        using var anna = _server.Client(_tokens["anna"]);
        (await anna.PutAsJsonAsync("/api/v1/me/devices/laptop", new { kind = "Desktop", ttlSeconds = 3600 })).EnsureSuccessStatusCode();
        _feeds.Ics = Calendar(Event("standup", TimeSpan.FromMinutes(30), TimeSpan.FromMinutes(30)));

        var put = await anna.PutAsJsonAsync("/api/v1/me/calendar/feed", new { url = Feed().ToString() });
        Assert.True(put.StatusCode == HttpStatusCode.OK, await put.Content.ReadAsStringAsync());
        var answer = await put.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(1, answer.GetProperty("entries").GetInt32());
        Assert.Equal("InAMeeting", answer.GetProperty("next")[0].GetProperty("activity").GetString());
        Assert.DoesNotContain("Private subject", answer.GetRawText(), StringComparison.Ordinal);
        var firstRefresh = _server.Time.GetUtcNow();
        Assert.Equal(firstRefresh + TimeSpan.FromMinutes(15), answer.GetProperty("nextRefreshAt").GetDateTimeOffset());

        _server.Time.Advance(TimeSpan.FromMinutes(31));
        var during = await Presence(anna);
        Assert.Equal("InAMeeting", during.GetProperty("activity").GetString());

        // The calendar changes at its source: the meeting is cancelled and an out-of-office day is added.
        _feeds.Ics = Calendar(Event("away", TimeSpan.FromMinutes(-10), TimeSpan.FromHours(8), "X-MICROSOFT-CDO-BUSYSTATUS:OOF"));
        await Eventually.True(async () =>
        {
            _server.Time.Advance(TimeSpan.FromSeconds(30)); // the refresher's checks run on the (fake) clock
            return (await Presence(anna)).GetProperty("activity").GetString() == "OutOfOffice";
        }, because: "the next refresh reads the changed feed");
        Assert.True(_server.Time.GetUtcNow() >= firstRefresh + TimeSpan.FromMinutes(15), "not refreshed before the interval");
        Assert.Contains(_feeds.Requests, r => r.Path == "/cal.ics" && r.IfNoneMatch == "\"v1\"" && r.Status == 200);

        // Unchanged at the next interval: a 304, and the entries stay.
        var before = _feeds.Requests.Count;
        await Eventually.True(() =>
        {
            _server.Time.Advance(TimeSpan.FromSeconds(30));
            return _feeds.Requests.Skip(before).Any(r => r.Status == 304);
        }, because: "the next refresh is conditional");
        Assert.Equal("OutOfOffice", (await Presence(anna)).GetProperty("activity").GetString());
        var info = await anna.GetFromJsonAsync<JsonElement>("/api/v1/me/calendar/feed");
        Assert.Equal(Feed().ToString(), info.GetProperty("url").GetString());
        Assert.Equal(0, info.GetProperty("consecutiveFailures").GetInt32());
    }

    [Fact]
    public async Task A_failing_feed_keeps_its_last_entries_and_reports_the_error()
    {
        using var anna = _server.Client(_tokens["anna"]);
        (await anna.PutAsJsonAsync("/api/v1/me/devices/laptop", new { kind = "Desktop", ttlSeconds = 3600 })).EnsureSuccessStatusCode();
        _feeds.Ics = Calendar(Event("workshop", TimeSpan.FromMinutes(-5), TimeSpan.FromHours(3)));
        (await anna.PutAsJsonAsync("/api/v1/me/calendar/feed", new { url = Feed().ToString() })).EnsureSuccessStatusCode();

        _feeds.Failing = true;
        await Eventually.True(async () =>
        {
            _server.Time.Advance(TimeSpan.FromSeconds(30));
            var info = await anna.GetFromJsonAsync<JsonElement>("/api/v1/me/calendar/feed");
            return info.GetProperty("consecutiveFailures").GetInt32() >= 1;
        }, because: "the refresh fails");
        var failed = await anna.GetFromJsonAsync<JsonElement>("/api/v1/me/calendar/feed");
        Assert.Equal("HTTP 503", failed.GetProperty("lastError").GetString());
        Assert.Equal("InAMeeting", (await Presence(anna)).GetProperty("activity").GetString());

        // Removing the feed forgets its entries.
        Assert.Equal(HttpStatusCode.NoContent, (await anna.DeleteAsync("/api/v1/me/calendar/feed")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await anna.GetAsync("/api/v1/me/calendar/feed")).StatusCode);
        Assert.NotEqual("InAMeeting", (await Presence(anna)).GetProperty("activity").GetString());
    }

    [Fact]
    public async Task Unusable_feed_urls_are_refused_with_the_reason()
    {
        using var anna = _server.Client(_tokens["anna"]);
        async Task<string> Refused(object body)
        {
            var r = await anna.PutAsJsonAsync("/api/v1/me/calendar/feed", body);
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            var problem = await r.Content.ReadFromJsonAsync<JsonElement>();
            return problem.GetProperty("errors").GetProperty("url")[0].GetString()!;
        }

        Assert.Contains("is required", await Refused(new { }), StringComparison.Ordinal);
        Assert.Contains("http or https", await Refused(new { url = "ftp://127.0.0.1/cal.ics" }), StringComparison.Ordinal);
        Assert.Contains("not an allowed calendar host", await Refused(new { url = "http://calendar.example.com/cal.ics" }), StringComparison.Ordinal);
        Assert.Contains("HTTP 404", await Refused(new { url = Feed("/missing.ics").ToString() }), StringComparison.Ordinal);
        Assert.Contains("redirected to a host that is not allowed", await Refused(new { url = Feed("/away").ToString() }), StringComparison.Ordinal);
        Assert.Contains("larger than 1 MiB", await Refused(new { url = Feed("/big.ics").ToString() }), StringComparison.Ordinal);
        _feeds.Ics = "this is not a calendar";
        Assert.Contains("not a usable calendar", await Refused(new { url = Feed().ToString() }), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await anna.GetAsync("/api/v1/me/calendar/feed")).StatusCode);
    }

    [Fact]
    public async Task Feeds_are_off_unless_hosts_are_allowed()
    {
        await using var plain = new HeraldTestServer();
        await plain.StartAsync();
        var tokens = await plain.CreatePeople(HeraldTestServer.Person("anna"));
        using var anna = plain.Client(tokens["anna"]);
        var r = await anna.PutAsJsonAsync("/api/v1/me/calendar/feed", new { url = Feed().ToString() });
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.Contains("turned off", await r.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(_feeds.Requests);
    }

    [Fact]
    public async Task A_feed_survives_a_restart_and_is_fetched_again()
    {
        using (var anna = _server.Client(_tokens["anna"]))
        {
            _feeds.Ics = Calendar(Event("standup", TimeSpan.FromHours(1), TimeSpan.FromMinutes(30)));
            (await anna.PutAsJsonAsync("/api/v1/me/calendar/feed", new { url = Feed().ToString() })).EnsureSuccessStatusCode();
        }
        await _server.RestartAsync();
        var before = _feeds.Requests.Count;
        await Eventually.True(() =>
        {
            _server.Time.Advance(TimeSpan.FromSeconds(30));
            return _feeds.Requests.Count > before;
        }, because: "after a restart every registered feed is fetched once more");
        using var again = _server.Client(_tokens["anna"]);
        var info = await again.GetFromJsonAsync<JsonElement>("/api/v1/me/calendar/feed");
        Assert.Equal(Feed().ToString(), info.GetProperty("url").GetString());
    }
}
