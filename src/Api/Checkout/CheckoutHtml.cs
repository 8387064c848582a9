using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Http;

namespace CryptoPay.Api.Checkout;

/// <summary>The shell every checkout page shares, and the headers that keep it from being framed, sniffed or scripted inline.</summary>
public static class CheckoutHtml
{
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

    public static string E(string? text) => HtmlEncoder.Default.Encode(text ?? "");

    public static string E(long value) => value.ToString(CultureInfo.InvariantCulture);

    public static void ApplySecurityHeaders(HttpResponse response)
    {
        var headers = response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers.CacheControl = "no-store";
    }

    public static IResult Page(HttpContext context, int status, string title, string body, bool script = false)
    {
        ApplySecurityHeaders(context.Response);
        var html = new StringBuilder()
            .Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
            .Append("<meta name=\"robots\" content=\"noindex\">\n")
            .Append("<title>").Append(E(title)).Append("</title>\n")
            .Append("<link rel=\"stylesheet\" href=\"/pay/assets/checkout.css\">\n");
        if (script)
        {
            html.Append("<script src=\"/pay/assets/checkout.js\" defer></script>\n");
        }

        html.Append("</head>\n<body>\n<main class=\"card\">\n").Append(body).Append("</main>\n</body>\n</html>\n");
        return Results.Content(html.ToString(), "text/html; charset=utf-8", Encoding.UTF8, status);
    }

    /// <summary>A friendly page for a refused or unknown checkout, with the HTTP status that says why.</summary>
    public static IResult Message(HttpContext context, int status, string title, string text) =>
        Page(context, status, title, $"<h1>{E(title)}</h1>\n<p class=\"message\">{E(text)}</p>\n");
}
