namespace CryptoPay.Runtime.Grains;

/// <summary>Hands out typed references to grains. Calls on a reference run as turns of that grain.</summary>
public interface IGrainFactory
{
    TGrain GetGrain<TGrain>(string key) where TGrain : IGrainWithStringKey;

    TGrain GetGrain<TGrain>(Guid key) where TGrain : IGrainWithGuidKey;
}
