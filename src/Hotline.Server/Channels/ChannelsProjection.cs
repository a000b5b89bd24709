using System.Text.RegularExpressions;
using Hotline.Domain.Tickets;
using Hotline.EventStore;
using Hotline.Server.Outbox;
using Hotline.Server.Storage;

namespace Hotline.Server.Channels;

/// <summary>
/// Feeds the channel read models (drafts, appeals) from the global log, from position 0 at start, then live;
/// and turns ticket facts into citizen notifications (受理 number, 答复, 回访 survey) in the outbox. The outbox ids come
/// from the ticket and the kind, so a replay queues nothing twice.
/// </summary>
public sealed partial class ChannelsProjection(
    IEventStore store,
    ChannelStore channels,
    EventSerializer ticketEvents,
    DraftInbox drafts,
    OutboxStore outboxStore,
    Appeals appeals,
    OutboxWriter writer,
    ILogger<ChannelsProjection> logger) : CatchUpProjection(store, logger)
{
    protected override async Task ApplyAsync(RecordedEvent e, bool live, CancellationToken ct)
    {
        if (channels.Serializer.IsKnown(e.Type))
        {
            var data = channels.Serializer.Deserialize(e)!;
            drafts.Apply(data, e.StreamRevision);
            appeals.Apply(data);
            return;
        }
        if (OutboxMessages.IsOutboxStream(e.StreamId))
        {
            // A draft's acknowledgement left the gateway: the SMS channel's response.
            if (outboxStore.Serializer.Deserialize(e) is MessageDelivered d) drafts.Delivered(d.MessageId, d.At);
            return;
        }
        if (!e.StreamId.StartsWith("ticket-", StringComparison.Ordinal) || !ticketEvents.IsKnown(e.Type)) return;
        var fact = ticketEvents.Deserialize(e);
        if (fact is TicketRegistered registered) appeals.Registered(registered);
        // Facts older than a day are history (an existing database meeting this module for the first time): no messages for them.
        if (e.Metadata.Timestamp < channels.Time.GetUtcNow().AddDays(-1)) return;
        switch (fact)
        {
            case TicketRegistered r:
                if (r.Channel != "电话" && Mobile().IsMatch(r.CallerPhone))
                    await writer.QueueAsync("短信", r.CallerPhone, "registered", $"【12345】您的诉求已受理，工单编号 {r.Number}。可在 12345 网站凭编号和手机号查询进度。", r.TicketId, $"ticket:{r.TicketId}:registered", ct);
                break;
            case ReplyAccepted a when appeals.Ticket(a.TicketId) is { } t && Mobile().IsMatch(t.Phone):
                await writer.QueueAsync("短信", t.Phone, "reply", $"【12345】您的工单 {t.Number} 已有答复，可在 12345 网站查询并评价。", a.TicketId, $"ticket:{a.TicketId}:reply:{e.StreamRevision}", ct);
                break;
            case CallbackScheduled c when appeals.Ticket(c.TicketId) is { } t && Mobile().IsMatch(t.Phone):
                await writer.QueueAsync("短信", t.Phone, "survey", $"【12345】请对工单 {t.Number} 的办理结果评价：登录 12345 网站“查询进度”页面即可评价。", c.TicketId, $"ticket:{c.TicketId}:survey:{e.StreamRevision}", ct);
                break;
        }
    }

    [GeneratedRegex(@"^1[3-9]\d{9}$")]
    private static partial Regex Mobile();
}
