using System.Globalization;
using Hotline.EventStore;
using Hotline.Server.Channels;
using Hotline.Server.Outbox;
using Hotline.Server.Tests.Jobs;
using Hotline.Server.Tickets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Hotline.Server.Tests.Channels;

/// <summary>
/// The channel response limits under a hand-moved clock: an SMS whose acknowledgement is not delivered within 3 minutes
/// and a mail not answered within 24 hours each get one DraftResponseOverdue (and one announcement), however often the
/// job runs; drafts answered in time get none.
/// </summary>
public sealed class ChannelResponseJobTests
{
    private static DateTimeOffset Local(string text) => DateTimeOffset.ParseExact(text + " +08:00", "yyyy-MM-dd HH:mm zzz", CultureInfo.InvariantCulture);

    private sealed class SwitchableGateway : IMessageGateway
    {
        public bool Up { get; set; } = true;

        public Task<string?> SendAsync(OutboxMessage message, CancellationToken ct) =>
            Up ? Task.FromResult<string?>("ok") : throw new HttpRequestException("gateway down");
    }

    private sealed class Rig
    {
        public Rig(JobHarness h)
        {
            var store = h.Services.GetRequiredService<IEventStore>();
            Channels = new ChannelStore(store, h.Clock);
            OutboxStore = new OutboxStore(store, h.Clock);
            Messages = new OutboxMessages(Options.Create(new OutboxOptions()));
            var writer = new OutboxWriter(OutboxStore, Messages);
            Intake = new DraftIntake(Channels, Inbox, writer, h.Tickets, Options.Create(new ChannelsOptions()));
            Dispatcher = new OutboxDispatcher(Messages, OutboxStore, Gateway, new OutboxProjection(store, OutboxStore, Messages, NullLogger<OutboxProjection>.Instance), NullLogger<OutboxDispatcher>.Instance);
            Notices = h.Services.GetRequiredService<NoticeStore>();
            Job = new ChannelResponseJob(Inbox, Channels, OutboxStore, Notices, h.Clock);
        }

        public DraftInbox Inbox { get; } = new();
        public ChannelStore Channels { get; }
        public OutboxStore OutboxStore { get; }
        public OutboxMessages Messages { get; }
        public SwitchableGateway Gateway { get; } = new();
        public DraftIntake Intake { get; }
        public OutboxDispatcher Dispatcher { get; }
        public NoticeStore Notices { get; }
        public ChannelResponseJob Job { get; }

        public Task DeliverAckAsync(Draft d) => Dispatcher.DeliverAsync(OutboxMessages.IdFor(DraftIntake.AckKey(d.DraftId)), CancellationToken.None);

        public async Task RunTwiceAsync()
        {
            await Job.RunAsync(CancellationToken.None);
            await Job.RunAsync(CancellationToken.None);
        }

        public async Task<List<DraftResponseOverdue>> OverdueEventsAsync(Draft d) =>
            (await Channels.ReadAsync(DraftInbox.StreamOf(d.DraftId), CancellationToken.None)).OfType<DraftResponseOverdue>().ToList();
    }

    [Fact]
    public async Task Missed_sms_and_mail_response_limits_raise_one_event_each_and_answered_drafts_none()
    {
        var start = Local("2026-11-20 10:00");
        await using var h = new JobHarness(start);
        var rig = new Rig(h);
        var ct = CancellationToken.None;

        // 10:00 two SMS and two mails arrive. The gateway takes the first SMS's acknowledgement a minute later and is
        // down for the second.
        var smsInTime = await rig.Intake.ReceiveAsync(ChannelNames.Sms, "op-1", "13600000001", null, "路灯坏了", ct);
        var smsLate = await rig.Intake.ReceiveAsync(ChannelNames.Sms, "op-2", "13600000002", null, "井盖丢了", ct);
        var mailAnswered = await rig.Intake.ReceiveAsync(ChannelNames.Mail, "m-1", "a@example.cn", "停车收费", "物业乱收费", ct);
        var mailForgotten = await rig.Intake.ReceiveAsync(ChannelNames.Mail, "m-2", "b@example.cn", "噪音", "夜间施工", ct);
        Assert.Equal(start.AddMinutes(3), smsInTime.RespondBy);
        Assert.Equal(start.AddHours(24), mailAnswered.RespondBy);

        h.Clock.Set(start.AddMinutes(1));
        await rig.DeliverAckAsync(smsInTime);
        rig.Gateway.Up = false;
        await rig.DeliverAckAsync(smsLate);

        // 10:02: nothing is late yet.
        h.Clock.Set(start.AddMinutes(2));
        await rig.RunTwiceAsync();
        Assert.Empty(await rig.OverdueEventsAsync(smsLate));

        // 10:04: the second SMS has no acknowledgement after 3 minutes → one event, whatever the number of runs.
        h.Clock.Set(start.AddMinutes(4));
        await rig.RunTwiceAsync();
        var raised = Assert.Single(await rig.OverdueEventsAsync(smsLate));
        Assert.Equal(start.AddMinutes(4), raised.At);
        Assert.Equal(smsLate.RespondBy, raised.RespondBy);
        Assert.Empty(await rig.OverdueEventsAsync(smsInTime));
        Assert.Equal(start.AddMinutes(4), rig.Intake.View(rig.Inbox.Get(smsLate.DraftId)!).OverdueRaisedAt);

        // 10:05 the gateway is back and the acknowledgement leaves late; a later run writes nothing more.
        h.Clock.Set(start.AddMinutes(5));
        rig.Gateway.Up = true;
        await rig.DeliverAckAsync(smsLate);
        await rig.RunTwiceAsync();
        Assert.Single(await rig.OverdueEventsAsync(smsLate));

        // Next day 09:00 one mail is discarded (in time); 10:30 the other is still untouched → one event for it only.
        h.Clock.Set(Local("2026-11-21 09:00"));
        await rig.RunTwiceAsync();
        var office = new System.Security.Claims.ClaimsPrincipal(new System.Security.Claims.ClaimsIdentity(
            [new System.Security.Claims.Claim(System.Security.Claims.ClaimTypes.NameIdentifier, "agent1"), new System.Security.Claims.Claim("sub", "agent1")], "test"));
        await rig.Intake.DiscardAsync(mailAnswered.DraftId, "重复来信", office, ct);
        Assert.Empty(await rig.OverdueEventsAsync(mailForgotten));

        h.Clock.Set(Local("2026-11-21 10:30"));
        await rig.RunTwiceAsync();
        await rig.RunTwiceAsync();
        Assert.Equal(Local("2026-11-21 10:30"), Assert.Single(await rig.OverdueEventsAsync(mailForgotten)).At);
        Assert.Empty(await rig.OverdueEventsAsync(mailAnswered));

        // The office was told once per missed limit.
        var announced = (await rig.Notices.AnnouncementsAsync(ct)).Where(a => a.Kind == "draft-overdue").ToList();
        Assert.Equal(2, announced.Count);
    }
}
