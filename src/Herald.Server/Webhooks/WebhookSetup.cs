using Herald.Cluster.Storage;
using Herald.Server.Outbound;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Herald.Server.Webhooks;

/// <summary>Registration of the webhook services.</summary>
public static class WebhookSetup
{
    /// <summary>Adds the store (in the shared SQLite file), the HTTP client (no redirects, 10 s timeout, outbound policy) and the dispatcher.</summary>
    public static IServiceCollection AddHeraldWebhooks(this IServiceCollection services)
    {
        services.AddHeraldOutbound();
        services.TryAddSingleton<IWebhookStore>(sp => new WebhookStore(sp.GetRequiredService<SqliteDatabase>())); // cluster mode registers RedisWebhookStore first
        services.AddSingleton<WebhookService>();
        services.AddHostedService(sp => sp.GetRequiredService<WebhookService>());
        services.AddHttpClient(WebhookEvents.HttpClientName, c => c.Timeout = WebhookEvents.RequestTimeout)
            .ConfigurePrimaryHttpMessageHandler(sp => sp.GetRequiredService<OutboundGuard>().CreateHandler());
        return services;
    }
}
