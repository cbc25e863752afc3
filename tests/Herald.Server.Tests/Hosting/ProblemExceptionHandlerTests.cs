using Herald.Server.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
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
        var services = new ServiceCollection().AddLogging().AddProblemDetails().BuildServiceProvider();
        var context = new DefaultHttpContext { RequestServices = services };
        context.Response.Body = new MemoryStream();
        var handler = new ProblemExceptionHandler(services.GetRequiredService<IProblemDetailsService>(),
            NullLogger<ProblemExceptionHandler>.Instance);

        Assert.True(await handler.TryHandleAsync(context, exception, CancellationToken.None));

        Assert.Equal(status, context.Response.StatusCode);
    }
}
