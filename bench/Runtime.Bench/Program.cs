using CryptoPay.Runtime.Bench;

return await BenchRunner.RunAsync(args, Console.Out);
