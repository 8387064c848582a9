using System.Net;
using System.Net.Sockets;
using CryptoPay.TestSupport.Processes;

namespace CryptoPay.TestSupport.Tests.Processes;

/// <summary>
/// Run alone: the test binds every port it is given, and a test beside it starting a server on a port it picked a
/// moment earlier could take one of them in between ("Address already in use" once in a full run).
/// </summary>
[CollectionDefinition(nameof(LoopbackPortTests), DisableParallelization = true)]
public sealed class LoopbackPortCollection;

[Collection(nameof(LoopbackPortTests))]
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
