using CryptoPay.Grains.Merchants;
using CryptoPay.Grains.Tests.Hosting;
using CryptoPay.Grains.Webhooks;
using Orleans;
using Orleans.Runtime;

namespace CryptoPay.Grains.Tests.Webhooks;

/// <summary>The secret that signs deliveries to invoices' callback_url: shown, stable, rotated with an overlap.</summary>
[Collection(OrleansCluster.Collection)]
public sealed class CallbackSecretGrainTests(OrleansCluster cluster)
{
    [Fact]
    public async Task The_secret_is_created_on_the_first_ask_and_stays_the_same_across_activations()
    {
        var grain = cluster.Grains.GetGrain<IWebhookEndpointsGrain>(WebhookEndpointsGrain.KeyFor(Guid.NewGuid(), Mode.Test));
        Assert.Null(await grain.GetTarget(WebhookEndpointsGrain.CallbackEndpointId));

        var shown = await grain.GetCallbackSecret();
        Assert.StartsWith(WebhookSignature.SecretPrefix, shown.Secret, StringComparison.Ordinal);
        Assert.Null(shown.PreviousExpiresAt);
        await cluster.Grains.GetGrain<IManagementGrain>(0).DeactivateGrain(grain.GetGrainId());

        Assert.Equal(shown, await grain.GetCallbackSecret());
        Assert.Equal([shown.Secret], (await grain.GetTarget(WebhookEndpointsGrain.CallbackEndpointId))!.Secrets);
    }

    [Fact]
    public async Task A_rotated_out_secret_signs_beside_the_new_one_until_its_overlap_ends_even_after_a_second_rotation()
    {
        var grain = cluster.Grains.GetGrain<IWebhookEndpointsGrain>(WebhookEndpointsGrain.KeyFor(Guid.NewGuid(), Mode.Live));
        var original = (await grain.GetCallbackSecret()).Secret;
        var rotatedAt = cluster.Clock.GetUtcNow();

        var first = await grain.RotateCallbackSecret("whsec_Zmlyc3Qtcm90YXRlZC1zZWNyZXQtMjQ=");
        Assert.Equal(new CallbackSecret("whsec_Zmlyc3Qtcm90YXRlZC1zZWNyZXQtMjQ=", rotatedAt + TimeSpan.FromHours(24)), first);
        cluster.Clock.Advance(TimeSpan.FromHours(1));
        // A second rotation (a retry whose answer was lost) must not cut off the secret the merchant still verifies with.
        var second = await grain.RotateCallbackSecret("whsec_c2Vjb25kLXJvdGF0ZWQtc2VjcmV0LTI0Yg==");
        await cluster.Grains.GetGrain<IManagementGrain>(0).DeactivateGrain(grain.GetGrainId());

        Assert.Equal(second, await grain.GetCallbackSecret());
        Assert.Equal(rotatedAt + TimeSpan.FromHours(25), second.PreviousExpiresAt);
        Assert.Equal([second.Secret, first.Secret, original], await SigningAsync(grain));
        cluster.Clock.Advance(TimeSpan.FromHours(23));
        Assert.Equal([second.Secret, first.Secret], await SigningAsync(grain));
        cluster.Clock.Advance(TimeSpan.FromHours(1));
        Assert.Equal([second.Secret], await SigningAsync(grain));
        Assert.Equal(new CallbackSecret(second.Secret, null), await grain.GetCallbackSecret());
    }

    private static async Task<IReadOnlyList<string>> SigningAsync(IWebhookEndpointsGrain grain) =>
        (await grain.GetTarget(WebhookEndpointsGrain.CallbackEndpointId))!.Secrets;
}
