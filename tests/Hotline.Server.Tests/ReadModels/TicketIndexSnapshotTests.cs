using System.Text.Json;
using Hotline.Domain.Tickets;
using Hotline.EventStore;
using Hotline.EventStore.Sqlite;
using Hotline.Server.Storage;
using Hotline.Server.Tickets;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hotline.Server.Tests.ReadModels;

/// <summary>
/// The ticket index snapshot (start-up without folding every ticket event again) on a real SQLite event store: what is
/// loaded is exactly what was folded (every field, the phone and unit lookups), and a snapshot that does not belong
/// to the store, or is cut short, is not used at all.
/// </summary>
public sealed class TicketIndexSnapshotTests : IAsyncLifetime
{
    private static readonly EventSerializer Serializer = new(TicketEventTypes.All);
    private static readonly JsonSerializerOptions Full = new(JsonSerializerDefaults.Web);
    private readonly string _dir = Directory.CreateTempSubdirectory("hotline-snapshot-").FullName;

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
        return Task.CompletedTask;
    }

    /// <summary>Two tickets with open, pending, sub-dispatched and closed tasks, notes, a duplicate and a callback; folded into a new index.</summary>
    private static async Task<(TicketIndex Index, long Head)> HistoryAsync(IEventStore store)
    {
        var at = new DateTimeOffset(2026, 3, 2, 1, 0, 0, TimeSpan.Zero);
        Guid a = Guid.NewGuid(), b = Guid.NewGuid(), mainA = Guid.NewGuid(), subA = Guid.NewGuid(), coA = Guid.NewGuid(), mainB = Guid.NewGuid();
        var history = new Dictionary<Guid, ITicketEvent[]>
        {
            [a] =
            [
                new TicketRegistered(a, "20260302-000001", "电话", "投诉", "一般", "020301", "010101", "湖滨路 1 号", "夜间施工噪音扰民", "王先生", "13912345678", false, "call-1",
                    at.AddHours(2), false, "agent1", at, CallIds: ["call-1"], RepeatOf: [new RepeatOfTicket(b, "20260301-000009", at.AddDays(-1))], ContactsLast30Days: 2),
                new TicketDispatched(a, mainA, "gov-01", TaskRoles.Main, "请核处", at.AddDays(1), at.AddDays(10), true, "disp1", at.AddHours(1), at.AddDays(2), SignDueProvisional: true, ReplyDueProvisional: false),
                new TicketDispatched(a, coA, "cgj", TaskRoles.CoHandler, null, at.AddDays(1), at.AddDays(10), false, "disp1", at.AddHours(1)),
                new TaskSignedFor(a, mainA, "gov-01", "h1", at.AddHours(3)),
                new TaskSubDispatched(a, subA, mainA, "town-0101", "gov-01", "请街道核处", at.AddDays(1), at.AddDays(7), at.AddDays(2), false, "h1", at.AddHours(4)),
                new ExtensionRequested(a, mainA, "gov-01", 5, "需协调", "h1", at.AddHours(5)),
                new ProgressNoted(a, mainA, "gov-01", "已联系市民", "h1", at.AddHours(6)),
                new DuplicateAttached(a, Guid.NewGuid(), "20260302-000007", "同一工地夜间施工", "disp1", at.AddHours(7)),
                new SupervisionStarted(a, mainA, "gov-01", "yellow", "临近超期", true, "system", at.AddHours(8)),
            ],
            [b] =
            [
                new TicketRegistered(b, "20260301-000009", "网站", "咨询", "一般", "010101", "010201", "青石街 5 号", "房屋质量问题", "李女士", "13800000000", false, null,
                    at.AddHours(2), false, "agent2", at.AddDays(-1)),
                new TicketDispatched(b, mainB, "zjj", TaskRoles.Main, null, at.AddDays(1), at.AddDays(10), false, "disp1", at.AddHours(1)),
                new TaskSignedFor(b, mainB, "zjj", "h2", at.AddHours(2)),
                new ReplySubmitted(b, mainB, "zjj", "resolved", "已处理", "h2", at.AddHours(3)),
                new ReplyAccepted(b, mainB, null, "super1", at.AddHours(4)),
                new CallbackScheduled(b, "system", at.AddHours(5)),
                new CallbackRecorded(b, "满意", "好", "cb1", at.AddHours(6)),
                new TicketClosed(b, "回访完成", "cb1", at.AddHours(6)),
            ],
        };
        foreach (var (id, events) in history)
        {
            await store.AppendAsync(TicketStore.StreamOf(id), ExpectedRevision.NoStream,
                events.Select(e => Serializer.ToEventData(e, Guid.NewGuid(), new EventMetadata(e.By, null, null, e.At))).ToList());
        }
        var index = new TicketIndex();
        long head = 0;
        await foreach (var e in store.ReadAllAsync(0, 1000))
        {
            var te = (ITicketEvent)Serializer.Deserialize(e)!;
            Assert.True(index.Apply(te.TicketId, e.StreamRevision, te));
            index.Advance(head = e.Position);
        }
        return (index, head);
    }

    private static async Task<Guid> EventIdAtAsync(IEventStore store, long position) =>
        (await store.ReadAllAsync(position - 1, 1).FirstAsync()).EventId;

    [Fact]
    public async Task A_loaded_snapshot_holds_every_ticket_as_folded_with_its_phone_and_unit_lookups()
    {
        await using var store = new SqliteEventStore(Path.Combine(_dir, "events.db"));
        var (folded, head) = await HistoryAsync(store);
        var snapshot = new TicketIndexSnapshot(Path.Combine(_dir, TicketIndexSnapshot.FileName));
        Assert.Equal(2, await snapshot.WriteAsync(folded, head, await EventIdAtAsync(store, head), DateTimeOffset.UtcNow, CancellationToken.None));

        var loaded = new TicketIndex();
        Assert.Equal(head, await snapshot.TryLoadAsync(loaded, store, NullLogger.Instance, CancellationToken.None));

        Assert.Equal(folded.Count, loaded.Count);
        foreach (var t in folded.All)
        {
            Assert.Equal(JsonSerializer.Serialize(t, Full), JsonSerializer.Serialize(loaded.Get(t.Id), Full));
        }
        Assert.Equal(folded.ByCaller("13912345678").Select(t => t.Id), loaded.ByCaller("13912345678").Select(t => t.Id));
        foreach (var unit in new[] { "gov-01", "town-0101", "cgj", "zjj" })
        {
            Assert.Equal(folded.WithOpenTasks(u => u == unit).Select(t => t.Id).Order(), loaded.WithOpenTasks(u => u == unit).Select(t => t.Id).Order());
        }
        Assert.Empty(loaded.WithOpenTasks(u => u == "zjj"));
        Assert.Single(loaded.WithOpenTasks(u => u == "town-0101"));
    }

    [Fact]
    public async Task A_snapshot_of_another_store_or_cut_short_is_not_used()
    {
        var path = Path.Combine(_dir, TicketIndexSnapshot.FileName);
        await using (var first = new SqliteEventStore(Path.Combine(_dir, "first.db")))
        {
            var (folded, head) = await HistoryAsync(first);
            await new TicketIndexSnapshot(path).WriteAsync(folded, head, await EventIdAtAsync(first, head), DateTimeOffset.UtcNow, CancellationToken.None);
        }

        // Another store with as many events: the event at the snapshot's position is not the same one.
        await using var other = new SqliteEventStore(Path.Combine(_dir, "other.db"));
        await HistoryAsync(other);
        var index = new TicketIndex();
        Assert.Equal(0, await new TicketIndexSnapshot(path).TryLoadAsync(index, other, NullLogger.Instance, CancellationToken.None));
        Assert.Equal(0, index.Count);

        // The right store, but the file lost its last line: nothing is loaded (the log is replayed instead).
        await using var first2 = new SqliteEventStore(Path.Combine(_dir, "first.db"));
        var lines = await File.ReadAllLinesAsync(path);
        await File.WriteAllLinesAsync(path, lines[..^1]);
        Assert.Equal(0, await new TicketIndexSnapshot(path).TryLoadAsync(index, first2, NullLogger.Instance, CancellationToken.None));
        Assert.Equal(0, index.Count);
    }
}
