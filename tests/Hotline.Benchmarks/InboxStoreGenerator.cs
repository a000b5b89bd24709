using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using Hotline.Domain.Common;
using Hotline.Domain.Tickets;
using Hotline.EventStore;
using Hotline.EventStore.Sqlite;
using Microsoft.Data.Sqlite;

namespace Hotline.Benchmarks;

/// <summary>
/// Bulk-writes a realistic ticket history straight into the embedded event store's <c>events</c> table (schema as in
/// src/Hotline.EventStore/README.md, created by <see cref="SqliteEventStore"/> itself): about one ticket per
/// <see cref="EventsPerTicket"/> events, registered evenly over the year before now, each going through its lifecycle
/// (registered, dispatched to a department or a district over the demo unit tree, sub-dispatched to a town, signed,
/// contacted, noted, extended, co-handled, replied, reviewed or reworked, callback, closed). Events go into <c>$all</c> in
/// time order across tickets (a priority queue of the tickets under way), so the log interleaves like a real one, and
/// tickets registered in the last weeks are still open at every stage. Event types and JSON are the server's own
/// (<c>[EventType]</c> names, System.Text.Json web defaults, as <c>Hotline.Server.Storage.EventSerializer</c>), so the
/// server reads them as its own. Not through the append path: one prepared INSERT in transactions of 100,000 rows with
/// the journal off, then the file is switched back to WAL as the store expects.
/// </summary>
internal static class InboxStoreGenerator
{
    /// <summary>The lifecycles below average about 11.5 events per ticket.</summary>
    public const double EventsPerTicket = 11.5;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static readonly JsonSerializerOptions MetadataJson = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };
    private static readonly Dictionary<Type, string> Names = TicketEventTypes.All.ToDictionary(t => t, t => t.GetCustomAttribute<EventTypeAttribute>()!.Name);

    /// <summary>The demo city's departments by category root (DemoCity.cs catalogue).</summary>
    private static readonly (string Category, string Unit)[] Departments =
    [
        ("010101", "zjj"), ("010201", "zjj"), ("010202", "zjj"), ("010301", "cgj"), ("020101", "cgj"), ("020301", "cgj"), ("030101", "scjgj"),
        ("030201", "scjgj"), ("040101", "rsj"), ("040201", "rsj"), ("050101", "jyj"), ("060101", "wjw"), ("070101", "jtj"), ("070301", "jtj"),
        ("080101", "sthjj"), ("090101", "swjt"), ("090201", "gdgs"), ("090301", "rqjt"), ("100201", "gaj"), ("110101", "mzj"), ("110201", "mzj"),
    ];

    /// <summary>Districts and their towns (unit ids "gov-NN" / "town-NNNN"), with a community area code under each town.</summary>
    private static readonly string[] Districts = ["01", "02", "03", "04", "05"];
    private static readonly string[] TownSuffixes = ["01", "02"];

    private static readonly string[] Contents =
    [
        "小区物业长期不清理楼道垃圾，多次反映无果。", "夜间施工噪音扰民，影响休息，请尽快处理。", "路灯损坏多日无人维修，夜间出行不安全。",
        "公司拖欠三个月工资，要求协调支付。", "预付卡商家关门跑路，要求退款。", "自来水水质浑浊有异味，请检测。",
        "小区门口占道经营严重，造成交通拥堵。", "燃气费收费标准不清楚，请核实。", "孩子入学报名材料问题，请咨询政策。",
        "河道有污水排放，气味难闻，请环保部门处理。", "停车收费不合理，要求公示收费依据。", "楼上住户违建阳光房，影响采光。",
    ];

    private static readonly string[] Streets = ["湖滨路", "青石街", "西山大道", "枫林路", "江南大道", "滨江路", "北岸路", "柳湾街", "科技大道", "创业路"];

    public sealed record Result(long Events, long Tickets, TimeSpan Elapsed, long Bytes);

    /// <summary>Writes about <paramref name="events"/> events into a new SQLite event store at <paramref name="path"/>.</summary>
    public static async Task<Result> GenerateSqliteAsync(string path, long events, DateTimeOffset now, TextWriter log)
    {
        var clock = Stopwatch.StartNew();
        var connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString();
        await using (var store = new SqliteEventStore(connectionString))
        {
            await store.GetHeadPositionAsync(); // creates the table exactly as the server does (WAL mode on)
        }

        long written = 0;
        long tickets = 0;
        using (var connection = new SqliteConnection(connectionString))
        {
            connection.Open();
            Exec(connection, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-1000000; PRAGMA temp_store=MEMORY;");
            var tx = connection.BeginTransaction();
            using var insert = connection.CreateCommand();
            insert.CommandText = "INSERT INTO events (stream_id, stream_revision, event_id, type, data, metadata, created) VALUES ($s, $r, $id, $type, $data, $meta, $created)";
            var pStream = insert.Parameters.Add("$s", SqliteType.Text);
            var pRevision = insert.Parameters.Add("$r", SqliteType.Integer);
            var pId = insert.Parameters.Add("$id", SqliteType.Text);
            var pType = insert.Parameters.Add("$type", SqliteType.Text);
            var pData = insert.Parameters.Add("$data", SqliteType.Text);
            var pMeta = insert.Parameters.Add("$meta", SqliteType.Text);
            var pCreated = insert.Parameters.Add("$created", SqliteType.Text);
            insert.Transaction = tx;
            insert.Prepare();

            foreach (var (stream, revision, e) in Lifecycles(events, now, () => tickets++))
            {
                var metadata = new EventMetadata(e.By, Guid.NewGuid(), null, e.At);
                pStream.Value = stream;
                pRevision.Value = revision;
                pId.Value = Guid.NewGuid().ToString("D");
                pType.Value = Names[e.GetType()];
                pData.Value = JsonSerializer.Serialize(e, e.GetType(), Json);
                pMeta.Value = JsonSerializer.Serialize(metadata, MetadataJson);
                pCreated.Value = e.At.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture);
                insert.ExecuteNonQuery();
                if (++written % 100_000 == 0)
                {
                    tx.Commit();
                    tx.Dispose();
                    tx = connection.BeginTransaction();
                    insert.Transaction = tx;
                    if (written % 1_000_000 == 0) log.WriteLine($"  generated {written:N0} events ({tickets:N0} tickets) in {clock.Elapsed.TotalSeconds:0} s");
                }
            }

            tx.Commit();
            tx.Dispose();
            Exec(connection, "PRAGMA journal_mode=WAL;");
        }

        return new Result(written, tickets, clock.Elapsed, new FileInfo(path).Length);
    }

    private static void Exec(SqliteConnection connection, string sql)
    {
        using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    /// <summary>
    /// The events of all tickets in global time order: registrations evenly over the year before <paramref name="now"/>
    /// (until about <paramref name="target"/> events), each ticket's later events interleaved by time; events after
    /// <paramref name="now"/> are not written (those tickets stay open where they are).
    /// </summary>
    private static IEnumerable<(string Stream, long Revision, ITicketEvent Event)> Lifecycles(long target, DateTimeOffset now, Action registered)
    {
        var random = new Random(12345);
        var ticketCount = (long)(target / EventsPerTicket);
        var start = now.AddDays(-365);
        var step = TimeSpan.FromDays(365).Ticks / Math.Max(1, ticketCount);
        var queue = new PriorityQueue<(string Stream, List<ITicketEvent> Events, int Next), long>();
        var numbersPerDay = new Dictionary<string, int>(StringComparer.Ordinal);
        long emitted = 0;
        for (long n = 0; n < ticketCount && emitted < target; n++)
        {
            var at = start.AddTicks((n * step) + random.NextInt64(step));
            while (queue.TryPeek(out var head, out var due) && due <= at.UtcTicks)
            {
                queue.Dequeue();
                yield return (head.Stream, head.Next, head.Events[head.Next]);
                emitted++;
                if (head.Next + 1 < head.Events.Count) queue.Enqueue(head with { Next = head.Next + 1 }, head.Events[head.Next + 1].At.UtcTicks);
            }

            var day = at.ToOffset(TimeSpan.FromHours(8)).ToString("yyyyMMdd", CultureInfo.InvariantCulture);
            var number = numbersPerDay[day] = numbersPerDay.GetValueOrDefault(day) + 1;
            var lifecycle = Lifecycle(random, Guid.NewGuid(), $"{day}-{number:D6}", at, n);
            registered();
            var stream = $"ticket-{lifecycle[0].TicketId:N}";
            queue.Enqueue((stream, lifecycle, 0), lifecycle[0].At.UtcTicks);
        }

        while (queue.TryDequeue(out var head, out _) && emitted < target)
        {
            if (head.Events[head.Next].At > now) continue;
            yield return (head.Stream, head.Next, head.Events[head.Next]);
            emitted++;
            if (head.Next + 1 < head.Events.Count) queue.Enqueue(head with { Next = head.Next + 1 }, head.Events[head.Next + 1].At.UtcTicks);
        }
    }

    /// <summary>One ticket's whole life (10 events on average); times increase along the list.</summary>
    private static List<ITicketEvent> Lifecycle(Random random, Guid id, string number, DateTimeOffset at, long n)
    {
        var events = new List<ITicketEvent>(16);
        var t = at;
        DateTimeOffset Later(double minHours, double maxHours) => t = t.AddHours(minHours + (random.NextDouble() * (maxHours - minHours)));
        var (category, department) = Departments[random.Next(Departments.Length)];
        var district = Districts[random.Next(Districts.Length)];
        var town = district + TownSuffixes[random.Next(TownSuffixes.Length)];
        var area = town + "0" + (1 + random.Next(2)).ToString(CultureInfo.InvariantCulture);
        var agent = "agent" + (1 + (n % 40)).ToString(CultureInfo.InvariantCulture);
        var phone = "139" + ((n * 7919) % 100_000_000).ToString("D8", CultureInfo.InvariantCulture);
        events.Add(new TicketRegistered(id, number, n % 5 == 0 ? "网站" : "电话", n % 7 == 0 ? "咨询" : "投诉", n % 50 == 0 ? "紧急" : "一般", category, area,
            $"{Streets[random.Next(Streets.Length)]} {1 + random.Next(300)} 号", Contents[random.Next(Contents.Length)], "市民" + (n % 1000).ToString(CultureInfo.InvariantCulture), phone,
            false, null, at.AddHours(2), false, agent, at));

        var kind = random.Next(100);
        if (kind < 5)
        {
            events.Add(new TicketAnsweredDirectly(id, "已按知识库答复市民。", null, agent, Later(0.05, 0.2)));
            return events;
        }
        if (kind < 7)
        {
            events.Add(new TicketOutOfScope(id, "non-government", "法院", null, agent, Later(0.05, 0.2)));
            return events;
        }

        // Main task: 60% the department of the category, 40% the district government of the area (which passes it down to the town).
        var toDistrict = kind >= 60;
        var mainUnit = toDistrict ? "gov-" + district : department;
        var dispatcher = "disp" + (1 + (n % 8)).ToString(CultureInfo.InvariantCulture);
        var main = Guid.NewGuid();
        var dispatched = Later(0.2, 3);
        events.Add(new TicketDispatched(id, main, mainUnit, TaskRoles.Main, null, dispatched.AddDays(1), dispatched.AddDays(10), false, dispatcher, dispatched, dispatched.AddDays(2)));
        var handler = mainUnit + "-handler";
        events.Add(new TaskSignedFor(id, main, mainUnit, handler, Later(0.5, 20)));
        if (toDistrict)
        {
            var sub = Guid.NewGuid();
            var subAt = Later(0.5, 6);
            events.Add(new TaskSubDispatched(id, sub, main, "town-" + town, mainUnit, null, subAt.AddDays(1), subAt.AddDays(7), subAt.AddDays(2), false, handler, subAt));
            events.Add(new TaskSignedFor(id, sub, "town-" + town, "town-" + town + "-handler", Later(0.5, 20)));
            events.Add(new ReplySubmitted(id, sub, "town-" + town, "resolved", "已现场核查处理。", "town-" + town + "-handler", Later(24, 120)));
        }
        else if (kind < 25)
        {
            var co = Guid.NewGuid();
            var coUnit = "gov-" + district;
            var coAt = Later(0.1, 1);
            events.Add(new TicketDispatched(id, co, coUnit, TaskRoles.CoHandler, null, coAt.AddDays(1), coAt.AddDays(10), false, dispatcher, coAt, coAt.AddDays(2)));
            events.Add(new TaskSignedFor(id, co, coUnit, coUnit + "-handler", Later(0.5, 20)));
        }

        events.Add(new CitizenContacted(id, main, mainUnit, Later(1, 30), handler, t));
        if (kind % 10 == 3)
        {
            events.Add(new ExtensionRequested(id, main, mainUnit, 5, "需协调多个部门。", handler, Later(24, 72)));
            var approved = Later(2, 24);
            events.Add(new ExtensionApproved(id, main, mainUnit, 5, approved.AddDays(15), false, null, dispatcher, approved));
        }
        else
        {
            events.Add(new ProgressNoted(id, main, mainUnit, "已联系市民，正在协调处理。", handler, Later(2, 48)));
        }

        events.Add(new ReplySubmitted(id, main, mainUnit, kind % 9 == 0 ? "unresolved" : "resolved", "经核实，已处理完毕并告知市民。", handler, Later(24, 200)));
        var reviewer = "super" + (1 + (n % 4)).ToString(CultureInfo.InvariantCulture);
        if (kind % 8 == 0)
        {
            var rework = Later(4, 30);
            events.Add(new ReworkOrdered(id, main, "答复内容不完整。", rework.AddDays(5), false, reviewer, rework));
            events.Add(new ReplySubmitted(id, main, mainUnit, "resolved", "已补充处理情况。", handler, Later(24, 100)));
        }

        events.Add(new ReplyAccepted(id, main, null, reviewer, Later(4, 40)));
        var caller = "cb" + (1 + (n % 6)).ToString(CultureInfo.InvariantCulture);
        events.Add(new CallbackScheduled(id, "system", Later(20, 30)));
        if (kind % 6 == 0) events.Add(new CallbackAttemptFailed(id, 1, "无人接听", caller, Later(2, 24)));
        var done = Later(2, 48);
        events.Add(new CallbackRecorded(id, kind % 11 == 0 ? "不满意" : "满意", null, caller, done));
        events.Add(new TicketClosed(id, "回访完成", caller, done.AddSeconds(1)));
        return events;
    }
}
