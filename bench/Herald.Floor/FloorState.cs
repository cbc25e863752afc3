using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;

namespace Herald.Floor;

/// <summary>Which transport the floor server uses for <c>/api/v1/live</c>.</summary>
public enum FloorTransport
{
    /// <summary>Kestrel + ASP.NET Core WebSockets, one pump per connection, one WebSocket message per delivery.</summary>
    KestrelEach,

    /// <summary>Kestrel + ASP.NET Core WebSockets, everything pending of a connection in one message per wake-up.</summary>
    KestrelCoalesced,

    /// <summary>A raw <see cref="System.Net.Sockets.Socket"/> listener with hand-written HTTP/1.1 and RFC 6455 framing, coalesced writes.</summary>
    Raw,
}

/// <summary>Options of the floor server.</summary>
public sealed record FloorOptions
{
    /// <summary>Loopback port (0 = any free port).</summary>
    public int Port { get; init; } = 5090;

    /// <summary>Transport.</summary>
    public FloorTransport Transport { get; init; } = FloorTransport.KestrelEach;

    /// <summary>Users N (names <see cref="Prefix"/>0 … N-1).</summary>
    public int Users { get; init; } = 5000;

    /// <summary>Ring roster R (even): user i's contacts are i±1 … i±R/2 (mod N).</summary>
    public int Roster { get; init; } = 20;

    /// <summary>User name prefix.</summary>
    public string Prefix { get; init; } = "u";
}

/// <summary>One item of a connection's outbox: a whole presence message of one update (shared by its watchers) or a reply.</summary>
public readonly record struct Outgoing(byte[] Bytes, bool Presence)
{
    /// <summary>Raw transport only: a control frame whose first byte is the opcode.</summary>
    public bool Control { get; init; }
}

/// <summary>One live connection: its user, its outbox (many writers, one pump) and the people it watches.</summary>
public sealed class FloorConnection(int user)
{
    /// <summary>The connected user's index.</summary>
    public int User { get; } = user;

    /// <summary>Presence messages and replies waiting for the pump.</summary>
    public Channel<Outgoing> Outbox { get; } = Channel.CreateUnbounded<Outgoing>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = false });

    /// <summary>Indices this connection watches (guarded by the state's lock of each watched user).</summary>
    internal List<int> Watched { get; } = [];
}

/// <summary>
/// The whole in-memory state of the floor server: per user the connections that watch them, the newest view and a
/// sequence. No policy, no storage: a status update becomes one view JSON, encoded once, queued on every watcher.
/// </summary>
public sealed class FloorState
{
    /// <summary><c>{"type":"presence","views":[</c>.</summary>
    public static readonly byte[] PresenceHead = "{\"type\":\"presence\",\"views\":["u8.ToArray();

    /// <summary><c>]}</c>.</summary>
    public static readonly byte[] PresenceTail = "]}"u8.ToArray();

    private readonly List<FloorConnection>[] _watchers;
    private readonly byte[][] _current;
    private readonly long[] _sequence;

    /// <summary>Creates the state for <paramref name="options"/>' users.</summary>
    public FloorState(FloorOptions options)
    {
        Options = options;
        _watchers = new List<FloorConnection>[options.Users];
        _current = new byte[options.Users][];
        _sequence = new long[options.Users];
        for (var i = 0; i < options.Users; i++)
        {
            _watchers[i] = [];
            _current[i] = View(i, "Offline", null, 0);
        }
    }

    /// <summary>The options.</summary>
    public FloorOptions Options { get; }

