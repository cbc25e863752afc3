namespace Herald.Xmpp;

/// <summary>Configuration of the XMPP gateway (section <c>Herald:Xmpp</c>).</summary>
public sealed class XmppOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Herald:Xmpp";

    /// <summary>TCP port for client connections; 0 disables the gateway; -1 takes a free port (tests), logged and given by <see cref="XmppGateway.Started"/>.</summary>
    public int Port { get; set; } = 5222;

    /// <summary>Address to listen on (default: all, IPv6 dual-stack when available).</summary>
    public string? ListenAddress { get; set; }

    /// <summary>The XMPP domain: a person's JID is <c>userId@Domain</c>.</summary>
    public string Domain { get; set; } = "localhost";

    /// <summary>Offer SASL PLAIN on unencrypted streams (benchmarks on loopback only).</summary>
    public bool AllowPlainWithoutTls { get; set; }

    /// <summary>PKCS#12 file of the TLS certificate; when empty a self-signed one is generated in the data directory.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>Password of <see cref="CertificatePath"/>.</summary>
    public string? CertificatePassword { get; set; }

    /// <summary>Most bytes of one stanza.</summary>
    public int MaxStanzaBytes { get; set; } = 65_536;

    /// <summary>Most element nesting inside a stanza.</summary>
    public int MaxDepth { get; set; } = 16;

    /// <summary>Most attributes per element.</summary>
    public int MaxAttributes { get; set; } = 32;

    /// <summary>Most characters per attribute value.</summary>
    public int MaxAttributeLength { get; set; } = 3_072;

    /// <summary>A stream with no bytes at all for this long is closed (<c>connection-timeout</c>).</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>A started stanza must be complete within this time (slow senders get <c>connection-timeout</c>).</summary>
    public TimeSpan StanzaTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Authentication and resource binding must be done within this time after connecting.</summary>
    public TimeSpan NegotiationTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Sustained stanzas per second per connection; beyond the burst, reading pauses.</summary>
    public int StanzasPerSecond { get; set; } = 50;

    /// <summary>Stanzas a connection may send at once before the rate applies.</summary>
    public int StanzaBurst { get; set; } = 200;

    /// <summary>Sustained bytes per second per connection; beyond one second's worth, reading pauses.</summary>
    public int BytesPerSecond { get; set; } = 262_144;

    /// <summary>Most simultaneous client connections per server process.</summary>
    public int MaxConnections { get; set; } = 10_000;

    /// <summary>Most roster items (contacts) a client is given and may hold.</summary>
    public int MaxRosterItems { get; set; } = 1_000;

    /// <summary>
    /// Outgoing stanzas other than contacts' presence (messages, IQ pushes and queries, subscription requests) queued
    /// for a connection; one more closes it with <c>policy-violation</c> as a client that does not read. Contacts'
    /// presence is not counted: it is coalesced to the newest per contact (bounded by the roster) and never dropped.
    /// </summary>
    public int MaxQueuedStanzas { get; set; } = 1_000;

    /// <summary>
    /// A write to a client must be accepted within this time; otherwise the connection is closed (the client
    /// reconnects and is given every current presence again).
    /// </summary>
    public TimeSpan WriteTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Device lease of an XMPP resource; renewed every third of it while the stream lives.</summary>
    public TimeSpan ResourceLease { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Most verified XEP-0115 <c>ver</c> strings kept (features of client software); the oldest is dropped when full.</summary>
    public int CapsCacheSize { get; set; } = 1_024;

    /// <summary>How long the gateway waits for a client's answer to its caps disco#info query.</summary>
    public TimeSpan CapsQueryTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
