using System.Buffers;
using System.Globalization;
using System.Text;
using System.Xml.Linq;
using BenchmarkDotNet.Attributes;
using Herald.Core.Privacy;
using Herald.Xmpp;

namespace Herald.Bench.Micro;

/// <summary>
/// The XMPP gateway's per-delivery work: one presence view (a new instance per update, as the silo fan-out hands
/// it out) becomes UTF-8 stanza bytes for each of R = 20 watcher sessions (PRES-2C), each woken for that one
/// stanza (the light-load case: one socket write per delivery). Figures are per delivery
/// (<c>OperationsPerInvoke</c> = R), and include the new view instance per update (the same in both methods).
/// <see cref="PerStanzaXElement"/> is the session-4 starting point (an XML tree, a string and an encoding per
/// recipient); <see cref="CachedPerViewInstance"/> is the <see cref="PresenceStanzaEncoder"/> path.
/// </summary>
[ShortRunJob, MemoryDiagnoser]
public class XmppEncodingBenchmarks : IDisposable
{
    private const int Watchers = 20;
    private const string Domain = "localhost";
    private readonly string[] _to = new string[Watchers];
    private readonly byte[][] _recipients = new byte[Watchers][];
    private readonly StringBuilder _sb = new(1024);
    private readonly PooledByteWriter _writer = new();
    private PresenceStanzaEncoder _encoder = null!;
    private PresenceView _view = null!;
    private long _sequence;

    /// <summary>A colleague's view of the sample person with a PRES-2C stamp as its note.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var state = Samples.State();
        _view = DisclosurePolicy.Disclose(state, DisclosurePolicy.KeyOf(new WatcherRelation("w", false, RelationshipTier.Colleague)))
            with { Note = "b4.1234.17.98765432101234" };
        _encoder = new PresenceStanzaEncoder(Domain);
        for (var i = 0; i < Watchers; i++)
        {
            _to[i] = string.Create(CultureInfo.InvariantCulture, $"u{i}@{Domain}/bench");
            _recipients[i] = PresenceStanzaEncoder.Recipient(_to[i]);
        }
    }

    /// <summary>Gives the pooled buffer back.</summary>
    [GlobalCleanup]
    public void Dispose()
    {
        _writer.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Before: per recipient an XElement stanza, its string, the batch string and its UTF-8 bytes.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Watchers)]
    public int PerStanzaXElement()
    {
        var view = _view with { Sequence = ++_sequence };
        var total = 0;
        for (var i = 0; i < Watchers; i++)
        {
            _sb.Clear();
            _sb.Append(XmppRendering.Presence(view, Domain, _to[i]).ToString(SaveOptions.DisableFormatting));
            var text = _sb.ToString();
            var bytes = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(text.Length));
            total += Encoding.UTF8.GetBytes(text, bytes);
            ArrayPool<byte>.Shared.Return(bytes);
        }
        return total;
    }

    /// <summary>After: the view instance rendered once, then head + recipient + tail copied into a pooled buffer per recipient.</summary>
    [Benchmark(OperationsPerInvoke = Watchers)]
    public int CachedPerViewInstance()
    {
        var view = _view with { Sequence = ++_sequence };
        var total = 0;
        for (var i = 0; i < Watchers; i++)
        {
            _encoder.Write(view, _recipients[i], _writer);
            total += _writer.Length;
            _writer.Reset();
        }
        return total;
    }
}
