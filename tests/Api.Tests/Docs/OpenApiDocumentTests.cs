using System.Text.Json;
using CryptoPay.Api.Access;
using CryptoPay.Api.Tests.Hosting;
using CryptoPay.TestSupport.OpenApi;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using static CryptoPay.Api.Tests.Hosting.HttpJson;

namespace CryptoPay.Api.Tests.Docs;

/// <summary>One gateway for the document tests, and its OpenAPI document as served.</summary>
public sealed class OpenApiDocumentFixture : IAsyncLifetime
{
    public GatewayHost Host { get; private set; } = null!;

    public string Json { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Host = await GatewayHost.StartAsync(null);
        Json = await Host.Http.GetStringAsync("/openapi/v1.json");
    }

    public async Task DisposeAsync() => await Host.DisposeAsync();
}

/// <summary>The OpenAPI document at /openapi/v1.json: valid for an independent validator, and true to the API it describes.</summary>
public sealed class OpenApiDocumentTests(OpenApiDocumentFixture fixture) : IClassFixture<OpenApiDocumentFixture>
{
    private static readonly string[] ProblemFields = ["type", "title", "status", "detail", "code", "errors", "request_id"];
    private static readonly string[] Methods = ["get", "post", "put", "patch", "delete"];

    private readonly GatewayHost host = fixture.Host;
    private readonly string json = fixture.Json;
    private readonly JsonElement document = JsonDocument.Parse(fixture.Json).RootElement.Clone();

    [Fact]
    public async Task The_document_passes_an_independent_OpenAPI_validator()
    {
        var validation = await OpenApiValidator.ValidateAsync(json);

        Assert.True(validation.Valid, validation.Report);
    }

    [Fact]
    public async Task The_validator_refuses_a_broken_document()
    {
        var broken = json.Replace("\"responses\"", "\"answers\"", StringComparison.Ordinal);

        Assert.False((await OpenApiValidator.ValidateAsync(broken)).Valid);
    }

    [Fact]
    public void Every_operation_has_a_declared_tag_a_summary_and_a_description()
    {
        var declared = document.GetProperty("tags").EnumerateArray().ToDictionary(t => t.Str("name"), t => t.Str("description"));
        Assert.All(declared, tag => Assert.False(string.IsNullOrWhiteSpace(tag.Value), $"tag {tag.Key} has no description"));
        foreach (var (name, operation) in Operations())
        {
            var tags = operation.TryGetProperty("tags", out var t) ? t.EnumerateArray().Select(e => e.GetString()!).ToList() : [];
            Assert.True(tags.Count == 1, $"{name} has tags [{string.Join(", ", tags)}]");
            Assert.True(declared.ContainsKey(tags[0]), $"{name}'s tag {tags[0]} is not declared");
            Assert.True(operation.TryGetProperty("summary", out var summary) && summary.GetString()!.Length > 5, $"{name} has no summary");
            Assert.True(operation.TryGetProperty("description", out var description) && description.GetString()!.Length > 10, $"{name} has no description");
        }
    }

    [Fact]
    public void Security_schemes_are_a_bearer_key_and_an_x_api_key_header()
    {
        var schemes = document.GetProperty("components").GetProperty("securitySchemes");
        Assert.Contains(schemes.EnumerateObject(), s => s.Value.Str("type") == "http" && s.Value.Str("scheme") == "bearer");
        Assert.Contains(schemes.EnumerateObject(), s => s.Value.Str("type") == "apiKey" && s.Value.Str("in") == "header" && s.Value.Str("name") == "x-api-key");
    }

