using System.CommandLine;
using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Threading.Channels;
using Herald.Core.Model;
using Herald.LinkLocal;
using Spectre.Console;

namespace Herald.Cli;

/// <summary>
/// <c>herald peer</c>: serverless mode (XEP-0174) — announce yourself on the local link, watch the other peers and
/// message them, with no server. Reads commands from stdin: status, note, msg, peers, quit.
/// </summary>
internal static class PeerCommand
{
    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);
    private static readonly Lock OutputLock = new();

    public static Command Create()
    {
        var name = new Option<string>("--name") { Description = "Your name on the link (instance name@host)", Required = true };
        var status = new Option<string>("--status") { Description = "avail, away, dnd (or busy, offwork, brb)", DefaultValueFactory = _ => "avail" };
        var note = new Option<string?>("--note") { Description = "Status note (announced only with --share-note)" };
        var forOpt = new Option<string?>("--for") { Description = "How long the status holds, e.g. 30m (then Available again)" };
        var iface = new Option<string?>("--interface") { Description = "Network interface (default: the first multicast-capable one that is up)" };
        var host = new Option<string?>("--host") { Description = "Host label announced as HOST.local (default: the machine name)" };
        var port = new Option<int>("--port") { Description = "TCP port for direct messages (default: any free port)" };
        var shareNote = new Option<bool>("--share-note") { Description = "Let anyone on the link see your note and when your status ends" };
        var json = new Option<bool>("--json") { Description = "Write one JSON event per line" };
        var cmd = new Command("peer", "Serverless mode: presence and messages on the local link (XEP-0174), no server")
        {
            name, status, note, forOpt, iface, host, port, shareNote, json,
        };
        cmd.SetAction(async (p, ct) =>
        {
            var asJson = p.GetValue(json);
            try
            {
                var now = DateTimeOffset.UtcNow;
                var until = p.GetValue(forOpt) is { } f ? now + Cli.ParseDuration(f) : (DateTimeOffset?)null;
                var initial = new LocalStatus(ParseStatus(p.GetValue(status)!), Clip(p.GetValue(note)), until, now);
                var options = new LinkPeerOptions
                {
                    Name = p.GetValue(name)!,
                    Host = p.GetValue(host),
                    Interface = p.GetValue(iface),
                    Port = p.GetValue(port),
                    ShareNote = p.GetValue(shareNote),
                };
                LinkLocalNode node;
                try
                {
                    node = new LinkLocalNode(options, initial);
                }
                catch (ArgumentException e)
                {
                    throw new UsageException(e.Message.Split(" (Parameter", 2)[0]);
                }
                await using (node)
                {
                    return await RunAsync(node, asJson, ct);
                }
            }
            catch (UsageException e)
            {
                return Fail(asJson, 2, e.Message);
            }
            catch (Exception e) when (e is InvalidOperationException or SocketException)
            {
                return Fail(asJson, 4, e.Message);
            }
        });
        return cmd;
    }

    private static int Fail(bool json, int code, string message)
    {
        if (json)
        {
            Emit(new { @event = "error", message, exitCode = code });
        }
        Console.Error.WriteLine("herald: " + message);
        return code;
    }

    private static async Task<int> RunAsync(LinkLocalNode node, bool json, CancellationToken ct)
    {
        using var quit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c =>
        {
            c.Cancel = true;
            quit.Cancel();
        });
        var live = !json && !Console.IsOutputRedirected;
        var events = Channel.CreateBounded<string>(new BoundedChannelOptions(100) { FullMode = BoundedChannelFullMode.DropOldest });
        void Say(object jsonEvent, string text)
        {
            if (json)
            {
                Emit(jsonEvent);
            }
            else if (live)
            {
                events.Writer.TryWrite(text);
            }
            else
            {
                lock (OutputLock)
                {
                    Console.Out.WriteLine(text);
                }
            }
        }
        node.PeersChanged += peers => Say(new { @event = "peers", peers = peers.Select(PeerJson).ToList() },
            "peers: " + (peers.Count == 0 ? "(none)" : string.Join("; ", peers.Select(Line))));
        node.MessageReceived += m => Say(new { @event = "message", from = m.From, body = m.Body }, $"message from {m.From}: {m.Body}");
        node.Refused += (from, a) => Say(new { @event = "refused", from, availability = a.Availability.ToString(), note = a.Note },
            $"refused a message from {from} ({a.Text})");

        await node.StartAsync(quit.Token);
        Say(new
        {
            @event = "ready", instance = node.InstanceLabel, host = node.HostName, @interface = node.Interface?.Name,
            address = node.Interface?.Address.ToString(), port = node.Port, announced = Announced(node),
        }, $"on the link as {node.InstanceLabel} ({node.Interface?.Name} {node.Interface?.Address}, port {node.Port}); announcing: {AnnouncedText(node)}");

        var input = Task.Run(() => ReadCommands(node, Say, quit), CancellationToken.None);
        if (live)
        {
            await ShowLive(node, events.Reader, quit.Token);
        }
        else
        {
            try
            {
                await Task.Delay(Timeout.Infinite, quit.Token);
            }
            catch (OperationCanceledException)
            {
            }
        }
        await quit.CancelAsync();
        Say(new { @event = "bye" }, "left the link (goodbye sent)");
        return 0;
    }

    private static async Task ReadCommands(LinkLocalNode node, Action<object, string> say, CancellationTokenSource quit)
    {
        try
        {
            while (!quit.IsCancellationRequested)
            {
                var line = await Console.In.ReadLineAsync(quit.Token);
                if (line is null)
                {
                    break; // stdin closed
                }
                line = line.Trim();
                if (line.Length == 0)
                {
                    continue;
                }
                var (verb, rest) = Split(line);
                try
                {
                    switch (verb.ToLowerInvariant())
                    {
                        case "quit" or "exit":
                            await quit.CancelAsync();
                            return;
                        case "status":
                        {
                            var (s, more) = Split(rest);
                            var (kw, dur) = Split(more);
                            var now = DateTimeOffset.UtcNow;
                            var until = kw.Equals("for", StringComparison.OrdinalIgnoreCase) && dur.Length > 0 ? now + Cli.ParseDuration(dur) : (DateTimeOffset?)null;
                            await node.SetStatusAsync(node.Status with { Availability = ParseStatus(s), Until = until, SetAt = now }, quit.Token);
                            SayStatus(node, say);
                            break;
                        }
                        case "note":
                            await node.SetStatusAsync(node.Status with { Note = Clip(rest.Length == 0 ? null : rest), SetAt = DateTimeOffset.UtcNow }, quit.Token);
                            SayStatus(node, say);
                            break;
                        case "msg":
                        {
                            var (to, text) = Split(rest);
                            var peer = node.Find(to);
                            if (peer is null || text.Length == 0)
                            {
                                say(new { @event = "error", message = peer is null ? $"No peer '{to}'." : "Usage: msg PEER TEXT" },
                                    peer is null ? $"no peer '{to}'" : "usage: msg PEER TEXT");
                                break;
                            }
                            var r = await node.SendMessageAsync(peer, text, quit.Token);
                            if (r.Delivered)
                            {
                                say(new { @event = "sent", to = peer.Instance, delivered = true }, $"delivered to {peer.Instance}");
                            }
                            else if (r.Busy is { } b)
                            {
                                say(new
                                {
                                    @event = "busy", to = peer.Instance, availability = b.Availability.ToString(), note = b.Note,
                                    back = b.Back, text = b.Text,
                                }, $"{peer.Instance} did not take it: {b.Text}");
                            }
                            else
                            {
                                say(new { @event = "error", to = peer.Instance, message = r.Error }, $"not delivered to {peer.Instance}: {r.Error}");
                            }
                            break;
                        }
                        case "peers":
                            say(new { @event = "peers", peers = node.Peers.Select(PeerJson).ToList() },
                                "peers: " + (node.Peers.Count == 0 ? "(none)" : string.Join("; ", node.Peers.Select(Line))));
                            break;
                        default:
                            say(new { @event = "error", message = $"Unknown command '{verb}'." },
                                $"unknown command '{verb}': status avail|away|dnd [for 30m], note TEXT, msg PEER TEXT, peers, quit");
                            break;
                    }
                }
                catch (UsageException e)
                {
                    say(new { @event = "error", message = e.Message }, e.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        await quit.CancelAsync();
    }

    private static void SayStatus(LinkLocalNode node, Action<object, string> say) =>
        say(new { @event = "status", availability = node.Status.Availability.ToString(), note = node.Status.Note, announced = Announced(node) },
            $"status {node.Status.Availability}{(node.Status.Note is { } n ? " — " + n : "")}; announcing: {AnnouncedText(node)}");

    private static Dictionary<string, string> Announced(LinkLocalNode node) =>
        TxtMapping.Parse(TxtMapping.ToTxt(node.View(), "", node.Port)).Where(kv => kv.Key is not "nick" and not "port.p2pj" and not "txtvers")
            .ToDictionary(kv => kv.Key, kv => kv.Value);

    private static string AnnouncedText(LinkLocalNode node) => string.Join(" ", Announced(node).Select(kv => $"{kv.Key}={kv.Value}"));

    private static async Task ShowLive(LinkLocalNode node, ChannelReader<string> events, CancellationToken ct)
    {
        var recent = new Queue<string>();
        var changed = new SemaphoreSlim(0);
        node.PeersChanged += _ => changed.Release();
        await AnsiConsole.Live(new Table()).AutoClear(false).StartAsync(async ctx =>
        {
            while (!ct.IsCancellationRequested)
            {
                while (events.TryRead(out var e))
                {
                    recent.Enqueue(e);
                    if (recent.Count > 6)
                    {
                        recent.Dequeue();
                    }
                }
                var table = new Table().Title($"[bold]{Markup.Escape(node.InstanceLabel)}[/] — {Markup.Escape(node.Status.Availability.ToString())}")
                    .AddColumn("Peer").AddColumn("Status").AddColumn("Note").AddColumn("Address").Expand();
                foreach (var peer in node.Peers)
                {
                    table.AddRow(Markup.Escape(peer.Instance), Markup.Escape(peer.Availability.ToString()), Markup.Escape(peer.Note ?? ""),
                        Markup.Escape($"{peer.Address}:{peer.Port}"));
                }
                table.Caption(Markup.Escape(string.Join("\n", recent.Append("commands: status avail|away|dnd [for 30m] · note TEXT · msg PEER TEXT · quit"))));
                ctx.UpdateTarget(table);
                try
                {
                    await Task.WhenAny(changed.WaitAsync(ct), events.WaitToReadAsync(ct).AsTask(), Task.Delay(1000, ct));
                }
                catch (OperationCanceledException)
                {
                }
            }
        });
    }

    private static object PeerJson(LinkPeer p) => new
    {
        instance = p.Instance, nick = p.Nick, first = p.First, last = p.Last, availability = p.Availability.ToString(), status = p.Status,
        note = p.Note, back = p.Back, address = p.Address?.ToString(), port = p.Port, herald = p.IsHerald,
    };

    private static string Line(LinkPeer p) =>
        $"{p.Instance} {p.Availability}{(p.Note is { } n ? " — " + n : "")}";

    private static void Emit(object value)
    {
        var s = JsonSerializer.Serialize(value, value.GetType(), JsonOptions);
        lock (OutputLock)
        {
            Console.Out.WriteLine(s);
            Console.Out.Flush();
        }
    }

    private static (string Head, string Tail) Split(string s)
    {
        s = s.Trim();
        var i = s.IndexOf(' ', StringComparison.Ordinal);
        return i < 0 ? (s, "") : (s[..i], s[(i + 1)..].Trim());
    }

    private static string? Clip(string? note) =>
        note is null ? null : note.Length > LocalStatus.MaxNoteLength ? note[..LocalStatus.MaxNoteLength] : note;

    internal static Availability ParseStatus(string s) => s.Trim().ToLowerInvariant() switch
    {
        "avail" or "available" or "online" => Availability.Available,
        "away" => Availability.Away,
        "dnd" or "donotdisturb" => Availability.DoNotDisturb,
        "busy" => Availability.Busy,
        "offwork" => Availability.OffWork,
        "brb" or "berightback" => Availability.BeRightBack,
        _ => throw new UsageException($"Unknown status '{s}': use avail, away, dnd, busy, offwork or brb."),
    };
}
