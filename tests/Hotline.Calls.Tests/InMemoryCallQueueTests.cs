using Hotline.Calls.InMemory;
using Xunit;
using Xunit.Abstractions;

namespace Hotline.Calls.Tests;

public sealed class InMemoryCallQueueTests(ITestOutputHelper output) : CallQueueConformance
{
    private InMemoryCallQueue? _queue;

    protected override Task<ICallQueue> CreateQueueAsync() => Task.FromResult<ICallQueue>(_queue = new InMemoryCallQueue());

    protected override Task<IReadOnlyList<string>> VerifyInvariantsAsync() => Task.FromResult(_queue!.VerifyInvariants());

    [Fact]
    public async Task Parallel_tasks_never_lose_or_double_a_call()
    {
        using var hammer = new QueueHammer([_queue!, _queue!], VerifyInvariantsAsync) { Calls = 600, Agents = 20, WorkersPerNode = 4 };

        await hammer.RunAsync();

        output.WriteLine(hammer.Summary);
    }

    [Fact]
    public async Task A_tombstone_is_forgotten_after_its_ttl()
    {
        var queue = new InMemoryCallQueue { TombstoneTtl = TimeSpan.FromHours(1) };
        await queue.EnqueueAsync(Call("c1", 0));
        await queue.AbandonAsync("c1", At(1));
        await queue.EnqueueAsync(Call("c2", 2));
        await queue.AbandonAsync("c2", At(2 + 3600 + 1)); // sweeps c1

        Assert.True(await queue.EnqueueAsync(Call("c1", 4000)));
        Assert.False(await queue.EnqueueAsync(Call("c2", 4000)));
    }
}
