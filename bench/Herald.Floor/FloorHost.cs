using Herald.Bench.Shared;
using System.Globalization;

namespace Herald.Floor;

/// <summary>A running floor server.</summary>
public interface IFloorServer : IAsyncDisposable
{
    /// <summary>Its base URL (http://127.0.0.1:port).</summary>
    Uri Url { get; }
}

/// <summary>Starts a floor server and parses its command line.</summary>
public static class FloorHost
{
    /// <summary>Herald's live subprotocol.</summary>
    public const string SubProtocol = "herald.live.v1";

    /// <summary>The usage text.</summary>
    public const string Usage = """
        Herald.Floor: a bare fan-out server speaking the part of Herald's HTTP API and live WebSocket protocol that the
        PRES-2C generator (pres2c --protocol herald-ws) uses. In memory, no policy, no storage, no provisioning needed.
          --port P            loopback port (default 5090; 0 = any)
          --transport T       kestrel-each (default: Kestrel WebSockets, one message per delivery),
                              kestrel-coalesced (one message per connection and wake-up),
                              raw (Socket listener, hand-written HTTP/1.1 and RFC 6455, one send per wake-up)
          --users N           users prefix0 … prefix(N-1) (default 5000)
          --roster R          ring roster, even (default 20)
          --prefix X          user name prefix (default u)
        """;

    /// <summary>Starts the server for <paramref name="options"/>.</summary>
    public static async Task<IFloorServer> Start(FloorOptions options, CancellationToken ct = default)
    {
        var state = new FloorState(options);
        return options.Transport == FloorTransport.Raw ? RawFloor.Start(state) : await KestrelFloor.Start(state, ct);
    }

    /// <summary>Parses <c>--name value</c> pairs.</summary>
    public static bool TryParse(ReadOnlySpan<string> args, out FloorOptions options, out string error)
    {
        var o = new FloorOptions();
        var walked = BenchArgs.Walk(args, NoFlags, (name, value) =>
        {
            var v = value ?? "";
            var ok = true;
            switch (name)
            {
                case "--port": ok = BenchArgs.Int(v, 0, 65535, out var p); o = o with { Port = p }; break;
                case "--users": ok = BenchArgs.Int(v, 3, 1_000_000, out var n); o = o with { Users = n }; break;
                case "--roster": ok = BenchArgs.Int(v, 2, 1000, out var r) && r % 2 == 0; o = o with { Roster = r }; break;
                case "--prefix": ok = v.Length > 0; o = o with { Prefix = v }; break;
                case "--transport":
                    FloorTransport? t = v switch
                    {
                        "kestrel-each" or "each" => FloorTransport.KestrelEach,
                        "kestrel-coalesced" or "coalesced" => FloorTransport.KestrelCoalesced,
                        "raw" => FloorTransport.Raw,
                        _ => null,
                    };
                    ok = t is not null;
                    o = o with { Transport = t ?? FloorTransport.KestrelEach };
                    break;
                default: return null;
            }
            return ok;
        }, out error);
        options = o;
        return walked && BenchArgs.RingFits(o.Users, o.Roster, out error);
    }

    private static readonly HashSet<string> NoFlags = [];
}
