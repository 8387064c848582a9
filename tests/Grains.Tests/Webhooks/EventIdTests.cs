using CryptoPay.Grains.Webhooks;

namespace CryptoPay.Grains.Tests.Webhooks;

/// <summary>The events of one invoice turn travel in one message; their ids must still be distinct and stable.</summary>
public sealed class EventIdTests
{
    [Fact]
    public void The_first_event_of_a_batch_keeps_the_messages_id_and_the_others_get_distinct_stable_ids()
    {
        var message = Guid.NewGuid();
        Assert.Equal(WebhookEndpointsGrain.EventIdFor(message), WebhookEndpointsGrain.EventIdFor(message, 0));

        var ids = Enumerable.Range(0, 8).Select(i => WebhookEndpointsGrain.EventIdFor(message, i)).ToList();
        Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());
        Assert.All(ids, id => Assert.Matches("^evt_[0-9a-f]{32}$", id));

        // A redelivered message yields the same ids; another message yields others.
        Assert.Equal(ids, Enumerable.Range(0, 8).Select(i => WebhookEndpointsGrain.EventIdFor(message, i)));
        Assert.Empty(ids.Intersect(Enumerable.Range(0, 8).Select(i => WebhookEndpointsGrain.EventIdFor(Guid.NewGuid(), i))));
    }
}
