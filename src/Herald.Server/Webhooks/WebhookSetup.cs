using Herald.Cluster.Storage;

namespace Herald.Server.Webhooks;

/// <summary>Registration of the webhook services.</summary>
public static class WebhookSetup
{
    /// <summary>Adds the store (in the shared SQLite file), the HTTP client (no redirects, 10 s timeout) and the dispatcher.</summary>
    public static IServiceCollection AddHeraldWebhooks(this IServiceCollection services)
    {
        services.AddSingleton(sp => new WebhookStore(sp.GetRequiredService<SqliteDatabase>()));
        services.AddSingleton<WebhookService>();
        services.AddHostedService(sp => sp.GetRequiredService<WebhookService>());
        services.AddHttpClient(WebhookEvents.HttpClientName, c => c.Timeout = WebhookEvents.RequestTimeout)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) });
        return services;
    }
}
