using System.Text.Json;
using Herald.Cluster.Presence;
using Microsoft.AspNetCore.Diagnostics;

namespace Herald.Server.Hosting;

/// <summary>
/// Turns exceptions into RFC 9457 problem details: malformed JSON and unknown enum values become 400 naming the
/// field; broken limits become 422; a write rejected because another activation of the grain wrote first (during a
/// node loss), or refused because a node is leaving, becomes 503 (retry); anything else a 500 without internals.
/// Every answer carries a <c>traceId</c>; a 500 is logged as an error with the exception and the same trace id (so a
/// client's report finds the log line), and in the Development environment its body also names the exception type.
/// </summary>
public sealed partial class ProblemExceptionHandler(IProblemDetailsService problems, ILogger<ProblemExceptionHandler> logger,
    IHostEnvironment? environment = null) : IExceptionHandler
{
    /// <inheritdoc />
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        var (status, title, detail, field) = exception switch
        {
            BadHttpRequestException { InnerException: JsonException je } => (400, "Malformed request body", Describe(je), je.Path),
            BadHttpRequestException bad when bad.StatusCode == 413 => (413, "Request body too large", bad.Message, null),
            BadHttpRequestException bad => (bad.StatusCode, "Bad request", bad.Message, null),
            JsonException je => (400, "Malformed request body", Describe(je), je.Path),
            PresenceLimitException limit => (422, "Limit exceeded", limit.Message, limit.Field),
            // Another activation of the same grain wrote first (a node was just lost): not applied, safe to retry.
            Orleans.Storage.InconsistentStateException => (503, "Temporarily unavailable", "The write was not applied because the data moved between nodes; retry.", null),
            // The node that held the person just left or refused the call (membership is changing): the call was not
            // processed there, so nothing was applied; safe to retry once membership settles.
            Orleans.Runtime.SiloUnavailableException or Orleans.Runtime.OrleansMessageRejectionException =>
                (503, "Temporarily unavailable", "A cluster node is joining or leaving and the request was not applied; retry.", null),
            _ => (500, "Internal error", "The server failed to handle this request; nothing was changed.", (string?)null),
        };
        var traceId = System.Diagnostics.Activity.Current?.Id ?? httpContext.TraceIdentifier; // what the problem details writer puts in the body
        if (status == 500)
        {
            LogUnhandled(exception, httpContext.Request.Method, httpContext.Request.Path, traceId);
        }
        httpContext.Response.StatusCode = status;
        var pd = new Microsoft.AspNetCore.Mvc.ProblemDetails { Status = status, Title = title, Detail = detail };
        pd.Extensions["traceId"] = traceId;
        if (status == 500 && environment?.IsDevelopment() == true)
        {
            pd.Extensions["exception"] = exception.GetType().FullName;
        }
        if (field is not null || status == 400)
        {
            field ??= "$";
            pd.Extensions["errors"] = new Dictionary<string, string[]> { [FieldName(field)] = [detail] };
        }
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = httpContext, ProblemDetails = pd, Exception = exception });
    }

    private static string Describe(JsonException je)
    {
        // Prefer our own converters' message (it lists the accepted values) over the serializer's wrapper.
        var message = (je.InnerException as JsonException ?? je).Message.Split(" Path:")[0];
        if (message.StartsWith("The JSON value could not be converted", StringComparison.Ordinal) && je.InnerException is JsonException inner)
        {
            message = inner.Message.Split(" Path:")[0];
        }
        return je.Path is { Length: > 1 } path ? $"Invalid value at '{FieldName(path)}': {message}" : message;
    }

    private static string FieldName(string jsonPath) =>
        jsonPath.StartsWith("$.", StringComparison.Ordinal) ? jsonPath[2..] : jsonPath.TrimStart('$') is { Length: > 0 } rest ? rest : "body";

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled error on {Method} {Path} (traceId {TraceId})")]
    private partial void LogUnhandled(Exception ex, string method, string path, string traceId);
}
