using Hotline.Server.Tickets;
using Npgsql;

namespace Hotline.Server.Tests.ReadModels;

/// <summary>
/// One suite for both search stores: SQLite FTS5 trigram (embedded) and PostgreSQL pg_trgm (a real server). Chinese
/// queries of 2 characters (below the trigram size: the LIKE/instr fallback on the same table) and of 4+ characters
/// (the trigram index), filters combined, paging, checkpoints.
/// </summary>
public abstract class TicketSearchStoreTests
{
    protected abstract Task<ITicketSearchStore> CreateAsync();

    protected static readonly Guid Construction = Guid.Parse("00000000-0000-0000-0000-00000000000a");
    protected static readonly Guid Corridor = Guid.Parse("00000000-0000-0000-0000-00000000000b");
    protected static readonly Guid Dancing = Guid.Parse("00000000-0000-0000-0000-00000000000c");
    protected static readonly Guid CorridorAgain = Guid.Parse("00000000-0000-0000-0000-00000000000d");
    protected static readonly Guid Discount = Guid.Parse("00000000-0000-0000-0000-00000000000e");

    private static TicketSearchRow Row(Guid id, string number, string category, string area, string[] units, string state, string day, string text, bool repeat = false, long version = 3, string phone = "13912345678") =>
        new(id, version, number, phone, category, area, units, state, DateTimeOffset.Parse(day + "T10:00:00+08:00", System.Globalization.CultureInfo.InvariantCulture),
            DateOnly.Parse(day, System.Globalization.CultureInfo.InvariantCulture), repeat, number + "\n" + text);

    private static readonly TicketSearchRow[] Rows =
    [
        Row(Construction, "20261120-000001", "020301", "010101", ["gov-01", "town-0101"], "InProgress", "2026-11-20", "夜间施工噪音扰民，工地凌晨还在作业\n湖滨路 8 号"),
        Row(Corridor, "20261121-000001", "010201", "020101", ["zjj"], "Dispatched", "2026-11-21", "小区物业长期不清理楼道垃圾\n西山路 1 号", phone: "13800001111"),
        Row(Dancing, "20261110-000001", "020302", "010201", [], "Registered", "2026-11-10", "广场舞噪音太大\n青石广场"),
        Row(CorridorAgain, "20261122-000001", "010201", "010101", ["gov-01"], "Registered", "2026-11-22", "楼道垃圾堆放，无人清理\n湖滨路 88 号", repeat: true),
        Row(Discount, "20261122-000002", "030102", "030101", ["scjgj"], "Closed", "2026-11-22", "预付卡打折50%后商家跑路\n江南路 2 号"),
    ];

    private async Task<ITicketSearchStore> SeededAsync()
    {
        var store = await CreateAsync();
        await store.InitializeAsync(CancellationToken.None);
        await store.SaveAsync(Rows, "ticket-search", 42, CancellationToken.None);
        return store;
    }

    private static async Task<Guid[]> Ids(ITicketSearchStore store, TicketSearchQuery q) => [.. (await store.SearchAsync(q with { Limit = 50 }, CancellationToken.None)).Ids];

    [Fact]
    public async Task A_two_character_chinese_query_matches_by_substring()
    {
        var store = await SeededAsync();
        Assert.Equal([Dancing, Construction], await Ids(store, new TicketSearchQuery(Text: "噪音", Sort: "number")));
        Assert.Equal([Discount], await Ids(store, new TicketSearchQuery(Text: "跑路")));
        Assert.Empty(await Ids(store, new TicketSearchQuery(Text: "停水")));
    }

    [Fact]
    public async Task A_query_of_four_or_more_chinese_characters_uses_the_trigram_index_and_matches_substrings_only()
    {
        var store = await SeededAsync();
        Assert.Equal([CorridorAgain, Corridor], await Ids(store, new TicketSearchQuery(Text: "楼道垃圾")));
        Assert.Equal([Construction], await Ids(store, new TicketSearchQuery(Text: "施工噪音扰民")));
        Assert.Empty(await Ids(store, new TicketSearchQuery(Text: "垃圾楼道")));   // every character present, not as a substring
        Assert.Equal([Construction, CorridorAgain], await Ids(store, new TicketSearchQuery(Text: "湖滨路", Sort: "number")));
    }

    [Fact]
    public async Task Wildcards_and_quotes_in_the_query_are_plain_characters()
    {
        var store = await SeededAsync();
        Assert.Equal([Discount], await Ids(store, new TicketSearchQuery(Text: "50%")));
        Assert.Equal([Discount], await Ids(store, new TicketSearchQuery(Text: "%")));
        Assert.Empty(await Ids(store, new TicketSearchQuery(Text: "_")));
        Assert.Empty(await Ids(store, new TicketSearchQuery(Text: "\"噪音\" OR 垃圾")));
    }

