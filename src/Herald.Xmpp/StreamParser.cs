using System.Globalization;
using System.Text;
using System.Xml.Linq;

namespace Herald.Xmpp;

/// <summary>Limits of the stream parser (RFC 6120 section 13.12 asks servers to set them).</summary>
public sealed record ParserLimits
{
    /// <summary>Most UTF-8 bytes of one top-level element (stanza or nonza), including its tags.</summary>
    public int MaxStanzaBytes { get; init; } = 65_536;

    /// <summary>Most nesting levels inside one stanza (the stanza itself is level 1).</summary>
    public int MaxDepth { get; init; } = 16;

    /// <summary>Most attributes on one element.</summary>
    public int MaxAttributes { get; init; } = 32;

    /// <summary>Most characters of one attribute value.</summary>
    public int MaxAttributeLength { get; init; } = 3_072;

    /// <summary>Most characters of an element or attribute name.</summary>
    public int MaxNameLength { get; init; } = 256;

    /// <summary>Most characters of one tag (the start tag with all attributes).</summary>
    public int MaxTagLength => MaxAttributes * (MaxAttributeLength + MaxNameLength + 8) + MaxNameLength + 8;
}

/// <summary>What the parser produced.</summary>
public enum StreamEventKind
{
    /// <summary>The client's stream header.</summary>
    Open,
    /// <summary>A complete top-level element.</summary>
    Element,
    /// <summary>The client closed its stream.</summary>
    Close,
}

/// <summary>One parser output: the stream header (attributes on <see cref="Element"/>), a stanza, or the stream close.</summary>
public readonly record struct StreamEvent(StreamEventKind Kind, XElement? Element);

/// <summary>
/// An incremental, hardened parser for one XMPP stream (RFC 6120 section 11: no DTD, comments, processing
/// instructions other than the XML declaration, or entity references other than the five predefined and character
/// references). Bytes go in as they arrive; complete stanzas come out as <see cref="XElement"/>s. Every violation
/// throws <see cref="XmppStreamException"/> with the stream error to send. Not thread-safe: one per stream.
/// </summary>
public sealed class StreamParser
{
    /// <summary>The streams namespace.</summary>
    public const string StreamsNs = "http://etherx.jabber.org/streams";

    /// <summary>The client content namespace.</summary>
    public const string ClientNs = "jabber:client";

    private readonly ParserLimits _limits;
    private readonly Decoder _decoder = new UTF8Encoding(false, throwOnInvalidBytes: true).GetDecoder();
    private char[] _buf = new char[4096];
    private int _start; // first unconsumed char
    private int _end;   // end of decoded chars
    private bool _opened;
    private bool _sawDeclaration;
    private readonly List<(XElement Element, string RawName, Dictionary<string, string>? Scope)> _stack = [];
    private readonly List<Dictionary<string, string>> _streamScope = [];
    private long _stanzaBytes;

    /// <summary>Creates a parser for a fresh stream.</summary>
    public StreamParser(ParserLimits? limits = null) => _limits = limits ?? new ParserLimits();

    /// <summary>True while a top-level element has started and not ended (a slow sender is mid-stanza).</summary>
    public bool InStanza => _stack.Count > 0 || (_opened && HasPendingNonWhitespace());

    /// <summary>Feeds bytes; adds every complete event to <paramref name="output"/>.</summary>
    public void Feed(ReadOnlySpan<byte> bytes, List<StreamEvent> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        // In slices, so that the buffer never holds more than one partial token plus one slice.
        while (bytes.Length > 0)
        {
            var slice = bytes[..Math.Min(bytes.Length, FeedSlice)];
            bytes = bytes[slice.Length..];
            try
            {
                var needed = _decoder.GetCharCount(slice, flush: false);
                EnsureRoom(needed);
                _end += _decoder.GetChars(slice, _buf.AsSpan(_end), flush: false);
            }
            catch (DecoderFallbackException)
            {
                throw new XmppStreamException(StreamErrors.NotWellFormed, "invalid UTF-8");
            }
            Parse(output);
        }
    }

