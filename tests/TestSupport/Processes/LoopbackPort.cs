using System.Net;
using System.Net.Sockets;

namespace CryptoPay.TestSupport.Processes;

public static class LoopbackPort
{
    /// <summary>A loopback TCP port free right now; a server may still lose it to another process before binding.</summary>
    public static int PickFree() => PickFree(1)[0];

    /// <summary>
    /// <paramref name="count"/> different loopback TCP ports, free right now. Each is held until all are picked: the kernel
    /// hands a port just released out again, so ports picked one after the other (a silo's and its gateway's) could be
    /// the same one.
    /// </summary>
    public static int[] PickFree(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var listeners = new List<TcpListener>(count);
        try
        {
            for (var i = 0; i < count; i++)
            {
                var listener = new TcpListener(IPAddress.Loopback, 0);
                listeners.Add(listener);
                listener.Start();
            }

            return [.. listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port)];
        }
        finally
        {
            foreach (var listener in listeners)
            {
                listener.Stop();
            }
        }
    }
}
