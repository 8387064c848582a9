using CryptoPay.Grains.Effects;
using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.Merchants;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Concurrency;
using Orleans.Runtime;

namespace CryptoPay.Grains.ApiKeys;

/// <summary>One API key, keyed by the id derived from its secret's hash (<see cref="ApiKeySecret"/>); the secret itself is never stored.</summary>
[Alias("cryptopay.api-key")]
public interface IApiKeyGrain : IGrainWithGuidKey
{
    /// <summary>Issues the key; a repeated call returns the key as it is.</summary>
    Task<ApiKeyState> Issue(ApiKeyIssue issue);

    [ReadOnly]
    Task<ApiKeyState?> Get();

    /// <summary>Revokes the key; returns false when there is no such key.</summary>
    Task<bool> Revoke();
}

/// <summary>
/// An API key. Its merchant lists it: issuing and revoking add a <see cref="MerchantKeyEffect"/> to the outbox in the
/// key's own state, delivered after the write and again (activation, reminder) until the merchant acknowledges it.
/// </summary>
public sealed class ApiKeyGrain(
    [PersistentState("api-key")] IPersistentState<ApiKeyGrainState> state,
    [FromKeyedServices(GatewayClock.Key)] TimeProvider clock,
    ILogger<ApiKeyGrain> logger) : Grain, IApiKeyGrain, IRemindable
{
    // Not persisted: whether this activation registered the redelivery reminder.
    private EffectRedelivery? redelivery;

    private EffectRedelivery Redelivery => redelivery ??= new EffectRedelivery(this);

    private ApiKeyState Key => state.State.Key;

    public override Task OnActivateAsync(CancellationToken cancellationToken) =>
        state.State.Outbox.IsEmpty ? Task.CompletedTask : DeliverAsync();

    public async Task<ApiKeyState> Issue(ApiKeyIssue issue)
    {
        ArgumentNullException.ThrowIfNull(issue);
        if (!Key.Exists)
        {
            state.State.Key = new ApiKeyState
            {
                Id = this.GetPrimaryKey(),
                MerchantId = issue.MerchantId,
                Mode = issue.Mode,
                Hash = issue.Hash,
                Prefix = issue.Prefix,
                Scopes = [.. issue.Scopes],
                AllowedIps = [.. issue.AllowedIps],
                CreatedAt = clock.GetUtcNow(),
                Format = issue.Format,
                Name = issue.Name,
                Description = issue.Description,
            };
            await WriteWithEffectAsync(MerchantKeyEffect.Issued(Key.MerchantId, Key.Summary));
        }

        return Key;
    }

    public Task<ApiKeyState?> Get() => Task.FromResult(Key.Exists ? Key : null);

    public async Task<bool> Revoke()
    {
        if (!Key.Exists)
        {
            return false;
        }

        if (Key.RevokedAt is null)
        {
            Key.RevokedAt = clock.GetUtcNow();
            await WriteWithEffectAsync(MerchantKeyEffect.Revoked(Key.MerchantId, Key.Summary));
        }

        return true;
    }

    public Task ReceiveReminder(string reminderName, TickStatus status) => DeliverAsync();

    /// <summary>Saves the key with its effect on the merchant, then delivers it (a failed delivery stays pending).</summary>
    private async Task WriteWithEffectAsync(MerchantKeyEffect effect)
    {
        state.State.Outbox.Add(effect);
        await Redelivery.ArmAsync();
        await WriteAsync();
        await DeliverAsync();
    }

    private async Task DeliverAsync()
    {
        if (await state.State.Outbox.DeliverAsync(e => GrainFactory.GetGrain<IMerchantGrain>(e.MerchantId).ApplyKeyEffect(e), logger) > 0)
        {
            try
            {
                await state.WriteStateAsync();
            }
            catch (Exception error)
            {
                // The key is saved; its delivered effects stay pending in storage and the merchant ignores them when redelivered.
                logger.LogWarning("API key {KeyId}: delivered effects not yet marked done ({Error}); they will be delivered again.", Key.Id, error.Message);
                DeactivateOnIdle();
                return;
            }
        }

        if (state.State.Outbox.IsEmpty)
        {
            await Redelivery.DisarmAsync();
        }
    }

    /// <summary>Writes the state; on failure the activation goes, so the next call re-reads what was really stored.</summary>
    private async Task WriteAsync()
    {
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            DeactivateOnIdle();
            throw;
        }
    }
}
