using System.Reflection;
using CryptoPay.Grains.Merchants;
using Orleans.Runtime;

namespace CryptoPay.Grains.Tests.Hosting;

/// <summary>ADO.NET grain storage keys a row by state name and grain key, not grain class (docs/ORLEANS.md): one name per class.</summary>
public sealed class StateNameTests
{
    [Fact]
    public void Every_persistent_state_name_of_the_gateway_grains_is_used_by_one_grain_class()
    {
        var names = typeof(MerchantGrain).Assembly.GetTypes()
            .SelectMany(type => type.GetConstructors().SelectMany(c => c.GetParameters()).Select(p => (type, attribute: p.GetCustomAttribute<PersistentStateAttribute>())))
            .Where(x => x.attribute is not null)
            .GroupBy(x => x.attribute!.StateName, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(x => x.type.Name).Distinct().ToList(), StringComparer.Ordinal);

        Assert.Contains("merchant", names.Keys);
        Assert.Contains("api-key", names.Keys);
        Assert.All(names, entry => Assert.True(entry.Value.Count == 1, $"state name '{entry.Key}' is used by {string.Join(", ", entry.Value)}"));
    }
}
