using System.Collections.Concurrent;
using System.Net;
using Hotline.EventStore;
using Hotline.EventStore.Postgres;
using Hotline.EventStore.Sqlite;
using Hotline.Server.Storage;
using Hotline.Server.Tests.Faults;
using Hotline.Server.Tickets;
using Hotline.Testing;

namespace Hotline.Server.Tests.Tickets;

/// <summary>
/// Ticket numbers from blocks reserved per node per day (<see cref="TicketNumbers"/>), against each real store: two
/// "nodes" (two <see cref="TicketNumbers"/> on two store instances over one database) never share a number, a new
/// instance continues after the last reserved block, and day streams written before blocks (one
/// <see cref="TicketNumberAssigned"/> per ticket) still load.
/// </summary>
public abstract class TicketNumbersContract
{
    protected static readonly DateTimeOffset Now = new(2026, 11, 22, 2, 0, 0, TimeSpan.Zero); // 10:00 in Shanghai
    protected const string Day = "20261122";

    /// <summary>A fresh database; each call of the returned function opens one more store instance on it.</summary>
    protected abstract Task<Func<IEventStore>> NewDatabaseAsync();

    private static async Task DisposeAsync(IEventStore store)
    {
        if (store is IAsyncDisposable a) await a.DisposeAsync();
        else if (store is IDisposable d) d.Dispose();
    }

    [Fact]
    public async Task Two_nodes_taking_numbers_concurrently_never_share_one()
    {
        var open = await NewDatabaseAsync();
        var (storeA, storeB) = (open(), open());
        try
        {
            using var nodeA = new TicketNumbers(storeA, new TicketNumberOptions { BlockSize = 7 });
            using var nodeB = new TicketNumbers(storeB, new TicketNumberOptions { BlockSize = 7 });
            var taken = new ConcurrentBag<string>();
            await Task.WhenAll(Enumerable.Range(0, 16).Select(i => Task.Run(async () =>
            {
                var node = i % 2 == 0 ? nodeA : nodeB;
                for (var n = 0; n < 25; n++) taken.Add(await node.AssignAsync(Now, CancellationToken.None));
            })));

            Assert.Equal(400, taken.Count);
            Assert.Equal(400, taken.Distinct(StringComparer.Ordinal).Count());
            Assert.All(taken, t => Assert.Matches(@"^20261122-\d{6}$", t));

            var blocks = await BlocksAsync(storeA);
            var sorted = blocks.OrderBy(b => b.From).ToList();
            for (var i = 1; i < sorted.Count; i++) Assert.True(sorted[i].From > sorted[i - 1].To, $"block {sorted[i].From}..{sorted[i].To} overlaps {sorted[i - 1].From}..{sorted[i - 1].To}");
            foreach (var n in taken.Select(t => long.Parse(t[9..], System.Globalization.CultureInfo.InvariantCulture)))
                Assert.Contains(sorted, b => b.From <= n && n <= b.To);
        }
        finally
        {
            await DisposeAsync(storeA);
            await DisposeAsync(storeB);
        }
    }

    [Fact]
    public async Task A_restarted_node_continues_after_the_last_reserved_block()
    {
        var open = await NewDatabaseAsync();
        var store = open();
        try
        {
            using (var before = new TicketNumbers(store, new TicketNumberOptions { BlockSize = 10 }))
            {
                Assert.Equal("20261122-000001", await before.AssignAsync(Now, CancellationToken.None));
                Assert.Equal("20261122-000002", await before.AssignAsync(Now, CancellationToken.None));
                Assert.Equal("20261122-000003", await before.AssignAsync(Now, CancellationToken.None));
            }

            // The restarted node does not know what the old one used: it starts after every reserved block (a gap, never a repeat).
            var last = (await BlocksAsync(store)).Max(b => b.To);
            Assert.Equal(10, last);
            using var after = new TicketNumbers(store, new TicketNumberOptions { BlockSize = 10 });
            Assert.Equal("20261122-000011", await after.AssignAsync(Now, CancellationToken.None));
            Assert.Equal("20261123-000001", await after.AssignAsync(Now.AddDays(1), CancellationToken.None)); // a new day starts at 1
        }
        finally
        {
            await DisposeAsync(store);
        }
    }

    [Fact]
    public async Task A_day_stream_with_per_ticket_entries_from_before_blocks_still_loads()
    {
        var open = await NewDatabaseAsync();
        var store = open();
        try
        {
            var legacy = new EventSerializer([typeof(TicketNumberAssigned)]);
            for (var i = 0; i < 3; i++)
            {
                await store.AppendAsync(TicketNumbers.StreamOf(Day), ExpectedRevision.Any,
                    [legacy.ToEventData(new TicketNumberAssigned(Guid.NewGuid(), Now), Guid.NewGuid(), new EventMetadata("system", null, null, Now))]);
            }

            using var numbers = new TicketNumbers(store, new TicketNumberOptions { BlockSize = 5 });
            Assert.Equal("20261122-000004", await numbers.AssignAsync(Now, CancellationToken.None)); // after the three old numbers
            var audit = await StoreAudit.RunAsync(store);
            Assert.DoesNotContain(audit.Problems, p => !p.Contains("never written", StringComparison.Ordinal)); // the old entries' tickets are not in this store
        }
        finally
        {
            await DisposeAsync(store);
        }
    }

