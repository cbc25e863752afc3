using Herald.Bench.Shared;
using System.Globalization;

namespace Herald.Bench.Net;

/// <summary>The wire protocol the load generator speaks.</summary>
public enum WireProtocol
{
    /// <summary>XMPP c2s: plain TCP, SASL PLAIN, bind, roster get, presence with the stamp in &lt;status/&gt;.</summary>
    Xmpp,

    /// <summary>Herald's SignalR hub with the JSON hub protocol; updates as <c>PUT /api/v1/me/status</c>.</summary>
    SignalRJson,

    /// <summary>Herald's SignalR hub with the MessagePack hub protocol; updates as <c>PUT /api/v1/me/status</c>.</summary>
    SignalRMessagePack,

    /// <summary>Herald's own live protocol: a WebSocket at <c>/api/v1/live</c> with JSON messages (watch, status, presence).</summary>
    HeraldWebSocket,
}

/// <summary>Parameters of a PRES-2C run over the network (see <see cref="Program.Usage"/>).</summary>
public sealed record NetOptions
{
    /// <summary>Protocol.</summary>
    public WireProtocol Protocol { get; init; } = WireProtocol.Xmpp;

    /// <summary>Name of the server in the report (herald, prosody, ejabberd, …).</summary>
    public string Server { get; init; } = "server";

    /// <summary>Host for XMPP.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>XMPP c2s port.</summary>
    public int Port { get; init; } = 5222;

    /// <summary>XMPP domain.</summary>
    public string Domain { get; init; } = "localhost";

    /// <summary>Herald base URL (native protocol).</summary>
    public string Url { get; init; } = "http://127.0.0.1:5080";

    /// <summary>Users N.</summary>
    public int Users { get; init; } = 5000;

    /// <summary>Roster size R (even).</summary>
    public int Roster { get; init; } = 20;

    /// <summary>User name prefix: users are prefix0 … prefix(N-1).</summary>
    public string Prefix { get; init; } = "u";

    /// <summary>Password of every user.</summary>
    public string Password { get; init; } = "benchpass1";

    /// <summary>Login arrival rate per second.</summary>
    public double LoginRate { get; init; } = 500;

    /// <summary>Most logins in flight.</summary>
    public int LoginInFlight { get; init; } = 50;

    /// <summary>Seconds to settle after the last login before measuring memory.</summary>
    public double SettleSeconds { get; init; } = 5;

    /// <summary>Offered deliveries per second for each fan-out step (updates/s = this / R).</summary>
    public IReadOnlyList<double> Steps { get; init; } = [];

    /// <summary>Think times T (seconds) for the steps: offered updates/s = N / T. Used when <see cref="Steps"/> is empty.</summary>
    public IReadOnlyList<double> Think { get; init; } = [60, 20, 10, 5, 2];

    /// <summary>Seconds per fan-out step.</summary>
    public double StepSeconds { get; init; } = 10;

    /// <summary>Most seconds to wait after a step for outstanding deliveries.</summary>
    public double DrainSeconds { get; init; } = 10;

    /// <summary>Stop stepping once a step misses the saturation criteria this many times in a row.</summary>
    public int StopAfterFailures { get; init; } = 2;

    /// <summary>Server process id for CPU and RSS (0 = not measured).</summary>
    public int ServerPid { get; init; }

    /// <summary>Random seed.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Overall time bound of the run.</summary>
    public double MaxSeconds { get; init; } = 900;

    /// <summary>
    /// Herald native only: how each user publishes a status change — <c>hub</c> (default: the live connection's
    /// <c>SetStatus</c> hub method) or <c>rest</c> (<c>PUT /api/v1/me/status</c>, the path measured before 2026-11-27 03:00).
    /// </summary>
    public string Publish { get; init; } = "hub";

    /// <summary>
    /// Herald WebSocket only: how a login learns its contacts — <c>watch</c> (default: the socket's
    /// <c>{"op":"watch","contacts":true}</c>, no contacts request) or <c>rest</c> (<c>GET /api/v1/me/contacts</c>, then a
    /// <c>watch</c> of those ids: the login measured before session 6).
    /// </summary>
    public string HeraldLogin { get; init; } = "watch";

