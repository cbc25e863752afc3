using System.Security.Claims;
using System.Text;
using Herald.Cluster.Directory;
using Herald.Cluster.Presence;
using Herald.Core.Model;
using Herald.Server.Auth;
using Herald.Server.Calendars;

namespace Herald.Server.Apis;

/// <summary>
/// A person's calendar as a presence source: <c>PUT /api/v1/me/calendar</c> with an iCalendar (.ics) body
/// (<c>text/calendar</c>, at most 1 MiB) stores the busy and out-of-office intervals of the next 14 days (see
/// <see cref="IcsCalendar"/>); <c>DELETE</c> removes them. Subjects are never shown in presence views.
/// <c>PUT /api/v1/me/calendar/feed</c> subscribes to an iCalendar feed URL instead (hosts allow-listed in
/// <c>Herald:Calendars:AllowedFeedHosts</c>), fetched at once and then every <c>RefreshInterval</c>.
/// </summary>
public static class CalendarApi
{
    // A body somewhat over the limit is read to its end before the 413, so the client sees the answer rather than a reset.
    private const int DrainLimit = 4 * IcsCalendar.MaxTextLength;

    /// <summary>One upcoming entry in the upload answer (no subject).</summary>
    public sealed record CalendarEntry(DateTimeOffset Start, DateTimeOffset End, string Activity);

    /// <summary>The upload answer: how many entries were stored, and the first few that have not ended.</summary>
    public sealed record CalendarUploaded(int Entries, IReadOnlyList<CalendarEntry> Next);

    /// <summary>Maps the endpoints.</summary>
    public static void MapCalendarApi(this IEndpointRouteBuilder app)
    {
        app.MapPut("/api/v1/me/calendar", Put).RequireAuthorization(HeraldPolicies.Person).WithTags("Calendar")
            .Accepts<string>("text/calendar").Produces<CalendarUploaded>().ProducesProblem(400).ProducesProblem(413)
            .WithName("PutMyCalendar").WithSummary("Upload my calendar (.ics): busy events show me in a meeting, out-of-office events as out of office.");
        app.MapPut("/api/v1/me/calendar/feed", PutFeed).RequireAuthorization(HeraldPolicies.Person).WithTags("Calendar")
            .Produces<CalendarFeedAnswer>().ProducesProblem(400)
            .WithName("PutMyCalendarFeed").WithSummary("Subscribe my presence to an iCalendar feed URL (fetched now, then refreshed on an interval).");
        app.MapGet("/api/v1/me/calendar/feed", GetFeed).RequireAuthorization(HeraldPolicies.Person).WithTags("Calendar")
            .Produces<CalendarFeedAnswer>().ProducesProblem(404)
            .WithName("GetMyCalendarFeed").WithSummary("My calendar feed and how its last refreshes went.");
        app.MapDelete("/api/v1/me/calendar/feed", Delete).RequireAuthorization(HeraldPolicies.Person).WithTags("Calendar")
            .WithName("DeleteMyCalendarFeed").WithSummary("Stop using my calendar feed (and forget its entries).");
        app.MapDelete("/api/v1/me/calendar", Delete).RequireAuthorization(HeraldPolicies.Person).WithTags("Calendar")
            .WithName("DeleteMyCalendar").WithSummary("Remove my calendar as a presence source.");
    }

    /// <summary>A feed request.</summary>
    public sealed record CalendarFeedRequest(string? Url);

    /// <summary>A feed as its owner sees it, with the next entries after a fetch.</summary>
    public sealed record CalendarFeedAnswer(string Url, DateTimeOffset? LastRefreshedAt, DateTimeOffset? LastAttemptAt, string? LastError,
        int ConsecutiveFailures, int Entries, DateTimeOffset NextRefreshAt, IReadOnlyList<CalendarEntry>? Next);

    private static async Task<IResult> PutFeed(CalendarFeedRequest? body, ClaimsPrincipal user, IGrainFactory grains, CalendarFeeds feeds,
        TimeProvider time, CancellationToken ct)
    {
        if (feeds.Refuse(body?.Url) is { } refused)
        {
            return Problems.Field("url", refused);
        }
        var userId = user.UserIdOf();
        var url = body!.Url!;
        var job = new Herald.Cluster.Calendars.CalendarFeedJob(userId, url, null, null);
        var (result, entries) = await feeds.Refresh(job, ct);
        if (!result.Ok || entries is null)
        {
            return Problems.Field("url", "could not be read: " + (result.Error ?? "no calendar"));
        }
        var registry = grains.GetGrain<Herald.Cluster.Calendars.ICalendarFeedsGrain>(0);
        await registry.SetFeed(userId, url, time.GetUtcNow());
        await registry.Report(job, result, feeds.Options.RefreshInterval);
        var info = (await registry.GetFeed(userId, feeds.Options.RefreshInterval))!;
        var now = time.GetUtcNow();
        var next = entries.Where(e => e.End > now).Take(5).Select(e => new CalendarEntry(e.Start, e.End, e.Activity.ToString())).ToList();
        return Results.Ok(Answer(info, next));
    }

