using Hotline.Calls.InMemory;
using Hotline.Calls.Redis;
using Hotline.Testing;
using StackExchange.Redis;
using Xunit;

namespace Hotline.Calls.Tests;

/// <summary>
/// Differential check of the dispatch order: the same random workload (priorities, ties on the same millisecond, agents
/// with several skills, overflow rules with thresholds, callbacks, rejects, expiries, abandons, priority changes) runs
/// against the Redis queue and the in-memory one, and every result must be the same — offers included (call, agent,
/// serving group, callback flag), with level-first groups and random agent levels for most seeds. The Redis script reads a head index and walks priority bands for overflow, the in-memory
/// queue scans everything, so agreement here means the shortcut keeps the rules.
/// </summary>
public sealed class RedisMatchesInMemoryTests(RedisFixture redis) : IClassFixture<RedisFixture>, IAsyncLifetime
{
    private static readonly string[] Skills = ["普通话", "方言", "English"];
    private static readonly int[] Priorities = [0, 0, 0, 5, 20, -3];
    private static readonly DateTimeOffset T0 = new(2025, 7, 1, 8, 0, 0, TimeSpan.FromHours(8));

    private ConnectionMultiplexer? _connection;

    public async Task InitializeAsync() => _connection = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);

    public async Task DisposeAsync()
    {
        await _connection!.CloseAsync();
        _connection.Dispose();
    }

    [Theory]
    [InlineData(1, true)]
    [InlineData(2, true)]
    [InlineData(3, true)]
    [InlineData(4, true)]
    [InlineData(5, false)]
    [InlineData(6, false)]
    public async Task Redis_and_in_memory_queues_make_the_same_offers_for_a_random_workload(int seed, bool overflow)
    {
        var rules = !overflow ? [] : new List<OverflowRule>
        {
            new("方言", TimeSpan.FromSeconds(20), ["普通话", "English"]),
            new("English", TimeSpan.FromSeconds(40), ["普通话"]),
            new("普通话", TimeSpan.FromSeconds(60), ["方言"]),
            new("方言", TimeSpan.FromSeconds(90), ["English"]),
        };
        var redisQueue = new RedisCallQueue(_connection!, "diff" + seed + Guid.NewGuid().ToString("N")[..8]);
        var memory = new InMemoryCallQueue();
        ICallQueue[] queues = [redisQueue, memory];
        // Level-first groups (highest level, then longest idle) for most seeds; agents get random levels 1-9.
        string[] levelFirst = seed % 3 == 0 ? [] : seed % 2 == 0 ? ["方言"] : ["English", "普通话"];
        foreach (var q in queues)
        {
            q.UseOverflow(rules);
            q.UseLevelFirst(levelFirst);
        }

        var random = new Random(seed);
        var now = T0;
        var calls = new List<string>();
        var reserved = new List<(string Call, string Agent)>();
        var connected = new List<string>();
        var offered = 0;
        var overflowed = 0;

        async Task<T> Both<T>(string what, Func<ICallQueue, Task<T>> op, Func<T, string> show)
        {
            var result = await op(redisQueue);
            var a = show(result);
            var b = show(await op(memory));
            Assert.True(a == b, $"seed {seed}, step {what}: Redis {a}, in-memory {b}");
            return result;
        }

        static string Offers(IReadOnlyList<Offer> offers) =>
            string.Join(" ", offers.Select(o => $"{o.CallId}>{o.AgentId}@{o.Skill}{(o.Callback ? "(cb)" : "")}"));

        for (var step = 0; step < 1_000; step++)
        {
            now = now.AddMilliseconds(random.Next(4) == 0 ? 0 : random.Next(1, 8_000));
            var at = now;
            switch (random.Next(14))
            {
                case 0 or 1 or 2:
                {
                    var id = "c" + step;
                    var enqueued = at.AddSeconds(-random.Next(0, 3)); // whole seconds back: equal enqueue times happen
                    var call = new QueuedCall(id, "138" + step, "12345", Skills[random.Next(Skills.Length)], Priorities[random.Next(Priorities.Length)], enqueued);
                    await Both("enqueue " + id, q => q.EnqueueAsync(call), r => r.ToString());
                    calls.Add(id);
                    break;
                }

                case 3 or 4:
                {
                    var agent = "a" + random.Next(8);
                    var skills = Skills.Where(_ => random.Next(2) == 0).Select(s => new AgentSkill(s, random.Next(1, 10))).ToList();
                    if (skills.Count == 0) skills.Add(new AgentSkill(Skills[random.Next(Skills.Length)]));
                    await Both("ready " + agent, q => q.SetReadyAsync(agent, skills, at), r => r.ToString());
                    break;
                }

                case 5:
                {
                    var agent = "a" + random.Next(8);
                    await Both("not ready " + agent, q => q.SetNotReadyAsync(agent, "小休", at), r => r.ToString());
                    break;
                }

                case 6 or 7 or 8:
                {
                    var max = random.Next(1, 4);
                    var made = await Both(step + " dispatch", q => q.DispatchAsync(at, TimeSpan.FromSeconds(20), max), Offers);
                    reserved.AddRange(made.Select(o => (o.CallId, o.AgentId)));
                    offered += made.Count;
                    overflowed += made.Count(o => o.Skill != o.Call.Skill);
                    break;
                }

                case 9 when reserved.Count > 0:
                {
                    var (call, agent) = reserved[random.Next(reserved.Count)];
                    reserved.Remove((call, agent));
                    if (random.Next(2) == 0)
                    {
                        await Both("accept " + call, q => q.AcceptAsync(agent, call, at), r => r.ToString());
                        connected.Add(call);
                    }
                    else
                    {
                        await Both("reject " + call, q => q.RejectAsync(agent, call, at), r => r.ToString());
                    }

                    break;
                }

                case 10 when connected.Count > 0:
                {
                    var call = connected[random.Next(connected.Count)];
                    connected.Remove(call);
                    await Both("end " + call, q => q.EndCallAsync(call, at), r => r.ToString());
                    break;
                }

                case 11 when calls.Count > 0:
                {
                    var call = calls[random.Next(calls.Count)];
                    switch (random.Next(3))
                    {
                        case 0:
                            await Both("abandon " + call, q => q.AbandonAsync(call, at), r => r.ToString());
                            reserved.RemoveAll(r => r.Call == call);
                            break;
                        case 1:
                            var priority = Priorities[random.Next(Priorities.Length)];
                            await Both("priority " + call, q => q.SetPriorityAsync(call, priority), r => r.ToString());
                            break;
                        default:
                            await Both("callback " + call, q => q.ConvertToCallbackAsync(call, at), r => r.ToString());
                            break;
                    }

                    break;
                }

                case 12:
                {
                    var expired = await Both(step + " expire", q => q.ExpireReservationsAsync(at),
                        e => string.Join(" ", e.Select(o => $"{o.CallId}>{o.AgentId}").Order(StringComparer.Ordinal)));
                    reserved.RemoveAll(r => expired.Any(e => e.CallId == r.Call));
                    break;
                }

                case 13:
                {
                    var agent = "a" + random.Next(8);
                    await Both("log out " + agent, async q => { await q.LogOutAsync(agent, at); return 0; }, _ => "");
                    reserved.RemoveAll(r => r.Agent == agent);
                    break;
                }
            }

            if (step % 50 == 49)
            {
                Assert.Empty(await redisQueue.VerifyInvariantsAsync());
                Assert.Empty(memory.VerifyInvariants());
            }
        }

        await Both("snapshot", q => q.GetSnapshotAsync(now), s => string.Join(" ", s.Skills.OrderBy(k => k.Skill, StringComparer.Ordinal).Select(k => $"{k.Skill}:{k.Waiting}/{k.ReadyAgents} wait {k.LongestWait.TotalMilliseconds}")) + $" reserved {s.Reserved} connected {s.Connected} missed {s.Missed}");
        Assert.Empty(await redisQueue.VerifyInvariantsAsync());
        Assert.True(offered >= 60, $"seed {seed}: only {offered} offers — the workload should exercise dispatch");
        Assert.True(overflow ? overflowed >= 10 : overflowed == 0, $"seed {seed}: {overflowed} offers overflowed");
    }
}
