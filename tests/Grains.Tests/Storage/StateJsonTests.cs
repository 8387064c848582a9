using CryptoPay.Grains.Effects;
using CryptoPay.Grains.Storage;

namespace CryptoPay.Grains.Tests.Storage;

public sealed class StateJsonTests
{
    [Fact]
    public void A_pending_effect_reads_back_whatever_order_jsonb_gave_its_keys()
    {
        // jsonb sorts keys (shorter first), so an effect's "effect" discriminator is not first when the row is read back.
        const string stored = """{"state":{},"outbox":{"pending":[{"sender":"invoice/1","sequence":7,"output_key":"ltc:ab:0","effect":"reverse-output"}]},"effects_sent":7,"received":{}}""";

        var record = System.Text.Json.JsonSerializer.Deserialize<GrainRecord<Dictionary<string, string>>>(stored, StateJson.Options)!;

        var effect = Assert.IsType<ReverseOutput>(Assert.Single(record.Outbox.Pending));
        Assert.Equal(("ltc:ab:0", "invoice/1#7"), (effect.OutputKey, effect.Id));
    }
}
