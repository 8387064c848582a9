using Microsoft.Playwright;

namespace CryptoPay.Checkout.BrowserTests;

/// <summary>Debian's chromium driven by Playwright (no browser download), one per test class, fresh profile each time.</summary>
public sealed class Browser : IAsyncLifetime
{
    public const string Chromium = "/usr/bin/chromium";

    private readonly string profile = Directory.CreateTempSubdirectory("cryptopay-chromium-").FullName;
    private IPlaywright playwright = null!;

    public IBrowserContext Context { get; private set; } = null!;

    public static string ScreenshotFolder { get; } = Path.Combine(AppContext.BaseDirectory, "artifacts", "screenshots");

    /// <summary>jsQR from the pinned npm tools (tests/TestSupport/node), loaded into pages to decode their QR code.</summary>
    public static string JsQrPath
    {
        get
        {
            var directory = new DirectoryInfo(AppContext.BaseDirectory);
            while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "CryptoPay.Orleans.sln")))
            {
                directory = directory.Parent;
            }

            var path = Path.Combine(directory?.FullName ?? "", "tests", "TestSupport", "node", "node_modules", "jsqr", "dist", "jsQR.js");
            return File.Exists(path) ? path : throw new FileNotFoundException("jsQR is missing; ./test.sh installs it (npm ci in tests/TestSupport/node).", path);
        }
    }

    public async Task InitializeAsync()
    {
        if (!File.Exists(Chromium))
        {
            throw new FileNotFoundException("Debian's chromium is missing; ./test.sh installs it (apt-get install chromium).", Chromium);
        }

        playwright = await Playwright.CreateAsync();
        // A persistent context is how Playwright takes a user data dir; BypassCSP lets the test inject jsQR.
        Context = await playwright.Chromium.LaunchPersistentContextAsync(profile, new BrowserTypeLaunchPersistentContextOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            BypassCSP = true,
            ViewportSize = new ViewportSize { Width = 1280, Height = 900 },
            Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        Directory.CreateDirectory(ScreenshotFolder);
    }

    public async Task DisposeAsync()
    {
        await Context.DisposeAsync();
        playwright.Dispose();
        Directory.Delete(profile, recursive: true);
    }

    public static async Task ScreenshotsAsync(IPage page, string name)
    {
        await page.SetViewportSizeAsync(1280, 900);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotFolder, $"{name}-desktop.png"), FullPage = true });
        await page.SetViewportSizeAsync(360, 780);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotFolder, $"{name}-phone.png"), FullPage = true });
        await page.SetViewportSizeAsync(1280, 900);
    }
}
