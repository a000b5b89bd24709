using Hotline.EventStore;
using Hotline.Server.Jobs;
using Hotline.Server.Outbox;
using Quartz;

namespace Hotline.Server.Channels;

/// <summary>
/// 渠道响应时限: watches the channel response limits like the other timers. A draft whose response did not come in
/// time (SMS: the acknowledgement delivered within SmsResponseMinutes; mail: made a ticket or discarded within
/// MailResponseHours) gets one <see cref="DraftResponseOverdue"/> in its stream and one announcement to the office.
/// The decision reads the draft's stream and its acknowledgement's outbox stream, not a read-model flag, and the event
/// is appended at the version read with a deterministic id: a second run (or a second node) writes nothing.
/// </summary>
[DisallowConcurrentExecution]
public sealed class ChannelResponseJob(DraftInbox inbox, ChannelStore store, OutboxStore outbox, NoticeStore notices, TimeProvider time) : OfficeJob
{
    public static readonly JobKey Key = new("channel-response", "channels");

    /// <summary>How often the job runs (the SMS limit is minutes, so every half minute).</summary>
    public const int IntervalSeconds = 30;

    public override async Task<string> RunAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var raised = 0;
        foreach (var candidate in inbox.All.Where(d => d.OverdueRaisedAt is null && now > d.RespondBy).ToList())
        {
            var events = await store.ReadAsync(DraftInbox.StreamOf(candidate.DraftId), ct);
            if (events.Count == 0 || events[0] is not DraftReceived received || events.OfType<DraftResponseOverdue>().Any()) continue;
            var respondedAt = await RespondedAtAsync(received, events, ct);
            if (respondedAt is { } r && r <= received.RespondBy) continue;

            var overdue = new DraftResponseOverdue(received.DraftId, received.Channel, received.RespondBy, now);
            try
            {
                await store.AppendAsync(DraftInbox.StreamOf(received.DraftId), events.Count, overdue, "response-overdue", SystemActor.Id, ct);
            }
            catch (WrongExpectedVersionException)
            {
                continue; // the draft moved meanwhile (or another node raised it); the next run decides again
            }
            inbox.Apply(overdue, events.Count);
            var what = received.Channel == ChannelNames.Sms ? "短信回执未在时限内发出" : "来信未在时限内受理";
            await notices.AnnounceAsync("draft-overdue", received.DraftId.ToString("N"), "渠道响应超时",
                $"{received.Channel}（{received.From}）{what}，时限 " + Tickets.TimeZones.ToLocal(received.RespondBy).ToString("MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture), [Auth.Roles.Agent, Auth.Roles.Supervisor], ct);
            raised++;
        }
        return $"{raised} channel response limit(s) missed";
    }

    /// <summary>SMS: when the acknowledgement was delivered (its outbox stream); mail: when the draft was completed or discarded.</summary>
    private async Task<DateTimeOffset?> RespondedAtAsync(DraftReceived received, IReadOnlyList<object> events, CancellationToken ct)
    {
        if (received.Channel != ChannelNames.Sms)
            return events.Select(e => e switch { DraftCompleted c => c.At, DraftDiscarded x => x.At, _ => (DateTimeOffset?)null }).FirstOrDefault(a => a is not null);
        var ack = await outbox.ReadAsync(OutboxMessages.IdFor(DraftIntake.AckKey(received.DraftId)), ct);
        return ack.OfType<MessageDelivered>().FirstOrDefault()?.At;
    }
}
