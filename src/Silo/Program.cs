using CryptoPay.Silo.Gateway;
using CryptoPay.Silo.Hosting;
using CryptoPay.Silo.Operator;

try
{
    if (MerchantsCommand.Handles(args))
    {
        return await MerchantsCommand.RunAsync(args, Console.Out, Console.Error);
    }

    var builder = WebApplication.CreateBuilder(args);
    builder.AddCryptoPayGateway();
    var app = builder.Build();
    app.MapCryptoPayGateway();
    await app.RunCryptoPaySiloAsync();
    return 0;
}
catch (Exception error) when (SiloStartupFailure.IsStartupFailure(error))
{
    return SiloStartupFailure.Report(error, Console.Error);
}
