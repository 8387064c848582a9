namespace CryptoPay.Grains.Webhooks;

/// <summary>The "Webhooks" configuration section.</summary>
public sealed class WebhookOptions
{
    /// <summary>Allows loopback and private targets (development and tests); refused by default against SSRF.</summary>
    public bool AllowPrivateTargets { get; set; }

    /// <summary>How long one attempt may take, connection and response included.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Attempts sent at once by one silo.</summary>
    public int Concurrency { get; set; } = 64;

    /// <summary>After this long without a recorded result an attempt counts as lost (its silo died) and is sent again.</summary>
    public TimeSpan AttemptLease => Timeout + TimeSpan.FromSeconds(30);

    public void Validate()
    {
        if (Timeout < TimeSpan.FromMilliseconds(100) || Timeout > TimeSpan.FromMinutes(5))
        {
            throw new InvalidOperationException($"Webhooks:Timeout must be between 100 ms and 5 minutes (was {Timeout}).");
        }

        if (Concurrency is < 1 or > 4096)
        {
            throw new InvalidOperationException($"Webhooks:Concurrency must be between 1 and 4096 (was {Concurrency}).");
        }
    }
}
