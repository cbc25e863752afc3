namespace Herald.Xmpp;

/// <summary>A condition that ends the stream with an RFC 6120 stream error (section 4.9.3).</summary>
public sealed class XmppStreamException : Exception
{
    /// <summary>Creates the error.</summary>
    public XmppStreamException(string condition, string? text = null) : base(text ?? condition)
    {
        Condition = condition;
        Text = text;
    }

    /// <summary>Creates an error with the default condition.</summary>
    public XmppStreamException() : this(StreamErrors.UndefinedCondition)
    {
    }

    /// <summary>Creates an error with the default condition.</summary>
    public XmppStreamException(string message, Exception inner) : base(message, inner)
    {
        Condition = StreamErrors.UndefinedCondition;
        Text = message;
    }

    /// <summary>The defined condition, e.g. <c>not-well-formed</c>.</summary>
    public string Condition { get; }

    /// <summary>Human-readable text, or null.</summary>
    public string? Text { get; }
}

/// <summary>The stream error conditions Herald sends.</summary>
public static class StreamErrors
{
    /// <summary>Bad XML.</summary>
    public const string NotWellFormed = "not-well-formed";
    /// <summary>Comments, processing instructions, DTDs, entity references.</summary>
    public const string RestrictedXml = "restricted-xml";
    /// <summary>A limit was exceeded.</summary>
    public const string PolicyViolation = "policy-violation";
    /// <summary>Stanzas before authentication.</summary>
    public const string NotAuthorized = "not-authorized";
    /// <summary>Idle or too slow.</summary>
    public const string ConnectionTimeout = "connection-timeout";
    /// <summary>The server is stopping.</summary>
    public const string SystemShutdown = "system-shutdown";
    /// <summary>Wrong stream or content namespace.</summary>
    public const string InvalidNamespace = "invalid-namespace";
    /// <summary>The stream header names another domain.</summary>
    public const string HostUnknown = "host-unknown";
    /// <summary>Unknown top-level element.</summary>
    public const string UnsupportedStanzaType = "unsupported-stanza-type";
    /// <summary>Malformed but well-formed input.</summary>
    public const string BadFormat = "bad-format";
    /// <summary>Another session took the resource.</summary>
    public const string Conflict = "conflict";
    /// <summary>Anything else.</summary>
    public const string UndefinedCondition = "undefined-condition";
    /// <summary>Unsupported stream version.</summary>
    public const string UnsupportedVersion = "unsupported-version";
}
