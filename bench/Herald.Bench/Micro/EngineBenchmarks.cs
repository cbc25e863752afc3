using System.Text.Json;
using System.Text.Json.Serialization;
using BenchmarkDotNet.Attributes;
using Herald.Core.Model;
using Herald.Core.Presence;
using Herald.Core.Privacy;

namespace Herald.Bench.Micro;

/// <summary>Shared inputs: one person with three devices, an integration lease and a preferred status.</summary>
internal static class Samples
{
    public static readonly DateTimeOffset Now = new(2026, 11, 26, 10, 30, 0, TimeSpan.Zero);

    public static PersonProfile Profile { get; } = new("alice", "Alice Example", "alice@example.org", "platform", "bob", "Europe/Berlin",
        WorkHours.Default,
        [
            new ContactMethod(ContactKind.Email, "alice@example.org"),
            new ContactMethod(ContactKind.WorkPhone, "+49 30 1234567"),
            new ContactMethod(ContactKind.Mobile, "+49 170 1234567"),
            new ContactMethod(ContactKind.Chat, "alice@chat.example.org"),
        ]);

    public static PresenceSources Sources()
    {
        var devices = new Dictionary<string, DeviceSession>(StringComparer.Ordinal)
        {
            ["desktop"] = Device("desktop", DeviceKind.Desktop, Availability.Available, null, new Location("DE", "Berlin", "HQ", "3", "3.14", At: Now.AddMinutes(-5))),
            ["phone"] = Device("phone", DeviceKind.Mobile, null, null, null, idleSince: Now.AddMinutes(-20)),
            ["web"] = Device("web", DeviceKind.Web, Availability.Busy, Activity.InAMeeting, null),
        };
        var leases = new Dictionary<string, ActivityLease>(StringComparer.Ordinal)
        {
            ["teams/InAConferenceCall"] = new("teams", "Conferencing", Activity.InAConferenceCall, Now.AddMinutes(-10), Now.AddMinutes(20)),
        };
        var preferred = new PreferredStatus(Availability.DoNotDisturb, Activity.Focusing, Now.AddHours(-1), Now.AddHours(2));
        var note = new StatusNote("Heads down until lunch", Now.AddHours(-1), Now.AddHours(2));
        return new PresenceSources(preferred, note, devices, leases, Now.AddDays(-1));
    }

    public static PresentityState State()
    {
        var presence = PresenceAggregator.Aggregate(Sources(), AggregationSettings.Default, Now);
        return new PresentityState(Profile, presence, 1_764_153_000_000_000);
    }

    private static DeviceSession Device(string id, DeviceKind kind, Availability? availability, Activity? activity, Location? location,
        DateTimeOffset? idleSince = null) =>
        new(id, kind, availability, activity, idleSince, ["chat", "audio", "video"], location, TimeSpan.FromMinutes(2),
            Now.AddHours(-3), Now.AddSeconds(-20), Now.AddSeconds(100), Now.AddMinutes(-30));
}

/// <summary>Aggregation of one person's sources (3 devices, a lease, a preferred status).</summary>
[ShortRunJob, MemoryDiagnoser]
public class AggregateBenchmarks
{
    private PresenceSources _sources = null!;
    private AggregationSettings _plain = null!;
    private AggregationSettings _scheduled = null!;

    /// <summary>Builds the inputs.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _sources = Samples.Sources();
        _plain = AggregationSettings.Default;
        _scheduled = AggregationSettings.Default with { WorkHours = WorkHours.Default, TimeZone = TimeZones.Find("Europe/Berlin") };
    }

    /// <summary>No work schedule (UTC).</summary>
    [Benchmark(Baseline = true)]
    public AggregatedPresence Aggregate() => PresenceAggregator.Aggregate(_sources, _plain, Samples.Now);

    /// <summary>With a Mon–Fri 09–17 schedule in Europe/Berlin (off-hours check and next boundary).</summary>
    [Benchmark]
    public AggregatedPresence AggregateWithWorkHours() => PresenceAggregator.Aggregate(_sources, _scheduled, Samples.Now);
}

/// <summary>The disclosure function, once per key.</summary>
[ShortRunJob, MemoryDiagnoser]
public class DisclosureBenchmarks
{
    private PresentityState _state = null!;

    /// <summary>The disclosure keys in use: self, then each tier.</summary>
    public static IEnumerable<KeyCase> Keys() =>
        [new KeyCase("Self", DisclosureKey.Self(PrivacyContext.WorkHours)),
            .. Enum.GetValues<RelationshipTier>().Select(t => new KeyCase(t.ToString(), DisclosurePolicy.KeyOf(new WatcherRelation("w", false, t))))];

    /// <summary>The key disclosed for.</summary>
    [ParamsSource(nameof(Keys))]
    public KeyCase Key { get; set; } = null!;

    /// <summary>Builds the inputs.</summary>
    [GlobalSetup]
    public void Setup() => _state = Samples.State();

    /// <summary>One view for one key.</summary>
    [Benchmark]
    public PresenceView Disclose() => DisclosurePolicy.Disclose(_state, Key.Key);

    /// <summary>A named disclosure key (the name is what the results table shows).</summary>
    public sealed record KeyCase(string Name, DisclosureKey Key)
    {
        /// <inheritdoc />
        public override string ToString() => Name;
    }
}

