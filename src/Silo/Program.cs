using CryptoPay.Silo.Hosting;

try
{
    var builder = WebApplication.CreateBuilder(args);
    builder.AddCryptoPaySilo();
    var app = builder.Build();
    app.MapCryptoPaySilo();
    await app.RunCryptoPaySiloAsync();
    return 0;
}
catch (Exception error) when (SiloStartupFailure.IsStartupFailure(error))
{
    return SiloStartupFailure.Report(error, Console.Error);
}
