using System.Security.Claims;
using Hotline.Domain.Calendar;
using Hotline.Domain.Tickets;
using Hotline.EventStore;
using Hotline.EventStore.Postgres;
using Hotline.EventStore.Sqlite;
using Hotline.Server.Calendar;
using Hotline.Server.Reference;
using Hotline.Server.Storage;
using Hotline.Server.Tickets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hotline.Server.Tests.ReadModels;

/// <summary>
/// The search projection on a real event store and search store (SQLite; PostgreSQL): it resumes from its stored
/// checkpoint after a restart (only the events after it are applied), and a rebuild from position 0 gives the same
/// answers while searches keep answering from the in-memory index.
/// </summary>
public abstract class TicketSearchProjectionTests
{
    /// <summary>Fresh databases; each call of the returned factories opens the same ones again (a restart).</summary>
    protected abstract Task<(Func<IEventStore> Events, Func<ITicketSearchStore> Search)> CreateAsync();

    private static readonly ClaimsPrincipal Dispatcher = new(new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, "disp1"), new Claim(ClaimTypes.Role, "dispatcher")], "test"));
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    private sealed class Node : IAsyncDisposable
    {
        private readonly ServiceProvider _services;

        public Node(IEventStore events, ITicketSearchStore search)
        {
            var s = new ServiceCollection();
            s.AddSingleton(TimeProvider.System);
            s.AddSingleton(events);
            s.AddSingleton(_ => new EventSerializer(TicketEventTypes.All.Append(typeof(TicketNumberAssigned))));
            s.AddSingleton(_ => new CalendarDeadlines(TimeLimitRules.Default, HolidaySchedule.Official));
            s.AddSingleton(_ => DemoCity.Create());
            s.AddSingleton(sp => new TicketContext(sp.GetRequiredService<CalendarDeadlines>(), sp.GetRequiredService<CityReference>()));
            s.AddSingleton<TicketStore>();
            s.AddSingleton<TicketNumbers>();
            s.AddSingleton<TicketIndex>();
            s.AddSingleton(new RepeatRules());
            s.AddSingleton<TicketService>();
            _services = s.BuildServiceProvider();
            Search = new CountingStore(search);
            Projection = new TicketSearchProjection(events, Search, _services.GetRequiredService<TicketStore>(), _services.GetRequiredService<TicketIndex>(),
                _services.GetRequiredService<EventSerializer>(), NullLogger<TicketSearchProjection>.Instance);
            Searcher = new TicketSearchService(Projection, _services.GetRequiredService<TicketIndex>(), _services.GetRequiredService<CityReference>(), NullLogger<TicketSearchService>.Instance);
        }

        public CountingStore Search { get; }
        public TicketSearchProjection Projection { get; }
        public TicketSearchService Searcher { get; }
        public IEventStore Events => _services.GetRequiredService<IEventStore>();

        public async Task StartAsync()
        {
            await Projection.StartAsync(CancellationToken.None);
            await Projection.CaughtUp.WaitAsync(Patience);
        }

        public async Task<Guid> RegisterAsync(string content, string category, string area = "010101")
        {
            var r = await _services.GetRequiredService<TicketService>().RegisterAsync(new RegisterTicket(Guid.Empty, "", "电话", "投诉", "一般", category, area, "湖滨路 1 号", content,
                "王先生", "13912345678", false, null, "agent1"), Guid.NewGuid().ToString(), Guid.NewGuid(), CancellationToken.None);
            return r.Ticket.Id;
        }

        public async Task DispatchAsync(Guid id, string unitId)
        {
            var tickets = _services.GetRequiredService<TicketService>();
            var current = (await tickets.LoadAsync(id, CancellationToken.None)).Ticket;
            await tickets.ExecuteAsync(id, current.Version, new DispatchTicket(Guid.NewGuid(), unitId, "请核处", "disp1"), null, Guid.NewGuid(), CancellationToken.None);
        }

        public async Task<Guid[]> FindAsync(string? q = null, string? unit = null, string? category = null, string? state = null)
        {
            var (rows, _, _) = await Searcher.SearchAsync(new TicketSearch(null, null, q, category, null, unit, state, null, null, null, null, 1, 50), Dispatcher, CancellationToken.None);
            return [.. rows.Select(t => t.Id)];
        }

        /// <summary>The store's own answer (ids only; no in-memory index needed).</summary>
        public async Task<Guid[]> StoredAsync(TicketSearchQuery q) => [.. (await Search.SearchAsync(q with { Limit = 50 }, CancellationToken.None)).Ids];

        public async ValueTask DisposeAsync()
        {
            await Projection.StopAsync(CancellationToken.None);
            Projection.Dispose();
            await _services.DisposeAsync();
        }
    }

    /// <summary>Records the rows each save wrote; a closed gate holds a reset (to look at searches during a rebuild).</summary>
    public sealed class CountingStore(ITicketSearchStore inner) : ITicketSearchStore
    {
        public List<Guid> Saved { get; } = [];
        public TaskCompletionSource ResetGate { get; set; } = CompletedGate();

        private static TaskCompletionSource CompletedGate()
        {
            var t = new TaskCompletionSource();
            t.SetResult();
            return t;
        }

        public string Engine => inner.Engine;
        public Task InitializeAsync(CancellationToken ct) => inner.InitializeAsync(ct);
        public Task<long> GetCheckpointAsync(string readModel, CancellationToken ct) => inner.GetCheckpointAsync(readModel, ct);

        public Task SaveAsync(IReadOnlyCollection<TicketSearchRow> rows, string readModel, long position, CancellationToken ct)
        {
            lock (Saved) Saved.AddRange(rows.Select(r => r.TicketId));
            return inner.SaveAsync(rows, readModel, position, ct);
        }

        public async Task ResetAsync(string readModel, CancellationToken ct)
        {
            await ResetGate.Task.WaitAsync(ct);
            await inner.ResetAsync(readModel, ct);
        }

        public Task<TicketSearchResult> SearchAsync(TicketSearchQuery q, CancellationToken ct) => inner.SearchAsync(q, ct);
        public Task ResetAllAsync(CancellationToken ct) => inner.ResetAllAsync(ct);
    }

    [Fact]
    public async Task The_projection_resumes_from_its_checkpoint_after_a_restart()
    {
        var (events, search) = await CreateAsync();
        Guid noise, corridor, again;
        await using (var first = new Node(events(), search()))
        {
            noise = await first.RegisterAsync("夜间施工噪音扰民，工地凌晨还在作业", "020301");
            corridor = await first.RegisterAsync("小区物业长期不清理楼道垃圾", "010201");
            await first.DispatchAsync(noise, "cgj");
            await first.StartAsync();
            Assert.Equal([noise], await first.FindAsync("噪音"));
            Assert.Equal([noise], await first.FindAsync(unit: "cgj", state: "Dispatched"));
            Assert.Equal(await first.Events.GetHeadPositionAsync(), await first.Search.GetCheckpointAsync(TicketSearchProjection.ReadModelName, CancellationToken.None));
            Assert.Equal(first.Projection.Store.Engine, first.Searcher.Source);
        }

        // Written while no projection runs; the restarted one applies only what came after its checkpoint.
        await using (var writer = new Node(events(), search()))
            again = await writer.RegisterAsync("楼上装修噪音太大", "020302");

        await using var restarted = new Node(events(), search());
        await restarted.StartAsync();
        Assert.Equal([again], restarted.Search.Saved.Distinct().ToArray());
        Assert.Equal([again, noise], await restarted.StoredAsync(new TicketSearchQuery(Text: "噪音")));
        Assert.Equal([corridor], await restarted.StoredAsync(new TicketSearchQuery(Text: "楼道垃圾")));
        Assert.Equal(await restarted.Events.GetHeadPositionAsync(), await restarted.Search.GetCheckpointAsync(TicketSearchProjection.ReadModelName, CancellationToken.None));
    }

    [Fact]
    public async Task A_rebuild_from_position_0_gives_the_same_results_and_searches_keep_answering_meanwhile()
    {
        var (events, search) = await CreateAsync();
        await using var node = new Node(events(), search());
        var noise = await node.RegisterAsync("夜间施工噪音扰民，工地凌晨还在作业", "020301");
        var corridor = await node.RegisterAsync("小区物业长期不清理楼道垃圾", "010201", "020101");
        var again = await node.RegisterAsync("楼上装修噪音太大", "020302");
        await node.DispatchAsync(noise, "cgj");
        await node.StartAsync();

        async Task<Guid[][]> Answers() =>
        [
            await node.FindAsync("噪音"), await node.FindAsync("楼道垃圾"), await node.FindAsync(category: "02"),
            await node.FindAsync(unit: "cgj"), await node.FindAsync(state: "Registered"), await node.FindAsync(),
        ];
        var before = await Answers();
        Assert.Equal([again, noise], before[0]);
        Assert.Equal([corridor], before[1]);
        Assert.Equal([again, corridor, noise], before[5]);

        node.Search.ResetGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        node.Search.Saved.Clear();
        var rebuilt = node.Projection.RebuildAsync();
        Assert.True(node.Projection.Rebuilding);
        Assert.False(node.Searcher.Persistent);
        Assert.StartsWith("memory", node.Searcher.Source, StringComparison.Ordinal);
        Assert.Equal(before, await Answers());           // answered from the in-memory index during the rebuild

        node.Search.ResetGate.SetResult();
        await rebuilt.WaitAsync(Patience);
        Assert.False(node.Projection.Rebuilding);
        Assert.True(node.Searcher.Persistent);
        Assert.Equal(before, await Answers());           // answered from the rebuilt table
        Assert.Equal(new[] { again, corridor, noise }.Order(), node.Search.Saved.Distinct().Order()); // every row written again
        Assert.Equal(await node.Events.GetHeadPositionAsync(), await node.Search.GetCheckpointAsync(TicketSearchProjection.ReadModelName, CancellationToken.None));
    }
}

public sealed class SqliteTicketSearchProjectionTests : TicketSearchProjectionTests, IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("hotline-search-projection-");

    protected override Task<(Func<IEventStore> Events, Func<ITicketSearchStore> Search)> CreateAsync()
    {
        var name = Guid.NewGuid().ToString("N");
        var events = $"Data Source={Path.Combine(_dir.FullName, name + "-events.db")}";
        var search = $"Data Source={Path.Combine(_dir.FullName, name + "-readmodels.db")}";
        return Task.FromResult<(Func<IEventStore>, Func<ITicketSearchStore>)>((() => new SqliteEventStore(events), () => new SqliteTicketSearchStore(search)));
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { _dir.Delete(true); } catch (IOException) { }
    }
}

[Collection(ServersCollection.Name)]
public sealed class PostgresTicketSearchProjectionTests(ServersFixture servers) : TicketSearchProjectionTests
{
    protected override async Task<(Func<IEventStore> Events, Func<ITicketSearchStore> Search)> CreateAsync()
    {
        var cs = await servers.Postgres.CreateDatabaseAsync("searchprojection");
        return (() => new PostgresEventStore(cs), () => new PostgresTicketSearchStore(cs));
    }
}
