using System.Net;
using System.Net.Sockets;
using System.Text.Json.Serialization;
using Herald.Cluster.Hosting;
using Herald.Server.Apis;
using Herald.Server.Auth;
using Herald.Server.Demo;
using Herald.Server.Live;
using Herald.Xmpp;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;

namespace Herald.Server.Hosting;

/// <summary>Builds the Herald web host with its co-hosted Orleans silo.</summary>
public static class HeraldServer
{
    /// <summary>The port served when no <c>--urls</c> / <c>ASPNETCORE_URLS</c> is given.</summary>
    public const string DefaultUrl = "http://localhost:5080";

    /// <summary>
    /// Creates the application. <paramref name="configure"/> lets tests replace services (e.g. a fake
    /// <see cref="TimeProvider"/>) before the host is built.
    /// </summary>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(NormalizeArgs(args));
        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["ASPNETCORE_URLS"]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        var options = builder.Configuration.GetSection(HeraldOptions.Section).Get<HeraldOptions>() ?? new HeraldOptions();
        builder.Services.AddOptions<HeraldOptions>().BindConfiguration(HeraldOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        var dataDirectory = Path.GetFullPath(options.DataDirectory, Environment.CurrentDirectory); // the working directory, not the project folder
        System.IO.Directory.CreateDirectory(dataDirectory);
        builder.Services.AddSingleton(new DataDirectory(dataDirectory));

        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = options.Limits.MaxBodyBytes);

        builder.AddHeraldCluster(options, dataDirectory); // Orleans, the stores and Data Protection for Herald:Cluster:Mode

        builder.Services.Configure<JsonOptions>(o =>
        {
            o.SerializerOptions.Converters.Add(new StrictEnumConverter());
            o.SerializerOptions.AllowTrailingCommas = false;
        });
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<ProblemExceptionHandler>();
        builder.Services.AddHeraldAuth();
        builder.Services.AddHeraldRateLimits(options.RateLimits);
        builder.Services.AddOpenApi();
        builder.Services.AddHealthChecks();
        builder.Services.AddSignalR().AddJsonProtocol(o => o.PayloadSerializerOptions.Converters.Add(new StrictEnumConverter()))
            // binary hub protocol alongside JSON: clients choose at handshake; each view instance is encoded once (SharedViewBytes)
            .AddMessagePackProtocol(o => o.SerializerOptions = SharedViewBytes.Options(o.SerializerOptions));
        builder.Services.AddSingleton(sp => new Herald.Cluster.Directory.LiveCredentials(
            sp.GetRequiredService<Herald.Cluster.Directory.IAccountStore>(), sp.GetRequiredService<Herald.Cluster.Directory.IApiKeyStore>(),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<Herald.Cluster.Directory.LiveCredentials>>(),
            options.Auth.LiveRecheckInterval));
        builder.Services.AddSingleton<LiveConnections>();
        builder.Services.AddSingleton<LiveOperations>();
        builder.Services.AddSingleton<PresenceReader>();
        builder.Services.AddSingleton<PeopleWriter>();
        builder.Services.AddSingleton<PhoneNumbers>();
        builder.Services.AddSingleton<PresencePump>();
        builder.Services.AddSingleton<LiveRateLimiter>();
        builder.Services.AddSingleton<DeviceLeaseKeeper>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<DeviceLeaseKeeper>());
        builder.Services.AddHostedService<BootstrapAdmin>();
        builder.Services.AddHeraldXmpp(dataDirectory); // Herald:Xmpp (port 5222 by default; 0 disables)
        Herald.Server.Webhooks.WebhookSetup.AddHeraldWebhooks(builder.Services);
        Herald.Server.Calendars.CalendarSetup.AddHeraldCalendars(builder.Services);
        builder.Services.AddHostedService<HuddleExpirySweeper>();
        if (options.Demo)
        {
            builder.Services.AddHostedService<DemoSeeder>();
        }
        builder.Services.AddOpenTelemetry().WithMetrics(m => m
            .AddMeter("Herald.Presence", "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "Microsoft.AspNetCore.Http.Connections")
            .AddAspNetCoreInstrumentation()
            .AddPrometheusExporter());

        configure?.Invoke(builder);

        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseHeraldWebApp(); // the web app at / (wwwroot)
        app.UseWebSockets(); // the live WebSocket protocol at /api/v1/live (SignalR maps its own)
        app.UseAuthentication();
        app.UseRateLimiter();
        app.UseAuthorization();

        app.MapOpenApi("/openapi/{documentName}.json");
        app.MapHealthChecks("/healthz");
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapAuthApi();
        app.MapMeApi();
        app.MapPresenceApi();
        app.MapPeopleApi();
        app.MapAdminApi();
        app.MapApiKeysApi();
        app.MapPrivacyApi();
        app.MapReachApi();
        app.MapIntegrationsApi();
        app.MapCalendarApi();
        app.MapHuddlesApi();
        app.MapEventsApi();
        app.MapLiveSocket();
        app.MapWebhooksApi();
        app.MapHub<PresenceHub>("/hubs/presence").RequireAuthorization(HeraldPolicies.Person);
        return app;
    }

    /// <summary>Turns the bare <c>--demo</c> switch into configuration.</summary>
    private static string[] NormalizeArgs(string[] args) =>
        [.. args.Select(a => a is "--demo" ? "--Herald:Demo=true" : a)];
}

/// <summary>The resolved data directory.</summary>
public sealed record DataDirectory(string Path);
