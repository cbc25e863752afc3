using System.Net.Http.Json;
using System.Text.Json;
using Herald.Core.Presence;
using Herald.Core.Privacy;
using Herald.Core.Tests.Privacy;
using Herald.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR.Client;

namespace Herald.Server.Tests.Privacy;

/// <summary>
/// The disclosure matrix of the Core tests, run through every channel of the server: REST get, batch, people
/// search, SignalR, the live WebSocket and SSE must each give every tier exactly its fields, in every context — identical everywhere.
/// </summary>
public sealed class ChannelMatrixTests : IAsyncLifetime
{
    private static readonly object[] AllContacts =
    [
        new { kind = "WorkPhone", address = "+49 30 1234 100" }, new { kind = "Mobile", address = "+49 170 555 0101" },
        new { kind = "HomePhone", address = "+49 30 555 0202" }, new { kind = "Chat", address = "ada@chat.example.org" },
        new { kind = "Video", address = "https://video.example.org/ada" }, new { kind = "Sip", address = "sip:ada@example.org" },
        new { kind = "Other", address = "https://ada.example.org" },
    ];

    private static readonly Dictionary<RelationshipTier, string> Watchers = new()
    {
        [RelationshipTier.Trusted] = "tom",
        [RelationshipTier.Team] = "tina",
        [RelationshipTier.Colleague] = "carl",
        [RelationshipTier.External] = "eve",
        [RelationshipTier.Blocked] = "mallory",
    };

    private readonly HeraldTestServer _server = new();
    private Dictionary<string, string> _tokens = null!;

    public async Task InitializeAsync()
    {
        await _server.StartAsync();
        _tokens = await _server.CreatePeople(
            HeraldTestServer.Person("ada", team: "platform", contactMethods: AllContacts),
            HeraldTestServer.Person("tom"), HeraldTestServer.Person("tina", team: "platform"), HeraldTestServer.Person("carl"),
            HeraldTestServer.Person("eve"), HeraldTestServer.Person("mallory"));
        using var ada = _server.Client(_tokens["ada"]);
        (await ada.PutAsJsonAsync("/api/v1/me/privacy", new
        {
            watchers = new { tom = new { tier = "Trusted" }, eve = new { tier = "External" }, mallory = new { tier = "Blocked" } },
        })).EnsureSuccessStatusCode();
        // External needs an approved subscription (Confirm by default).
        using (var eve = _server.Client(_tokens["eve"]))
        {
            (await eve.PutAsync("/api/v1/me/contacts/ada", null)).EnsureSuccessStatusCode();
        }
        (await ada.PostAsync("/api/v1/me/watchers/eve/approve", null)).EnsureSuccessStatusCode();
    }

    private static async Task PutDevices(HttpClient ada)
    {
        (await ada.PutAsJsonAsync("/api/v1/me/devices/desk", new
        {
            kind = "Desktop", activity = "InACall", ttlSeconds = 3600, capabilities = new[] { "audio", "video", "chat" },
            location = new { country = "DE", city = "Berlin", building = "HQ", floor = "3", room = "3.14", latitude = 52.52, longitude = 13.405, text = "by the window" },
        })).EnsureSuccessStatusCode();
        (await ada.PutAsJsonAsync("/api/v1/me/devices/phone", new { kind = "Mobile", availability = "Away", ttlSeconds = 3600 })).EnsureSuccessStatusCode();
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Theory]
    [InlineData(PrivacyContext.WorkHours)]
    [InlineData(PrivacyContext.OffHours)]
    [InlineData(PrivacyContext.DayOff)]
    public async Task Every_channel_gives_every_tier_exactly_its_fields(PrivacyContext context)
    {
        using var ada = _server.Client(_tokens["ada"]);
        if (context == PrivacyContext.OffHours)
        {
            _server.Time.Advance(TimeSpan.FromHours(10)); // Wednesday 20:00 UTC; devices' leases last an hour, renew them
        }
        if (context == PrivacyContext.DayOff)
        {
            (await ada.PutAsJsonAsync("/api/v1/me/status", new { activity = "OutOfOffice", note = "day off" })).EnsureSuccessStatusCode();
        }
        else
        {
            (await ada.PutAsJsonAsync("/api/v1/me/status", new { note = "quarterly review" })).EnsureSuccessStatusCode();
        }
        await PutDevices(ada);
        // A meeting running all day, with a subject only Subject-level watchers may read.
        var now = _server.Time.GetUtcNow();
        var ics = string.Join("\r\n", "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Herald tests//EN", "BEGIN:VEVENT", "UID:merger@example.com",
            "DTSTAMP:20260101T000000Z", "SUMMARY:Secret merger talks", $"DTSTART:{now.AddHours(-1).UtcDateTime:yyyyMMdd'T'HHmmss'Z'}",
            $"DTEND:{now.AddHours(12).UtcDateTime:yyyyMMdd'T'HHmmss'Z'}", "END:VEVENT", "END:VCALENDAR", "");
        (await ada.PutAsync("/api/v1/me/calendar", new StringContent(ics, System.Text.Encoding.UTF8, "text/calendar"))).EnsureSuccessStatusCode();

        var own = Parse(await (await ada.GetAsync("/api/v1/me/presence")).Content.ReadFromJsonAsync<JsonElement>());
        var profile = new Herald.Core.Model.PersonProfile("ada", "Ada", "ada@example.com", "platform", null, "UTC", null,
            own.ContactMethods ?? []);
        var presence = new AggregatedPresence(own.Availability, own.Activity,
            own.Note is null ? null : new Herald.Core.Model.StatusNote(own.Note, DateTimeOffset.MinValue, own.NoteUntil),
            own.Location, own.LastSeen, own.Provenance!, own.Devices ?? [], false,
            context == PrivacyContext.OffHours, context == PrivacyContext.DayOff, null) { Calendar = own.Calendar };
        Assert.Equal("Secret merger talks", own.Calendar?.Subject);
        var state = new PresentityState(profile, presence, own.Sequence);

        foreach (var (tier, watcher) in Watchers)
        {
            var views = await AllChannels(watcher);
            foreach (var (channel, view) in views)
            {
                try
                {
                    DisclosureMatrix.AssertViewMatches(view, tier, context, state);
                }
                catch (Exception ex) when (ex is Xunit.Sdk.XunitException)
                {
                    throw new Xunit.Sdk.XunitException($"channel {channel}: {ex.Message}");
                }
            }
            await AssertPidfAgrees(watcher, views["rest"]);
            var distinct = views.Values.Select(v => JsonSerializer.Serialize(v with { Sequence = 0 }, HeraldTestServer.Json)).Distinct().ToList();
            Assert.True(distinct.Count == 1, $"{tier}: channels disagree:\n{string.Join("\n", distinct)}");
        }
    }

