using System.Xml;
using System.Xml.Linq;

namespace Herald.LinkLocal.Xmpp;

/// <summary>Limits of the direct XMPP stream parser (every one enforced; see docs/serverless.md).</summary>
public sealed record StreamLimits
{
    /// <summary>Most bytes read for the stream header or one stanza (the parser reads ahead, so up to one 4 KiB buffer more).</summary>
    public int MaxStanzaBytes { get; init; } = 64 * 1024;

    /// <summary>Deepest element nesting inside a stanza (the stanza itself is depth 1).</summary>
    public int MaxDepth { get; init; } = 16;

    /// <summary>Most attributes on one element.</summary>
    public int MaxAttributes { get; init; } = 32;

    /// <summary>Longest wait for the next bytes from the peer.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Longest a whole session may last.</summary>
    public TimeSpan SessionTimeout { get; init; } = TimeSpan.FromSeconds(120);
}

/// <summary>Why a stream ended badly, with the RFC 6120 stream error condition to send.</summary>
public sealed class XmppStreamException(string condition, string message) : Exception(message)
{
    /// <summary>The stream error condition (e.g. not-well-formed, policy-violation, connection-timeout).</summary>
    public string Condition { get; } = condition;
}

/// <summary>
/// Reads an XMPP stream (RFC 6120 §4): the stream header, then one stanza at a time as an <see cref="XElement"/>,
/// with no DTDs or entities, a byte budget per stanza, a depth and attribute limit and an idle timeout.
/// </summary>
public sealed class StanzaReader : IDisposable
{
    /// <summary>The streams namespace.</summary>
    public const string StreamsNs = "http://etherx.jabber.org/streams";

    private readonly BudgetStream _budget;
    private readonly XmlReader _r;
    private readonly StreamLimits _limits;

    /// <summary>Reads from <paramref name="stream"/> (left open).</summary>
    public StanzaReader(Stream stream, StreamLimits limits)
    {
        _limits = limits ?? throw new ArgumentNullException(nameof(limits));
        _budget = new BudgetStream(stream, limits);
        _r = XmlReader.Create(_budget, new XmlReaderSettings
        {
            Async = true,
            DtdProcessing = DtdProcessing.Prohibit,
            XmlResolver = null,
            MaxCharactersFromEntities = 0,
            IgnoreComments = true,
            IgnoreProcessingInstructions = true,
            CloseInput = false,
        });
    }

    /// <summary>Reads the opening &lt;stream:stream&gt; and returns its from and to attributes.</summary>
    public async Task<(string? From, string? To)> ReadHeaderAsync()
    {
        _budget.Reset();
        await Guard(async () =>
        {
            if (await _r.MoveToContentAsync() != XmlNodeType.Element || _r.LocalName != "stream" || _r.NamespaceURI != StreamsNs)
            {
                throw new XmppStreamException("invalid-namespace", "The stream does not start with <stream:stream>.");
            }
            return true;
        });
        return (_r.GetAttribute("from"), _r.GetAttribute("to"));
    }

    /// <summary>Reads the next stanza (any element at depth 1); null when the peer closed the stream.</summary>
    public Task<XElement?> ReadStanzaAsync()
    {
        _budget.Reset();
        return Guard(async () =>
        {
            while (await _r.ReadAsync())
            {
                if (_r.NodeType == XmlNodeType.Element && _r.Depth == 1)
                {
                    return await ReadElementAsync();
                }
                if (_r.NodeType == XmlNodeType.EndElement && _r.Depth == 0)
                {
                    return null;
                }
            }
            return (XElement?)null;
        });
    }

    private async Task<T> Guard<T>(Func<Task<T>> body)
    {
        try
        {
            return await body();
        }
        catch (XmlException e)
        {
            throw new XmppStreamException(e.Message.Contains("DTD", StringComparison.OrdinalIgnoreCase) ? "restricted-xml" : "not-well-formed",
                "Malformed XML: " + e.Message);
        }
        catch (IOException e) when (e.InnerException is XmppStreamException x)
        {
            throw x;
        }
    }

    private async Task<XElement> ReadElementAsync()
    {
        var root = Start();
        if (_r.IsEmptyElement)
        {
            return root;
        }
        var stack = new Stack<XElement>();
        stack.Push(root);
        while (await _r.ReadAsync())
        {
            switch (_r.NodeType)
            {
                case XmlNodeType.Element:
                    if (_r.Depth > _limits.MaxDepth)
                    {
                        throw new XmppStreamException("policy-violation", $"Stanza nested deeper than {_limits.MaxDepth}.");
                    }
                    var e = Start();
                    stack.Peek().Add(e);
                    if (!_r.IsEmptyElement)
                    {
                        stack.Push(e);
                    }
                    break;
                case XmlNodeType.Text or XmlNodeType.CDATA or XmlNodeType.Whitespace or XmlNodeType.SignificantWhitespace:
                    stack.Peek().Add(new XText(await _r.GetValueAsync()));
                    break;
                case XmlNodeType.EndElement:
                    stack.Pop();
                    if (stack.Count == 0)
                    {
                        return root;
                    }
                    break;
                case XmlNodeType.EntityReference or XmlNodeType.DocumentType:
                    throw new XmppStreamException("restricted-xml", "Entities and DTDs are not allowed.");
            }
        }
        throw new XmppStreamException("not-well-formed", "The stream ended inside a stanza.");
    }

    private XElement Start()
    {
        var e = new XElement(XName.Get(_r.LocalName, _r.NamespaceURI));
        if (_r.AttributeCount > _limits.MaxAttributes)
        {
            throw new XmppStreamException("policy-violation", $"More than {_limits.MaxAttributes} attributes on an element.");
        }
        while (_r.MoveToNextAttribute())
        {
            if (_r.NamespaceURI != "http://www.w3.org/2000/xmlns/")
            {
                e.SetAttributeValue(XName.Get(_r.LocalName, _r.NamespaceURI), _r.Value);
            }
        }
        _r.MoveToElement();
        return e;
    }

    /// <inheritdoc />
    public void Dispose() => _r.Dispose();

    /// <summary>A read-only view of the socket stream that enforces the per-stanza byte budget and the idle timeout.</summary>
    private sealed class BudgetStream(Stream inner, StreamLimits limits) : Stream
    {
        private long _used;

        public void Reset() => _used = 0;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            cts.CancelAfter(limits.IdleTimeout);
            int n;
            try
            {
                n = await inner.ReadAsync(buffer, cts.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new IOException("idle", new XmppStreamException("connection-timeout", $"No data for {limits.IdleTimeout.TotalSeconds:0.#} s."));
            }
            _used += n;
            if (_used > limits.MaxStanzaBytes)
            {
                throw new IOException("size", new XmppStreamException("policy-violation", $"Stanza larger than {limits.MaxStanzaBytes} bytes."));
            }
            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, default).GetAwaiter().GetResult();

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
