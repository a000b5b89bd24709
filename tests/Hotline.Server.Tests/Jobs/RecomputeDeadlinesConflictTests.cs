using System.Globalization;
using Hotline.Domain.Calendar;
using Hotline.Domain.Tickets;
using Hotline.EventStore;
using Hotline.Server.Calendar;
using Hotline.Server.Jobs;
using Hotline.Server.Storage;
using Hotline.Server.Tickets;
using Microsoft.Extensions.DependencyInjection;

namespace Hotline.Server.Tests.Jobs;

/// <summary>
/// The recompute job's retry on a version conflict: a concurrent write lands on the ticket between the job's read and
/// its append (a store wrapper writes it the first time the job appends). The job must lose that append, read again,
/// and write <see cref="DeadlinesRecomputed"/> once, on top of the concurrent write, which is kept.
/// </summary>
public sealed class RecomputeDeadlinesConflictTests
{
    private static DateTimeOffset Local(string text) => DateTimeOffset.ParseExact(text + " +08:00", "yyyy-MM-dd HH:mm zzz", CultureInfo.InvariantCulture);

    [Fact]
    public async Task A_write_between_the_jobs_read_and_its_append_is_kept_and_the_recompute_is_retried_once_on_the_latest_version()
    {
        ConflictOnceStore? hook = null;
        await using var h = new JobHarness(Local("2027-01-25 10:00"), decorateStore: inner => hook = new ConflictOnceStore(inner));
        var id = await h.RegisterAsync(type: "投诉");
        await h.ActAsync(id, new DispatchTicket(Guid.NewGuid(), "zjj", null, "disp1"));
        var before = await h.ActAsync(id, new SignForTask("zjj", "handler1"));
        Assert.True(before.MainTask!.Provisional);
        Assert.Equal(Local("2027-02-16 00:00"), before.MainTask.ReplyDueAt);

        await h.Services.GetRequiredService<CalendarDeadlines>().ImportAsync(HolidayCnImporter.Parse(DeadlineRecomputeAndHoldJobTests.HolidayCn2027), "admin",
            h.Clock.GetUtcNow(), h.Services.GetRequiredService<IEventStore>(), h.Services.GetRequiredService<EventSerializer>(), CancellationToken.None);
        h.Clock.Set(Local("2027-01-26 10:00"));

        // Armed: the first append of a DeadlinesRecomputed to this ticket first lets the unit write a progress note
        // (through the same ticket service, at the version the job read), then goes on with the job's now stale append.
        hook!.Arm(TicketStore.StreamOf(id), "V1.DeadlinesRecomputed",
            async () => await h.ActAsync(id, new AddProgressNote("zjj", "已联系来电人，约定周三上门查看", "handler1")));

        var result = await h.Job<RecomputeDeadlinesJob>().RunAsync(CancellationToken.None);

        Assert.Equal(1, hook.Injected);
        Assert.Equal(2, hook.RecomputeAppends); // the stale one refused, the retry accepted
        Assert.Equal("1 ticket(s) with provisional deadlines, 1 recomputed, 1 version conflict(s) retried", result);

        var stored = (await h.Tickets.LoadAsync(id, CancellationToken.None)).History;
        var note = Assert.Single(stored, e => e.Type == "V1.ProgressNoted");
        var recomputed = Assert.Single(stored, e => e.Type == "V1.DeadlinesRecomputed");
        Assert.Equal(before.Version, note.StreamRevision); // the concurrent write took the version the job had read
        Assert.Equal(note.StreamRevision + 1, recomputed.StreamRevision); // the retry was decided on the latest version
        Assert.Equal(stored.Count - 1, recomputed.StreamRevision);

        var ticket = (await h.Tickets.LoadAsync(id, CancellationToken.None)).Ticket;
        Assert.Equal("已联系来电人，约定周三上门查看", Assert.Single(ticket.Notes).Text);
        Assert.Equal(Local("2027-02-20 00:00"), ticket.MainTask!.ReplyDueAt);
        Assert.False(ticket.MainTask.Provisional);

        // A second run finds nothing to change: still one recompute event.
        var again = await h.Job<RecomputeDeadlinesJob>().RunAsync(CancellationToken.None);
        Assert.Equal("0 ticket(s) with provisional deadlines, 0 recomputed, 0 version conflict(s) retried", again);
        Assert.Single((await h.Tickets.LoadAsync(id, CancellationToken.None)).History, e => e.Type == "V1.DeadlinesRecomputed");
    }

    /// <summary>Passes everything through; once armed, the first append of the given event type to the given stream runs a
    /// concurrent write before it is forwarded (so it reaches the store with a stale expected revision).</summary>
    private sealed class ConflictOnceStore(IEventStore inner) : IEventStore, IAsyncDisposable
    {
        private string? _stream;
        private string? _type;
        private Func<Task>? _concurrentWrite;

        public int Injected { get; private set; }

        public int RecomputeAppends { get; private set; }

        public void Arm(string stream, string type, Func<Task> concurrentWrite) => (_stream, _type, _concurrentWrite) = (stream, type, concurrentWrite);

        public async Task<AppendResult> AppendAsync(string streamId, ExpectedRevision expected, IReadOnlyList<EventData> events, CancellationToken cancellationToken = default)
        {
            if (streamId == _stream && events.Any(e => e.Type == _type))
            {
                RecomputeAppends++;
                if (_concurrentWrite is { } write)
                {
                    _concurrentWrite = null; // once; disarmed first, so the concurrent write itself passes through
                    Injected++;
                    await write();
                }
            }
            return await inner.AppendAsync(streamId, expected, events, cancellationToken);
        }

        public IAsyncEnumerable<RecordedEvent> ReadStreamAsync(string streamId, long fromRevision = 0, CancellationToken cancellationToken = default) =>
            inner.ReadStreamAsync(streamId, fromRevision, cancellationToken);

        public IAsyncEnumerable<RecordedEvent> ReadAllAsync(long afterPosition, int maxCount, CancellationToken cancellationToken = default) =>
            inner.ReadAllAsync(afterPosition, maxCount, cancellationToken);

        public Task<long> GetHeadPositionAsync(CancellationToken cancellationToken = default) => inner.GetHeadPositionAsync(cancellationToken);

        public IAsyncEnumerable<RecordedEvent> SubscribeToAllAsync(long afterPosition, CancellationToken cancellationToken = default) =>
            inner.SubscribeToAllAsync(afterPosition, cancellationToken);

        public Task<bool> PingAsync(CancellationToken cancellationToken = default) => inner.PingAsync(cancellationToken);

        public async ValueTask DisposeAsync()
        {
            if (inner is IAsyncDisposable d) await d.DisposeAsync();
        }
    }
}
