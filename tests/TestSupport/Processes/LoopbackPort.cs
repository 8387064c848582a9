using System.Net;
using System.Net.Sockets;

namespace CryptoPay.TestSupport.Processes;

public static class LoopbackPort
{
    /// <summary>A loopback TCP port free right now; a server may still lose it to another process before binding.</summary>
    public static int PickFree()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        finally
        {
            listener.Stop();
        }
    }
}
