using Hotline.Calls.Redis;
using Hotline.Testing;
using StackExchange.Redis;
using Xunit;

namespace Hotline.Calls.Tests;

/// <summary>Faults on a Redis server of its own (restarts would disturb the conformance class).</summary>
public sealed class RedisCallQueueFaultTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly DateTimeOffset T0 = new(2025, 7, 1, 8, 0, 0, TimeSpan.FromHours(8));

    [Fact]
    public async Task After_a_redis_restart_the_scripts_are_loaded_again_and_the_queue_works()
    {
        using var connection = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var queue = new RedisCallQueue(connection, "fault");
        Assert.True(await queue.EnqueueAsync(new QueuedCall("c1", "13800000000", "12345", "普通话", 0, T0)));

        await redis.Server.RestartAsync(); // no persistence: the data and the script cache are gone

        var deadline = DateTime.UtcNow.AddSeconds(30);
        bool queued;
        while (true)
        {
            try
            {
                queued = await queue.EnqueueAsync(new QueuedCall("c2", "13800000001", "12345", "普通话", 0, T0.AddSeconds(1)));
                break;
            }
            catch (RedisConnectionException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100); // the multiplexer reconnects on its own
            }
            catch (TimeoutException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }

        Assert.True(queued);
        Assert.Null(await queue.GetCallAsync("c1")); // live state only: rebuilt from the event store, not Redis
        Assert.True(await queue.SetReadyAsync("a1", [new AgentSkill("普通话")], T0.AddSeconds(2)));
        Assert.Equal("c2", Assert.Single(await queue.DispatchAsync(T0.AddSeconds(3), TimeSpan.FromSeconds(20), 5)).CallId);
        Assert.Empty(await queue.VerifyInvariantsAsync());
    }
}
