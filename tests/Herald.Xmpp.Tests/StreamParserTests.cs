using System.Text;

namespace Herald.Xmpp.Tests;

/// <summary>The hardened incremental parser: stanzas split anywhere, and every restriction with its stream error.</summary>
public sealed class StreamParserTests
{
    private const string Header = "<?xml version='1.0'?><stream:stream to='localhost' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>";

    private static List<StreamEvent> Parse(string text, ParserLimits? limits = null, int chunk = int.MaxValue)
    {
        var parser = new StreamParser(limits);
        var events = new List<StreamEvent>();
        var bytes = Encoding.UTF8.GetBytes(text);
        for (var i = 0; i < bytes.Length; i += chunk)
        {
            parser.Feed(bytes.AsSpan(i, Math.Min(chunk, bytes.Length - i)), events);
        }
        return events;
    }

    private static string Error(string text, ParserLimits? limits = null) =>
        Assert.Throws<XmppStreamException>(() => Parse(text, limits)).Condition;

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(1000)]
    public void Stanzas_come_out_whole_however_the_bytes_are_split(int chunk)
    {
        var events = Parse(Header + " <message to='b@localhost' type='chat'><body>h&#xe9;llo &amp; &lt;bye&gt; ünï</body></message>\n<presence/></stream:stream>", chunk: chunk);
        Assert.Equal([StreamEventKind.Open, StreamEventKind.Element, StreamEventKind.Element, StreamEventKind.Close], events.Select(e => e.Kind));
        var message = events[1].Element!;
        Assert.Equal(Ns.Client + "message", message.Name);
        Assert.Equal("héllo & <bye> ünï", message.Element(Ns.Client + "body")!.Value);
        Assert.Equal("localhost", (string?)events[0].Element!.Attribute("to"));
    }

    [Fact]
    public void Namespaces_and_prefixes_resolve()
    {
        var events = Parse(Header + "<iq type='get' id='1'><q:query xmlns:q='jabber:iq:roster' ver='x'/></iq><iq id='2' type='get'><ping xmlns='urn:xmpp:ping'/></iq>");
        Assert.Equal((System.Xml.Linq.XNamespace)"jabber:iq:roster" + "query", events[1].Element!.Elements().Single().Name);
        Assert.Equal((System.Xml.Linq.XNamespace)"urn:xmpp:ping" + "ping", events[2].Element!.Elements().Single().Name);
    }

    [Theory]
    [InlineData("<!DOCTYPE x [<!ENTITY a 'aaaa'>]><message/>", StreamErrors.RestrictedXml)]
    [InlineData("<message><body>&a;</body></message>", StreamErrors.RestrictedXml)]
    [InlineData("<!-- comment --><message/>", StreamErrors.RestrictedXml)]
    [InlineData("<?php x?><message/>", StreamErrors.RestrictedXml)]
    [InlineData("<message><![CDATA[x]]></message>", StreamErrors.RestrictedXml)]
    [InlineData("<message><body>x</bodx></message>", StreamErrors.NotWellFormed)]
    [InlineData("<message a='1' a='2'/>", StreamErrors.NotWellFormed)]
    [InlineData("<message a=1/>", StreamErrors.NotWellFormed)]
    [InlineData("hello", StreamErrors.NotWellFormed)]
    [InlineData("<x:message/>", StreamErrors.NotWellFormed)]
    [InlineData("<message><body>&#0;</body></message>", StreamErrors.NotWellFormed)]
    public void Restricted_or_bad_xml_gets_its_stream_error(string stanza, string condition) => Assert.Equal(condition, Error(Header + stanza));

    [Fact]
    public void Limits_give_policy_violation()
    {
        var limits = new ParserLimits { MaxStanzaBytes = 1000, MaxDepth = 4, MaxAttributes = 5, MaxAttributeLength = 50 };
        Assert.Equal(StreamErrors.PolicyViolation, Error(Header + "<message><body>" + new string('x', 2000) + "</body></message>", limits));
        Assert.Equal(StreamErrors.PolicyViolation, Error(Header + "<message><body>" + new string('x', 2000), limits)); // never completed
        Assert.Equal(StreamErrors.PolicyViolation, Error(Header + "<a><b><c><d><e/></d></c></b></a>", limits));
        Assert.Equal(StreamErrors.PolicyViolation, Error(Header + "<a p='1' q='2' r='3' s='4' t='5' u='6'/>", limits));
        Assert.Equal(StreamErrors.PolicyViolation, Error(Header + $"<a p='{new string('v', 51)}'/>", limits));
        // Many small stanzas are fine: the limit is per stanza.
        Assert.Equal(101, Parse(Header + string.Concat(Enumerable.Repeat("<presence><status>" + new string('s', 500) + "</status></presence>", 100)), limits).Count);
    }

    [Fact]
    public void Wrong_stream_namespaces_are_refused()
    {
        Assert.Equal(StreamErrors.InvalidNamespace, Error("<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"));
        Assert.Equal(StreamErrors.InvalidNamespace, Error("<stream xmlns='jabber:client' version='1.0'>"));
        Assert.Equal(StreamErrors.NotWellFormed, Error(Header + "<message>\u00ff\u00fe</message>".Replace("\u00ff\u00fe", "\uffff", StringComparison.Ordinal)));
        var bad = new StreamParser();
        Assert.Equal(StreamErrors.NotWellFormed, Assert.Throws<XmppStreamException>(() => bad.Feed(Encoding.UTF8.GetBytes(Header).Concat(new byte[] { 0xC3, 0x28 }).ToArray(), [])).Condition);
    }
}
