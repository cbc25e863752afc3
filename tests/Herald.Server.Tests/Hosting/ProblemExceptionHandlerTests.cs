using System.Text.Json;
using Herald.Server.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Runtime;

namespace Herald.Server.Tests.Hosting;

/// <summary>How the problem handler answers failures that come from the cluster rather than from the request.</summary>
public sealed class ProblemExceptionHandlerTests
{
    public static TheoryData<Exception, int> Cases => new()
    {
        { new SiloUnavailableException("the node left"), 503 },
        { (Exception)System.Runtime.CompilerServices.RuntimeHelpers.GetUninitializedObject(typeof(OrleansMessageRejectionException)), 503 }, // no public constructor
        { new Orleans.Storage.InconsistentStateException("etag moved"), 503 },
        { new InvalidOperationException("a bug"), 500 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_node_leaving_is_a_retryable_503_and_anything_unknown_a_500(Exception exception, int status)
    {
        var (context, _) = await Handle(exception, new ProblemExceptionHandler(Problems(), NullLogger<ProblemExceptionHandler>.Instance));

        Assert.Equal(status, context.Response.StatusCode);
    }

    [Theory]
    [InlineData("Production", false)]
    [InlineData("Development", true)]
    public async Task A_500_carries_a_trace_id_that_its_error_log_line_repeats_and_names_the_exception_only_in_Development(string environment, bool named)
    {
        var log = new ListLogger();
        var handler = new ProblemExceptionHandler(Problems(), log, new Environment { EnvironmentName = environment });

        var (context, body) = await Handle(new InvalidOperationException("secret internals"), handler, "trace-42");

        Assert.Equal(500, context.Response.StatusCode);
        Assert.Equal("trace-42", body.GetProperty("traceId").GetString());
        Assert.DoesNotContain("secret internals", body.GetRawText(), StringComparison.Ordinal);
        Assert.Equal(named, body.TryGetProperty("exception", out var type));
        if (named)
        {
            Assert.Equal(typeof(InvalidOperationException).FullName, type.GetString());
        }
        var line = Assert.Single(log.Lines);
        Assert.Equal(LogLevel.Error, line.Level);
        Assert.Contains("trace-42", line.Message, StringComparison.Ordinal);
        Assert.IsType<InvalidOperationException>(line.Exception);
    }

    [Fact]
    public async Task A_503_carries_a_trace_id_too_and_is_not_logged_as_an_error()
    {
        var log = new ListLogger();
        var (context, body) = await Handle(new SiloUnavailableException("the node left"), new ProblemExceptionHandler(Problems(), log), "trace-7");

        Assert.Equal(503, context.Response.StatusCode);
        Assert.Equal("trace-7", body.GetProperty("traceId").GetString());
        Assert.Empty(log.Lines);
    }

    private static IProblemDetailsService Problems() =>
        new ServiceCollection().AddLogging().AddProblemDetails().BuildServiceProvider().GetRequiredService<IProblemDetailsService>();

    private static async Task<(HttpContext Context, JsonElement Body)> Handle(Exception exception, ProblemExceptionHandler handler, string traceId = "t")
    {
        var services = new ServiceCollection().AddLogging().AddProblemDetails().BuildServiceProvider();
        var context = new DefaultHttpContext { RequestServices = services, TraceIdentifier = traceId };
        context.Request.Method = "PUT";
        context.Request.Path = "/api/v1/me/status";
        context.Response.Body = new MemoryStream();

        Assert.True(await handler.TryHandleAsync(context, exception, CancellationToken.None));

        context.Response.Body.Position = 0;
        using var doc = await JsonDocument.ParseAsync(context.Response.Body);
        return (context, doc.RootElement.Clone());
    }

    private sealed class Environment : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = "Production";

        public string ApplicationName { get; set; } = "Herald.Server";

        public string ContentRootPath { get; set; } = "";

        public Microsoft.Extensions.FileProviders.IFileProvider ContentRootFileProvider { get; set; } = null!;
    }

    private sealed class ListLogger : ILogger<ProblemExceptionHandler>
    {
        public List<(LogLevel Level, string Message, Exception? Exception)> Lines { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Add((logLevel, formatter(state, exception), exception));
    }
}
