using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace Herald.Server.Outbound;

/// <summary>
/// Where Herald itself may open connections to (webhook deliveries, calendar feeds): configuration section
/// <c>Herald:Outbound</c>. An address inside <see cref="DenyNetworks"/> is refused unless it is also inside
/// <see cref="AllowNetworks"/>. The check runs on the address actually connected to, after DNS resolution, so a
/// host name that resolves (or re-resolves) to a denied address is refused too.
/// </summary>
public sealed class OutboundOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Herald:Outbound";

    /// <summary>
    /// Networks (CIDR) Herald never connects to by default: this host (loopback), link-local addresses (where cloud
    /// metadata services live), the unspecified range and multicast. Private networks (10/8, 172.16/12,
    /// 192.168/16, fc00::/7) are not denied by default because in-house webhook receivers live there; add them to
    /// deny them.
    /// </summary>
    public static readonly IReadOnlyList<string> DefaultDeny =
        ["127.0.0.0/8", "::1/128", "0.0.0.0/8", "::/128", "169.254.0.0/16", "fe80::/10", "224.0.0.0/4", "ff00::/8", "255.255.255.255/32"];

    /// <summary>Denied networks; when not configured, <see cref="DefaultDeny"/>.</summary>
    public List<string>? DenyNetworks { get; set; }

    /// <summary>Networks allowed even when inside a denied one (e.g. <c>127.0.0.0/8</c> for a local test receiver).</summary>
    public List<string> AllowNetworks { get; set; } = [];
}

/// <summary>Thrown when the outbound policy refuses every address of a host.</summary>
public sealed class OutboundBlockedException(string message) : HttpRequestException(message);

/// <summary>Enforces <see cref="OutboundOptions"/> for Herald's own HTTP clients.</summary>
public sealed class OutboundGuard
{
    private readonly IPNetwork[] _deny;
    private readonly IPNetwork[] _allow;

    /// <summary>Parses the options; a malformed CIDR fails start-up with its value named.</summary>
    public OutboundGuard(IOptions<OutboundOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _deny = Parse(options.Value.DenyNetworks ?? [.. OutboundOptions.DefaultDeny], "DenyNetworks");
        _allow = Parse(options.Value.AllowNetworks, "AllowNetworks");
    }

    /// <summary>True when Herald may connect to <paramref name="address"/>.</summary>
    public bool IsAllowed(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        foreach (var n in _allow)
        {
            if (n.Contains(address))
            {
                return true;
            }
        }
        foreach (var n in _deny)
        {
            if (n.Contains(address))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// Checks a URL before it is stored: an IP-literal host inside a denied network is refused at once (a host
    /// name is checked when connecting). Returns a reason, or null when the URL may be used.
    /// </summary>
    public string? Refuse(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (IPAddress.TryParse(url.IdnHost.Trim('[', ']'), out var ip) && !IsAllowed(ip))
        {
            return $"{ip} is in a network Herald does not connect to (Herald:Outbound)";
        }
        if (string.Equals(url.IdnHost, "localhost", StringComparison.OrdinalIgnoreCase) && !IsAllowed(IPAddress.Loopback))
        {
            return "localhost is in a network Herald does not connect to (Herald:Outbound)";
        }
        return null;
    }

    /// <summary>
    /// A handler that resolves the host itself and connects only to allowed addresses; no redirects, no cookies.
    /// </summary>
    public SocketsHttpHandler CreateHandler() => new()
    {
        AllowAutoRedirect = false,
        UseCookies = false,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        ConnectTimeout = TimeSpan.FromSeconds(10),
        ConnectCallback = ConnectAsync,
    };

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken ct)
    {
        var host = context.DnsEndPoint.Host;
        IPAddress[] addresses = IPAddress.TryParse(host.Trim('[', ']'), out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(host, ct).ConfigureAwait(false);
        var allowed = addresses.Where(IsAllowed).ToArray();
        if (allowed.Length == 0)
        {
            throw new OutboundBlockedException(
                $"refused to connect to {host}: {(addresses.Length == 0 ? "no address" : "every address is in a network Herald does not connect to (Herald:Outbound)")}");
        }
        Exception? last = null;
        foreach (var address in allowed)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, context.DnsEndPoint.Port), ct).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException ex)
            {
                socket.Dispose();
                last = ex;
            }
        }
        throw new HttpRequestException($"could not connect to {host}: {last?.Message}", last);
    }

    private static IPNetwork[] Parse(IEnumerable<string> values, string name)
    {
        var list = new List<IPNetwork>();
        foreach (var v in values)
        {
            if (!IPNetwork.TryParse(v, out var n))
            {
                throw new OptionsValidationException(OutboundOptions.Section, typeof(OutboundOptions),
                    [$"Herald:Outbound:{name}: '{v}' is not a network in CIDR notation (e.g. 10.0.0.0/8)"]);
            }
            list.Add(n);
        }
        return [.. list];
    }
}

/// <summary>Registration of the outbound policy.</summary>
public static class OutboundSetup
{
    /// <summary>Binds <see cref="OutboundOptions"/> and registers the <see cref="OutboundGuard"/>.</summary>
    public static IServiceCollection AddHeraldOutbound(this IServiceCollection services)
    {
        if (services.Any(d => d.ServiceType == typeof(OutboundGuard)))
        {
            return services;
        }
        services.AddOptions<OutboundOptions>().BindConfiguration(OutboundOptions.Section);
        services.AddSingleton<OutboundGuard>();
        return services;
    }
}
