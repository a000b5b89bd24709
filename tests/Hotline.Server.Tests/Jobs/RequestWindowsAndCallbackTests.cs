using System.Globalization;
using Hotline.Domain.Tickets;
using Hotline.Server.Jobs;

namespace Hotline.Server.Tests.Jobs;

public sealed class RequestWindowsAndCallbackTests
{
    private static DateTimeOffset Local(string text) => DateTimeOffset.ParseExact(text + " +08:00", "yyyy-MM-dd HH:mm zzz", CultureInfo.InvariantCulture);

    [Fact]
    public async Task Undecided_return_and_extension_requests_get_the_default_decision_once_after_the_window()
    {
        await using var h = new JobHarness(Local("2025-12-30 09:00"));
        var a = await h.RegisterAsync();
        var b = await h.RegisterAsync();
        h.Clock.Set(Local("2025-12-30 09:30"));
        await h.ActAsync(a, new DispatchTicket(Guid.NewGuid(), "zjj", null, "disp1"));
        await h.ActAsync(b, new DispatchTicket(Guid.NewGuid(), "zjj", null, "disp1"));
        h.Clock.Set(Local("2025-12-30 10:00"));
        await h.ActAsync(a, new SignForTask("zjj", "handler1"));
        await h.ActAsync(a, new RequestExtension("zjj", 3, "需协调物业公司和街道", "handler1"));
        await h.ActAsync(b, new RequestReturn("zjj", "不属于本单位职责", "三定方案", "handler1"));

        var job = h.Job<RequestWindowsJob>();
        // One working day to decide: Wed Dec 31 → the window closes at 24:00 Dec 31 (元旦 follows).
        h.Clock.Set(Local("2025-12-31 23:45"));
        Assert.Equal("0 request(s) decided by default", await job.RunAsync(CancellationToken.None));
        h.Clock.Set(Local("2026-01-01 00:15"));
        Assert.Equal("2 request(s) decided by default", await job.RunAsync(CancellationToken.None));
        Assert.Equal("0 request(s) decided by default", await job.RunAsync(CancellationToken.None));

        var historyA = (await h.HistoryAsync(a)).Select(x => x.Event).ToList();
        var rejected = Assert.Single(historyA.OfType<ExtensionRejected>());
        Assert.Equal(SystemActor.Id, rejected.By);
        Assert.Equal(RequestWindowsJob.Comment, rejected.Comment);
        var historyB = (await h.HistoryAsync(b)).Select(x => x.Event).ToList();
        Assert.Equal(SystemActor.Id, Assert.Single(historyB.OfType<ReturnApproved>()).By);
        Assert.Equal(TicketState.Registered, (await h.Tickets.LoadAsync(b, CancellationToken.None)).Ticket.State);
    }

    [Fact]
    public void Callback_retries_take_a_different_time_of_day_each_time()
    {
        IReadOnlyList<TimeOnly> slots = [new(10, 0), new(15, 0), new(19, 30)];
        var gap = TimeSpan.FromHours(3);
        // First attempt failed at 10:05 → next slot not used yet and at least 3 h later: 15:00 the same day.
        Assert.Equal(Local("2026-01-05 15:00"), CallbackRetryJob.NextAttemptAt([Local("2026-01-05 10:05")], slots, gap));
        // 10:05 and 15:10 failed → 19:30.
        Assert.Equal(Local("2026-01-05 19:30"), CallbackRetryJob.NextAttemptAt([Local("2026-01-05 10:05"), Local("2026-01-05 15:10")], slots, gap));
        // Failed at 18:00 (nearest slot 19:30) → the next unused slot at least 3 h later is 10:00 the next day.
        Assert.Equal(Local("2026-01-06 10:00"), CallbackRetryJob.NextAttemptAt([Local("2026-01-05 18:00")], slots, gap));
        // Every slot used → simply the next slot after the gap.
        Assert.Equal(Local("2026-01-06 10:00"), CallbackRetryJob.NextAttemptAt([Local("2026-01-05 10:00"), Local("2026-01-05 15:00"), Local("2026-01-05 19:30")], slots, gap));
    }
}