    private static async Task<IResult> GetFeed(ClaimsPrincipal user, IGrainFactory grains, CalendarFeeds feeds)
    {
        var info = await grains.GetGrain<Herald.Cluster.Calendars.ICalendarFeedsGrain>(0).GetFeed(user.UserIdOf(), feeds.Options.RefreshInterval);
        return info is null
            ? Results.Problem(statusCode: 404, title: "No calendar feed", detail: "You have not subscribed to a calendar feed.")
            : Results.Ok(Answer(info, null));
    }

    private static CalendarFeedAnswer Answer(Herald.Cluster.Calendars.CalendarFeedInfo i, IReadOnlyList<CalendarEntry>? next) =>
        new(i.Url, i.LastRefreshedAt, i.LastAttemptAt, i.LastError, i.ConsecutiveFailures, i.Entries, i.NextRefreshAt, next);

    private static async Task<IResult> Put(HttpRequest request, ClaimsPrincipal user, IGrainFactory grains, IDirectoryStore directory,
        TimeProvider time, CancellationToken ct)
    {
        var mediaType = request.ContentType?.Split(';')[0].Trim();
        if (mediaType is not null && !string.Equals(mediaType, "text/calendar", StringComparison.OrdinalIgnoreCase)
            && !string.Equals(mediaType, "text/plain", StringComparison.OrdinalIgnoreCase))
        {
            return Results.Problem(statusCode: 415, title: "Unsupported media type", detail: "Send the calendar as text/calendar.");
        }
        if (request.ContentLength > IcsCalendar.MaxTextLength)
        {
            // Declared too large: answer before reading (a client sending Expect: 100-continue never uploads it).
            return TooLarge();
        }
        if (request.HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = DrainLimit;
        }
        var buffer = new MemoryStream();
        var chunk = new byte[81920];
        long total = 0;
        int read;
        while ((read = await request.Body.ReadAsync(chunk, ct)) > 0)
        {
            total += read;
            if (total <= IcsCalendar.MaxTextLength)
            {
                buffer.Write(chunk, 0, read);
            }
            else if (total > DrainLimit)
            {
                return TooLarge();
            }
        }
        if (total > IcsCalendar.MaxTextLength)
        {
            // Read to the end (up to DrainLimit) before answering, so that the client is not cut off mid-upload.
            return TooLarge();
        }
        string text;
        try
        {
            text = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        }
        catch (DecoderFallbackException)
        {
            return Problems.Field("body", "is not UTF-8 text");
        }
        text = text.TrimStart('\uFEFF');

        var userId = user.UserIdOf();
        var zone = TimeZones.Find((await directory.GetPerson(userId, ct))?.TimeZone ?? "UTC");
        var now = time.GetUtcNow();
        IReadOnlyList<CalendarBusy> entries;
        try
        {
            entries = IcsCalendar.Parse(text, now, zone);
        }
        catch (IcsCalendarException ex) when (ex.TooLarge)
        {
            return Results.Problem(statusCode: 413, title: "Calendar too large", detail: ex.Message);
        }
        catch (IcsCalendarException ex)
        {
            return Results.Problem(statusCode: 400, title: "Malformed calendar", detail: ex.Message);
        }
        await grains.GetGrain<Herald.Cluster.Calendars.ICalendarFeedsGrain>(0).RemoveFeed(userId); // an upload replaces a feed
        await grains.Person(userId).SetCalendar(entries);
        var next = entries.Where(e => e.End > now).Take(5).Select(e => new CalendarEntry(e.Start, e.End, e.Activity.ToString())).ToList();
        return Results.Ok(new CalendarUploaded(entries.Count, next));
    }

    private static async Task<IResult> Delete(ClaimsPrincipal user, IGrainFactory grains)
    {
        await grains.GetGrain<Herald.Cluster.Calendars.ICalendarFeedsGrain>(0).RemoveFeed(user.UserIdOf());
        await grains.Person(user.UserIdOf()).SetCalendar([]);
        return Results.NoContent();
    }

    private static IResult TooLarge() =>
        Results.Problem(statusCode: 413, title: "Calendar too large", detail: $"The calendar may be at most {IcsCalendar.MaxTextLength / 1024 / 1024} MiB.");
}