    [Fact]
    public void Every_operation_states_its_security_and_the_problems_its_gate_and_handler_can_answer()
    {
        var access = EndpointAccess();
        Assert.Equal(AccessKind.Public, access["GET /v1/currencies"].Kind);
        Assert.Equal(AccessKind.Admin, access["POST /v1/merchants"].Kind);
        Assert.True(access["POST /v1/invoices"].Idempotent);
        var schemes = document.GetProperty("components").GetProperty("securitySchemes").EnumerateObject().Select(s => s.Name).ToHashSet();
        var operations = Operations().ToList();
        Assert.Equal(access.Keys.Order(), operations.Select(o => o.Name).Order());
        foreach (var (name, operation) in operations)
        {
            var kind = access[name];
            var responses = operation.GetProperty("responses");
            var codes = responses.EnumerateObject().Select(r => r.Name).ToHashSet();
            var security = operation.TryGetProperty("security", out var s) ? s.EnumerateArray().SelectMany(r => r.EnumerateObject().Select(p => p.Name)).ToHashSet() : [];
            Assert.True(codes.Any(c => c.StartsWith('2')), $"{name} has no success response");
            Assert.DoesNotContain("405", codes);
            switch (kind.Kind)
            {
                case AccessKind.Public:
                    Assert.True(security.Count == 0, $"{name} is public but asks for {string.Join(", ", security)}");
                    break;
                case AccessKind.Merchant:
                    Assert.True(security.SetEquals(schemes), $"{name} asks for [{string.Join(", ", security)}]");
                    Assert.Subset(codes, new HashSet<string> { "401", "403", "429" });
                    Assert.Contains(kind.Scope!, Scopes(operation));
                    break;
                case AccessKind.Admin:
                    Assert.True(security.SetEquals(schemes), $"{name} asks for [{string.Join(", ", security)}]");
                    Assert.Contains("401", codes);
                    Assert.Contains("admin", Scopes(operation));
                    Assert.Contains("admin key", operation.Str("description"), StringComparison.OrdinalIgnoreCase);
                    break;
            }

            if (kind.Idempotent)
            {
                Assert.Subset(codes, new HashSet<string> { "400", "409", "422" });
                Assert.Contains(Parameters(operation), p => p.Str("name") == "Idempotency-Key" && p.Str("in") == "header");
            }

            if (operation.TryGetProperty("requestBody", out var body))
            {
                Assert.Equal(["application/json"], body.GetProperty("content").EnumerateObject().Select(c => c.Name));
                Assert.Subset(codes, new HashSet<string> { "400", "413", "415" });
            }

            if (name.Contains("{id}", StringComparison.Ordinal))
            {
                Assert.Contains("404", codes);
            }

            foreach (var response in responses.EnumerateObject().Where(r => r.Name.StartsWith('4')))
            {
                var problem = Resolve(response.Value);
                Assert.False(string.IsNullOrWhiteSpace(problem.Str("description")), $"{name} {response.Name} has no description");
                var content = problem.GetProperty("content");
                if (name.Contains(" /compat/", StringComparison.Ordinal))
                {
                    // A compatibility profile's errors are its document's body, named in the description.
                    Assert.True(content.TryGetProperty("application/json", out _), $"{name} {response.Name} is not the profile's JSON error");
                    Assert.StartsWith("As {", problem.Str("description"), StringComparison.Ordinal);
                    continue;
                }

                Assert.True(content.TryGetProperty("application/problem+json", out var media), $"{name} {response.Name} is not a problem");
                var properties = Resolve(media.GetProperty("schema")).GetProperty("properties").EnumerateObject().Select(p => p.Name);
                Assert.Subset(properties.ToHashSet(), ProblemFields.ToHashSet());
            }
        }
    }

    [Fact]
    public void The_invoice_list_describes_its_paging_sorting_and_filters()
    {
        var parameters = Parameters(Operation("get", "/v1/invoices")).Where(p => p.Str("in") == "query").ToDictionary(p => p.Str("name"));

        Assert.Subset(parameters.Keys.ToHashSet(), new HashSet<string>
        {
            "page", "page_size", "status", "currency", "network", "order_id", "customer_id", "created_after", "created_before", "sort_by", "sort_order",
        });
        Assert.All(parameters.Values, p => Assert.False(string.IsNullOrWhiteSpace(p.Str("description"))));
        var pageSize = parameters["page_size"].GetProperty("schema");
        Assert.Equal(("integer", 1, 100, 20), (pageSize.Str("type"), pageSize.GetProperty("minimum").GetInt32(), pageSize.GetProperty("maximum").GetInt32(), pageSize.GetProperty("default").GetInt32()));
        Assert.Equal(1, parameters["page"].GetProperty("schema").GetProperty("minimum").GetInt32());
        Assert.Equal(["created_at", "updated_at", "amount"], Enum(parameters["sort_by"]));
        Assert.Equal(["asc", "desc"], Enum(parameters["sort_order"]));
        Assert.Subset(Enum(parameters["status"]).ToHashSet(), new HashSet<string> { "pending", "confirming", "confirmed", "paid_partial", "expired", "cancelled", "archived" });
        Assert.Equal("date-time", parameters["created_after"].GetProperty("schema").Str("format"));
        Assert.Contains(Parameters(Operation("get", "/v1/rates")), p => p.Str("name") == "base" && p.Str("in") == "query");
        Assert.Equal(["live", "test"], Enum(Parameters(Operation("get", "/v1/currencies")).Single(p => p.Str("name") == "mode")));
    }

