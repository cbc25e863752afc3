using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Herald.Core.Model;
using Herald.Core.Presence;
using Herald.Core.Privacy;
using Herald.Server.Tests.Infrastructure;
using Herald.Xmpp.Tests.Infrastructure;

namespace Herald.Xmpp.Tests;

/// <summary>
/// Outbound presence of a session: coalesced to the newest per contact (bounded by the roster), never dropped and
/// never counted against the stanza queue limit; and the shared encoder gives exactly the per-recipient rendering.
/// </summary>
public sealed partial class OutboundPresenceTests : IAsyncLifetime
{
    private const int Contacts = 6;
    private const int UpdatesEach = 12;

    // A stanza queue of 2: far fewer than the presence updates that pile up below.
    private readonly XmppServer _xmpp = new("--Herald:Xmpp:MaxQueuedStanzas=2", "--Herald:Xmpp:AllowPlainWithoutTls=true");
    private Dictionary<string, string> _tokens = null!;

    public async Task InitializeAsync()
    {
        await _xmpp.StartAsync();
        var people = new List<object> { HeraldTestServer.Person("watcher", team: "ops") };
        people.AddRange(Enumerable.Range(0, Contacts).Select(i => HeraldTestServer.Person($"c{i}", team: "ops")));
        _tokens = await _xmpp.Server.CreatePeople([.. people]);
        using var watcher = _xmpp.Server.Client(_tokens["watcher"]);
        for (var i = 0; i < Contacts; i++)
        {
            (await watcher.PutAsync($"/api/v1/me/contacts/c{i}", null)).EnsureSuccessStatusCode();
        }
    }

    public async Task DisposeAsync() => await _xmpp.DisposeAsync();

    [Fact]
    public async Task Presence_piling_up_beyond_the_stanza_queue_limit_is_coalesced_to_the_newest_per_contact_not_dropped()
    {
        await using var raw = await RawXmpp.Connect(_xmpp.Port);
        await raw.Login("watcher", "pw-watcher-123", tls: false);
        // Bound, roster watched, but no initial presence yet: every contact's view waits in the session's outbox
        // (the write loop sends presence only to an available resource) — Contacts × UpdatesEach views, far more than
        // the stanza queue limit of 2.
        for (var n = 1; n <= UpdatesEach; n++)
        {
            for (var i = 0; i < Contacts; i++)
            {
                using var contact = _xmpp.Server.Client(_tokens[$"c{i}"]);
                (await contact.PutAsJsonAsync("/api/v1/me/status", new { availability = "Busy", note = $"c{i} update {n}" })).EnsureSuccessStatusCode();
            }
        }

        raw.ClearReceived();
        await raw.Send("<presence/>");
        var last = $"c{Contacts - 1} update {UpdatesEach}";
        await Eventually.True(async () =>
        {
            var text = await ReadSome(raw);
            Assert.DoesNotContain("<stream:error>", text, StringComparison.Ordinal);
            return Enumerable.Range(0, Contacts).All(i => LatestNote(text, $"c{i}") == $"c{i} update {UpdatesEach}");
        }, TimeSpan.FromSeconds(20), $"the newest presence of every contact ({last} last)");

        // Never out of order per contact, and the connection is still open and answering.
        var received = raw.Received;
        for (var i = 0; i < Contacts; i++)
        {
            var numbers = Notes(received, $"c{i}").Select(s => int.Parse(s[(s.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture)).ToList();
            Assert.Equal(numbers.Order().ToList(), numbers);
        }
        raw.ClearReceived();
        await raw.Send("<iq type='get' id='alive'><ping xmlns='urn:xmpp:ping'/></iq>");
        await raw.ReadUntil("id=\"alive\"", TimeSpan.FromSeconds(10));
    }

    private static async Task<string> ReadSome(RawXmpp raw)
    {
        try
        {
            await raw.ReadUntil("\u0001never", TimeSpan.FromMilliseconds(200));
        }
        catch (TimeoutException)
        {
            // what arrived so far
        }
        return raw.Received;
    }

    private static IEnumerable<string> Notes(string text, string user) =>
        PresenceOf().Matches(text).Where(m => m.Groups["from"].Value == $"{user}@localhost/herald").Select(m => XElement.Parse("<s>" + m.Groups["status"].Value + "</s>").Value);

    private static string? LatestNote(string text, string user) => Notes(text, user).LastOrDefault();

    [GeneratedRegex("<presence from=\"(?<from>[^\"]+)\"[^>]*>(?:(?!</presence>).)*?<status>(?<status>[^<]*)</status>", RegexOptions.Singleline)]
    private static partial Regex PresenceOf();

    [Fact]
    public void The_shared_encoder_gives_exactly_the_per_recipient_rendering()
    {
        var encoder = new PresenceStanzaEncoder("example.org");
        var since = new DateTimeOffset(2026, 11, 27, 7, 0, 0, TimeSpan.Zero);
        var views = new[]
        {
            new PresenceView("alice", Availability.Busy, Activity.InAMeeting, "Notes with <markup> & \"quotes\" 'and' ünïcödé ☕", null, null, null, 42,
                [new DeviceSummary("d1", DeviceKind.Desktop, Availability.Busy, null, true, since, ["chat"])], null, null, null),
            new PresenceView("bob", Availability.Offline, null, null, null, null, since, 7, null, null, null, null),
            new PresenceView("carol", Availability.Available, null, "", null, null, null, 1, null, null, null, null),
        };
        var recipients = new[] { "w@example.org/phone", "w@example.org/a&b \"c\" <d> 'e'", "ü@example.org/ресурс" };
        foreach (var view in views)
        {
            foreach (var to in recipients)
            {
                using var output = new PooledByteWriter();
                encoder.Write(view, PresenceStanzaEncoder.Recipient(to), output);
                encoder.Write(view, PresenceStanzaEncoder.Recipient(to), output); // the cached rendering, a second time
                var expected = XmppRendering.Presence(view, "example.org", to).ToString(SaveOptions.DisableFormatting);
                Assert.Equal(expected + expected, Encoding.UTF8.GetString(output.WrittenMemory.Span));
                Assert.Equal(to, (string?)XElement.Parse(expected).Attribute("to"));
            }
        }
    }
}