    /// <summary>The index of user <paramref name="name"/>, or -1.</summary>
    public int IndexOf(ReadOnlySpan<char> name)
    {
        var prefix = Options.Prefix.AsSpan();
        if (!name.StartsWith(prefix, StringComparison.Ordinal)
            || !int.TryParse(name[prefix.Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var i) || i >= Options.Users)
        {
            return -1;
        }
        return i;
    }

    /// <summary>The index of user <paramref name="utf8"/>, or -1.</summary>
    public int IndexOf(ReadOnlySpan<byte> utf8)
    {
        Span<char> chars = stackalloc char[Math.Min(utf8.Length, 64)];
        var n = Encoding.UTF8.GetChars(utf8[..chars.Length], chars);
        return IndexOf(chars[..n]);
    }

    /// <summary>The user name of <paramref name="i"/>.</summary>
    public string Name(int i) => Options.Prefix + i.ToString(CultureInfo.InvariantCulture);

    /// <summary>The ring contacts of <paramref name="i"/>: i±1 … i±R/2 (mod N).</summary>
    public IEnumerable<int> Contacts(int i)
    {
        var n = Options.Users;
        for (var d = 1; d <= Options.Roster / 2; d++)
        {
            yield return (i + d) % n;
            yield return (i - d + n) % n;
        }
    }

    /// <summary><c>POST /api/v1/auth/token</c>'s answer for a body <c>{"username":…}</c> (any password), or null.</summary>
    public byte[]? Token(ReadOnlySpan<byte> body)
    {
        string? user = null;
        try
        {
            var reader = new Utf8JsonReader(body);
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.PropertyName && reader.ValueTextEquals("username"u8) && reader.Read()
                    && reader.TokenType == JsonTokenType.String)
                {
                    user = reader.GetString();
                }
            }
        }
        catch (JsonException)
        {
            return null;
        }
        if (user is null || IndexOf(user) < 0)
        {
            return null;
        }
        // token = the user name (no secret: loopback benchmark only)
        return Encoding.UTF8.GetBytes($"{{\"accessToken\":\"{user}\",\"tokenType\":\"Bearer\",\"expiresIn\":3600}}");
    }

    /// <summary>The user of an <c>Authorization: Bearer u12</c> header value, or -1.</summary>
    public int Bearer(ReadOnlySpan<char> header)
    {
        const string scheme = "Bearer ";
        return header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) ? IndexOf(header[scheme.Length..].Trim()) : -1;
    }

    /// <summary><c>GET /api/v1/me/contacts</c>: the current views of <paramref name="i"/>'s ring contacts.</summary>
    public byte[] ContactsJson(int i)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        buffer.Write("["u8);
        var first = true;
        foreach (var c in Contacts(i))
        {
            if (!first)
            {
                buffer.Write(","u8);
            }
            first = false;
            buffer.Write(Volatile.Read(ref _current[c]));
        }
        buffer.Write("]"u8);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Registers <paramref name="c"/> as a watcher of <paramref name="target"/>; returns its current view.</summary>
    public byte[] Watch(FloorConnection c, int target)
    {
        var list = _watchers[target];
        lock (list)
        {
            if (!list.Contains(c))
            {
                list.Add(c);
                lock (c.Watched)
                {
                    c.Watched.Add(target);
                }
            }
            return _current[target];
        }
    }

    /// <summary>Removes <paramref name="c"/> from everyone it watches.</summary>
    public void Disconnect(FloorConnection c)
    {
        int[] watched;
        lock (c.Watched)
        {
            watched = [.. c.Watched];
            c.Watched.Clear();
        }
        foreach (var t in watched)
        {
            var list = _watchers[t];
            lock (list)
            {
                list.Remove(c);
            }
        }
        c.Outbox.Writer.TryComplete();
    }

    /// <summary>
    /// A status change of <paramref name="sender"/>: one view, encoded once into one presence message, queued on every
    /// watcher's outbox in the order of the sender's updates. Returns the view (the reply's <c>view</c>).
    /// </summary>
    public byte[] Publish(int sender, string availability, string? note)
    {
        var list = _watchers[sender];
        lock (list)
        {
            var seq = ++_sequence[sender];
            var view = View(sender, availability, note, seq);
            var message = new byte[PresenceHead.Length + view.Length + PresenceTail.Length];
            PresenceHead.CopyTo(message, 0);
            view.CopyTo(message, PresenceHead.Length);
            PresenceTail.CopyTo(message, PresenceHead.Length + view.Length);
            Volatile.Write(ref _current[sender], view);
            var item = new Outgoing(message, true);
            foreach (var w in list)
            {
                w.Outbox.Writer.TryWrite(item);
            }
            return view;
        }
    }

    /// <summary>A view in the shape of Herald's (as a colleague sees a person who set a status), about as long.</summary>
    private byte[] View(int user, string availability, string? note, long sequence)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("userId", Name(user));
            w.WriteString("availability", availability);
            w.WriteNull("activity");
            if (note is null)
            {
                w.WriteNull("note");
            }
            else
            {
                w.WriteString("note", note);
            }
            w.WriteNull("noteUntil");
            w.WriteNull("location");
            w.WriteNull("lastSeen");
            w.WriteNumber("sequence", 1_795_731_899_778_000 + sequence);
            w.WriteStartArray("devices");
            w.WriteEndArray();
            w.WriteStartArray("contactMethods");
            w.WriteEndArray();
            w.WriteStartObject("provenance");
            w.WriteString("source", sequence == 0 ? "None" : "Preferred");
            w.WriteNull("sourceId");
            w.WriteString("since", "2026-11-27T12:00:00.0000000+00:00");
            w.WriteNull("until");
            w.WriteString("reason", "status chosen by the person");
            w.WriteEndObject();
            w.WriteBoolean("appearOffline", false);
            w.WriteNull("calendar");
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }
}
