using CryptoPay.Runtime.ProcessHost.Ledger;
using CryptoPay.Runtime.ProcessHost.Membership;
using CryptoPay.Silo.Hosting;

try
{
    var builder = WebApplication.CreateBuilder(args);
    builder.AddCryptoPaySilo().AddLedgerTestGrains();
    var app = builder.Build();
    app.MapCryptoPaySilo();
    app.MapLedgerTestEndpoints();
    app.MapRuntimeMembership();
    await app.RunCryptoPaySiloAsync();
    return 0;
}
catch (Exception error) when (SiloStartupFailure.IsStartupFailure(error))
{
    return SiloStartupFailure.Report(error, Console.Error);
}
