using Herald.Cluster.Storage;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Herald.Server.Webhooks;

/// <summary>Registration of the webhook services.</summary>
public static class WebhookSetup
{
    /// <summary>Adds the store (in the shared SQLite file), the HTTP client (no redirects, 10 s timeout) and the dispatcher.</summary>
    public static IServiceCollection AddHeraldWebhooks(this IServiceCollection services)
    {
        services.TryAddSingleton<IWebhookStore>(sp => new WebhookStore(sp.GetRequiredService<SqliteDatabase>())); // cluster mode registers RedisWebhookStore first
        services.AddSingleton<WebhookService>();
        services.AddHostedService(sp => sp.GetRequiredService<WebhookService>());
        services.AddHttpClient(WebhookEvents.HttpClientName, c => c.Timeout = WebhookEvents.RequestTimeout)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) });
        return services;
    }
}