/// <summary>View comparison (what decides whether a key's view changed) and JSON serialization of a view.</summary>
[ShortRunJob, MemoryDiagnoser]
public class ViewBenchmarks
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    private PresenceView _view = null!;
    private PresenceView _sameContent = null!;
    private PresenceView _otherNote = null!;
    private PresenceView _colleagueView = null!;

    /// <summary>Builds the inputs: equal-content copies are distinct instances, so nothing short-circuits.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var state = Samples.State();
        var self = DisclosureKey.Self(PrivacyContext.WorkHours);
        _view = DisclosurePolicy.Disclose(state, self);
        _sameContent = DisclosurePolicy.Disclose(state with { Sequence = state.Sequence + 1 }, self);
        _otherNote = _sameContent with { Note = "Back at 14:00" };
        _colleagueView = DisclosurePolicy.Disclose(state, DisclosurePolicy.KeyOf(new WatcherRelation("w", false, RelationshipTier.Colleague)));
    }

    /// <summary>Full comparison: every field and list equal.</summary>
    [Benchmark]
    public bool SameContentAs_Equal() => _view.SameContentAs(_sameContent);

    /// <summary>Early difference (the note).</summary>
    [Benchmark]
    public bool SameContentAs_Different() => _view.SameContentAs(_otherNote);

    /// <summary>The owner's view (devices, contacts, provenance) to UTF-8 JSON.</summary>
    [Benchmark]
    public byte[] SerializeOwnerView() => JsonSerializer.SerializeToUtf8Bytes(_view, Json);

    /// <summary>A colleague's view (no personal contacts, no provenance) to UTF-8 JSON.</summary>
    [Benchmark]
    public byte[] SerializeColleagueView() => JsonSerializer.SerializeToUtf8Bytes(_colleagueView, Json);
}

/// <summary>
/// One <c>presence</c> message (a batch of one colleague view) as the SignalR hub protocols frame it: JSON (what
/// existing clients get) and MessagePack (added alongside), and a stamped XMPP presence stanza as the PRES-2C
/// generator writes it (Herald's own gateway was not in this tree when this was written).
/// </summary>
[ShortRunJob, MemoryDiagnoser]
public class LiveEncodingBenchmarks
{
    private readonly Microsoft.AspNetCore.SignalR.Protocol.JsonHubProtocol _json = new();
    private readonly Microsoft.AspNetCore.SignalR.Protocol.MessagePackHubProtocol _msgpack = new();
    private readonly System.Buffers.ArrayBufferWriter<byte> _buffer = new(4096);
    private Microsoft.AspNetCore.SignalR.Protocol.InvocationMessage _message = null!;
    private PresenceView _view = null!;

    /// <summary>Builds one colleague view and its message.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var view = DisclosurePolicy.Disclose(Samples.State(), DisclosurePolicy.KeyOf(new WatcherRelation("w", false, RelationshipTier.Colleague)));
        _message = new Microsoft.AspNetCore.SignalR.Protocol.InvocationMessage("presence", [new[] { view }]);
        _view = view;
    }

    /// <summary>JSON hub protocol frame.</summary>
    [Benchmark(Baseline = true)]
    public int SignalRJsonFrame()
    {
        _buffer.ResetWrittenCount();
        _json.WriteMessage(_message, _buffer);
        return _buffer.WrittenCount;
    }

    /// <summary>MessagePack hub protocol frame.</summary>
    [Benchmark]
    public int SignalRMessagePackFrame()
    {
        _buffer.ResetWrittenCount();
        _msgpack.WriteMessage(_message, _buffer);
        return _buffer.WrittenCount;
    }

    private readonly Microsoft.AspNetCore.SignalR.Protocol.MessagePackHubProtocol _msgpackShared = new(Microsoft.Extensions.Options.Options.Create(
        new Microsoft.AspNetCore.SignalR.MessagePackHubProtocolOptions
        {
            SerializerOptions = Herald.Server.Live.SharedViewBytes.Options(new Microsoft.AspNetCore.SignalR.MessagePackHubProtocolOptions().SerializerOptions),
        }));

    /// <summary>
    /// One update's deliveries over MessagePack as before optimisation session 3: the same colleague view written for 20
    /// connections (each frame encodes the view again). Divide by 20 for the cost per delivery.
    /// </summary>
    [Benchmark]
    public int SignalRMessagePack20Deliveries()
    {
        // A new view instance per update, as the engine makes one per change and disclosure key.
        var message = new Microsoft.AspNetCore.SignalR.Protocol.InvocationMessage("presence", [new[] { _view with { } }]);
        var n = 0;
        for (var i = 0; i < 20; i++)
        {
            _buffer.ResetWrittenCount();
            _msgpack.WriteMessage(message, _buffer);
            n += _buffer.WrittenCount;
        }
        return n;
    }

    /// <summary>The same 20 deliveries with the server's protocol options (<c>SharedViewBytes</c>: the view encoded once).</summary>
    [Benchmark]
    public int SignalRMessagePack20DeliveriesSharedView()
    {
        var message = new Microsoft.AspNetCore.SignalR.Protocol.InvocationMessage("presence", [new[] { _view with { } }]);
        var n = 0;
        for (var i = 0; i < 20; i++)
        {
            _buffer.ResetWrittenCount();
            _msgpackShared.WriteMessage(message, _buffer);
            n += _buffer.WrittenCount;
        }
        return n;
    }

    /// <summary>A stamped XMPP presence stanza to UTF-8.</summary>
    [Benchmark]
    public int XmppPresenceStanza()
    {
        var xml = $"<presence from='u1@localhost/bench' to='u2@localhost'><show>dnd</show><status>{Net.DeliveryRecorder.Stamp(1, 1, 1, 123456789)}</status></presence>";
        return System.Text.Encoding.UTF8.GetByteCount(xml);
    }
}
