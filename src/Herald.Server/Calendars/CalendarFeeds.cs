using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Herald.Cluster.Calendars;
using Herald.Cluster.Directory;
using Herald.Cluster.Presence;
using Herald.Core.Model;
using Herald.Server.Outbound;
using Microsoft.Extensions.Options;

namespace Herald.Server.Calendars;

/// <summary>Calendar feed settings: configuration section <c>Herald:Calendars</c>.</summary>
public sealed class CalendarOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Herald:Calendars";

    /// <summary>
    /// Hosts whose iCalendar feeds people may subscribe to: exact names (<c>calendar.example.com</c>) or a
    /// wildcard for subdomains (<c>*.example.com</c>). Empty (the default) turns feed URLs off; uploads still work.
    /// </summary>
    public List<string> AllowedFeedHosts { get; set; } = [];

    /// <summary>How often each feed is fetched again (at least 1 minute; default 15 minutes).</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How often the refresher looks for due feeds (default 30 s).</summary>
    public TimeSpan CheckInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Timeout of one feed request (default 10 s).</summary>
    public TimeSpan FetchTimeout { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>Fetches, checks and applies calendar feeds.</summary>
public sealed class CalendarFeeds(
    IHttpClientFactory http,
    IOptions<CalendarOptions> options,
    IGrainFactory grains,
    IDirectoryStore directory,
    TimeProvider time)
{
    /// <summary>The name of the HTTP client for feeds.</summary>
    public const string HttpClientName = "herald-calendars";

    /// <summary>Redirects followed per fetch (each target must be an allowed host too).</summary>
    public const int MaxRedirects = 3;

    /// <summary>Longest feed URL.</summary>
    public const int MaxUrlLength = 2048;

    /// <summary>The settings.</summary>
    public CalendarOptions Options => options.Value;

    /// <summary>Why <paramref name="url"/> may not be used as a feed, or null when it may.</summary>
    public string? Refuse(string? url)
    {
        if (options.Value.AllowedFeedHosts.Count == 0)
        {
            return "calendar feed URLs are turned off on this server (Herald:Calendars:AllowedFeedHosts is empty); upload the .ics instead";
        }
        if (string.IsNullOrWhiteSpace(url))
        {
            return "is required";
        }
        if (url.Length > MaxUrlLength)
        {
            return $"at most {MaxUrlLength} characters";
        }
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            return "must be an absolute http or https URL";
        }
        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            return "must not carry a user name or password";
        }
        return HostAllowed(uri.IdnHost) ? null : $"host '{uri.IdnHost}' is not an allowed calendar host (Herald:Calendars:AllowedFeedHosts)";
    }

    /// <summary>True when <paramref name="host"/> is in the allow-list.</summary>
    public bool HostAllowed(string host)
    {
        foreach (var allowed in options.Value.AllowedFeedHosts)
        {
            if (allowed.StartsWith("*.", StringComparison.Ordinal))
            {
                if (host.EndsWith(allowed[1..], StringComparison.OrdinalIgnoreCase) && host.Length > allowed.Length - 1)
                {
                    return true;
                }
            }
            else if (string.Equals(host, allowed, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// Fetches <paramref name="job"/>'s feed (conditionally) and, when it changed, stores its entries as the
    /// person's calendar. Never throws for a bad feed: the result says what went wrong.
    /// </summary>
    public async Task<(CalendarFeedResult Result, IReadOnlyList<CalendarBusy>? Entries)> Refresh(CalendarFeedJob job, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(job);
        var (result, text) = await Fetch(job, ct);
        if (!result.Ok || result.NotModified || text is null)
        {
            return (result, null);
        }
        var zone = TimeZones.Find((await directory.GetPerson(job.UserId, ct))?.TimeZone ?? "UTC");
        IReadOnlyList<CalendarBusy> entries;
        try
        {
            entries = IcsCalendar.Parse(text, time.GetUtcNow(), zone);
        }
        catch (IcsCalendarException ex)
        {
            return (result with { Ok = false, Error = "not a usable calendar: " + ex.Message }, null);
        }
        await grains.Person(job.UserId).SetCalendar(entries);
        return (result with { Entries = entries.Count }, entries);
    }

    private async Task<(CalendarFeedResult Result, string? Text)> Fetch(CalendarFeedJob job, CancellationToken ct)
    {
        CalendarFeedResult Fail(string error) => new(false, false, 0, null, null, error, time.GetUtcNow());
        var client = http.CreateClient(HttpClientName);
        var url = new Uri(job.Url);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(options.Value.FetchTimeout);
        try
        {
            for (var hop = 0; ; hop++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, url);
                request.Headers.Accept.ParseAdd("text/calendar");
                request.Headers.UserAgent.ParseAdd("Herald-Calendars/1");
                if (hop == 0 && job.ETag is not null)
                {
                    request.Headers.TryAddWithoutValidation("If-None-Match", job.ETag);
                }
                if (hop == 0 && job.LastModified is { } lm)
                {
                    request.Headers.IfModifiedSince = lm;
                }
                using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
                var status = (int)response.StatusCode;
                if (status is 301 or 302 or 303 or 307 or 308)
                {
                    if (hop >= MaxRedirects)
                    {
                        return (Fail($"more than {MaxRedirects} redirects"), null);
                    }
                    if (response.Headers.Location is not { } location)
                    {
                        return (Fail($"HTTP {status} without a Location"), null);
                    }
                    var next = location.IsAbsoluteUri ? location : new Uri(url, location);
                    if ((next.Scheme != Uri.UriSchemeHttp && next.Scheme != Uri.UriSchemeHttps) || !HostAllowed(next.IdnHost))
                    {
                        return (Fail($"redirected to a host that is not allowed ({next.IdnHost})"), null);
                    }
                    url = next;
                    continue;
                }
                if (response.StatusCode == HttpStatusCode.NotModified)
                {
                    return (new CalendarFeedResult(true, true, 0, job.ETag, job.LastModified, null, time.GetUtcNow()), null);
                }
                if (!response.IsSuccessStatusCode)
                {
                    return (Fail($"HTTP {status}"), null);
                }
                if (response.Content.Headers.ContentLength > IcsCalendar.MaxTextLength)
                {
                    return (Fail($"larger than {IcsCalendar.MaxTextLength / 1024 / 1024} MiB"), null);
                }
                var text = await ReadLimited(response.Content, timeout.Token);
                if (text is null)
                {
                    return (Fail($"larger than {IcsCalendar.MaxTextLength / 1024 / 1024} MiB, or not UTF-8 text"), null);
                }
                var etag = response.Headers.ETag?.ToString();
                return (new CalendarFeedResult(true, false, 0, etag, response.Content.Headers.LastModified, null, time.GetUtcNow()), text);
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return (Fail($"timed out after {options.Value.FetchTimeout.TotalSeconds:0} s"), null);
        }
        catch (HttpRequestException ex)
        {
            return (Fail(ex.Message), null);
        }
    }

    private static async Task<string?> ReadLimited(HttpContent content, CancellationToken ct)
    {
        await using var stream = await content.ReadAsStreamAsync(ct);
        var buffer = new MemoryStream();
        var chunk = new byte[16384];
        int read;
        while ((read = await stream.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > IcsCalendar.MaxTextLength)
            {
                return null;
            }
            buffer.Write(chunk, 0, read);
        }
        try
        {
            return new UTF8Encoding(false, true).GetString(buffer.GetBuffer(), 0, (int)buffer.Length).TrimStart('\uFEFF');
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }
}

/// <summary>
/// Refreshes due calendar feeds: every <see cref="CalendarOptions.CheckInterval"/> it takes due feeds from the
/// registry grain (any node may; each feed is leased to one) and fetches up to four at a time.
/// </summary>
public sealed partial class CalendarFeedRefresher(
    CalendarFeeds feeds,
    IGrainFactory grains,
    TimeProvider time,
    ILogger<CalendarFeedRefresher> logger) : BackgroundService
{
    /// <summary>Feeds taken per check.</summary>
    public const int BatchSize = 32;

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (feeds.Options.AllowedFeedHosts.Count == 0)
        {
            return;
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RunOnce(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // the loop must survive a failed round (e.g. the silo still starting)
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogRoundFailed(ex);
            }
            try
            {
                await Task.Delay(feeds.Options.CheckInterval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Runs one round: takes the due feeds and refreshes them.</summary>
    public async Task RunOnce(CancellationToken ct)
    {
        var registry = grains.GetGrain<ICalendarFeedsGrain>(0);
        var jobs = await registry.TakeDue(time.GetUtcNow(), BatchSize);
        await Parallel.ForEachAsync(jobs, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = ct }, async (job, token) =>
        {
            var (result, _) = await feeds.Refresh(job, token);
            if (!result.Ok)
            {
                LogFeedFailed(job.UserId, result.Error ?? "");
            }
            await registry.Report(job, result, feeds.Options.RefreshInterval);
        });
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A calendar feed round failed")]
    private partial void LogRoundFailed(Exception ex);

    [LoggerMessage(Level = LogLevel.Information, Message = "Calendar feed of {UserId} failed: {Error}")]
    private partial void LogFeedFailed(string userId, string error);
}

/// <summary>Registration of calendar feeds.</summary>
public static class CalendarSetup
{
    /// <summary>Adds options (validated), the HTTP client (outbound policy, no automatic redirects) and the refresher.</summary>
    public static IServiceCollection AddHeraldCalendars(this IServiceCollection services)
    {
        services.AddHeraldOutbound();
        services.AddOptions<CalendarOptions>().BindConfiguration(CalendarOptions.Section)
            .Validate(o => o.RefreshInterval >= TimeSpan.FromMinutes(1), "Herald:Calendars:RefreshInterval must be at least 00:01:00")
            .Validate(o => o.CheckInterval > TimeSpan.Zero && o.FetchTimeout > TimeSpan.Zero, "Herald:Calendars:CheckInterval and FetchTimeout must be positive")
            .Validate(o => o.AllowedFeedHosts.All(h => !string.IsNullOrWhiteSpace(h) && !h.Contains('/', StringComparison.Ordinal)),
                "Herald:Calendars:AllowedFeedHosts holds host names such as calendar.example.com or *.example.com")
            .ValidateOnStart();
        services.AddHttpClient(CalendarFeeds.HttpClientName, c => c.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(sp => sp.GetRequiredService<OutboundGuard>().CreateHandler());
        services.AddSingleton<CalendarFeeds>();
        services.AddHostedService<CalendarFeedRefresher>();
        return services;
    }
}
