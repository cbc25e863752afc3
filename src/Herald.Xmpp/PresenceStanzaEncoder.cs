using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Xml.Linq;
using Herald.Core.Privacy;

namespace Herald.Xmpp;

/// <summary>
/// Encodes presence stanzas as UTF-8 for the write loops of all sessions of one gateway. The silo fan-out hands one
/// <see cref="PresenceView"/> instance to every watcher with the same disclosure, and only the <c>to</c> attribute
/// differs between their stanzas; so a view instance is rendered once (through <see cref="XmppRendering.Presence"/>,
/// byte for byte what a per-recipient rendering gives), split around the value of <c>to</c>, and kept with the view
/// instance (a weak table: it goes when the view is collected). Each delivery then copies head + recipient + tail into
/// the session's pooled write buffer: no XML tree, no string, no encoder call per recipient. Thread-safe.
/// </summary>
public sealed class PresenceStanzaEncoder
{
    private const string Placeholder = "\uE000";
    private readonly ConditionalWeakTable<PresenceView, Encoded> _cache = new();
    private readonly ConditionalWeakTable<PresenceView, Encoded>.CreateValueCallback _render;

    /// <summary>Creates the encoder of <paramref name="domain"/> (the senders' JIDs are <c>user@domain/herald</c>).</summary>
    public PresenceStanzaEncoder(string domain)
    {
        ArgumentException.ThrowIfNullOrEmpty(domain);
        Domain = domain;
        _render = Render;
    }

    /// <summary>The XMPP domain of the senders.</summary>
    public string Domain { get; }

    /// <summary>
    /// The UTF-8 bytes of the escaped attribute value of a recipient JID (computed once per session, then passed
    /// to <see cref="Write"/> for every delivery).
    /// </summary>
    public static byte[] Recipient(string jid)
    {
        ArgumentNullException.ThrowIfNull(jid);
        var attribute = new XAttribute("to", jid).ToString(); // to="…" with exactly the escaping the XML writer applies
        return Encoding.UTF8.GetBytes(attribute[4..^1]);
    }

    /// <summary>Appends the presence stanza of <paramref name="view"/> addressed to <paramref name="recipient"/> (from <see cref="Recipient"/>).</summary>
    public void Write(PresenceView view, ReadOnlySpan<byte> recipient, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(view);
        ArgumentNullException.ThrowIfNull(output);
        var e = _cache.GetValue(view, _render);
        var length = e.Head.Length + recipient.Length + e.Tail.Length;
        var span = output.GetSpan(length);
        e.Head.CopyTo(span);
        recipient.CopyTo(span[e.Head.Length..]);
        e.Tail.CopyTo(span[(e.Head.Length + recipient.Length)..]);
        output.Advance(length);
    }

    private Encoded Render(PresenceView view)
    {
        var text = XmppRendering.Presence(view, Domain, Placeholder).ToString(SaveOptions.DisableFormatting);
        // The to attribute comes right after from (a user id and the domain, never the placeholder): the first
        // occurrence is the attribute value, whatever the note contains.
        var at = text.IndexOf(Placeholder, StringComparison.Ordinal);
        return new Encoded(Encoding.UTF8.GetBytes(text[..at]), Encoding.UTF8.GetBytes(text[(at + Placeholder.Length)..]));
    }

    private sealed record Encoded(byte[] Head, byte[] Tail);
}

/// <summary>
/// An <see cref="IBufferWriter{T}"/> over one buffer rented from the shared pool, grown by renting a larger one and
/// given back by <see cref="Reset"/>: a session holds no write buffer between wake-ups. Not thread-safe.
/// </summary>
public sealed class PooledByteWriter : IBufferWriter<byte>, IDisposable
{
    private byte[]? _buffer;
    private int _written;

    /// <summary>Bytes written since the last <see cref="Reset"/>.</summary>
    public int Length => _written;

    /// <summary>The bytes written.</summary>
    public ReadOnlyMemory<byte> WrittenMemory => _buffer is null ? ReadOnlyMemory<byte>.Empty : _buffer.AsMemory(0, _written);

    /// <inheritdoc />
    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (_buffer is null || _written + count > _buffer.Length)
        {
            throw new InvalidOperationException("advanced past the buffer");
        }
        _written += count;
    }

    /// <inheritdoc />
    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_written);
    }

    /// <inheritdoc />
    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_written);
    }

    /// <summary>Appends <paramref name="text"/> as UTF-8.</summary>
    public void Write(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var span = GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length));
        Advance(Encoding.UTF8.GetBytes(text, span));
    }

    /// <summary>Forgets what was written and gives the buffer back to the pool.</summary>
    public void Reset()
    {
        if (_buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
        }
        _written = 0;
    }

    /// <inheritdoc />
    public void Dispose() => Reset();

    [System.Diagnostics.CodeAnalysis.MemberNotNull(nameof(_buffer))]
    private void Ensure(int sizeHint)
    {
        var need = _written + Math.Max(sizeHint, 1);
        if (_buffer is not null && need <= _buffer.Length)
        {
            return;
        }
        var next = ArrayPool<byte>.Shared.Rent(Math.Max(need, Math.Max(4096, (_buffer?.Length ?? 0) * 2)));
        if (_buffer is not null)
        {
            _buffer.AsSpan(0, _written).CopyTo(next);
            ArrayPool<byte>.Shared.Return(_buffer);
        }
        _buffer = next;
    }
}
