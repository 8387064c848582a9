using System.Net;
using System.Net.Sockets;
using CryptoPay.TestSupport.Processes;

namespace CryptoPay.TestSupport.Tests.Processes;

public sealed class LoopbackPortTests
{
    [Fact]
    public void Ports_picked_together_are_all_different_and_free()
    {
        // A silo asked for its silo and gateway ports one after the other once got the same port twice; together they never do.
        for (var round = 0; round < 500; round++)
        {
            var ports = LoopbackPort.PickFree(3);
            Assert.Equal(3, ports.Distinct().Count());
            foreach (var port in ports)
            {
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
            }
        }
    }
}