    [Fact]
    public async Task Filters_combine_text_category_area_unit_state_dates_and_repeat()
    {
        var store = await SeededAsync();
        Assert.Equal([CorridorAgain], await Ids(store, new TicketSearchQuery(Text: "垃圾", CategoryPrefix: "0102", AreaPrefix: "01")));
        Assert.Equal([Construction], await Ids(store, new TicketSearchQuery(AnyUnit: ["gov-01", "town-0101"], States: ["InProgress", "Dispatched"], From: new DateOnly(2026, 11, 19), To: new DateOnly(2026, 11, 20))));
        Assert.Equal([CorridorAgain, Construction], await Ids(store, new TicketSearchQuery(VisibleUnits: ["gov-01", "town-0101", "town-0102"])));
        Assert.Equal([CorridorAgain], await Ids(store, new TicketSearchQuery(Repeat: true)));
        Assert.Equal([Discount, CorridorAgain], await Ids(store, new TicketSearchQuery(From: new DateOnly(2026, 11, 22), To: new DateOnly(2026, 11, 22), Sort: "-number")));
        Assert.Equal([Corridor], await Ids(store, new TicketSearchQuery(Number: "1121")));
        Assert.Equal([Corridor], await Ids(store, new TicketSearchQuery(Phone: "0000111")));
        Assert.Empty(await Ids(store, new TicketSearchQuery(Text: "0000111")));
        Assert.Equal([Corridor], await Ids(store, new TicketSearchQuery(Text: "0000111", TextMatchesPhone: true)));
        Assert.Empty(await Ids(store, new TicketSearchQuery(VisibleUnits: [])));
    }

    [Fact]
    public async Task Pages_come_in_order_with_the_total()
    {
        var store = await SeededAsync();
        var page2 = await store.SearchAsync(new TicketSearchQuery(Sort: "-created", Offset: 2, Limit: 2), CancellationToken.None);
        Assert.Equal(5, page2.Total);
        Assert.Equal([Corridor, Construction], page2.Ids);
        var beyond = await store.SearchAsync(new TicketSearchQuery(Text: "噪音", Offset: 10, Limit: 2), CancellationToken.None);
        Assert.Empty(beyond.Ids);
        Assert.Equal(2, beyond.Total);
    }

    [Fact]
    public async Task A_row_never_goes_back_to_an_older_version_and_the_checkpoint_moves_with_the_rows()
    {
        var store = await SeededAsync();
        Assert.Equal(42, await store.GetCheckpointAsync("ticket-search", CancellationToken.None));
        var older = Rows[0] with { Version = 2, State = "Registered", Text = "旧内容" };
        await store.SaveAsync([older], "ticket-search", 43, CancellationToken.None);
        Assert.Equal([Construction], await Ids(store, new TicketSearchQuery(Text: "施工噪音", States: ["InProgress"])));
        var newer = Rows[0] with { Version = 9, State = "Closed", Text = "内容已更新：施工已停止" };
        await store.SaveAsync([newer], "ticket-search", 44, CancellationToken.None);
        Assert.Empty(await Ids(store, new TicketSearchQuery(Text: "施工噪音")));
        Assert.Equal([Construction], await Ids(store, new TicketSearchQuery(Text: "施工已停止", States: ["Closed"])));
        Assert.Equal(44, await store.GetCheckpointAsync("ticket-search", CancellationToken.None));

        await store.ResetAsync("ticket-search", CancellationToken.None);
        Assert.Equal(0, await store.GetCheckpointAsync("ticket-search", CancellationToken.None));
        Assert.Empty(await Ids(store, new TicketSearchQuery(Text: "施工已停止")));
        Assert.Empty(await Ids(store, new TicketSearchQuery()));
    }
}

public sealed class SqliteTicketSearchStoreTests : TicketSearchStoreTests, IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("hotline-search-");

    protected override Task<ITicketSearchStore> CreateAsync() =>
        Task.FromResult<ITicketSearchStore>(new SqliteTicketSearchStore($"Data Source={Path.Combine(_dir.FullName, Guid.NewGuid().ToString("N") + ".db")}"));

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { _dir.Delete(true); } catch (IOException) { }
    }
}

[Collection(ServersCollection.Name)]
public sealed class PostgresTicketSearchStoreTests(ServersFixture servers) : TicketSearchStoreTests
{
    protected override async Task<ITicketSearchStore> CreateAsync() => new PostgresTicketSearchStore(await servers.Postgres.CreateDatabaseAsync("search"));

    [Fact]
    public async Task The_schema_creates_pg_trgm_and_a_trigram_gin_index_that_answers_long_queries()
    {
        var cs = await servers.Postgres.CreateDatabaseAsync("search");
        var store = new PostgresTicketSearchStore(cs);
        await store.InitializeAsync(CancellationToken.None);
        await store.InitializeAsync(CancellationToken.None); // idempotent
        await using var c = new NpgsqlConnection(cs);
        await c.OpenAsync();
        await using (var ext = new NpgsqlCommand("SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'", c))
            Assert.Equal(1L, await ext.ExecuteScalarAsync());
        await using var plan = new NpgsqlCommand("SET enable_seqscan = off; EXPLAIN SELECT ticket_id FROM ticket_search WHERE text LIKE '%abcdef%'", c);
        var lines = new List<string>();
        await using (var r = await plan.ExecuteReaderAsync())
            while (await r.ReadAsync()) lines.Add(r.GetString(0));
        Assert.Contains(lines, l => l.Contains("ticket_search_text_trgm", StringComparison.Ordinal));
    }
}
