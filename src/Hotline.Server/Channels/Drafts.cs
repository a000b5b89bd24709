using System.Collections.Concurrent;
using System.Security.Claims;
using Hotline.Domain.Tickets;
using Hotline.EventStore;
using Hotline.Server.Auth;
using Hotline.Server.Outbox;
using Hotline.Server.Storage;
using Hotline.Server.Tickets;
using Microsoft.Extensions.Options;

namespace Hotline.Server.Channels;

public sealed record Draft(Guid DraftId, string Channel, string SourceId, string From, string? Subject, string Text, DateTimeOffset ReceivedAt, DateTimeOffset RespondBy)
{
    public long Version { get; init; } = 1;
    public DateTimeOffset? AcknowledgedAt { get; init; }
    public Guid? TicketId { get; init; }
    public string? TicketNumber { get; init; }
    public DateTimeOffset? CompletedAt { get; init; }
    public string? DiscardReason { get; init; }
    public DateTimeOffset? OverdueRaisedAt { get; init; }
    public bool Open => CompletedAt is null;

    /// <summary>The channel's response: the acknowledgement for SMS (≤ 3 min), the ticket or the discard for mail (≤ 24 h).</summary>
    public DateTimeOffset? RespondedAt => Channel == ChannelNames.Sms ? AcknowledgedAt : CompletedAt;
}

public static class ChannelNames
{
    public const string Sms = "短信";
    public const string Mail = "邮件";
    public const string Web = "网站";
}

/// <summary>DraftInbox: the SMS and mails waiting for an agent, and their channel response timers.</summary>
public sealed class DraftInbox
{
    private readonly ConcurrentDictionary<Guid, Draft> _drafts = new();
    private readonly ConcurrentDictionary<Guid, Guid> _draftByAck = new();

    public static string StreamOf(Guid id) => $"draft-{id:N}";

    public IEnumerable<Draft> All => _drafts.Values;

    public Draft? Get(Guid id) => _drafts.GetValueOrDefault(id);

    public void Apply(object e, long revision)
    {
        switch (e)
        {
            case DraftReceived r when revision == 0:
                _drafts.TryAdd(r.DraftId, new Draft(r.DraftId, r.Channel, r.SourceId, r.From, r.Subject, r.Text, r.At, r.RespondBy));
                _draftByAck[OutboxMessages.IdFor(DraftIntake.AckKey(r.DraftId))] = r.DraftId;
                break;
            case DraftCompleted c when _drafts.TryGetValue(c.DraftId, out var d) && d.Version == revision:
                _drafts[c.DraftId] = d with { Version = d.Version + 1, TicketId = c.TicketId, TicketNumber = c.TicketNumber, CompletedAt = c.At };
                break;
            case DraftDiscarded x when _drafts.TryGetValue(x.DraftId, out var d) && d.Version == revision:
                _drafts[x.DraftId] = d with { Version = d.Version + 1, DiscardReason = x.Reason, CompletedAt = x.At };
                break;
            case DraftResponseOverdue o when _drafts.TryGetValue(o.DraftId, out var d) && d.Version == revision:
                _drafts[o.DraftId] = d with { Version = d.Version + 1, OverdueRaisedAt = o.At };
                break;
        }
    }

    /// <summary>An outbox message was delivered; if it is a draft's acknowledgement, the draft is acknowledged.</summary>
    public void Delivered(Guid messageId, DateTimeOffset at)
    {
        if (_draftByAck.TryGetValue(messageId, out var draftId)) Acknowledged(draftId, at);
    }

    /// <summary>The acknowledgement of a draft left the gateway (from the outbox).</summary>
    public void Acknowledged(Guid draftId, DateTimeOffset at)
    {
        if (_drafts.TryGetValue(draftId, out var d) && d.AcknowledgedAt is null) _drafts[draftId] = d with { AcknowledgedAt = at };
    }
}

/// <summary>ResponseStatus: pending (in time so far), met, late (responded after the limit), overdue (limit passed, no response yet).</summary>
public sealed record DraftView(Guid Id, string Channel, string From, string? Subject, string Text, DateTimeOffset ReceivedAt, DateTimeOffset RespondBy,
    DateTimeOffset? RespondedAt, string ResponseStatus, DateTimeOffset? AcknowledgedAt, bool Open, Guid? TicketId, string? TicketNumber, string? DiscardReason, long Version,
    DateTimeOffset? OverdueRaisedAt);

/// <summary>Turns inbound SMS and mails into drafts (idempotent by the operator's message id) and drafts into tickets.</summary>
public sealed class DraftIntake(ChannelStore store, DraftInbox inbox, OutboxWriter outbox, TicketService tickets, IOptions<ChannelsOptions> options)
{
    /// <summary>The outbox key of a draft's acknowledgement (one per draft).</summary>
    public static string AckKey(Guid draftId) => "ack:" + draftId;

