using CryptoPay.Chains.Addresses;
using CryptoPay.Grains.Deposits;
using CryptoPay.Grains.Merchants;
using CryptoPay.Grains.Tests.Ledger;
using CryptoPay.TestSupport.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace CryptoPay.Grains.Tests.Deposits;

public sealed class MemoryDepositAddressTests : DepositAddressTests;

[Collection("postgres")]
public sealed class PostgresDepositAddressTests(PostgresFixture postgres) : DepositAddressTests
{
    protected override Task<NpgsqlDataSource?> CreateDataSourceAsync() => PostgresDataSourceAsync(postgres);
}

/// <summary>An address is assigned to one invoice only, and the directory finds it by any spelling.</summary>
public abstract class DepositAddressTests : LedgerClusterTests
{
    private const string EvmAddress = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
    private const string LtcAddress = "rltc1qw508d6qejxtdg4y5r3zarvary0c5xw7kz4gyv0";

    private static DepositAddressState Assignment(string network, string address, Guid invoice, string method = "eth_eth", string asset = "ETH") => new()
    {
        Network = network,
        Address = address,
        Index = 7,
        InvoiceId = invoice,
        MerchantId = Guid.NewGuid(),
        Mode = Mode.Live,
        Method = method,
        Asset = asset,
        RequiredConfirmations = 12,
    };

    private IDepositAddressGrain Grain(string network, string address) =>
        Cluster.Grains.GetGrain<IDepositAddressGrain>(DepositAddressKeys.Of(network, address));

    [Fact]
    public async Task An_address_belongs_to_the_first_invoice_it_is_assigned_to()
    {
        var first = Assignment("eth", EvmAddress, Guid.NewGuid());
        var stored = await Grain("eth", EvmAddress).Assign(first);
        Assert.Equal(first.InvoiceId, stored.InvoiceId);
        Assert.NotEqual(default, stored.AssignedAt);

        // The same assignment again (a retried request) is a no-op; another invoice is refused.
        Assert.Equal(stored, await Grain("eth", EvmAddress.ToLowerInvariant()).Assign(first));
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => Grain("eth", EvmAddress).Assign(Assignment("eth", EvmAddress, Guid.NewGuid())));
        Assert.Contains("never reused", error.Message, StringComparison.Ordinal);
        Assert.Equal(first.InvoiceId, (await Grain("eth", EvmAddress).Get())!.InvoiceId);
    }

    [Fact]
    public async Task An_assignment_sent_to_another_addresses_grain_is_refused()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Grain("eth", EvmAddress).Assign(Assignment("bsc", EvmAddress, Guid.NewGuid())));
        Assert.Null(await Grain("eth", EvmAddress).Get());
    }

    [Fact]
    public async Task The_directory_finds_assigned_addresses_among_many_by_any_spelling()
    {
        var evmInvoice = Guid.NewGuid();
        var tronInvoice = Guid.NewGuid();
        var ltcInvoice = Guid.NewGuid();
        var tron = TronAddress.FromEvmAddress(EvmAddress);
        await Grain("eth", EvmAddress).Assign(Assignment("eth", EvmAddress, evmInvoice));
        await Grain("tron", tron).Assign(Assignment("tron", tron, tronInvoice, "usdt_tron", "USDT"));
        await Grain("ltc", LtcAddress).Assign(Assignment("ltc", LtcAddress, ltcInvoice, "ltc_ltc", "LTC"));

        var directory = Cluster.Services.GetRequiredService<IDepositAddressDirectory>();
        var evm = await directory.FindAsync("eth", [EvmAddress.ToLowerInvariant(), "0x0000000000000000000000000000000000000001"], default);
        Assert.Equal(evmInvoice, Assert.Single(evm).InvoiceId);
        Assert.Equal(EvmAddress, evm[0].Address);

        // TRON logs carry the 20-byte account in hex; the directory matches it to the base58 address.
        var byHex = await directory.FindAsync("tron", ["0x" + Convert.ToHexStringLower(TronAddress.Decode(tron))], default);
        Assert.Equal((tronInvoice, tron), (Assert.Single(byHex).InvoiceId, byHex[0].Address));

        Assert.Equal(ltcInvoice, Assert.Single(await directory.FindAsync("ltc", [LtcAddress.ToUpperInvariant(), LtcAddress], default)).InvoiceId);
        Assert.Empty(await directory.FindAsync("bsc", [EvmAddress], default));
        Assert.Empty(await directory.FindAsync("eth", [], default));
    }
}