    /// <summary>The PIDF export of a person is the same view as the JSON one, in PIDF form: nothing more, nothing less.</summary>
    private async Task AssertPidfAgrees(string watcher, PresenceView json)
    {
        using var c = _server.Client(_tokens[watcher]);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/presence/ada");
        request.Headers.Accept.ParseAdd("application/pidf+xml");
        using var response = await c.SendAsync(request);
        response.EnsureSuccessStatusCode();
        Assert.Equal("application/pidf+xml", response.Content.Headers.ContentType?.MediaType);
        var doc = System.Xml.Linq.XDocument.Parse(await response.Content.ReadAsStringAsync());
        System.Xml.Linq.XNamespace p = Herald.Core.Formats.PidfWriter.PidfNs, dm = Herald.Core.Formats.PidfWriter.DataModelNs,
            h = Herald.Core.Formats.PidfWriter.HeraldNs, ca = Herald.Core.Formats.PidfWriter.CivicNs;
        var root = doc.Root!;
        var person = root.Element(dm + "person")!;
        var where = $"PIDF for {watcher}";
        Assert.True(json.Availability.ToString() == person.Element(h + "availability")!.Value, where);
        Assert.True(json.Note == person.Element(dm + "note")?.Value, $"{where}: note");
        Assert.True((json.ContactMethods ?? []).Select(Herald.Core.Formats.PidfWriter.ContactUri)
            .SequenceEqual(root.Elements(p + "tuple").Select(t => t.Element(p + "contact")?.Value).OfType<string>()), $"{where}: contacts");
        var civic = root.Descendants(ca + "civicAddress").SingleOrDefault();
        Assert.True(json.Location?.City == civic?.Element(ca + "A3")?.Value && json.Location?.Building == civic?.Element(ca + "BLD")?.Value
            && json.Location?.Room == civic?.Element(ca + "ROOM")?.Value, $"{where}: location");
        Assert.True((json.Devices?.Count ?? 0) == root.Elements(dm + "device").Count(), $"{where}: devices");
        Assert.True(json.Calendar?.Subject == person.Element(h + "calendar-subject")?.Value, $"{where}: calendar subject");
        Assert.True((json.Calendar is null ? 0 : 1) == person.Elements(System.Xml.Linq.XName.Get("activities", Herald.Core.Formats.PidfWriter.RpidNs))
            .Count(a => a.Attribute("from") is not null), $"{where}: calendar");
    }

    private static PresenceView Parse(JsonElement e) => e.Deserialize<PresenceView>(HeraldTestServer.Json)!;

    private async Task<Dictionary<string, PresenceView>> AllChannels(string watcher)
    {
        using var c = _server.Client(_tokens[watcher]);
        var result = new Dictionary<string, PresenceView>
        {
            ["rest"] = Parse(await c.GetFromJsonAsync<JsonElement>("/api/v1/presence/ada")),
            ["batch"] = Parse((await (await c.PostAsJsonAsync("/api/v1/presence/query", new { userIds = new[] { "ada" } }))
                .Content.ReadFromJsonAsync<JsonElement>()).GetProperty("presence")[0]),
            ["search"] = Parse((await c.GetFromJsonAsync<JsonElement>("/api/v1/people?q=ada")).EnumerateArray()
                .Single(x => x.GetProperty("id").GetString() == "ada").GetProperty("presence")),
        };
        await using (var hub = await SignalRWatcher.Connect(_server.BaseAddress, _tokens[watcher]))
        {
            result["signalr"] = Parse((await hub.Connection.InvokeAsync<List<JsonElement>>("Watch", new[] { "ada" })).Single());
        }
        await using (var socket = await SocketWatcher.Connect(_server.BaseAddress, _tokens[watcher]))
        {
            var reply = await socket.Request(new { op = "watch", users = new[] { "ada" } });
            result["websocket"] = Parse(reply.GetProperty("views").EnumerateArray().Single());
        }
        await using (var sse = await SseWatcher.Connect(_server, _tokens[watcher], "watch=ada"))
        {
            await Eventually.True(() => sse.RawLatest.ContainsKey("ada"));
            result["sse"] = Parse(sse.RawLatest["ada"]);
        }
        return result;
    }
}
