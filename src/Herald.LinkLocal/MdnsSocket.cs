using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Herald.LinkLocal.Dns;

namespace Herald.LinkLocal;

/// <summary>The IPv4 interface the peer runs on.</summary>
/// <param name="Name">Interface name (e.g. eth0, veth-a, lo).</param>
/// <param name="Index">Interface index.</param>
/// <param name="Address">Its IPv4 address (announced in the A record; the multicast interface).</param>
public sealed record LinkInterface(string Name, int Index, IPAddress Address)
{
    /// <summary>
    /// The interface named <paramref name="name"/>, or when null the first one that is up, multicast-capable, not
    /// loopback and has an IPv4 address (link-local 169.254/16 addresses preferred on it).
    /// </summary>
    /// <exception cref="InvalidOperationException">No such interface, or it has no IPv4 address.</exception>
    public static LinkInterface Resolve(string? name)
    {
        var all = NetworkInterface.GetAllNetworkInterfaces();
        var candidates = name is null
            ? all.Where(n => n.OperationalStatus is OperationalStatus.Up or OperationalStatus.Unknown && n.SupportsMulticast
                && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            : all.Where(n => n.Name == name);
        foreach (var n in candidates)
        {
            var v4 = n.GetIPProperties().UnicastAddresses.Select(u => u.Address).Where(a => a.AddressFamily == AddressFamily.InterNetwork)
                .OrderByDescending(a => a.GetAddressBytes() is [169, 254, ..]).FirstOrDefault();
            if (v4 is not null)
            {
                return new LinkInterface(n.Name, n.GetIPProperties().GetIPv4Properties().Index, v4);
            }
            if (name is not null)
            {
                throw new InvalidOperationException($"Interface '{name}' has no IPv4 address.");
            }
        }
        throw new InvalidOperationException(name is null
            ? "No multicast-capable IPv4 interface is up; pass --interface (e.g. lo)."
            : $"No interface named '{name}'. Interfaces: {string.Join(", ", all.Select(n => n.Name))}.");
    }
}

/// <summary>
/// One UDP socket on 0.0.0.0:5353 (SO_REUSEADDR, shared with other mDNS stacks on the host) joined to 224.0.0.251 on
/// one interface; sends from that interface with TTL 255 (RFC 6762 §11) and multicast loopback on (so peers on the
/// same host see each other); packets arriving on other interfaces are dropped. IPv4 only.
/// </summary>
public sealed class MdnsSocket : IDisposable
{
    /// <summary>The mDNS port.</summary>
    public const int Port = 5353;

    /// <summary>The IPv4 mDNS group.</summary>
    public static readonly IPAddress Group = IPAddress.Parse("224.0.0.251");

    private readonly Socket _socket;
    private readonly IPEndPoint _groupEndPoint = new(Group, Port);

    /// <summary>Opens the socket on <paramref name="iface"/>.</summary>
    public MdnsSocket(LinkInterface iface)
    {
        Interface = iface ?? throw new ArgumentNullException(nameof(iface));
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            _socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            _socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.PacketInformation, true);
            _socket.Bind(new IPEndPoint(IPAddress.Any, Port));
            _socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.AddMembership, new MulticastOption(Group, iface.Address));
            _socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastInterface, iface.Address.GetAddressBytes());
            _socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastTimeToLive, 255);
            _socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastLoopback, true);
        }
        catch
        {
            _socket.Dispose();
            throw;
        }
    }

    /// <summary>The interface.</summary>
    public LinkInterface Interface { get; }

    /// <summary>Sends to the group, or to <paramref name="unicast"/> (legacy unicast answers).</summary>
    public async Task SendAsync(DnsMessage message, IPEndPoint? unicast = null, CancellationToken ct = default) =>
        await _socket.SendToAsync(DnsWire.Encode(message), SocketFlags.None, unicast ?? _groupEndPoint, ct);

    /// <summary>Receives the next well-formed message from this interface; malformed packets are skipped.</summary>
    public async Task<(DnsMessage Message, IPEndPoint From)> ReceiveAsync(CancellationToken ct)
    {
        var buffer = new byte[DnsWire.MaxMessageBytes + 1];
        while (true)
        {
            var r = await _socket.ReceiveMessageFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), ct);
            if (r.PacketInformation.Interface != Interface.Index && Interface.Index != 0)
            {
                continue;
            }
            try
            {
                return (DnsWire.Decode(buffer.AsSpan(0, r.ReceivedBytes)), (IPEndPoint)r.RemoteEndPoint);
            }
            catch (DnsFormatException)
            {
                Malformed++;
            }
        }
    }

    /// <summary>Malformed packets dropped so far.</summary>
    public long Malformed { get; private set; }

    /// <inheritdoc />
    public void Dispose() => _socket.Dispose();
}
