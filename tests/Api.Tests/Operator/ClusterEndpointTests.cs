using CryptoPay.Api.Tests.Hosting;
using CryptoPay.Grains.PaymentLinks;
using CryptoPay.TestSupport.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Orleans;
using Orleans.Runtime;

namespace CryptoPay.Api.Tests.Operator;

/// <summary>/v1/cluster/silos on the gateway: Orleans membership with activations and the cluster's reminders, admin key only.</summary>
public sealed class ClusterEndpointTests : IAsyncLifetime
{
    private GatewayHost host = null!;

    public async Task InitializeAsync() => host = await GatewayHost.StartAsync(null);

    public async Task DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task Silos_need_the_admin_key_and_count_activations_and_reminders()
    {
        HttpJson.AssertProblem(await host.Http.GetJsonAsync("/v1/cluster/silos"), 401, "UNAUTHORIZED");
        var linkId = Guid.NewGuid();
        await host.Grains.GetGrain<IPaymentLinkGrain>(linkId).Get();
        // Far in the future, so it is counted and never fires during the test.
        await host.Services.GetRequiredService<IReminderTable>().UpsertRow(new ReminderEntry
        {
            GrainId = host.Grains.GetGrain<IPaymentLinkGrain>(linkId).GetGrainId(),
            ReminderName = "operator-test",
            StartAt = DateTime.UtcNow.AddDays(1),
            Period = TimeSpan.FromHours(1),
        });

        using var admin = host.ClientWith(GatewayHost.AdminKey);
        var (status, members, _) = await admin.GetJsonAsync("/v1/cluster/silos");

        Assert.True(status == 200, members.ToString());
        var self = Assert.Single(members.GetProperty("silos").EnumerateArray());
        Assert.Equal(members.Str("self"), self.Str("silo_id"));
        Assert.Equal(("active", true, true), (self.Str("status"), self.GetProperty("is_alive").GetBoolean(), self.GetProperty("is_self").GetBoolean()));
        Assert.True(self.GetProperty("activations").GetInt32() >= 1, self.ToString());
        // The test's reminder and the sweepers' (WebhookLeaseSweeperGrain, InvoiceWakeSweeperGrain), which every silo starts.
        Assert.Equal(3, members.GetProperty("reminders").GetInt32());
        // The retired runtime's message queue had /v1/cluster/backlog; Orleans has no queue, and the endpoint is gone.
        HttpJson.AssertProblem(await admin.GetJsonAsync("/v1/cluster/backlog"), 404, "NOT_FOUND");
    }
}

/// <summary>/v1/cluster/silos when the membership table cannot be read: the operator gets an answer, not a held request.</summary>
[Collection("postgres")]
public sealed class PostgresClusterEndpointTests(PostgresFixture postgres) : IAsyncLifetime
{
    private GatewayHost host = null!;
    private string database = null!;

    public async Task InitializeAsync()
    {
        database = await postgres.CreateDatabaseAsync();
        host = await GatewayHost.StartAsync(database);
    }

    public async Task DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task A_membership_table_that_cannot_be_read_gets_503_with_retry_after_and_the_next_view_answers()
    {
        using var admin = host.ClientWith(GatewayHost.AdminKey);
        await using (var dataSource = Npgsql.NpgsqlDataSource.Create(database))
        await using (var connection = await dataSource.OpenConnectionAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            // Every read of the membership rows waits for this lock, as it would for a database that stopped answering.
            await using (var command = new Npgsql.NpgsqlCommand("LOCK TABLE orleans_membership IN ACCESS EXCLUSIVE MODE", connection, transaction))
            {
                await command.ExecuteNonQueryAsync();
            }

            var started = System.Diagnostics.Stopwatch.StartNew();
            var answer = await admin.GetJsonAsync("/v1/cluster/silos");

            HttpJson.AssertProblem(answer, 503, "SERVICE_UNAVAILABLE");
            Assert.Equal("1", answer.Response.Headers.RetryAfter?.ToString());
            Assert.True(started.Elapsed < TimeSpan.FromSeconds(20), $"answered after {started.Elapsed}");
            await transaction.RollbackAsync();
        }

        var (status, members, _) = await admin.GetJsonAsync("/v1/cluster/silos");
        Assert.True(status == 200, members.ToString());
        Assert.Equal("active", Assert.Single(members.GetProperty("silos").EnumerateArray()).Str("status"));
    }
}