    public async Task<Draft> ReceiveAsync(string channel, string sourceId, string from, string? subject, string text, CancellationToken ct)
    {
        var id = DeterministicId.From("draft", channel, sourceId);
        var now = store.Time.GetUtcNow();
        var limit = channel == ChannelNames.Sms ? TimeSpan.FromMinutes(options.Value.SmsResponseMinutes) : TimeSpan.FromHours(options.Value.MailResponseHours);
        var received = new DraftReceived(id, channel, sourceId, from, subject, text, now + limit, now);
        try
        {
            await store.StartAsync(DraftInbox.StreamOf(id), received, "received", channel, ct);
            inbox.Apply(received, 0);
        }
        catch (WrongExpectedVersionException)
        {
            // The operator retried the same message: the draft exists already.
        }
        var draft = inbox.Get(id) ?? await LoadAsync(id, ct) ?? throw new InvalidOperationException("draft vanished");

        var ack = channel == ChannelNames.Sms
            ? "【12345】您的短信已收到，我们将尽快受理并回复。"
            : "【12345】您的来信已收到，我们将在 24 小时内受理并回复。";
        await outbox.QueueAsync(channel, from, "ack", ack, id, AckKey(id), ct);
        return draft;
    }

    public async Task<Draft?> LoadAsync(Guid id, CancellationToken ct)
    {
        var events = await store.ReadAsync(DraftInbox.StreamOf(id), ct);
        if (events.Count == 0 || events[0] is not DraftReceived r) return null;
        var d = new Draft(r.DraftId, r.Channel, r.SourceId, r.From, r.Subject, r.Text, r.At, r.RespondBy);
        foreach (var e in events.Skip(1))
            d = e switch
            {
                DraftCompleted c => d with { Version = d.Version + 1, TicketId = c.TicketId, TicketNumber = c.TicketNumber, CompletedAt = c.At },
                DraftDiscarded x => d with { Version = d.Version + 1, DiscardReason = x.Reason, CompletedAt = x.At },
                DraftResponseOverdue o => d with { Version = d.Version + 1, OverdueRaisedAt = o.At },
                _ => d with { Version = d.Version + 1 },
            };
        return d;
    }

    /// <summary>The agent fills in what the text did not say; the ticket is registered once (keyed by the draft).</summary>
    public async Task<(Draft Draft, TicketService.Result Ticket)> CompleteAsync(Guid id, TicketModule.RegisterRequest body, ClaimsPrincipal user, CancellationToken ct)
    {
        var draft = await LoadAsync(id, ct) ?? throw new DraftNotFoundException(id);
        if (draft.DiscardReason is not null) throw new DraftClosedException("草稿已作废");
        var phone = string.IsNullOrWhiteSpace(body.CallerPhone) ? (draft.Channel == ChannelNames.Sms ? draft.From : null) : body.CallerPhone;
        var content = string.IsNullOrWhiteSpace(body.Content) ? draft.Text : body.Content;
        var result = await tickets.RegisterAsync(new RegisterTicket(Guid.Empty, "", draft.Channel, body.Type, body.Urgency ?? "一般", body.CategoryCode, body.AreaCode,
            body.Address, content, body.CallerName, phone, body.Confidential, null, user.UserId()), "draft:" + id, Guid.CreateVersion7(), ct);
        if (draft.TicketId is null)
        {
            var completed = new DraftCompleted(id, result.Ticket.Id, result.Ticket.Number, user.UserId(), store.Time.GetUtcNow());
            try
            {
                await store.AppendAsync(DraftInbox.StreamOf(id), draft.Version, completed, "completed", user.UserId(), ct);
                inbox.Apply(completed, draft.Version);
            }
            catch (WrongExpectedVersionException) { }
        }
        return (await LoadAsync(id, ct) ?? draft, result);
    }

    public async Task<Draft> DiscardAsync(Guid id, string? reason, ClaimsPrincipal user, CancellationToken ct)
    {
        var draft = await LoadAsync(id, ct) ?? throw new DraftNotFoundException(id);
        if (!draft.Open) throw new DraftClosedException("草稿已处理");
        if (string.IsNullOrWhiteSpace(reason)) throw new Domain.Common.DomainValidationException("reason", "作废原因不能为空");
        var discarded = new DraftDiscarded(id, reason.Trim(), user.UserId(), store.Time.GetUtcNow());
        try
        {
            await store.AppendAsync(DraftInbox.StreamOf(id), draft.Version, discarded, "discarded", user.UserId(), ct);
        }
        catch (WrongExpectedVersionException) { throw new DraftClosedException("草稿已被他人处理"); }
        inbox.Apply(discarded, draft.Version);
        return await LoadAsync(id, ct) ?? draft;
    }

    public DraftView View(Draft d)
    {
        // The acknowledgement is known from the outbox (read model), not from the draft's own stream.
        if (d.AcknowledgedAt is null && inbox.Get(d.DraftId)?.AcknowledgedAt is { } ack) d = d with { AcknowledgedAt = ack };
        var now = store.Time.GetUtcNow();
        var responded = d.RespondedAt;
        var status = responded is { } r ? (r <= d.RespondBy ? "met" : "late") : now > d.RespondBy ? "overdue" : "pending";
        return new DraftView(d.DraftId, d.Channel, d.From, d.Subject, d.Text, d.ReceivedAt, d.RespondBy, responded, status, d.AcknowledgedAt, d.Open, d.TicketId, d.TicketNumber, d.DiscardReason, d.Version,
            d.OverdueRaisedAt ?? inbox.Get(d.DraftId)?.OverdueRaisedAt);
    }
}

public sealed class DraftNotFoundException(Guid id) : Exception($"Draft {id} not found.")
{
    public Guid DraftId { get; } = id;
}

public sealed class DraftClosedException(string message) : Exception(message);
