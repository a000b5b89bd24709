// Expected timelines read best as inline arrays; each test runs once, so CA1861 (hoist constant arrays) buys nothing here.
#pragma warning disable CA1861

using System.Globalization;
using Hotline.Domain.Calendar;
using Hotline.Domain.Tickets;
using Hotline.Server.Jobs;

namespace Hotline.Server.Tests.Jobs;

/// <summary>
/// The chase jobs over a simulated fortnight, 2025-12-30 → 2026-01-13, which holds 元旦 (Jan 1–3 off) and the make-up
/// working Sunday Jan 4. The clock moves in 15-minute steps; at every step each job runs twice. Every chase event must
/// appear exactly once, at the first step at or after the moment the rules name.
/// </summary>
public sealed class ChaseFortnightTests
{
    private static DateTimeOffset Local(string text) => DateTimeOffset.ParseExact(text + " +08:00", "yyyy-MM-dd HH:mm zzz", CultureInfo.InvariantCulture);

    private static string Show(DateTimeOffset at) => ChinaTime.ToLocal(at).ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);

    private static async Task<List<string>> ChaseEvents(JobHarness h, Guid id) =>
        (await h.HistoryAsync(id)).Select(x => x.Event switch
        {
            TicketUrged { Automatic: true } u => $"{Show(u.At)} 催办 {u.Reason.Split('：')[0]}",
            SupervisionStarted { Automatic: true } s => $"{Show(s.At)} 督办 {s.Level} {s.Reason.Split('：')[0]}",
            SupervisionRaised { Automatic: true } r => $"{Show(r.At)} 督办 {r.FromLevel}→{r.ToLevel} {r.Reason.Split('：')[0]}",
            _ => null,
        }).OfType<string>().ToList();

    [Fact]
    public async Task Each_chase_event_appears_once_at_the_right_time_across_a_holiday_and_a_make_up_working_day()
    {
        await using var h = new JobHarness(Local("2025-12-30 09:00"));
        var a = await h.RegisterAsync();
        var b = await h.RegisterAsync();

        h.Clock.Set(Local("2025-12-30 09:30"));
        var dispatchedA = await h.ActAsync(a, new DispatchTicket(Guid.NewGuid(), "zjj", null, "disp1"));
        await h.ActAsync(b, new DispatchTicket(Guid.NewGuid(), "zjj", null, "disp1"));

        // 咨询 = 2 working days from Tue Dec 30: Wed Dec 31, then (Jan 1–3 off) the make-up Sunday Jan 4 → 24:00 Jan 4.
        var task = dispatchedA.MainTask!;
        Assert.Equal(Local("2026-01-05 00:00"), task.ReplyDueAt);
        Assert.Equal(Local("2025-12-30 11:30"), task.SignDueAt);

        var signFor = h.Job<SignForChaseJob>();
        var overdue = h.Job<OverdueChaseJob>();
        var signedA = false;
        for (var now = Local("2025-12-30 09:30"); now <= Local("2026-01-13 09:00"); now = now.AddMinutes(15))
        {
            h.Clock.Set(now);
            for (var twice = 0; twice < 2; twice++)
            {
                await signFor.RunAsync(CancellationToken.None);
                await overdue.RunAsync(CancellationToken.None);
            }
            if (!signedA && now >= Local("2025-12-30 11:15"))
            {
                await h.ActAsync(a, new SignForTask("zjj", "handler1"));
                signedA = true;
            }
        }

        // A signs for after the reminder, then never replies.
        Assert.Equal(
        new[]
        {
            "2025-12-30 11:00 催办 签收临期",
            "2026-01-01 00:00 催办 答复临期",   // yellow: only the last working day (Sunday Jan 4) is left
            "2026-01-05 00:15 督办 yellow 答复超期",
            "2026-01-07 00:15 督办 yellow→red 超期未办结", // two working days (Mon 5, Tue 6) after the deadline day
        }, await ChaseEvents(h, a));

        // B never signs for: yellow card at sign-for, so the reply deadline adds no second yellow card, only the red one.
        Assert.Equal(
        new[]
        {
            "2025-12-30 11:00 催办 签收临期",
            "2025-12-30 11:45 督办 yellow 签收超时",
            "2026-01-01 00:00 催办 答复临期",
            "2026-01-07 00:15 督办 yellow→red 超期未办结",
        }, await ChaseEvents(h, b));
    }

    [Fact]
    public async Task A_job_that_was_down_catches_up_once_at_its_next_run()
    {
        await using var h = new JobHarness(Local("2025-12-30 09:00"));
        var a = await h.RegisterAsync();
        await h.ActAsync(a, new DispatchTicket(Guid.NewGuid(), "zjj", null, "disp1"));

        // The scheduler was down from Dec 30 09:00 to Jan 8 10:00: one run decides the overdue sign-for and the red card,
        // then nothing more however often it runs.
        h.Clock.Set(Local("2026-01-08 10:00"));
        for (var i = 0; i < 3; i++)
        {
            await h.Job<SignForChaseJob>().RunAsync(CancellationToken.None);
            await h.Job<OverdueChaseJob>().RunAsync(CancellationToken.None);
        }
        Assert.Equal(
        new[]
        {
            "2026-01-08 10:00 督办 yellow 签收超时",
            "2026-01-08 10:00 督办 yellow→red 超期未办结",
        }, await ChaseEvents(h, a));
    }

    [Fact]
    public async Task Dispatch_deadline_urges_the_dispatchers_once_and_auto_dispatch_uses_only_unambiguous_catalogue_entries()
    {
        await using var h = new JobHarness(Local("2025-12-30 09:00"), new JobsOptions { AutoDispatchDelayMinutes = 30 });
        var catalogued = await h.RegisterAsync(category: "010201");        // 城乡建设/物业 → 市住建局 (catalogue)
        var fallbackOnly = await h.RegisterAsync(category: "180101");      // 其他 → only the district fallback: a person decides
        var held = await h.RegisterAsync(category: "010201");
        await h.ActAsync(held, new HoldDispatch("等待来电人补充地址", "disp1"));

        var job = h.Job<AutoDispatchJob>();
        h.Clock.Set(Local("2025-12-30 09:20"));
        await job.RunAsync(CancellationToken.None);
        Assert.Equal(TicketState.Registered, (await h.Tickets.LoadAsync(catalogued, CancellationToken.None)).Ticket.State);

        h.Clock.Set(Local("2025-12-30 09:31"));
        await job.RunAsync(CancellationToken.None);
        await job.RunAsync(CancellationToken.None);
        var t = (await h.Tickets.LoadAsync(catalogued, CancellationToken.None)).Ticket;
        Assert.Equal(TicketState.Dispatched, t.State);
        Assert.Equal("zjj", t.MainTask!.UnitId);
        Assert.Single(t.Tasks);
        Assert.Equal(TicketState.Registered, (await h.Tickets.LoadAsync(fallbackOnly, CancellationToken.None)).Ticket.State);
        Assert.Equal(TicketState.Registered, (await h.Tickets.LoadAsync(held, CancellationToken.None)).Ticket.State);
        var attention = h.Services.GetService(typeof(DispatchAttention)) as DispatchAttention;
        Assert.Equal(new[] { "派单员暂缓", "派单目录无对应承办单位" }, attention!.Current.Select(x => x.Reason).Order(StringComparer.Ordinal).ToArray());

        // Dispatch limit for 一般 = 1 working day → 24:00 Dec 31; the dispatchers are urged once after it.
        foreach (var at in new[] { "2025-12-31 23:59", "2026-01-01 00:01", "2026-01-01 08:00", "2026-01-02 08:00" })
        {
            h.Clock.Set(Local(at));
            await job.RunAsync(CancellationToken.None);
        }
        Assert.Equal(new[] { "2026-01-01 00:01 催办 派单超时" }, await ChaseEvents(h, fallbackOnly));
        Assert.Equal(new[] { "2026-01-01 00:01 催办 派单超时" }, await ChaseEvents(h, held));
    }
}