    /// <summary>Seconds of unmeasured fan-out at the first step's rate before the measured steps (0 = none).</summary>
    public double WarmupSeconds { get; init; }

    /// <summary>Logs in and out without the fan-out phase when true (provision check).</summary>
    public bool LoginOnly { get; init; }

    /// <summary>Parses <c>--name value</c> pairs.</summary>
    public static bool TryParse(ReadOnlySpan<string> args, out NetOptions options, out string error)
    {
        var o = new NetOptions();
        var walked = BenchArgs.Walk(args, Flags, (name, value) =>
        {
            var v = value ?? "";
            var ok = true;
            switch (name)
            {
                case "--login-only": o = o with { LoginOnly = true }; break;
                case "--protocol":
                    WireProtocol? p = v switch
                    {
                        "xmpp" => WireProtocol.Xmpp,
                        "signalr-json" or "json" => WireProtocol.SignalRJson,
                        "signalr-msgpack" or "msgpack" => WireProtocol.SignalRMessagePack,
                        "herald-ws" or "ws" => WireProtocol.HeraldWebSocket,
                        _ => null,
                    };
                    ok = p is not null;
                    if (ok)
                    {
                        o = o with { Protocol = p!.Value };
                    }
                    break;
                case "--server": o = o with { Server = v }; break;
                case "--publish": ok = v is "hub" or "rest"; o = o with { Publish = v }; break;
                case "--herald-login": ok = v is "watch" or "rest"; o = o with { HeraldLogin = v }; break;
                case "--host": o = o with { Host = v }; break;
                case "--domain": o = o with { Domain = v }; break;
                case "--url": o = o with { Url = v.TrimEnd('/') }; break;
                case "--prefix": o = o with { Prefix = v }; break;
                case "--password": o = o with { Password = v }; break;
                case "--port": ok = BenchArgs.Int(v, 1, 65535, out var port); o = o with { Port = port }; break;
                case "--users": ok = BenchArgs.Int(v, 3, 1_000_000, out var n); o = o with { Users = n }; break;
                case "--roster": ok = BenchArgs.Int(v, 2, 1000, out var r) && r % 2 == 0; o = o with { Roster = r }; break;
                case "--login-rate": ok = BenchArgs.Dbl(v, out var lr) && lr > 0; o = o with { LoginRate = lr }; break;
                case "--login-inflight": ok = BenchArgs.Int(v, 1, 10_000, out var li); o = o with { LoginInFlight = li }; break;
                case "--settle": ok = BenchArgs.Dbl(v, out var st) && st >= 0; o = o with { SettleSeconds = st }; break;
                case "--steps": ok = List(v, out var steps); o = o with { Steps = steps }; break;
                case "--think": ok = List(v, out var think); o = o with { Think = think }; break;
                case "--step-seconds": ok = BenchArgs.Dbl(v, out var ss) && ss > 0; o = o with { StepSeconds = ss }; break;
                case "--warmup": ok = BenchArgs.Dbl(v, out var wu) && wu >= 0; o = o with { WarmupSeconds = wu }; break;
                case "--drain": ok = BenchArgs.Dbl(v, out var dr) && dr >= 0; o = o with { DrainSeconds = dr }; break;
                case "--stop-after": ok = BenchArgs.Int(v, 1, 100, out var sa); o = o with { StopAfterFailures = sa }; break;
                case "--server-pid": ok = BenchArgs.Int(v, 0, int.MaxValue, out var pid); o = o with { ServerPid = pid }; break;
                case "--seed": ok = BenchArgs.Int(v, int.MinValue, int.MaxValue, out var seed); o = o with { Seed = seed }; break;
                case "--max-seconds": ok = BenchArgs.Dbl(v, out var ms) && ms > 0; o = o with { MaxSeconds = ms }; break;
                default: return null;
            }
            return ok;
        }, out error);
        options = o;
        return walked && BenchArgs.RingFits(o.Users, o.Roster, out error);
    }

    private static readonly HashSet<string> Flags = ["--login-only"];

    private static bool List(string s, out IReadOnlyList<double> values)
    {
        var list = new List<double>();
        foreach (var part in s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!BenchArgs.Dbl(part, out var d) || d <= 0)
            {
                values = [];
                return false;
            }
            list.Add(d);
        }
        values = list;
        return list.Count > 0;
    }
}
