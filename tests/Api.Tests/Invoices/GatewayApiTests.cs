using System.Net;
using System.Text;
using System.Text.Json;
using CryptoPay.Api.Tests.Hosting;
using CryptoPay.TestSupport.Postgres;
using static CryptoPay.Api.Tests.Hosting.HttpJson;

namespace CryptoPay.Api.Tests.Invoices;

[CollectionDefinition("postgres")]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>;

public sealed class MemoryGatewayApiTests : GatewayApiTests
{
    protected override Task<string?> CreateDatabaseAsync() => Task.FromResult<string?>(null);
}

[Collection("postgres")]
public sealed class PostgresGatewayApiTests(PostgresFixture postgres) : GatewayApiTests
{
    protected override async Task<string?> CreateDatabaseAsync() => await postgres.CreateDatabaseAsync();

    [Fact]
    public async Task A_creation_whose_idempotent_answer_could_not_be_stored_is_answered_201_and_its_retry_gets_the_same_invoice()
    {
        // The invoice is written; then the Idempotency-Key's record of the answer fails (the database went away between
        // the two writes). A 5xx would tell the client nothing was created; it was.
        var (test, _, _) = await MerchantAsync();
        await ExecuteAsync("""
            CREATE FUNCTION refuse_update() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'terminating connection due to administrator command' USING ERRCODE = '57P01'; END $$;
            CREATE TRIGGER refuse_idempotency_answers BEFORE UPDATE ON orleans_grain_state
                FOR EACH ROW WHEN (NEW.state_name = 'idempotency-key') EXECUTE FUNCTION refuse_update();
            """);
        var created = await test.PostJsonAsync("/v1/invoices", Invoice, r => r.Headers.Add("Idempotency-Key", "answer-lost"));
        Assert.True(created.Status == 201, created.Body.ToString());

        await ExecuteAsync("DROP TRIGGER refuse_idempotency_answers ON orleans_grain_state");
        var retried = await test.PostJsonAsync("/v1/invoices", Invoice, r => r.Headers.Add("Idempotency-Key", "answer-lost"));
        Assert.True(retried.Status == 201, retried.Body.ToString());
        Assert.Equal(created.Body.Str("id"), retried.Body.Str("id"));
        Assert.Equal(1, (await test.GetJsonAsync("/v1/invoices")).Body.GetProperty("pagination").GetProperty("total").GetInt32());
    }
}

/// <summary>The merchant API through real HTTP on a loopback port; the same tests run on both stores.</summary>
public abstract class GatewayApiTests : IAsyncLifetime
{
    protected const string Invoice = """{"amount":"25.50","currency":"USD","payment_methods":["usdt_sandbox"]}""";
    private readonly List<GatewayHost> hosts = [];
    private string? database;

    protected GatewayHost Host => hosts[0];

    protected abstract Task<string?> CreateDatabaseAsync();

    public async Task InitializeAsync()
    {
        database = await CreateDatabaseAsync();
        hosts.Add(await GatewayHost.StartAsync(database));
    }

    public async Task DisposeAsync()
    {
        foreach (var host in hosts)
        {
            await host.DisposeAsync();
        }
    }

