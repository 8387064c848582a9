using System.Net;
using System.Net.Http;
using System.Net.Sockets;

namespace CryptoPay.Grains.Webhooks;

/// <summary>A webhook target refused by the SSRF guard.</summary>
public sealed class WebhookTargetRefusedException(string message) : HttpRequestException(message);

/// <summary>
/// The SSRF guard. URLs are checked when an endpoint is created, but the decisive check is at
/// connect time, on the address actually dialled, so a host that resolves to a public address at
/// creation and to a private one later (DNS rebinding) is still refused.
/// </summary>
public static class WebhookTargetGuard
{
    public const int MaxUrlLength = 2048;

    /// <summary>Why a URL cannot be a webhook target, or null when it can.</summary>
    public static string? ValidateUrl(string url, bool allowPrivateTargets)
    {
        if (url.Length > MaxUrlLength)
        {
            return $"must be at most {MaxUrlLength} characters.";
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            return "must be an absolute http or https URL.";
        }

        if (uri.UserInfo.Length > 0)
        {
            return "must not carry credentials.";
        }

        if (string.IsNullOrEmpty(uri.Host))
        {
            return "must name a host.";
        }

        if (!allowPrivateTargets && IPAddress.TryParse(uri.IdnHost.Trim('[', ']'), out var literal) && IsBlocked(literal))
        {
            return "must not point to a loopback, private, link-local or otherwise internal address.";
        }

        return null;
    }

    /// <summary>True for every address a webhook must not reach: loopback, private, link-local, CGNAT, multicast, ULA and the like.</summary>
    public static bool IsBlocked(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return b[0] == 0 // 0.0.0.0/8
                || b[0] == 10 // 10/8
                || b[0] == 127 // loopback
                || (b[0] == 100 && (b[1] & 0xC0) == 64) // CGNAT 100.64/10
                || (b[0] == 169 && b[1] == 254) // link-local, cloud metadata
                || (b[0] == 172 && (b[1] & 0xF0) == 16) // 172.16/12
                || (b[0] == 192 && b[1] == 168) // 192.168/16
                || (b[0] == 192 && b[1] == 0 && b[2] == 0) // IETF protocol assignments
                || b[0] >= 224; // multicast, reserved, broadcast
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var b = address.GetAddressBytes();
            return IPAddress.IPv6Loopback.Equals(address)
                || IPAddress.IPv6None.Equals(address)
                || address.IsIPv6Multicast
                || address.IsIPv6LinkLocal
                || address.IsIPv6SiteLocal
                || (b[0] & 0xFE) == 0xFC // fc00::/7 unique local
                || (b.Take(12).All(x => x == 0) && IsBlocked(new IPAddress(b[12..]))); // IPv4-compatible ::a.b.c.d
        }

        return true;
    }

    /// <summary>
    /// The <see cref="SocketsHttpHandler.ConnectCallback"/> of the guarded client: resolves the host,
    /// keeps only allowed addresses, and connects to one of them.
    /// </summary>
    public static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken ct)
    {
        var endpoint = context.DnsEndPoint;
        var addresses = IPAddress.TryParse(endpoint.Host, out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(endpoint.Host, ct).ConfigureAwait(false);
        var allowed = addresses.Where(a => !IsBlocked(a)).ToArray();
        if (allowed.Length == 0)
        {
            throw new WebhookTargetRefusedException($"Refused to connect to {endpoint.Host}: it resolves only to internal addresses ({string.Join(", ", addresses.Select(a => a.ToString()))}).");
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, endpoint.Port, ct).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
