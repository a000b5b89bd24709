using System.Globalization;
using Hotline.Domain.Calendar;
using Hotline.Domain.Tickets;
using Hotline.EventStore;
using Hotline.Server.Calendar;
using Hotline.Server.Jobs;
using Hotline.Server.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Hotline.Server.Tests.Jobs;

/// <summary>
/// The recompute job after a holiday import, the dispatcher hold and the auto-dispatch flag, on the job harness (SQLite
/// store, manual clock). Every job runs twice per step: each event must appear once.
/// </summary>
public sealed class DeadlineRecomputeAndHoldJobTests
{
    /// <summary>A made-up 2027 notice (test data, not the State Council's): 元旦 Jan 1–3, 春节 Feb 6–12 off, Saturday Feb 13 worked.</summary>
    public const string HolidayCn2027 = """
        {"year":2027,"days":[
          {"name":"元旦","date":"2027-01-01","isOffDay":true},{"name":"元旦","date":"2027-01-02","isOffDay":true},{"name":"元旦","date":"2027-01-03","isOffDay":true},
          {"name":"春节","date":"2027-02-06","isOffDay":true},{"name":"春节","date":"2027-02-07","isOffDay":true},{"name":"春节","date":"2027-02-08","isOffDay":true},
          {"name":"春节","date":"2027-02-09","isOffDay":true},{"name":"春节","date":"2027-02-10","isOffDay":true},{"name":"春节","date":"2027-02-11","isOffDay":true},
          {"name":"春节","date":"2027-02-12","isOffDay":true},{"name":"春节","date":"2027-02-13","isOffDay":false}]}
        """;

    private static DateTimeOffset Local(string text) => DateTimeOffset.ParseExact(text + " +08:00", "yyyy-MM-dd HH:mm zzz", CultureInfo.InvariantCulture);

    private static async Task<List<T>> EventsOf<T>(JobHarness h, Guid id) => (await h.HistoryAsync(id)).Select(x => x.Event).OfType<T>().ToList();

    private static async Task RunTwice(OfficeJob job)
    {
        await job.RunAsync(CancellationToken.None);
        await job.RunAsync(CancellationToken.None);
    }

    private static Task ImportAsync(JobHarness h, string json) =>
        h.Services.GetRequiredService<CalendarDeadlines>().ImportAsync(HolidayCnImporter.Parse(json), "admin", h.Clock.GetUtcNow(),
            h.Services.GetRequiredService<IEventStore>(), h.Services.GetRequiredService<EventSerializer>(), CancellationToken.None);

    [Fact]
    public async Task After_the_2027_import_the_job_recomputes_each_provisional_deadline_once_and_the_chase_follows_the_new_deadline()
    {
        await using var h = new JobHarness(Local("2027-01-25 10:00"));
        var id = await h.RegisterAsync(type: "投诉");
        var dispatched = await h.ActAsync(id, new DispatchTicket(Guid.NewGuid(), "zjj", null, "disp1"));
        await h.ActAsync(id, new SignForTask("zjj", "handler1"));
        Assert.Equal(Local("2027-02-16 00:00"), dispatched.MainTask!.ReplyDueAt); // Mon–Fri fallback: Mon Feb 15, 24:00
        Assert.True(dispatched.MainTask.Provisional);

        var job = h.Job<RecomputeDeadlinesJob>();
        h.Clock.Set(Local("2027-01-26 03:00"));
        await RunTwice(job); // 2027 still missing: nothing to change
        Assert.Empty(await EventsOf<DeadlinesRecomputed>(h, id));

        await ImportAsync(h, HolidayCn2027);
        h.Clock.Set(Local("2027-01-26 10:00"));
        await RunTwice(job);
        var recomputed = Assert.Single(await EventsOf<DeadlinesRecomputed>(h, id));
        var reply = Assert.Single(recomputed.Changes, c => c.Kind == DeadlineKinds.Reply);
        Assert.Equal((Local("2027-02-16 00:00"), Local("2027-02-20 00:00"), true, false), (reply.OldDueAt, reply.NewDueAt, reply.OldProvisional, reply.NewProvisional));
        Assert.Equal("system", recomputed.By);

        var task = (await h.Tickets.LoadAsync(id, CancellationToken.None)).Ticket.MainTask!;
        Assert.Equal(Local("2027-02-20 00:00"), task.ReplyDueAt);
        Assert.False(task.Provisional);

        // The overdue chase uses the recomputed deadline: nothing past the old one, the warning names the new one.
        var chase = h.Job<OverdueChaseJob>();
        h.Clock.Set(Local("2027-02-16 09:00"));
        await RunTwice(chase);
        Assert.Empty(await EventsOf<SupervisionStarted>(h, id));
        h.Clock.Set(Local("2027-02-19 09:00"));
        await RunTwice(chase);
        var urged = Assert.Single(await EventsOf<TicketUrged>(h, id));
        Assert.EndsWith("时限 2027-02-20 00:00", urged.Reason, StringComparison.Ordinal);
        h.Clock.Set(Local("2027-02-20 00:15"));
        await RunTwice(chase);
        Assert.EndsWith("时限 2027-02-20 00:00", Assert.Single(await EventsOf<SupervisionStarted>(h, id)).Reason, StringComparison.Ordinal);

        // The daily catch-up after that finds nothing more.
        h.Clock.Set(Local("2027-02-21 03:00"));
        await RunTwice(job);
        Assert.Single(await EventsOf<DeadlinesRecomputed>(h, id));
    }

