using Microsoft.Extensions.FileProviders;

namespace Herald.Server.Hosting;

/// <summary>
/// Serves the web app (plain HTML, CSS and ES modules in <c>wwwroot</c>, copied next to the server's assembly by the
/// build) at <c>/</c>. Static files only: every API route stays as it is, and unknown paths still answer 404.
/// </summary>
public static class WebAppSetup
{
    /// <summary>The content security policy of the app's files: nothing from other origins, no inline script.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

    /// <summary>Adds the default document (<c>index.html</c>) and the static files, when the app's files are present.</summary>
    public static WebApplication UseHeraldWebApp(this WebApplication app)
    {
        var root = Path.Combine(AppContext.BaseDirectory, "wwwroot");
        if (!System.IO.Directory.Exists(root))
        {
            return app;
        }
        var files = new PhysicalFileProvider(root);
        // Only paths that can be the app's files look at the disk: the API, the live endpoints and the hubs (every
        // login's token request and WebSocket upgrade) skip the two file-system probes of these middlewares.
        app.UseWhen(c => IsAppPath(c.Request.Path), web => UseFiles(web, files));
        return app;
    }

    /// <summary>False for the API (<c>/api</c>), the SignalR hubs (<c>/hubs</c>), OpenAPI, health and metrics paths.</summary>
    public static bool IsAppPath(PathString path) =>
        !path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase)
        && !path.StartsWithSegments("/hubs", StringComparison.OrdinalIgnoreCase)
        && !path.StartsWithSegments("/openapi", StringComparison.OrdinalIgnoreCase)
        && !path.StartsWithSegments("/healthz", StringComparison.OrdinalIgnoreCase)
        && !path.StartsWithSegments("/metrics", StringComparison.OrdinalIgnoreCase);

    private static void UseFiles(IApplicationBuilder web, PhysicalFileProvider files)
    {
        web.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
        web.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            OnPrepareResponse = ctx =>
            {
                var h = ctx.Context.Response.Headers;
                h.CacheControl = "no-cache"; // revalidate: a new server version is picked up on reload
                h.ContentSecurityPolicy = ContentSecurityPolicy;
                h.XContentTypeOptions = "nosniff";
                h["Referrer-Policy"] = "no-referrer";
            },
        });
    }
}
