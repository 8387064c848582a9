namespace CryptoPay.Runtime.Grains;

/// <summary>Hands out typed references to grains. Calls on a reference run as turns of that grain.</summary>
public interface IGrainFactory
{
    TGrain GetGrain<TGrain>(string key) where TGrain : IGrainWithStringKey;

    TGrain GetGrain<TGrain>(Guid key) where TGrain : IGrainWithGuidKey;

    /// <summary>
    /// A reference to a grain the caller has just created the key for (e.g. a fresh Guid): its first
    /// turn starts from empty state without reading the store. Safe if the key was not new after all:
    /// the conditional commit then fails and the turn replays on the stored state.
    /// </summary>
    TGrain GetNewGrain<TGrain>(Guid key) where TGrain : IGrainWithGuidKey;

    /// <inheritdoc cref="GetNewGrain{TGrain}(Guid)"/>
    TGrain GetNewGrain<TGrain>(string key) where TGrain : IGrainWithStringKey;
}