    /// <summary>Runs SQL on this test's database (PostgreSQL only).</summary>
    protected async Task ExecuteAsync(string sql)
    {
        await using var dataSource = Npgsql.NpgsqlDataSource.Create(database ?? throw new InvalidOperationException("not on PostgreSQL"));
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    protected async Task<(HttpClient Test, HttpClient Live, string MerchantId)> MerchantAsync(string body = """{"name":"Shop"}""")
    {
        var (id, live, test) = await Host.CreateMerchantAsync(body);
        return (Host.ClientWith(test), Host.ClientWith(live), id);
    }

    [Fact]
    public async Task A_test_invoice_is_created_paid_in_the_sandbox_and_confirmed_by_the_next_block()
    {
        var (test, _, _) = await MerchantAsync();
        var created = await test.PostJsonAsync("/v1/invoices", """
            {"amount":25.5,"currency":"USD","payment_methods":["usdt_sandbox"],"order_id":"A-1","description":"Mug",
             "customer_id":"c1","customer_email":"a@b.example","metadata":{"k":"v"},"expires_in":600,"allowed_error_percent":"0.5",
             "line_items":[{"description":"Mug","amount":"12.75","quantity":2}],"callback_url":"https://shop.example/cb","redirect_url":"https://shop.example/thanks"}
            """);
        Assert.True(created.Status == 201, created.Body.ToString());
        var invoice = created.Body;
        Assert.Equal(("pending", "25.50", "A-1", "v"), (invoice.Str("status"), invoice.Str("amount"), invoice.Str("order_id"), invoice.GetProperty("metadata").Str("k")));
        var method = invoice.GetProperty("payment_methods")[0];
        Assert.Equal(("usdt_sandbox", "25.500000", "25500000", "1"), (method.Str("method"), method.Str("amount"), method.Str("amount_units"), method.Str("rate")));
        Assert.StartsWith("sbx_", method.Str("address"), StringComparison.Ordinal);
        Assert.Equal(invoice.GetProperty("expires_at_ts").GetInt64(), DateTimeOffset.Parse(invoice.Str("expires_at"), System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeSeconds());
        var id = invoice.Str("id");

        var paid = await test.PostJsonAsync($"/v1/sandbox/invoices/{id}/pay", "{}");
        Assert.True(paid.Status == 200, paid.Body.ToString());
        Assert.Equal("confirming", paid.Body.GetProperty("invoice").Str("status"));

        await Host.AdvanceAsync(TimeSpan.FromSeconds(5));
        var confirmed = await test.GetJsonAsync($"/v1/invoices/{id}");
        Assert.Equal("confirmed", confirmed.Body.Str("status"));
        var payment = confirmed.Body.GetProperty("payment_methods")[0].GetProperty("payments")[0];
        Assert.Equal((1, "confirmed", "25500000"), (payment.GetProperty("confirmations").GetInt32(), payment.Str("status"), payment.Str("amount_units")));
        Assert.Equal("25.50", confirmed.Body.Str("paid_amount_fiat"));

        var totals = await test.GetJsonAsync("/v1/invoices/totals");
        Assert.Equal(("USD", "25.50", 1), (totals.Body.Str("currency"), totals.Body.Str("amount"), totals.Body.GetProperty("by_status").GetProperty("confirmed").GetProperty("count").GetInt32()));
    }

    [Fact]
    public async Task Totals_report_invoiced_and_paid_amounts_in_the_reporting_currency_and_amount_sorts_by_fiat_value()
    {
        var (test, _, _) = await MerchantAsync();
        async Task<string> CreateAsync(string amount, string currency) =>
            (await test.PostJsonAsync("/v1/invoices", $$"""{"amount":"{{amount}}","currency":"{{currency}}","payment_methods":["usdt_sandbox"],"expires_in":60}""")).Body.Str("id");

        // In USD at the static rates: 10.00 EUR = 10.80, 10.50 USD = 10.50, 9.00 GBP = 11.43; the bare amounts sort the other way.
        var eur = await CreateAsync("10.00", "EUR");
        var usd = await CreateAsync("10.50", "USD");
        var gbp = await CreateAsync("9.00", "GBP");
        var sorted = await test.GetJsonAsync("/v1/invoices?sort_by=amount&sort_order=asc");
        Assert.Equal([usd, eur, gbp], sorted.Body.GetProperty("items").EnumerateArray().Select(i => i.Str("id")));

        Assert.Equal(200, (await test.PostJsonAsync($"/v1/sandbox/invoices/{usd}/pay", "{}")).Status);
        Assert.Equal(200, (await test.PostJsonAsync($"/v1/sandbox/invoices/{eur}/pay", """{"amount":"5.40"}""")).Status);
        await Host.AdvanceAsync(TimeSpan.FromSeconds(60));

        var totals = (await test.GetJsonAsync("/v1/invoices/totals")).Body;
        Assert.Equal(("USD", 3, "32.73", "15.90"), (totals.Str("currency"), totals.GetProperty("count").GetInt32(), totals.Str("amount"), totals.Str("paid_amount")));
        var byStatus = totals.GetProperty("by_status");
        (int, string, string) Of(string status) =>
            (byStatus.GetProperty(status).GetProperty("count").GetInt32(), byStatus.GetProperty(status).Str("amount"), byStatus.GetProperty(status).Str("paid_amount"));
        Assert.Equal((1, "10.50", "10.50"), Of("confirmed"));
        Assert.Equal((1, "10.80", "5.40"), Of("paid_partial"));
        Assert.Equal((1, "11.43", "0.00"), Of("expired"));
    }

    [Fact]
    public async Task An_unpaid_invoice_expires_on_the_fake_clock_and_the_public_status_honours_etags()
    {
        var (test, _, _) = await MerchantAsync();
        var id = (await test.PostJsonAsync("/v1/invoices", """{"amount":"10","currency":"EUR","network":"sandbox","expire_min":1}""")).Body.Str("id");
        using var anonymous = new HttpClient { BaseAddress = Host.Http.BaseAddress };
        using var first = await anonymous.GetAsync($"/v1/invoices/{id}/status");
        var etag = first.Headers.ETag!;
        using var again = new HttpRequestMessage(HttpMethod.Get, $"/v1/invoices/{id}/status");
        again.Headers.IfNoneMatch.Add(etag);
        Assert.Equal(HttpStatusCode.NotModified, (await anonymous.SendAsync(again)).StatusCode);

        await Host.AdvanceAsync(TimeSpan.FromSeconds(59));
        Assert.Equal("pending", (await anonymous.GetJsonAsync($"/v1/invoices/{id}/status")).Body.Str("status"));
        await Host.AdvanceAsync(TimeSpan.FromSeconds(1));
        using var changed = new HttpRequestMessage(HttpMethod.Get, $"/v1/invoices/{id}/status");
        changed.Headers.IfNoneMatch.Add(etag);
        using var after = await anonymous.SendAsync(changed);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Contains("\"expired\"", await after.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        AssertProblem(await test.PostJsonAsync($"/v1/invoices/{id}/cancel", ""), 409, "INVALID_STATE_TRANSITION");
    }

    [Theory]
    [InlineData("""{"currency":"USD"}""", 400, "INVALID_AMOUNT_FORMAT")]
    [InlineData("""{"amount":"abc","currency":"USD"}""", 400, "INVALID_AMOUNT_FORMAT")]
    [InlineData("""{"amount":"1e5","currency":"USD"}""", 400, "INVALID_AMOUNT_FORMAT")]
    [InlineData("""{"amount":"10.001","currency":"USD"}""", 400, "INVALID_AMOUNT_FORMAT")]
    [InlineData("""{"amount":"0","currency":"USD"}""", 400, "INVALID_AMOUNT_RANGE")]
    [InlineData("""{"amount":"-5","currency":"USD"}""", 400, "INVALID_AMOUNT_RANGE")]
    [InlineData("""{"amount":"1000000.01","currency":"USD"}""", 400, "INVALID_AMOUNT_RANGE")]
    [InlineData("""{"amount":"17","currency":"BTC"}""", 400, "INVALID_AMOUNT_RANGE")]
    [InlineData("""{"amount":"10","currency":"XYZ"}""", 400, "UNSUPPORTED_CURRENCY")]
    [InlineData("""{"amount":"10","currency":"USD","network":"dogecoin"}""", 400, "UNSUPPORTED_NETWORK")]
    [InlineData("""{"amount":"10","currency":"USD","network":"btc"}""", 400, "UNSUPPORTED_NETWORK")]
    [InlineData("""{"amount":"10","currency":"USD","payment_methods":["doge_doge"]}""", 400, "UNSUPPORTED_NETWORK")]
    [InlineData("""{"amount":"10","currency":"BTC","payment_methods":["usdt_sandbox"]}""", 400, "UNSUPPORTED_NETWORK")]
    [InlineData("""{"amount":"10","currency":"USD","expires_in":59}""", 400, "VALIDATION_FAILED")]
    [InlineData("""{"amount":"10","currency":"USD","expires_in":604801}""", 400, "VALIDATION_FAILED")]
    [InlineData("""{"amount":"10","currency":"USD","allowed_error_percent":101}""", 400, "VALIDATION_FAILED")]
    [InlineData("""{"amount":"10","currency":"USD","callback_url":"ftp://x.example/"}""", 400, "VALIDATION_FAILED")]
    [InlineData("""{"amount":"10","currency":"USD","redirect_url":"not a url"}""", 400, "VALIDATION_FAILED")]
    [InlineData("""{"amount":"10","currency":"USD","line_items":[{"description":"a","amount":"4","quantity":2}]}""", 400, "VALIDATION_FAILED")]
    [InlineData("""{"amount":"10","currency":"USD","metadata":[1]}""", 400, "VALIDATION_FAILED")]
    [InlineData("""{"amount":"10","currency":"USD","order_id":5}""", 400, "VALIDATION_FAILED")]
    [InlineData("{\"amount\":\"10\",\"currency\":\"USD\"", 400, "VALIDATION_FAILED")]
    [InlineData("""[1,2]""", 400, "VALIDATION_FAILED")]
    public async Task Invalid_invoices_are_refused_with_the_documented_code(string body, int status, string code)
    {
        var (test, _, _) = await MerchantAsync();
        AssertProblem(await test.PostJsonAsync("/v1/invoices", body), status, code);
        Assert.Equal(0, (await test.GetJsonAsync("/v1/invoices")).Body.GetProperty("pagination").GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Description_and_metadata_limits_and_oversized_bodies_are_refused()
    {
        var (test, _, _) = await MerchantAsync();
        AssertProblem(await test.PostJsonAsync("/v1/invoices", $$"""{"amount":"1","currency":"USD","description":"{{new string('d', 101)}}"}"""), 400, "VALIDATION_FAILED");
        var keys = string.Join(",", Enumerable.Range(0, 51).Select(i => $"\"k{i}\":1"));
        AssertProblem(await test.PostJsonAsync("/v1/invoices", "{\"amount\":\"1\",\"currency\":\"USD\",\"metadata\":{" + keys + "}}"), 400, "VALIDATION_FAILED");
        AssertProblem(await test.PostJsonAsync("/v1/invoices", "{\"amount\":\"1\",\"currency\":\"USD\",\"metadata\":{\"big\":\"" + new string('m', 9000) + "\"}}"), 400, "VALIDATION_FAILED");
        AssertProblem(await test.PostJsonAsync("/v1/invoices", $$"""{"amount":"1","currency":"USD","description":"{{new string('x', 70_000)}}"}"""), 413, "VALIDATION_FAILED");
        // The next request must not land on the connection the server closes after a 413.
        Assert.Equal(201, (await test.PostJsonAsync("/v1/invoices", $$"""{"amount":"1","currency":"USD","description":"{{new string('d', 100)}}"}""")).Status);
    }

    [Fact]
    public async Task An_order_id_is_unique_per_merchant_and_mode_and_a_reuse_names_the_existing_invoice()
    {
        var (test, live, _) = await MerchantAsync();
        var (other, _, _) = await MerchantAsync();
        var first = (await test.PostJsonAsync("/v1/invoices", """{"amount":"5","currency":"USD","order_id":"o-7"}""")).Body.Str("id");
        var again = await test.PostJsonAsync("/v1/invoices", """{"amount":"6","currency":"USD","order_id":"o-7"}""");
        AssertProblem(again, 409, "ORDER_ID_EXISTS");
        Assert.Equal(first, again.Body.Str("invoice_id"));
        Assert.Equal(201, (await other.PostJsonAsync("/v1/invoices", """{"amount":"5","currency":"USD","order_id":"o-7"}""")).Status);
        Assert.Equal(201, (await live.PostJsonAsync("/v1/invoices/archived", """{"amount":"5","currency":"USD","order_id":"o-7","created_at":"2024-01-02"}""")).Status);
        var listed = await test.GetJsonAsync("/v1/invoices?order_id=o-7");
        Assert.Equal(first, listed.Body.GetProperty("items")[0].Str("id"));
    }

    [Fact]
    public async Task An_attempt_whose_silo_died_is_answered_409_with_retry_after_and_its_retry_gets_the_id_derived_from_the_key()
    {
        var (test, _, merchantId) = await MerchantAsync();
        await Host.LeaveDiedAttemptAsync(GatewayHost.TestScope(merchantId), "/v1/invoices", Invoice, "died-1");

        var busy = await test.PostJsonAsync("/v1/invoices", Invoice, r => r.Headers.Add("Idempotency-Key", "died-1"));
        AssertProblem(busy, 409, "IDEMPOTENCY_IN_PROGRESS");
        Assert.Equal(TimeSpan.FromSeconds(1), busy.Response.Headers.RetryAfter?.Delta);

        await Host.AdvanceAsync(CryptoPay.Grains.Idempotency.IdempotencyGrain.InProgressLease);
        var retried = await test.PostJsonAsync("/v1/invoices", Invoice, r => r.Headers.Add("Idempotency-Key", "died-1"));

        Assert.Equal(201, retried.Status);
        var expected = CryptoPay.Grains.Hosting.DerivedIds.ForIdempotencyKey(CryptoPay.Grains.Invoices.InvoiceIds.Kind, Guid.Parse(merchantId), CryptoPay.Grains.Merchants.Mode.Test, "died-1", 0);
        Assert.Equal(expected.ToString(), retried.Body.Str("id"));
        Assert.Equal(1, (await test.GetJsonAsync("/v1/invoices")).Body.GetProperty("pagination").GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task A_merchant_created_by_an_attempt_whose_silo_died_is_the_one_its_retry_gets_with_keys_that_work()
    {
        const string body = """{"name":"Died shop"}""";
        // The operator's attempt got as far as creating the merchant, under the id its key derives, before its silo died.
        var id = CryptoPay.Grains.Hosting.DerivedIds.ForIdempotencyKey("merchant", GatewayHost.AdminScope, "merchant-died", 0);
        await Host.LeaveDiedAttemptAsync(GatewayHost.AdminScope, "/v1/merchants", body, "merchant-died");
        await Host.Grains.GetGrain<CryptoPay.Grains.Merchants.IMerchantGrain>(id).Create(new CryptoPay.Grains.Merchants.MerchantSettings("Died shop", "USD", null, null));
        await Host.AdvanceAsync(CryptoPay.Grains.Idempotency.IdempotencyGrain.InProgressLease);

        using var admin = Host.ClientWith(GatewayHost.AdminKey);
        var retried = await admin.PostJsonAsync("/v1/merchants", body, r => r.Headers.Add("Idempotency-Key", "merchant-died"));

        Assert.True(retried.Status == 201, retried.Body.ToString());
        Assert.Equal(id, Guid.Parse(retried.Body.Str("id")));
        var testKey = retried.Body.GetProperty("api_keys").EnumerateArray().Single(k => k.Str("mode") == "test").Str("key");
        using var merchant = Host.ClientWith(testKey);
        var invoice = await merchant.PostJsonAsync("/v1/invoices", Invoice);
        Assert.True(invoice.Status == 201, invoice.Body.ToString());
    }

    [Fact]
    public async Task A_status_read_past_expires_at_says_expired_before_the_expiry_reminder_has_run()
    {
        var (test, _, _) = await MerchantAsync();
        var id = (await test.PostJsonAsync("/v1/invoices", """{"amount":"10","currency":"EUR","network":"sandbox","expire_min":1}""")).Body.Str("id");
        using var anonymous = new HttpClient { BaseAddress = Host.Http.BaseAddress };
        using var before = await anonymous.GetAsync($"/v1/invoices/{id}/status");

        Host.Clock.Advance(TimeSpan.FromMinutes(1)); // the clock only: no reminder runs

        using var stale = new HttpRequestMessage(HttpMethod.Get, $"/v1/invoices/{id}/status");
        stale.Headers.IfNoneMatch.Add(before.Headers.ETag!);
        using var after = await anonymous.SendAsync(stale);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Contains("\"expired\"", await after.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("expired", (await test.GetJsonAsync($"/v1/invoices/{id}")).Body.Str("status"));

        // When the reminder runs, the stored invoice becomes what readers were already shown, with the same ETag.
        await Host.RunDueWorkAsync();
        using var settled = await anonymous.GetAsync($"/v1/invoices/{id}/status");
        Assert.Equal(after.Headers.ETag, settled.Headers.ETag);
    }

    [Fact]
    public async Task Fifty_concurrent_identical_requests_with_one_idempotency_key_create_one_invoice()
    {
        var (test, _, _) = await MerchantAsync();
        var answers = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ =>
            test.PostJsonAsync("/v1/invoices", Invoice, r => r.Headers.Add("Idempotency-Key", "k-50"))));
        Assert.All(answers, a => Assert.True(a.Status is 201 or 409, $"{a.Status} {a.Body}"));
        Assert.All(answers.Where(a => a.Status == 409), a => Assert.Equal("IDEMPOTENCY_IN_PROGRESS", a.Body.Str("code")));
        var ids = answers.Where(a => a.Status == 201).Select(a => a.Body.Str("id")).Distinct().ToList();
        Assert.Single(ids);

        var replay = await test.PostJsonAsync("/v1/invoices", Invoice, r => r.Headers.Add("Idempotency-Key", "k-50"));
        Assert.Equal((201, ids[0]), (replay.Status, replay.Body.Str("id")));
        Assert.Equal("true", replay.Response.Headers.GetValues("Idempotent-Replayed").Single());
        AssertProblem(await test.PostJsonAsync("/v1/invoices", """{"amount":"1","currency":"USD"}""", r => r.Headers.Add("Idempotency-Key", "k-50")), 422, "IDEMPOTENCY_KEY_REUSED");
        Assert.Equal(1, (await test.GetJsonAsync("/v1/invoices")).Body.GetProperty("pagination").GetProperty("total").GetInt32());

        await Host.AdvanceAsync(TimeSpan.FromHours(24));
        var fresh = await test.PostJsonAsync("/v1/invoices", Invoice, r => r.Headers.Add("Idempotency-Key", "k-50"));
        Assert.Equal(201, fresh.Status);
        Assert.NotEqual(ids[0], fresh.Body.Str("id"));
    }

    [Fact]
    public async Task Another_merchants_invoice_and_the_other_modes_invoice_are_not_found()
    {
        var (test, live, _) = await MerchantAsync();
        var (otherTest, _, _) = await MerchantAsync();
        var id = (await test.PostJsonAsync("/v1/invoices", Invoice)).Body.Str("id");
        var archived = (await live.PostJsonAsync("/v1/invoices/archived", """{"amount":"9.99","currency":"EUR","created_at":"2023-05-06 07:08:09"}""")).Body;
        Assert.Equal(("archived", "2023-05-06T07:08:09+00:00"), (archived.Str("status"), archived.Str("created_at")));

        AssertProblem(await otherTest.GetJsonAsync($"/v1/invoices/{id}"), 404, "NOT_FOUND");
        AssertProblem(await live.GetJsonAsync($"/v1/invoices/{id}"), 404, "NOT_FOUND");
        AssertProblem(await test.GetJsonAsync($"/v1/invoices/{archived.Str("id")}"), 404, "NOT_FOUND");
        AssertProblem(await otherTest.PostJsonAsync($"/v1/invoices/{id}/cancel", ""), 404, "NOT_FOUND");
        AssertProblem(await otherTest.PostJsonAsync($"/v1/sandbox/invoices/{id}/pay", "{}"), 404, "NOT_FOUND");
        AssertProblem(await test.GetJsonAsync("/v1/invoices/not-a-uuid"), 404, "NOT_FOUND");
        Assert.Equal(1, (await live.GetJsonAsync("/v1/invoices")).Body.GetProperty("pagination").GetProperty("total").GetInt32());
        Assert.Equal(1, (await test.GetJsonAsync("/v1/invoices")).Body.GetProperty("pagination").GetProperty("total").GetInt32());
        Assert.Equal(0, (await otherTest.GetJsonAsync("/v1/invoices")).Body.GetProperty("pagination").GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Lists_filter_sort_and_paginate()
    {
        var (test, _, _) = await MerchantAsync();
        foreach (var (amount, customer) in new[] { ("3", "a"), ("1", "b"), ("2", "a") })
        {
            await test.PostJsonAsync("/v1/invoices", $$"""{"amount":"{{amount}}","currency":"USD","customer_id":"{{customer}}"}""");
            await Host.AdvanceAsync(TimeSpan.FromSeconds(1));
        }

        var cancelled = (await test.PostJsonAsync("/v1/invoices", """{"amount":"4","currency":"EUR"}""")).Body.Str("id");
        Assert.Equal("cancelled", (await test.PostJsonAsync($"/v1/invoices/{cancelled}/cancel", "")).Body.Str("status"));

        var byAmount = await test.GetJsonAsync("/v1/invoices?currency=USD&sort_by=amount&sort_order=asc&page_size=2");
        Assert.Equal(["1.00", "2.00"], byAmount.Body.GetProperty("items").EnumerateArray().Select(i => i.Str("amount")));
        Assert.Equal((3, true), (byAmount.Body.GetProperty("pagination").GetProperty("total").GetInt32(), byAmount.Body.GetProperty("pagination").GetProperty("has_more").GetBoolean()));
        var page2 = await test.GetJsonAsync("/v1/invoices?currency=USD&sort_by=amount&sort_order=asc&page_size=2&page=2");
        Assert.Equal(["3.00"], page2.Body.GetProperty("items").EnumerateArray().Select(i => i.Str("amount")));
        Assert.Equal(2, (await test.GetJsonAsync("/v1/invoices?customer_id=a")).Body.GetProperty("items").GetArrayLength());
        Assert.Equal(cancelled, (await test.GetJsonAsync("/v1/invoices?status=cancelled")).Body.GetProperty("items")[0].Str("id"));
        Assert.Equal(4, (await test.GetJsonAsync("/v1/invoices?network=sandbox")).Body.GetProperty("items").GetArrayLength());
        Assert.Equal(0, (await test.GetJsonAsync("/v1/invoices?network=btc")).Body.GetProperty("items").GetArrayLength());
        var newest = await test.GetJsonAsync("/v1/invoices?page_size=1");
        Assert.Equal(cancelled, newest.Body.GetProperty("items")[0].Str("id"));
        Assert.Equal(0, (await test.GetJsonAsync("/v1/invoices?created_after=2999-01-01")).Body.GetProperty("items").GetArrayLength());
        foreach (var bad in new[] { "status=nope", "page=0", "page_size=101", "sort_by=x", "sort_order=up", "created_after=yesterday" })
        {
            AssertProblem(await test.GetJsonAsync($"/v1/invoices?{bad}"), 400, "VALIDATION_FAILED");
        }
    }

    [Fact]
    public async Task Manual_marking_records_the_comment_and_cancel_refuses_a_paid_invoice()
    {
        var (test, _, _) = await MerchantAsync();
        var id = (await test.PostJsonAsync("/v1/invoices", Invoice)).Body.Str("id");
        await test.PostJsonAsync($"/v1/sandbox/invoices/{id}/pay", """{"amount":"1.5"}""");
        AssertProblem(await test.PostJsonAsync($"/v1/invoices/{id}/cancel", ""), 409, "INVALID_STATE_TRANSITION");
        AssertProblem(await test.SendJsonAsync(HttpMethod.Patch, $"/v1/invoices/{id}", """{"status":"paid"}"""), 400, "VALIDATION_FAILED");
        var marked = await test.SendJsonAsync(HttpMethod.Patch, $"/v1/invoices/{id}", """{"status":"confirmed","comment":"bank transfer"}""");
        Assert.Equal(("confirmed", "marked", "bank transfer"), (marked.Body.Str("status"), marked.Body.Str("exception"), marked.Body.Str("comment")));
        AssertProblem(await test.SendJsonAsync(HttpMethod.Patch, $"/v1/invoices/{id}", """{"status":"cancelled"}"""), 409, "INVALID_STATE_TRANSITION");
    }

    [Fact]
    public async Task Archived_imports_accept_the_four_date_formats_and_refuse_future_dates()
    {
        var (_, live, _) = await MerchantAsync();
        foreach (var date in new[] { "2024-03-04T05:06:07Z", "2024-03-04T05:06:07.123+02:00", "2024-03-04", "2024-03-04 05:06:07" })
        {
            var answer = await live.PostJsonAsync("/v1/invoices/archived", $$"""{"amount":"1","currency":"USD","created_at":"{{date}}"}""");
            Assert.True(answer.Status == 201, $"{date}: {answer.Body}");
        }

        AssertProblem(await live.PostJsonAsync("/v1/invoices/archived", """{"amount":"1","currency":"USD","created_at":"2999-01-01"}"""), 400, "VALIDATION_FAILED");
        AssertProblem(await live.PostJsonAsync("/v1/invoices/archived", """{"amount":"1","currency":"USD","created_at":"04/03/2024"}"""), 400, "VALIDATION_FAILED");
        AssertProblem(await live.PostJsonAsync("/v1/invoices", """{"amount":"1","currency":"USD"}"""), 400, "UNSUPPORTED_NETWORK");
    }

    [Fact]
    public async Task Keys_authenticate_by_header_scope_ip_and_revocation()
    {
        var (merchantId, _, testKey) = await Host.CreateMerchantAsync();
        AssertProblem(await Host.Http.GetJsonAsync("/v1/invoices"), 401, "UNAUTHORIZED");
        AssertProblem(await Host.ClientWith("cp_test_" + new string('a', 40)).GetJsonAsync("/v1/invoices"), 401, "UNAUTHORIZED");
        Assert.Equal(200, (await Host.Http.SendJsonAsync(HttpMethod.Get, "/v1/invoices", configure: r => r.Headers.Add("x-api-key", testKey))).Status);
        AssertProblem(await Host.ClientWith(testKey).PostJsonAsync("/v1/merchants", """{"name":"x"}"""), 401, "UNAUTHORIZED");

        using var admin = Host.ClientWith(GatewayHost.AdminKey);
        var readOnly = (await admin.PostJsonAsync($"/v1/merchants/{merchantId}/api-keys", """{"mode":"test","scopes":["invoices:read"]}""")).Body;
        Assert.StartsWith("cp_test_", readOnly.Str("key"), StringComparison.Ordinal);
        Assert.True(readOnly.Str("key").Length >= 8 + 32);
        var reader = Host.ClientWith(readOnly.Str("key"));
        Assert.Equal(200, (await reader.GetJsonAsync("/v1/invoices")).Status);
        AssertProblem(await reader.PostJsonAsync("/v1/invoices", Invoice), 403, "FORBIDDEN");

        var elsewhere = (await admin.PostJsonAsync($"/v1/merchants/{merchantId}/api-keys", """{"mode":"test","allowed_ips":["10.0.0.0/8"]}""")).Body.Str("key");
        AssertProblem(await Host.ClientWith(elsewhere).GetJsonAsync("/v1/invoices"), 403, "FORBIDDEN");
        var local = (await admin.PostJsonAsync($"/v1/merchants/{merchantId}/api-keys", """{"mode":"test","allowed_ips":["127.0.0.1"]}""")).Body.Str("key");
        Assert.Equal(200, (await Host.ClientWith(local).GetJsonAsync("/v1/invoices")).Status);
        AssertProblem(await admin.PostJsonAsync($"/v1/merchants/{merchantId}/api-keys", """{"mode":"demo"}"""), 400, "VALIDATION_FAILED");

        Assert.Equal(200, (await admin.SendJsonAsync(HttpMethod.Delete, $"/v1/api-keys/{readOnly.Str("id")}")).Status);
        AssertProblem(await reader.GetJsonAsync("/v1/invoices"), 401, "UNAUTHORIZED");
        AssertProblem(await admin.SendJsonAsync(HttpMethod.Delete, $"/v1/api-keys/{Guid.NewGuid()}"), 404, "NOT_FOUND");
        await Host.RunDueWorkAsync();
        var merchant = (await admin.GetJsonAsync($"/v1/merchants/{merchantId}")).Body;
        var keys = merchant.GetProperty("api_keys").EnumerateArray().ToList();
        Assert.Equal(5, keys.Count);
        Assert.All(keys, k => Assert.False(k.TryGetProperty("key", out _)));
        Assert.Single(keys, k => k.GetProperty("revoked_at").ValueKind != JsonValueKind.Null);
        AssertProblem(await admin.GetJsonAsync($"/v1/merchants/{Guid.NewGuid()}"), 404, "NOT_FOUND");
    }

    [Fact]
    public async Task A_key_over_its_merchants_limit_gets_429_with_retry_after()
    {
        var (test, _, _) = await MerchantAsync("""{"name":"Slow","rate_limit_per_minute":3}""");
        for (var i = 0; i < 3; i++)
        {
            var ok = await test.GetJsonAsync("/v1/invoices");
            Assert.Equal((200, (2 - i).ToString(System.Globalization.CultureInfo.InvariantCulture)), (ok.Status, ok.Response.Headers.GetValues("RateLimit-Remaining").Single()));
        }

        var limited = await test.GetJsonAsync("/v1/invoices");
        AssertProblem(limited, 429, "RATE_LIMITED");
        Assert.NotNull(limited.Response.Headers.RetryAfter);
        await Host.AdvanceAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(200, (await test.GetJsonAsync("/v1/invoices")).Status);
    }

    [Fact]
    public async Task Concurrent_requests_of_a_key_are_admitted_up_to_its_limit_exactly_while_slices_are_leased_ahead()
    {
        // 30 a minute: slices of 3, the next leased while one or none is left; 16 callers race for 80 requests.
        var (test, _, _) = await MerchantAsync("""{"name":"Busy","rate_limit_per_minute":30}""");
        var statuses = new System.Collections.Concurrent.ConcurrentBag<int>();
        await Parallel.ForEachAsync(Enumerable.Range(0, 80), new ParallelOptions { MaxDegreeOfParallelism = 16 },
            async (_, _) => statuses.Add((await test.GetJsonAsync("/v1/invoices")).Status));

        Assert.Equal(30, statuses.Count(s => s == 200));
        Assert.Equal(50, statuses.Count(s => s == 429));
    }

    [Fact]
    public async Task Public_endpoints_catalog_rates_openapi_docs_and_unknown_routes()
    {
        var currencies = await Host.Http.GetJsonAsync("/v1/currencies");
        Assert.Contains(currencies.Body.GetProperty("payment_methods").EnumerateArray(), m => m.Str("method") == "usdt_tron" && m.GetProperty("confirmations_required").GetInt32() == 19);
        var rates = await Host.Http.GetJsonAsync("/v1/rates?base=EUR");
        Assert.Equal(("EUR", "1"), (rates.Body.Str("base"), rates.Body.GetProperty("rates").Str("EUR")));
        AssertProblem(await Host.Http.GetJsonAsync("/v1/rates?base=XXX"), 400, "UNSUPPORTED_CURRENCY");
        var openapi = await Host.Http.GetJsonAsync("/openapi/v1.json");
        Assert.True(openapi.Body.GetProperty("paths").TryGetProperty("/v1/invoices", out _));
        Assert.Contains("/openapi/v1.json", await Host.Http.GetStringAsync("/docs"), StringComparison.Ordinal);
        AssertProblem(await Host.Http.GetJsonAsync("/v1/nothing-here"), 404, "NOT_FOUND");
        var wrongMethod = await Host.Http.SendJsonAsync(HttpMethod.Put, "/v1/currencies", "{}");
        AssertProblem(wrongMethod, 405, "METHOD_NOT_ALLOWED");
        Assert.Equal(["GET"], wrongMethod.Response.Content.Headers.Allow);
        var invoiceOperations = openapi.Body.GetProperty("paths").GetProperty("/v1/invoices");
        Assert.True(invoiceOperations.GetProperty("post").GetProperty("responses").TryGetProperty("415", out _));
        Assert.Contains("UNSUPPORTED_MEDIA_TYPE", openapi.Body.GetProperty("info").Str("description"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wrong_method_is_405_with_allow_and_a_non_json_body_is_415_and_changes_nothing()
    {
        var (test, _, _) = await MerchantAsync();
        var id = (await test.PostJsonAsync("/v1/invoices", Invoice)).Body.Str("id");
        var deleted = await test.SendJsonAsync(HttpMethod.Delete, $"/v1/invoices/{id}");
        AssertProblem(deleted, 405, "METHOD_NOT_ALLOWED");
        Assert.Equal(["GET", "PATCH"], deleted.Response.Content.Headers.Allow.Order(StringComparer.Ordinal));
        AssertProblem(await Host.Http.SendJsonAsync(HttpMethod.Put, "/v1/invoices"), 405, "METHOD_NOT_ALLOWED");

        foreach (var contentType in new[] { "text/plain", "application/x-www-form-urlencoded", "application/xml" })
        {
            using var form = new HttpRequestMessage(HttpMethod.Post, "/v1/invoices") { Content = new StringContent(Invoice, Encoding.UTF8, contentType) };
            using var refused = await test.SendAsync(form);
            Assert.Equal(HttpStatusCode.UnsupportedMediaType, refused.StatusCode);
            Assert.Equal("UNSUPPORTED_MEDIA_TYPE", JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement.Str("code"));
        }

        using var patch = new HttpRequestMessage(HttpMethod.Patch, $"/v1/invoices/{id}") { Content = new StringContent("""{"status":"cancelled"}""", Encoding.UTF8, "text/plain") };
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await test.SendAsync(patch)).StatusCode);
        Assert.Equal("pending", (await test.GetJsonAsync($"/v1/invoices/{id}")).Body.Str("status"));
        Assert.Equal(1, (await test.GetJsonAsync("/v1/invoices")).Body.GetProperty("pagination").GetProperty("total").GetInt32());
        // A bodiless POST needs no Content-Type (the quickstart's sandbox payment).
        using var bare = new HttpRequestMessage(HttpMethod.Post, $"/v1/sandbox/invoices/{id}/pay");
        Assert.Equal(HttpStatusCode.OK, (await test.SendAsync(bare)).StatusCode);
    }

    [Fact]
    public async Task The_rate_limit_holds_across_two_silos_on_one_store()
    {
        if (database is null)
        {
            // Two in-memory hosts would be two separate stores; the cluster-wide budget needs the shared database.
            Assert.Null(database);
            return;
        }

        hosts.Add(await GatewayHost.StartAsync(database, clock: Host.Clock));
        var (_, _, key) = await Host.CreateMerchantAsync("""{"name":"Two silos","rate_limit_per_minute":20}""");
        var clients = new[] { Host.ClientWith(key), hosts[1].ClientWith(key) };
        var answers = new List<(int Status, JsonElement Body, HttpResponseMessage Response)>();
        for (var i = 0; i < 60; i++)
        {
            answers.Add(await clients[i % 2].GetJsonAsync("/v1/invoices"));
        }

        // Each silo alone would have admitted 20 (40 in all) when counting in its own memory.
        Assert.Equal(20, answers.Count(a => a.Status == 200));
        var limited = answers.Where(a => a.Status != 200).ToList();
        Assert.All(limited, a => AssertProblem(a, 429, "RATE_LIMITED"));
        Assert.All(limited, a => Assert.Equal("0", a.Response.Headers.GetValues("RateLimit-Remaining").Single()));
        Assert.All(limited, a => Assert.NotNull(a.Response.Headers.RetryAfter));
        Assert.Contains(limited, a => a.Response.RequestMessage!.RequestUri!.Port == hosts[1].Http.BaseAddress!.Port);

        await Host.AdvanceAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(200, (await clients[1].GetJsonAsync("/v1/invoices")).Status);
        Assert.Equal(200, (await clients[0].GetJsonAsync("/v1/invoices")).Status);
    }

    [Fact]
    public async Task The_public_status_on_one_silo_shows_a_change_made_through_another_at_once()
    {
        if (database is null)
        {
            // Two in-memory hosts would be two separate stores; the cross-silo case needs the shared database.
            Assert.Null(database);
            return;
        }

        hosts.Add(await GatewayHost.StartAsync(database, clock: Host.Clock));
        var (test, _, _) = await MerchantAsync();
        var id = (await test.PostJsonAsync("/v1/invoices", """{"amount":"10","currency":"EUR","network":"sandbox"}""")).Body.Str("id");
        using var otherSilo = new HttpClient { BaseAddress = hosts[1].Http.BaseAddress };
        using var first = await otherSilo.GetAsync($"/v1/invoices/{id}/status");
        Assert.Contains("\"pending\"", await first.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Cancelled through the first silo: the invoice has one activation in the cluster, so the other silo's very next
        // read shows it, with a new ETag.
        Assert.Equal(200, (await test.PostJsonAsync($"/v1/invoices/{id}/cancel", "")).Status);
        using var changed = new HttpRequestMessage(HttpMethod.Get, $"/v1/invoices/{id}/status");
        changed.Headers.IfNoneMatch.Add(first.Headers.ETag!);
        using var after = await otherSilo.SendAsync(changed);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Contains("\"cancelled\"", await after.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.NotEqual(first.Headers.ETag, after.Headers.ETag);
    }

    [Fact]
    public async Task Idempotency_holds_across_two_silos_on_one_store()
    {
        if (database is null)
        {
            // Two in-memory hosts would be two separate stores; the cross-silo case needs the shared database.
            Assert.Null(database);
            return;
        }

        hosts.Add(await GatewayHost.StartAsync(database, clock: Host.Clock));
        var (_, _, key) = await Host.CreateMerchantAsync();
        var clients = new[] { Host.ClientWith(key), hosts[1].ClientWith(key) };
        var answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(i =>
            clients[i % 2].PostJsonAsync("/v1/invoices", Invoice, r => r.Headers.Add("Idempotency-Key", "two-silos"))));
        Assert.Single(answers.Where(a => a.Status == 201).Select(a => a.Body.Str("id")).Distinct());
        var total = (await clients[1].GetJsonAsync("/v1/invoices")).Body.GetProperty("pagination").GetProperty("total").GetInt32();
        Assert.Equal(1, total);
    }
}
