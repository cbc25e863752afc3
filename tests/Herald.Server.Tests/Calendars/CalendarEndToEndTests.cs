using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Calendars;

public sealed class CalendarEndToEndTests() : ServerWithPeople(
    [], HeraldTestServer.Person("anna", team: "ops", timeZone: "Europe/Berlin"), HeraldTestServer.Person("bob", team: "ops"))
{
    private static readonly TimeZoneInfo Berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");

    /// <summary>A daily 30-minute meeting in Berlin time starting <paramref name="offset"/> after the fake clock's now.</summary>
    private string DailyMeeting(TimeSpan offset)
    {
        var start = TimeZoneInfo.ConvertTime(Server.Time.GetUtcNow() + offset, Berlin);
        return $"""
            BEGIN:VCALENDAR
            VERSION:2.0
            PRODID:-//Herald tests//EN
            BEGIN:VEVENT
            UID:daily-sync@example.com
            DTSTAMP:20260101T000000Z
            SUMMARY:Secret project sync
            DTSTART;TZID=Europe/Berlin:{start:yyyyMMdd'T'HHmmss}
            DURATION:PT30M
            RRULE:FREQ=DAILY
            END:VEVENT
            BEGIN:VEVENT
            UID:focus@example.com
            DTSTAMP:20260101T000000Z
            SUMMARY:Reminder only
            DTSTART;TZID=Europe/Berlin:{start:yyyyMMdd'T'HHmmss}
            DURATION:PT2H
            TRANSP:TRANSPARENT
            END:VEVENT
            END:VCALENDAR
            """.ReplaceLineEndings("\r\n");
    }

    private static StringContent Calendar(string ics) => new(ics, Encoding.UTF8, "text/calendar");

    private static async Task<JsonElement> Presence(HttpClient c) => await c.GetFromJsonAsync<JsonElement>("/api/v1/me/presence");

    [Fact]
    public async Task A_watcher_sees_the_meeting_exactly_during_the_occurrence_and_a_preferred_status_beats_it()
    {
        using var anna = Server.Client(Tokens["anna"]);
        (await anna.PutAsJsonAsync("/api/v1/me/devices/laptop", new { kind = "Desktop", ttlSeconds = 3600 })).EnsureSuccessStatusCode();
        await using var bob = await SignalRWatcher.Connect(Server.BaseAddress, Tokens["bob"]);
        Assert.Equal("Available", Assert.Single(await bob.Watch("anna")).Availability);
        var now = Server.Time.GetUtcNow();

        var put = await anna.PutAsync("/api/v1/me/calendar", Calendar(DailyMeeting(TimeSpan.FromMinutes(30))));
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var uploaded = await put.Content.ReadFromJsonAsync<JsonElement>();
        Assert.InRange(uploaded.GetProperty("entries").GetInt32(), 14, 16);
        var first = uploaded.GetProperty("next")[0];
        Assert.Equal(now.AddMinutes(30), first.GetProperty("start").GetDateTimeOffset());
        Assert.Equal(now.AddMinutes(60), first.GetProperty("end").GetDateTimeOffset());
        Assert.Equal("InAMeeting", first.GetProperty("activity").GetString());
        Assert.Equal(5, uploaded.GetProperty("next").GetArrayLength());
        Assert.DoesNotContain("Secret", uploaded.GetRawText(), StringComparison.Ordinal);

        // Just before: still available (the transparent event does not count).
        Server.Time.Advance(TimeSpan.FromMinutes(30) - TimeSpan.FromSeconds(1));
        Assert.Equal("Available", (await Presence(anna)).GetProperty("availability").GetString());
        Assert.True(bob.Latest("anna") is null or { Availability: "Available" });

        // On the boundary the grain's expiry timer fires and the watcher is told.
        Server.Time.Advance(TimeSpan.FromSeconds(1));
        await Eventually.True(() => bob.Latest("anna") is { Availability: "Busy", Activity: "InAMeeting" }, because: "the meeting started");
        var inside = await Presence(anna);
        Assert.Equal("Calendar", inside.GetProperty("provenance").GetProperty("source").GetString());
        Assert.Equal("In a meeting (calendar)", inside.GetProperty("provenance").GetProperty("reason").GetString());
        Assert.Equal("Secret project sync", inside.GetProperty("calendar").GetProperty("subject").GetString()); // the owner sees it
        using var bobRest = Server.Client(Tokens["bob"]);
        var asBob = await bobRest.GetFromJsonAsync<JsonElement>("/api/v1/presence/anna");
        Assert.Equal("InAMeeting", asBob.GetProperty("calendar").GetProperty("activity").GetString()); // team: free/busy …
        Assert.Equal(JsonValueKind.Null, asBob.GetProperty("calendar").GetProperty("subject").ValueKind); // … without the subject
        Assert.DoesNotContain("Secret", asBob.GetRawText(), StringComparison.Ordinal);
        Assert.DoesNotContain(bob.Received, v => v.Provenance?.GetRawText().Contains("Secret", StringComparison.Ordinal) == true);

        // A preferred status beats the calendar; clearing it brings the meeting back.
        (await anna.PutAsJsonAsync("/api/v1/me/status", new { availability = "DoNotDisturb" })).EnsureSuccessStatusCode();
        await Eventually.True(() => bob.Latest("anna")?.Availability == "DoNotDisturb", because: "preferred beats calendar");
        Assert.Equal("Preferred", (await Presence(anna)).GetProperty("provenance").GetProperty("source").GetString());
        (await anna.DeleteAsync("/api/v1/me/status")).EnsureSuccessStatusCode();
        await Eventually.True(() => bob.Latest("anna") is { Availability: "Busy", Activity: "InAMeeting" }, because: "back to the calendar");

        // Just before the end: still in the meeting; at the end: available again.
        Server.Time.Advance(TimeSpan.FromMinutes(30) - TimeSpan.FromSeconds(1));
        Assert.True((await anna.PostAsync("/api/v1/me/devices/laptop/heartbeat", null)).IsSuccessStatusCode);
        Assert.Equal("InAMeeting", (await Presence(anna)).GetProperty("activity").GetString());
        Server.Time.Advance(TimeSpan.FromSeconds(1));
        await Eventually.True(() => bob.Latest("anna") is { Availability: "Available", Activity: null }, because: "the meeting ended");
        Assert.Equal("Device", (await Presence(anna)).GetProperty("provenance").GetProperty("source").GetString());
    }

    [Fact]
    public async Task Deleting_the_calendar_ends_the_meeting_and_bad_uploads_are_refused()
    {
        using var anna = Server.Client(Tokens["anna"]);
        (await anna.PutAsync("/api/v1/me/calendar", Calendar(DailyMeeting(TimeSpan.FromMinutes(-5))))).EnsureSuccessStatusCode();
        Assert.Equal("InAMeeting", (await Presence(anna)).GetProperty("activity").GetString());

        Assert.Equal(HttpStatusCode.NoContent, (await anna.DeleteAsync("/api/v1/me/calendar")).StatusCode);
        Assert.Equal("Offline", (await Presence(anna)).GetProperty("availability").GetString());

        var malformed = await anna.PutAsync("/api/v1/me/calendar", Calendar("this is not a calendar"));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Contains("BEGIN:VCALENDAR", (await malformed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);

        // Expect: 100-continue — as a well-behaved client uploading something large — so the server can refuse it
        // before the body is sent.
        using var hugeRequest = new HttpRequestMessage(HttpMethod.Put, "/api/v1/me/calendar") { Content = Calendar(new string('x', 1024 * 1024 + 1)) };
        hugeRequest.Headers.ExpectContinue = true;
        var huge = await anna.SendAsync(hugeRequest);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, huge.StatusCode);

        using var noAuth = Server.Client();
        Assert.Equal(HttpStatusCode.Unauthorized, (await noAuth.PutAsync("/api/v1/me/calendar", Calendar(DailyMeeting(TimeSpan.Zero)))).StatusCode);
    }
}
