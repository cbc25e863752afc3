using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Herald.Server.Tests.Webhooks;

/// <summary>One request the receiver saw.</summary>
public sealed record ReceivedRequest(string EventId, string Body, bool SignatureValid, int AnsweredWith)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement;
}

/// <summary>
/// A real HTTP receiver: a minimal Kestrel app on 127.0.0.1:0 that checks <c>Herald-Signature</c> (its own HMAC
/// code, independent of the server's), answers 503 while <see cref="FailuresLeft"/> is positive and records every
/// request.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _failuresLeft;

    private WebhookReceiver(WebApplication app) => _app = app;

    public Uri Url { get; private set; } = null!;

    /// <summary>Set once the webhook is created; requests before that fail the signature check.</summary>
    public string? Secret { get; set; }

    public int FailuresLeft
    {
        get => Volatile.Read(ref _failuresLeft);
        set => Volatile.Write(ref _failuresLeft, value);
    }

    public ConcurrentQueue<ReceivedRequest> Requests { get; } = new();

    /// <summary>When set, only requests of this event id are failed (other events are answered 200).</summary>
    public string? OnlyFail { get; set; }

    /// <summary>Requests answered with 200 (i.e. delivered).</summary>
    public IReadOnlyList<ReceivedRequest> Accepted => [.. Requests.Where(r => r.AnsweredWith == 200)];

    public static async Task<WebhookReceiver> Start()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        app.MapPost("/hook", receiver.Handle);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        receiver.Url = new Uri(new Uri(address), "/hook");
        return receiver;
    }

    private async Task<IResult> Handle(HttpRequest request)
    {
        using var reader = new StreamReader(request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync();
        var eventId = request.Headers["Herald-Event-Id"].ToString();
        var valid = Secret is { } secret && Verify(secret, request.Headers["Herald-Signature"].ToString(), body);
        int status;
        if (!valid)
        {
            status = 401;
        }
        else if ((OnlyFail is null || OnlyFail == eventId) && Interlocked.Decrement(ref _failuresLeft) >= 0)
        {
            status = 503;
        }
        else
        {
            Interlocked.Exchange(ref _failuresLeft, 0);
            status = 200;
        }
        Requests.Enqueue(new ReceivedRequest(eventId, body, valid, status));
        return Results.StatusCode(status);
    }

    /// <summary>What a receiver does: recompute HMAC-SHA256("t.body") with the secret and compare in constant time.</summary>
    public static bool Verify(string secret, string header, string body)
    {
        var parts = header.Split(',').Select(p => p.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0].Trim(), p => p[1].Trim());
        if (!parts.TryGetValue("t", out var t) || !parts.TryGetValue("v1", out var v1) || !long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            return false;
        }
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{t}.{body}"));
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Convert.ToHexStringLower(mac)), Encoding.ASCII.GetBytes(v1));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
