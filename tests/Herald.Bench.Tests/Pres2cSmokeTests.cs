using System.Buffers;
using Herald.Bench.Net;
using Herald.Core.Model;
using Herald.Core.Privacy;
using Microsoft.AspNetCore.SignalR.Protocol;

namespace Herald.Bench.Tests;

/// <summary>
/// The CI smoke run of PRES-2C: a few hundred users against a real Herald server on loopback (in this process),
/// over the native live protocol. It fails only when a presence is lost (delivered/expected below 99.9 %) or an
/// error occurs — never on speed. An update a watcher did not receive because a newer one of the same person reached
/// it first counts as delivered (superseded: Herald keeps the newest view per person on a connection that has not
/// flushed yet); going backwards fails the run. Bounded: 300 users, two short fan-out steps, at most 3 minutes.
/// </summary>
public sealed class Pres2cSmokeTests
{
    [Theory]
    [InlineData("herald-ws")]
    [InlineData("signalr-json")]
    [InlineData("signalr-msgpack")]
    public async Task Smoke_run_delivers_every_presence_without_errors(string protocol)
    {
        await using var herald = await InProcessHerald.Start();
        Assert.True(NetOptions.TryParse(
            ["--protocol", protocol, "--server", "herald-smoke", "--url", herald.Url, "--users", "300", "--roster", "20",
             "--login-rate", "200", "--login-inflight", "20", "--settle", "0.5", "--steps", "1000,3000",
             "--step-seconds", "4", "--drain", "20", "--stop-after", "10", "--max-seconds", "180"],
            out var options, out var error), error);
        using (var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) })
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120)))
        {
            await HeraldProvisioner.Run(http, options, InProcessHerald.AdminPassword, cts.Token);
        }

        var report = await NetBenchmark.Execute(options);

        SmokeReportAssert.Clean(report, steps: 2, minimumRatio: 0.999, supersededCounts: true);
    }

    [Fact]
    public void MessagePack_hub_protocol_writes_a_full_view()
    {
        var view = new PresenceView("u1", Availability.Busy, Activity.InACall, "note", DateTimeOffset.UnixEpoch, new Location(City: "Berlin"),
            DateTimeOffset.UnixEpoch, 42,
            [new Herald.Core.Presence.DeviceSummary("d1", DeviceKind.Desktop, Availability.Available, null, false, null, ["chat"])],
            [new ContactMethod(ContactKind.Email, "a@b.c")],
            new Herald.Core.Presence.Provenance(Herald.Core.Presence.SourceKind.Device, "d1", DateTimeOffset.UnixEpoch, null, "why"), false);
        var protocol = new MessagePackHubProtocol();
        var writer = new ArrayBufferWriter<byte>();
        protocol.WriteMessage(new InvocationMessage("presence", [new List<PresenceView> { view }]), writer);
        protocol.WriteMessage(CompletionMessage.WithResult("1", new[] { view }), writer);
        Assert.True(writer.WrittenCount > 0);
    }

    [Fact]
    public void Shared_view_bytes_are_exactly_what_the_MessagePack_hub_protocol_writes()
    {
        var view = new PresenceView("u1", Availability.Busy, Activity.InACall, "note", DateTimeOffset.UnixEpoch, new Location(City: "Berlin"),
            DateTimeOffset.UnixEpoch, 42,
            [new Herald.Core.Presence.DeviceSummary("d1", DeviceKind.Desktop, Availability.Available, null, false, null, ["chat"])],
            [new ContactMethod(ContactKind.Email, "a@b.c")],
            new Herald.Core.Presence.Provenance(Herald.Core.Presence.SourceKind.Device, "d1", DateTimeOffset.UnixEpoch, null, "why"), false);
        var plain = new MessagePackHubProtocol();
        var defaults = new Microsoft.AspNetCore.SignalR.MessagePackHubProtocolOptions();
        var shared = new MessagePackHubProtocol(Microsoft.Extensions.Options.Options.Create(new Microsoft.AspNetCore.SignalR.MessagePackHubProtocolOptions
        {
            SerializerOptions = Herald.Server.Live.SharedViewBytes.Options(defaults.SerializerOptions),
        }));
        byte[] Write(MessagePackHubProtocol p)
        {
            var w = new ArrayBufferWriter<byte>();
            p.WriteMessage(new InvocationMessage("presence", [new[] { view, view }]), w);
            p.WriteMessage(CompletionMessage.WithResult("1", view), w);
            return w.WrittenSpan.ToArray();
        }

        var expected = Write(plain);
        Assert.Equal(expected, Write(shared));
        Assert.Equal(expected, Write(shared)); // the second time from the shared bytes
    }
}
