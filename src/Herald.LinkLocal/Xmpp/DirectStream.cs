using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security;
using System.Text;
using System.Xml.Linq;
using Herald.Core.Model;

namespace Herald.LinkLocal.Xmpp;

/// <summary>A message received over a direct stream.</summary>
/// <param name="From">The sender's instance name, as the sender claims it (link-local streams are not authenticated).</param>
/// <param name="Body">The message text (cut to <see cref="DirectStream.MaxBodyChars"/>).</param>
/// <param name="Remote">The sender's address.</param>
public sealed record IncomingMessage(string From, string Body, IPEndPoint? Remote);

/// <summary>What happened to a message sent over a direct stream.</summary>
/// <param name="Delivered">True: the peer confirmed it (XEP-0184 receipt) or accepted it without error.</param>
/// <param name="Busy">The peer's busy answer, when it refused.</param>
/// <param name="Error">Another error (unreachable, timeout, stream error), when neither.</param>
public sealed record SendResult(bool Delivered, BusyAnswer? Busy, string? Error);

/// <summary>
/// The XEP-0174 direct stream: a plain XMPP stream between two peers over TCP (no SASL, no TLS), opened by the sender
/// with its own and the recipient's instance names as from/to. Herald sends one message per stream with a XEP-0184
/// receipt request; the recipient answers with a receipt, or at once with the busy answer (a message error of type
/// wait, condition recipient-unavailable, a human text and a Herald element with availability, note and back time).
/// </summary>
public static class DirectStream
{
    /// <summary>jabber:client.</summary>
    public static readonly XNamespace Client = "jabber:client";

    /// <summary>RFC 6120 stanza error conditions.</summary>
    public static readonly XNamespace Stanzas = "urn:ietf:params:xml:ns:xmpp-stanzas";

    /// <summary>XEP-0184 message receipts.</summary>
    public static readonly XNamespace Receipts = "urn:xmpp:receipts";

    /// <summary>Herald's busy-answer extension.</summary>
    public static readonly XNamespace Busy = "urn:herald:link:busy:0";

    /// <summary>Longest message body kept (characters).</summary>
    public const int MaxBodyChars = 4000;

    /// <summary>The opening stream header.</summary>
    public static string Header(string from, string to) =>
        $"<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='{StanzaReader.StreamsNs}' " +
        $"from='{SecurityElement.Escape(from)}' to='{SecurityElement.Escape(to)}' version='1.0'>";

    /// <summary>A stream error followed by the closing tag.</summary>
    public static string StreamError(string condition) =>
        $"<stream:error><{condition} xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>";