    [Theory]
    [InlineData("post", "/v1/invoices", "amount,currency")]
    [InlineData("post", "/v1/invoices/archived", "amount,created_at,currency")]
    [InlineData("patch", "/v1/invoices/{id}", "status")]
    [InlineData("post", "/v1/payment-links", "amount,currency")]
    [InlineData("post", "/v1/webhook-endpoints", "url")]
    [InlineData("post", "/v1/merchants", "name")]
    public void Request_schemas_require_exactly_what_the_API_requires(string method, string path, string required)
    {
        var schema = Resolve(Operation(method, path).GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("schema"));

        IEnumerable<string> listed = schema.TryGetProperty("required", out var r) ? r.EnumerateArray().Select(e => e.GetString()!).Order() : [];
        Assert.Equal(required, string.Join(",", listed));
    }

    [Fact]
    public void The_invoice_request_names_its_schema_CreateInvoiceRequest_and_lists_every_field()
    {
        var schema = document.GetProperty("components").GetProperty("schemas").GetProperty("CreateInvoiceRequest");

        Assert.Equal(["amount", "currency"], schema.GetProperty("required").EnumerateArray().Select(e => e.GetString()));
        Assert.Subset(schema.GetProperty("properties").EnumerateObject().Select(p => p.Name).ToHashSet(), new HashSet<string>
        {
            "amount", "currency", "network", "payment_methods", "order_id", "description", "customer_id", "customer_email", "metadata",
            "line_items", "expires_in", "expire_min", "allowed_error_percent", "callback_url", "redirect_url",
        });
    }

    [Theory]
    [InlineData("/v1/invoices", 201)]
    [InlineData("/v1/payment-links", 201)]
    [InlineData("/v1/webhook-endpoints", 201)]
    public async Task The_main_requests_carry_an_example_the_API_accepts(string path, int status)
    {
        var media = Operation("post", path).GetProperty("requestBody").GetProperty("content").GetProperty("application/json");
        Assert.True(media.TryGetProperty("example", out var example), $"POST {path} has no example");
        var (_, _, testKey) = await host.CreateMerchantAsync();
        using var client = host.ClientWith(testKey);

        var answer = await client.PostJsonAsync(path, example.GetRawText());

        Assert.True(answer.Status == status, $"POST {path} with its example answered {answer.Status}: {answer.Body}");
    }

    private IEnumerable<(string Name, JsonElement Operation)> Operations()
    {
        foreach (var path in document.GetProperty("paths").EnumerateObject())
        {
            foreach (var method in path.Value.EnumerateObject().Where(m => Methods.Contains(m.Name)))
            {
                yield return ($"{method.Name.ToUpperInvariant()} {path.Name}", method.Value);
            }
        }
    }

    private JsonElement Operation(string method, string path) => document.GetProperty("paths").GetProperty(path).GetProperty(method);

    private IEnumerable<JsonElement> Parameters(JsonElement operation) =>
        operation.TryGetProperty("parameters", out var parameters) ? parameters.EnumerateArray().Select(Resolve) : [];

    private static IEnumerable<string> Scopes(JsonElement operation) =>
        operation.GetProperty("security").EnumerateArray().SelectMany(r => r.EnumerateObject()).SelectMany(p => p.Value.EnumerateArray()).Select(s => s.GetString()!);

    private IReadOnlyList<string> Enum(JsonElement parameter) =>
        [.. Resolve(parameter.GetProperty("schema")).GetProperty("enum").EnumerateArray().Select(e => e.GetString()!)];

    /// <summary>The element a local <c>$ref</c> points at, or the element itself.</summary>
    private JsonElement Resolve(JsonElement element)
    {
        while (element.ValueKind == JsonValueKind.Object && element.TryGetProperty("$ref", out var reference))
        {
            element = document;
            foreach (var segment in reference.GetString()!.TrimStart('#', '/').Split('/'))
            {
                element = element.GetProperty(segment.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal));
            }
        }

        return element;
    }

    /// <summary>Who may call each described endpoint, as the gate reads it from the endpoint's metadata.</summary>
    private Dictionary<string, ApiAccess> EndpointAccess()
    {
        var access = new Dictionary<string, ApiAccess>(StringComparer.Ordinal);
        foreach (var endpoint in host.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>())
        {
            if (endpoint.Metadata.GetMetadata<IExcludeFromDescriptionMetadata>() is { ExcludeFromDescription: true } ||
                endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods is not { Count: > 0 } methods ||
                endpoint.Metadata.GetMetadata<ApiAccess>() is not { } kind)
            {
                continue;
            }

            foreach (var method in methods)
            {
                access[$"{method} /{endpoint.RoutePattern.RawText!.Trim('/')}"] = kind;
            }
        }

        access.Remove("GET /openapi/{documentName}.json");
        return access;
    }
}
