using System.Reflection;
using System.Text.Json.Serialization;
using CryptoPay.Grains.Effects;

namespace CryptoPay.Grains.Tests.Effects;

/// <summary>
/// Effects are written with their sender's state as JSON (ProjectedGrainStorage): an effect type the JSON contract does
/// not name cannot be written, and the grain that sends it stays stuck before its write (a settlement batch did).
/// </summary>
public sealed class GrainEffectJsonTests
{
    [Fact]
    public void Every_effect_type_is_a_named_json_derived_type_of_GrainEffect()
    {
        var named = typeof(GrainEffect).GetCustomAttributes<JsonDerivedTypeAttribute>().ToList();
        var effects = typeof(GrainEffect).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(GrainEffect)) && !t.IsAbstract).ToList();
        Assert.NotEmpty(effects);
        Assert.Empty(effects.Where(t => !named.Exists(a => a.DerivedType == t)).Select(t => t.Name));
        Assert.Equal(named.Count, named.Select(a => a.TypeDiscriminator).Distinct().Count());
    }
}