    private static async Task<List<NumberBlockReserved>> BlocksAsync(IEventStore store)
    {
        var serializer = new EventSerializer([typeof(NumberBlockReserved), typeof(TicketNumberAssigned)]);
        var blocks = new List<NumberBlockReserved>();
        await foreach (var e in store.ReadStreamAsync(TicketNumbers.StreamOf(Day)))
        {
            if (serializer.Deserialize(e) is NumberBlockReserved b) blocks.Add(b);
        }
        return blocks;
    }
}

public sealed class TicketNumbersOnSqlite : TicketNumbersContract
{
    protected override Task<Func<IEventStore>> NewDatabaseAsync()
    {
        var file = Path.Combine(Directory.CreateTempSubdirectory("hotline-numbers-").FullName, "events.db");
        return Task.FromResult<Func<IEventStore>>(() => new SqliteEventStore($"Data Source={file}", TimeProvider.System));
    }
}

[Collection(ServersCollection.Name)]
public sealed class TicketNumbersOnPostgres(ServersFixture servers) : TicketNumbersContract
{
    protected override async Task<Func<IEventStore>> NewDatabaseAsync()
    {
        var cs = await servers.Postgres.CreateDatabaseAsync("numbers");
        return () => new PostgresEventStore(cs, TimeProvider.System);
    }
}

/// <summary>Two real server processes on one PostgreSQL register tickets at the same time; then one is killed and restarted.</summary>
[Collection(ServersCollection.Name)]
public sealed class TwoNodeTicketNumberTests(ServersFixture servers)
{
    [Fact]
    public async Task Two_servers_on_one_PostgreSQL_give_no_number_twice_and_a_restarted_one_continues_after_the_last_block()
    {
        var settings = FaultSettings.Relaxed();
        foreach (var (k, v) in await servers.ProductionSettingsAsync()) settings[k] = v;
        settings["Hotline:TicketNumbers:BlockSize"] = "5"; // many reservations, so the two nodes race for blocks
        await using var nodeA = await ServerProcess.StartAsync(settings);
        await using var nodeB = await ServerProcess.StartAsync(settings);
        using var agentA = await ApiClient.LoginAsync(nodeA, "agent1");
        using var agentB = await ApiClient.LoginAsync(nodeB, "agent2");

        var numbers = new ConcurrentDictionary<string, string>(StringComparer.Ordinal); // ticket id → number
        var failures = new ConcurrentQueue<string>();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            var agent = w % 2 == 0 ? agentA : agentB;
            for (var i = 0; i < 15; i++)
            {
                var (status, body, _) = await agent.SendAsync(HttpMethod.Post, "api/tickets", Registration($"{w}-{i}"), idempotencyKey: Guid.NewGuid().ToString("N"));
                if (status != HttpStatusCode.Created) { failures.Enqueue($"{status}: {body}"); continue; }
                numbers[(string)body!["id"]!] = (string)body["number"]!;
            }
        })));
        Assert.True(failures.IsEmpty, string.Join("\n", failures.Take(5)));
        Assert.Equal(120, numbers.Count);
        Assert.Equal(120, numbers.Values.Distinct(StringComparer.Ordinal).Count());

        var audit = await StoreAudit.RunAsync(nodeA, settings);
        Assert.True(audit.Problems.Count == 0, string.Join("\n", audit.Problems.Take(20)));
        var day = numbers.Values.First()[..8];
        var blocks = await BlocksAsync(nodeA, settings, day);
        Assert.True(blocks.Select(b => b.Node).Distinct().Count() == 2, "both nodes reserved blocks");

        // kill -9 node B and start it again: its first number comes after every block reserved so far (the rest of its old blocks is a gap).
        await nodeB.KillAsync();
        await nodeB.StartAsync();
        var lastReserved = (await BlocksAsync(nodeA, settings, day)).Max(b => b.To);
        using var agentB2 = await ApiClient.LoginAsync(nodeB, "agent2");
        var (s2, after, _) = await agentB2.SendAsync(HttpMethod.Post, "api/tickets", Registration("after-restart"), idempotencyKey: Guid.NewGuid().ToString("N"));
        Assert.Equal(HttpStatusCode.Created, s2);
        Assert.Equal(TicketNumbers.Format(day, lastReserved + 1), (string)after!["number"]!);
    }

    private static async Task<List<NumberBlockReserved>> BlocksAsync(ServerProcess server, IReadOnlyDictionary<string, string> settings, string day)
    {
        var store = StoreAudit.Open(server, settings);
        try
        {
            var blocks = new List<NumberBlockReserved>();
            await foreach (var e in store.ReadStreamAsync(TicketNumbers.StreamOf(day)))
            {
                if (StoreAudit.Serializer.Deserialize(e) is NumberBlockReserved b) blocks.Add(b);
            }
            return blocks;
        }
        finally
        {
            if (store is IAsyncDisposable d) await d.DisposeAsync();
        }
    }

    private static object Registration(string tag) => new
    {
        channel = "电话", type = "咨询", urgency = "一般", categoryCode = "010201", areaCode = "010101",
        address = "湖滨路 1 号", content = $"两节点编号测试 {tag}", callerName = "王建华", callerPhone = "13900000000",
    };
}