    /// <summary>The busy answer to a message.</summary>
    public static XElement BusyError(XElement message, string self, BusyAnswer answer)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(answer);
        var busy = new XElement(Busy + "busy", new XAttribute("availability", answer.Availability.ToString()));
        if (answer.Back is { } b)
        {
            busy.Add(new XAttribute("back", b.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)));
        }
        if (answer.Note is { } n)
        {
            busy.Add(new XElement(Busy + "note", n));
        }
        var reply = new XElement(Client + "message", new XAttribute("type", "error"), new XAttribute("from", self),
            new XElement(Client + "error", new XAttribute("type", "wait"),
                new XElement(Stanzas + "recipient-unavailable"),
                new XElement(Stanzas + "text", new XAttribute(XNamespace.Xml + "lang", "en"), answer.Text),
                busy));
        if ((string?)message.Attribute("from") is { } to)
        {
            reply.Add(new XAttribute("to", to));
        }
        if ((string?)message.Attribute("id") is { } id)
        {
            reply.Add(new XAttribute("id", id));
        }
        return reply;
    }

    /// <summary>Reads a busy answer from a message error; null when it is not one.</summary>
    public static BusyAnswer? ParseBusy(XElement error)
    {
        ArgumentNullException.ThrowIfNull(error);
        var e = error.Element(Client + "error");
        if (e is null)
        {
            return null;
        }
        var text = (string?)e.Element(Stanzas + "text");
        var busy = e.Element(Busy + "busy");
        var availability = Enum.TryParse<Availability>((string?)busy?.Attribute("availability"), out var a) && Enum.IsDefined(a)
            ? a : Availability.Unknown;
        DateTimeOffset? back = DateTimeOffset.TryParse((string?)busy?.Attribute("back"), CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal, out var t) ? t : null;
        var condition = e.Elements().FirstOrDefault(x => x.Name.Namespace == Stanzas && x.Name.LocalName != "text")?.Name.LocalName;
        return new BusyAnswer(false, availability, (string?)busy?.Element(Busy + "note"), back, text ?? condition ?? "refused");
    }

    /// <summary>Writes UTF-8 text and flushes.</summary>
    public static async Task WriteAsync(Stream s, string text, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(s);
        await s.WriteAsync(Encoding.UTF8.GetBytes(text), ct);
        await s.FlushAsync(ct);
    }

    /// <summary>Serves one incoming stream: reads messages until the peer closes, answering each.</summary>
    /// <param name="stream">The connection.</param>
    /// <param name="self">This peer's instance name.</param>
    /// <param name="limits">Parser limits.</param>
    /// <param name="decide">The busy-answer decision for the current status, given the sender as it claims to be.</param>
    /// <param name="received">Called for each delivered message.</param>
    /// <param name="remote">The remote end point.</param>
    /// <param name="ct">Stops the session.</param>
    public static async Task ServeAsync(Stream stream, string self, StreamLimits limits, Func<string, BusyAnswer> decide,
        Action<IncomingMessage> received, IPEndPoint? remote, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(decide);
        ArgumentNullException.ThrowIfNull(received);
        using var reader = new StanzaReader(stream, limits);
        var headerSent = false;
        try
        {
            var (from, _) = await reader.ReadHeaderAsync().WaitAsync(ct);
            var peer = string.IsNullOrWhiteSpace(from) ? remote?.ToString() ?? "unknown" : from;
            await WriteAsync(stream, Header(self, peer) + "<stream:features/>", ct);
            headerSent = true;
            for (var i = 0; i < 1000; i++)
            {
                var stanza = await reader.ReadStanzaAsync().WaitAsync(ct);
                if (stanza is null)
                {
                    await WriteAsync(stream, "</stream:stream>", ct);
                    return;
                }
                if (stanza.Name != Client + "message" || (string?)stanza.Attribute("type") == "error")
                {
                    continue; // presence, iq and errors are not served on Herald's direct streams
                }
                var answer = decide(peer);
                if (!answer.Deliver)
                {
                    await WriteAsync(stream, BusyError(stanza, self, answer).ToString(SaveOptions.DisableFormatting), ct);
                    continue;
                }
                var body = (string?)stanza.Element(Client + "body") ?? "";
                received(new IncomingMessage(peer, body.Length > MaxBodyChars ? body[..MaxBodyChars] : body, remote));
                if (stanza.Element(Receipts + "request") is not null && (string?)stanza.Attribute("id") is { } id)
                {
                    var receipt = new XElement(Client + "message", new XAttribute("from", self), new XAttribute("to", peer),
                        new XElement(Receipts + "received", new XAttribute("id", id)));
                    await WriteAsync(stream, receipt.ToString(SaveOptions.DisableFormatting), ct);
                }
            }
            await WriteAsync(stream, StreamError("policy-violation"), ct);
        }
        catch (XmppStreamException e)
        {
            await TryWrite(stream, (headerSent ? "" : Header(self, "unknown")) + StreamError(e.Condition));
        }
    }

    private static async Task TryWrite(Stream s, string text)
    {
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await WriteAsync(s, text, cts.Token);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }
    }

    /// <summary>Opens a stream to a peer, sends one message and waits for its receipt or busy answer.</summary>
    public static async Task<SendResult> SendAsync(IPEndPoint to, string self, string peerInstance, string body, StreamLimits limits,
        TimeSpan timeout, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(to);
        ArgumentNullException.ThrowIfNull(limits);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        using var client = new TcpClient(to.AddressFamily);
        try
        {
            await client.ConnectAsync(to, cts.Token);
            var s = client.GetStream();
            using var reader = new StanzaReader(s, limits with { IdleTimeout = timeout });
            await WriteAsync(s, Header(self, peerInstance), cts.Token);
            await reader.ReadHeaderAsync().WaitAsync(cts.Token);
            var id = "h" + Guid.NewGuid().ToString("N")[..12];
            var message = new XElement(Client + "message", new XAttribute("from", self), new XAttribute("to", peerInstance),
                new XAttribute("type", "chat"), new XAttribute("id", id),
                new XElement(Client + "body", body.Length > MaxBodyChars ? body[..MaxBodyChars] : body),
                new XElement(Receipts + "request"));
            await WriteAsync(s, message.ToString(SaveOptions.DisableFormatting), cts.Token);
            for (var i = 0; i < 100; i++)
            {
                var stanza = await reader.ReadStanzaAsync().WaitAsync(cts.Token);
                if (stanza is null)
                {
                    return new SendResult(false, null, "The peer closed the stream without an answer.");
                }
                if (stanza.Name == Client + "message" && (string?)stanza.Attribute("type") == "error"
                    && ((string?)stanza.Attribute("id") ?? id) == id)
                {
                    await TryWrite(s, "</stream:stream>");
                    return new SendResult(false, ParseBusy(stanza), null);
                }
                if (stanza.Element(Receipts + "received") is { } r && (string?)r.Attribute("id") == id)
                {
                    await TryWrite(s, "</stream:stream>");
                    return new SendResult(true, null, null);
                }
            }
            return new SendResult(false, null, "No answer among the peer's stanzas.");
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new SendResult(false, null, $"No answer within {timeout.TotalSeconds:0.#} s.");
        }
        catch (XmppStreamException e)
        {
            return new SendResult(false, null, $"Stream error ({e.Condition}): {e.Message}");
        }
        catch (SocketException e)
        {
            return new SendResult(false, null, "Cannot connect: " + e.Message);
        }
        catch (IOException e)
        {
            return new SendResult(false, null, "Connection failed: " + e.Message);
        }
    }
}
