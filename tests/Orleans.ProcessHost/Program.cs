using CryptoPay.Silo.Hosting;
using Microsoft.Extensions.Hosting;

try
{
    var builder = Host.CreateApplicationBuilder(args);
    builder.UseOrleans(silo => silo.ConfigureCryptoPay(builder.Configuration));
    using var host = builder.Build();
    await host.StartAsync();
    Console.WriteLine("silo started");
    await host.WaitForShutdownAsync();
    return 0;
}
catch (Exception error) when (SiloStartupFailure.IsStartupFailure(error))
{
    return SiloStartupFailure.Report(error, Console.Error);
}