    [Fact]
    public async Task A_waiting_tickets_recomputed_dispatch_deadline_is_the_one_the_dispatchers_are_urged_about()
    {
        // 一般 dispatch = 1 working day from Thu 2026-12-31: Fri Jan 1 on the Mon–Fri fallback; Mon Jan 4 once 元旦 2027 is known.
        await using var h = new JobHarness(Local("2026-12-31 15:00"), new JobsOptions { AutoDispatchDelayMinutes = 30 });
        var id = await h.RegisterAsync(category: "180101"); // no catalogue entry: stays with the dispatchers
        await ImportAsync(h, HolidayCn2027);
        await RunTwice(h.Job<RecomputeDeadlinesJob>());
        var change = Assert.Single(Assert.Single(await EventsOf<DeadlinesRecomputed>(h, id)).Changes);
        Assert.Equal((DeadlineKinds.Dispatch, Local("2027-01-02 00:00"), Local("2027-01-05 00:00")), (change.Kind, change.OldDueAt, change.NewDueAt));

        var autoDispatch = h.Job<AutoDispatchJob>();
        foreach (var at in new[] { "2027-01-02 00:30", "2027-01-04 23:59", "2027-01-05 00:05" })
        {
            h.Clock.Set(Local(at));
            await RunTwice(autoDispatch);
        }
        var urge = Assert.Single(await EventsOf<TicketUrged>(h, id));
        Assert.Equal(Local("2027-01-05 00:05"), urge.At);
        Assert.EndsWith("时限 2027-01-05 00:00", urge.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Auto_dispatch_skips_a_held_ticket_and_dispatches_it_after_the_hold_is_released()
    {
        await using var h = new JobHarness(Local("2025-12-30 09:00"), new JobsOptions { AutoDispatchDelayMinutes = 30 });
        var id = await h.RegisterAsync(category: "010201"); // catalogue: 市住建局
        await h.ActAsync(id, new HoldDispatch("等待来电人补充地址", "disp1"));

        var job = h.Job<AutoDispatchJob>();
        h.Clock.Set(Local("2025-12-30 10:00"));
        await RunTwice(job);
        var held = (await h.Tickets.LoadAsync(id, CancellationToken.None)).Ticket;
        Assert.Equal(TicketState.Registered, held.State);
        Assert.Empty(await EventsOf<DispatcherAttentionFlagged>(h, id));
        var item = Assert.Single(h.Services.GetRequiredService<DispatchAttention>().Current);
        Assert.Equal((DispatchAttention.HeldCode, "等待来电人补充地址"), (item.ReasonCode, item.Detail));

        // A note that merely starts with 暂缓 is no hold any more.
        await h.ActAsync(id, new ReleaseDispatchHold("地址已补充", "disp1"));
        await h.ActAsync(id, new AddProgressNote(null, "暂缓？不必，已核实", "disp1"));
        h.Clock.Set(Local("2025-12-30 10:05"));
        await RunTwice(job);
        var t = (await h.Tickets.LoadAsync(id, CancellationToken.None)).Ticket;
        Assert.Equal(TicketState.Dispatched, t.State);
        Assert.Equal("zjj", Assert.Single(t.Tasks).UnitId);
        Assert.Empty(h.Services.GetRequiredService<DispatchAttention>().Current);
    }

    [Fact]
    public async Task A_ticket_without_a_catalogue_entry_is_flagged_once_and_the_worklist_reads_the_flag()
    {
        await using var h = new JobHarness(Local("2025-12-30 09:00"), new JobsOptions { AutoDispatchDelayMinutes = 30 });
        var id = await h.RegisterAsync(category: "180101"); // 其他: only the district fallback
        var job = h.Job<AutoDispatchJob>();
        foreach (var at in new[] { "2025-12-30 09:01", "2025-12-30 09:40", "2025-12-31 20:00" })
        {
            h.Clock.Set(Local(at));
            await RunTwice(job);
        }
        var flag = Assert.Single(await EventsOf<DispatcherAttentionFlagged>(h, id));
        Assert.Equal(DispatcherAttentionReasons.NoCatalogueEntry, flag.ReasonCode);
        Assert.Equal(Local("2025-12-30 09:01"), flag.At);
        var item = Assert.Single(h.Services.GetRequiredService<DispatchAttention>().Current);
        Assert.Equal((id, DispatcherAttentionReasons.NoCatalogueEntry, "yellow"), (item.TicketId, item.ReasonCode, item.Status));

        // A dispatcher dispatches it by hand: the flag ends with the wait.
        await h.ActAsync(id, new DispatchTicket(Guid.NewGuid(), "gov-01", "区政府兜底", "disp1"));
        Assert.Empty(h.Services.GetRequiredService<DispatchAttention>().Current);
    }

    [Fact]
    public async Task A_ticket_returned_by_the_catalogue_unit_is_left_to_a_dispatcher_instead_of_going_back_to_it()
    {
        await using var h = new JobHarness(Local("2025-12-30 09:00"), new JobsOptions { AutoDispatchDelayMinutes = 30 });
        var id = await h.RegisterAsync(category: "010201");
        var job = h.Job<AutoDispatchJob>();
        h.Clock.Set(Local("2025-12-30 09:31"));
        await RunTwice(job);
        await h.ActAsync(id, new SignForTask("zjj", "handler1"));
        await h.ActAsync(id, new RequestReturn("zjj", "不属本单位职责", null, "handler1"));
        await h.ActAsync(id, new DecideReturn(null, true, null, null, "disp1"));

        h.Clock.Set(Local("2025-12-30 11:00"));
        await RunTwice(job);
        var t = (await h.Tickets.LoadAsync(id, CancellationToken.None)).Ticket;
        Assert.Equal(TicketState.Registered, t.State);
        Assert.Equal(DispatcherAttentionReasons.Ambiguous, Assert.Single(await EventsOf<DispatcherAttentionFlagged>(h, id)).ReasonCode);
    }
}