    private const int FeedSlice = 4096;

    private bool HasPendingNonWhitespace()
    {
        for (var i = _start; i < _end; i++)
        {
            if (!IsSpace(_buf[i]))
            {
                return true;
            }
        }
        return false;
    }

    private void EnsureRoom(int needed)
    {
        if (_start > 0 && _end + needed > _buf.Length)
        {
            Array.Copy(_buf, _start, _buf, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        if (_end + needed > _buf.Length)
        {
            if (_end - _start + needed > _limits.MaxStanzaBytes + _limits.MaxTagLength + FeedSlice)
            {
                throw new XmppStreamException(StreamErrors.PolicyViolation, $"stanza larger than {_limits.MaxStanzaBytes} bytes");
            }
            var size = _buf.Length;
            while (size < _end + needed)
            {
                size *= 2;
            }
            Array.Resize(ref _buf, size);
        }
    }

    private void Parse(List<StreamEvent> output)
    {
        while (_start < _end)
        {
            if (_stack.Count == 0)
            {
                // Between stanzas (or before the header): whitespace only (keepalives), then a tag.
                while (_start < _end && IsSpace(_buf[_start]))
                {
                    _start++;
                }
                if (_start == _end)
                {
                    return;
                }
                if (_buf[_start] != '<')
                {
                    throw new XmppStreamException(StreamErrors.NotWellFormed, "text outside a stanza");
                }
            }
            if (_buf[_start] == '<')
            {
                if (!ParseMarkup(output))
                {
                    CheckPartial(_end - _start, tag: true);
                    return;
                }
            }
            else
            {
                var lt = Array.IndexOf(_buf, '<', _start, _end - _start);
                if (lt < 0)
                {
                    CheckPartial(_end - _start, tag: false);
                    return;
                }
                var raw = new ReadOnlySpan<char>(_buf, _start, lt - _start);
                Count(raw);
                _stack[^1].Element.Add(Unescape(raw, attribute: false));
                _start = lt;
            }
        }
    }

    private void CheckPartial(int length, bool tag)
    {
        if (tag && length > _limits.MaxTagLength)
        {
            throw new XmppStreamException(StreamErrors.PolicyViolation, "tag too long");
        }
        if (_stanzaBytes + length > _limits.MaxStanzaBytes)
        {
            throw new XmppStreamException(StreamErrors.PolicyViolation, $"stanza larger than {_limits.MaxStanzaBytes} bytes");
        }
    }

    private void Count(ReadOnlySpan<char> raw)
    {
        if (!_opened)
        {
            return;
        }
        _stanzaBytes += Encoding.UTF8.GetByteCount(raw);
        if (_stanzaBytes > _limits.MaxStanzaBytes)
        {
            throw new XmppStreamException(StreamErrors.PolicyViolation, $"stanza larger than {_limits.MaxStanzaBytes} bytes");
        }
    }

    /// <summary>Parses one markup token at <see cref="_start"/>; false when it is not complete yet.</summary>
    private bool ParseMarkup(List<StreamEvent> output)
    {
        if (_end - _start < 2)
        {
            return false;
        }
        var next = _buf[_start + 1];
        if (next == '!')
        {
            throw new XmppStreamException(StreamErrors.RestrictedXml, "comments, CDATA sections and DTDs are not allowed");
        }
        if (next == '?')
        {
            var close = IndexOf("?>", _start);
            if (close < 0)
            {
                return false;
            }
            var target = new string(_buf, _start + 2, Math.Min(3, close - _start - 2));
            if (_opened || _sawDeclaration || target != "xml")
            {
                throw new XmppStreamException(StreamErrors.RestrictedXml, "processing instructions are not allowed");
            }
            _sawDeclaration = true;
            _start = close + 2;
            return true;
        }
        var gt = FindTagEnd(_start + 1);
        if (gt < 0)
        {
            return false;
        }
        var tag = new ReadOnlySpan<char>(_buf, _start, gt + 1 - _start);
        _start = gt + 1;
        if (next == '/')
        {
            EndTag(tag[2..^1].Trim(), output);
        }
        else
        {
            StartTag(tag[1..^1], output);
        }
        return true;
    }

    private int FindTagEnd(int from)
    {
        char quote = '\0';
        for (var i = from; i < _end; i++)
        {
            var c = _buf[i];
            if (quote != '\0')
            {
                if (c == quote)
                {
                    quote = '\0';
                }
            }
            else if (c is '"' or '\'')
            {
                quote = c;
            }
            else if (c == '>')
            {
                return i;
            }
            else if (c == '<')
            {
                throw new XmppStreamException(StreamErrors.NotWellFormed, "'<' inside a tag");
            }
        }
        return -1;
    }

    private int IndexOf(string s, int from)
    {
        var span = new ReadOnlySpan<char>(_buf, from, _end - from);
        var i = span.IndexOf(s, StringComparison.Ordinal);
        return i < 0 ? -1 : from + i;
    }

    private void StartTag(ReadOnlySpan<char> body, List<StreamEvent> output)
    {
        var selfClosing = body.Length > 0 && body[^1] == '/';
        if (selfClosing)
        {
            body = body[..^1];
        }
        var pos = 0;
        var name = ReadName(body, ref pos);
        var attrs = new List<(string Name, string Value)>();
        while (true)
        {
            var hadSpace = SkipSpace(body, ref pos);
            if (pos >= body.Length)
            {
                break;
            }
            if (!hadSpace)
            {
                throw new XmppStreamException(StreamErrors.NotWellFormed, "attributes must be separated by white space");
            }
            var attrName = ReadName(body, ref pos);
            SkipSpace(body, ref pos);
            if (pos >= body.Length || body[pos] != '=')
            {
                throw new XmppStreamException(StreamErrors.NotWellFormed, $"attribute '{attrName}' has no value");
            }
            pos++;
            SkipSpace(body, ref pos);
            if (pos >= body.Length || body[pos] is not ('"' or '\''))
            {
                throw new XmppStreamException(StreamErrors.NotWellFormed, $"attribute '{attrName}' is not quoted");
            }
            var quote = body[pos++];
            var close = body[pos..].IndexOf(quote);
            if (close < 0)
            {
                throw new XmppStreamException(StreamErrors.NotWellFormed, "unterminated attribute value");
            }
            var rawValue = body.Slice(pos, close);
            pos += close + 1;
            if (rawValue.Length > _limits.MaxAttributeLength)
            {
                throw new XmppStreamException(StreamErrors.PolicyViolation, $"attribute value longer than {_limits.MaxAttributeLength} characters");
            }
            if (attrs.Count >= _limits.MaxAttributes)
            {
                throw new XmppStreamException(StreamErrors.PolicyViolation, $"more than {_limits.MaxAttributes} attributes");
            }
            foreach (var a in attrs)
            {
                if (a.Name == attrName)
                {
                    throw new XmppStreamException(StreamErrors.NotWellFormed, $"duplicate attribute '{attrName}'");
                }
            }
            attrs.Add((attrName, Unescape(rawValue, attribute: true)));
        }

        // Namespace declarations of this element.
        Dictionary<string, string>? scope = null;
        foreach (var (n, v) in attrs)
        {
            if (n == "xmlns" || n.StartsWith("xmlns:", StringComparison.Ordinal))
            {
                scope ??= new Dictionary<string, string>(StringComparer.Ordinal);
                scope[n == "xmlns" ? "" : n[6..]] = v;
            }
        }

        if (!_opened)
        {
            OpenStream(name, attrs, scope, selfClosing, output);
            return;
        }
        if (_stack.Count >= _limits.MaxDepth)
        {
            throw new XmppStreamException(StreamErrors.PolicyViolation, $"elements nested deeper than {_limits.MaxDepth}");
        }
        if (_stack.Count == 0)
        {
            _stanzaBytes = 0;
        }
        Count(body);
        var element = new XElement(Resolve(name, scope, element: true));
        foreach (var (n, v) in attrs)
        {
            if (n == "xmlns" || n.StartsWith("xmlns:", StringComparison.Ordinal))
            {
                continue;
            }
            var colon = n.IndexOf(':', StringComparison.Ordinal);
            element.SetAttributeValue(colon < 0 ? XName.Get(n) : Resolve(n, scope, element: false), v);
        }
        if (_stack.Count > 0)
        {
            _stack[^1].Element.Add(element);
        }
        if (selfClosing)
        {
            if (_stack.Count == 0)
            {
                output.Add(new StreamEvent(StreamEventKind.Element, element));
                _stanzaBytes = 0;
            }
            return;
        }
        _stack.Add((element, name, scope));
    }

    private void OpenStream(string name, List<(string Name, string Value)> attrs, Dictionary<string, string>? scope, bool selfClosing, List<StreamEvent> output)
    {
        _streamScope.Add(scope ?? []);
        var resolved = Resolve(name, null, element: true);
        if (resolved.LocalName != "stream" || resolved.NamespaceName != StreamsNs)
        {
            throw new XmppStreamException(StreamErrors.InvalidNamespace, "expected <stream:stream xmlns:stream='" + StreamsNs + "'>");
        }
        if (!(scope?.TryGetValue("", out var defaultNs) ?? false) || defaultNs != ClientNs)
        {
            throw new XmppStreamException(StreamErrors.InvalidNamespace, "the content namespace must be " + ClientNs);
        }
        if (selfClosing)
        {
            throw new XmppStreamException(StreamErrors.NotWellFormed, "the stream header must not be empty");
        }
        var header = new XElement(resolved);
        foreach (var (n, v) in attrs)
        {
            if (n == "xmlns" || n.StartsWith("xmlns:", StringComparison.Ordinal))
            {
                continue;
            }
            header.SetAttributeValue(n == "xml:lang" ? XNamespace.Xml + "lang" : XName.Get(n.Replace(':', '_')), v);
        }
        _opened = true;
        output.Add(new StreamEvent(StreamEventKind.Open, header));
    }

    private void EndTag(ReadOnlySpan<char> name, List<StreamEvent> output)
    {
        if (_stack.Count == 0)
        {
            var resolved = Resolve(name.ToString(), null, element: true);
            if (resolved.LocalName == "stream" && resolved.NamespaceName == StreamsNs)
            {
                output.Add(new StreamEvent(StreamEventKind.Close, null));
                return;
            }
            throw new XmppStreamException(StreamErrors.NotWellFormed, "unexpected end tag");
        }
        Count(name);
        var (element, raw, _) = _stack[^1];
        if (!name.SequenceEqual(raw))
        {
            throw new XmppStreamException(StreamErrors.NotWellFormed, $"end tag </{name}> does not match <{raw}>");
        }
        _stack.RemoveAt(_stack.Count - 1);
        if (_stack.Count == 0)
        {
            output.Add(new StreamEvent(StreamEventKind.Element, element));
            _stanzaBytes = 0;
        }
    }

    private XName Resolve(string qname, Dictionary<string, string>? own, bool element)
    {
        var colon = qname.IndexOf(':', StringComparison.Ordinal);
        var prefix = colon < 0 ? "" : qname[..colon];
        var local = colon < 0 ? qname : qname[(colon + 1)..];
        if (local.Length == 0 || local.Contains(':', StringComparison.Ordinal) || (colon == 0))
        {
            throw new XmppStreamException(StreamErrors.NotWellFormed, $"bad name '{qname}'");
        }
        if (prefix == "xml")
        {
            return XNamespace.Xml + local;
        }
        if (!element && prefix.Length == 0)
        {
            return XName.Get(local);
        }
        if (own is not null && own.TryGetValue(prefix, out var ns))
        {
            return XName.Get(local, ns);
        }
        for (var i = _stack.Count - 1; i >= 0; i--)
        {
            if (_stack[i].Scope is { } s && s.TryGetValue(prefix, out ns))
            {
                return XName.Get(local, ns);
            }
        }
        foreach (var s in _streamScope)
        {
            if (s.TryGetValue(prefix, out ns))
            {
                return XName.Get(local, ns);
            }
        }
        if (prefix.Length == 0)
        {
            return XName.Get(local);
        }
        throw new XmppStreamException(StreamErrors.NotWellFormed, $"undeclared namespace prefix '{prefix}'");
    }

    private string ReadName(ReadOnlySpan<char> s, ref int pos)
    {
        var begin = pos;
        while (pos < s.Length && IsNameChar(s[pos]))
        {
            pos++;
        }
        if (pos == begin || !IsNameStart(s[begin]))
        {
            throw new XmppStreamException(StreamErrors.NotWellFormed, "bad element or attribute name");
        }
        if (pos - begin > _limits.MaxNameLength)
        {
            throw new XmppStreamException(StreamErrors.PolicyViolation, $"name longer than {_limits.MaxNameLength} characters");
        }
        return s[begin..pos].ToString();
    }

    private static bool SkipSpace(ReadOnlySpan<char> s, ref int pos)
    {
        var begin = pos;
        while (pos < s.Length && IsSpace(s[pos]))
        {
            pos++;
        }
        return pos > begin;
    }

    private static bool IsSpace(char c) => c is ' ' or '\t' or '\r' or '\n';

    private static bool IsNameStart(char c) => char.IsLetter(c) || c is '_' or ':' || c > 0x7F;

    private static bool IsNameChar(char c) => IsNameStart(c) || char.IsDigit(c) || c is '-' or '.';

    /// <summary>Decodes the five predefined entities and character references; any other reference is refused.</summary>
    internal static string Unescape(ReadOnlySpan<char> raw, bool attribute)
    {
        var amp = raw.IndexOf('&');
        if (amp < 0)
        {
            CheckChars(raw, attribute);
            return raw.ToString();
        }
        var sb = new StringBuilder(raw.Length);
        var i = 0;
        while (i < raw.Length)
        {
            var c = raw[i];
            if (c != '&')
            {
                sb.Append(c);
                i++;
                continue;
            }
            var semi = raw[i..].IndexOf(';');
            if (semi < 0 || semi > 12)
            {
                throw new XmppStreamException(StreamErrors.NotWellFormed, "unterminated reference");
            }
            var entity = raw.Slice(i + 1, semi - 1);
            i += semi + 1;
            switch (entity)
            {
                case "lt": sb.Append('<'); continue;
                case "gt": sb.Append('>'); continue;
                case "amp": sb.Append('&'); continue;
                case "quot": sb.Append('"'); continue;
                case "apos": sb.Append('\''); continue;
            }
            if (entity.Length > 1 && entity[0] == '#')
            {
                var hex = entity[1] is 'x';
                var digits = hex ? entity[2..] : entity[1..];
                if (!int.TryParse(digits, hex ? NumberStyles.AllowHexSpecifier : NumberStyles.None, CultureInfo.InvariantCulture, out var code)
                    || !IsXmlChar(code))
                {
                    throw new XmppStreamException(StreamErrors.NotWellFormed, "bad character reference");
                }
                sb.Append(char.ConvertFromUtf32(code));
                continue;
            }
            throw new XmppStreamException(StreamErrors.RestrictedXml, "entity references are not allowed");
        }
        var result = sb.ToString();
        CheckChars(raw, attribute);
        return result;
    }

    private static void CheckChars(ReadOnlySpan<char> raw, bool attribute)
    {
        foreach (var c in raw)
        {
            if ((c < 0x20 && c is not ('\t' or '\n' or '\r')) || c is '\uFFFE' or '\uFFFF' || (attribute && c == '<'))
            {
                throw new XmppStreamException(StreamErrors.NotWellFormed, "character not allowed in XML");
            }
        }
    }

    private static bool IsXmlChar(int c) =>
        c is 0x9 or 0xA or 0xD || (c >= 0x20 && c <= 0xD7FF) || (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
}
