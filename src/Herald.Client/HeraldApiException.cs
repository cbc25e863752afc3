using System.Net;

namespace Herald.Client;

/// <summary>An error answer from the Herald API (RFC 9457 problem details).</summary>
public sealed class HeraldApiException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="status">HTTP status.</param>
    /// <param name="title">Problem title.</param>
    /// <param name="detail">Problem detail.</param>
    public HeraldApiException(HttpStatusCode status, string? title, string? detail)
        : base(string.IsNullOrEmpty(detail) ? $"{(int)status} {title}" : $"{(int)status} {title}: {detail}")
    {
        Status = status;
        Title = title;
        Detail = detail;
    }

    /// <summary>Creates the exception.</summary>
    public HeraldApiException() : this(HttpStatusCode.InternalServerError, "Internal error", null)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">Message.</param>
    public HeraldApiException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">Message.</param>
    /// <param name="innerException">Cause.</param>
    public HeraldApiException(string message, Exception innerException) : base(message, innerException)
    {
    }

    /// <summary>The HTTP status.</summary>
    public HttpStatusCode Status { get; }

    /// <summary>The problem title.</summary>
    public string? Title { get; }

    /// <summary>The problem detail.</summary>
    public string? Detail { get; }
}
