using System.Collections.Concurrent;
using Hotline.Domain.Tickets;

namespace Hotline.Server.Channels;

public sealed record AppealTicket(Guid TicketId, string Number, string Phone, string Channel);

public sealed record Appeal(Guid TicketId, string Channel, IReadOnlyList<string> Photos, string? PartnerId, string? ExternalId, DateTimeOffset At)
{
    public IReadOnlyList<AppealPhoto>? Attachments { get; init; }

    public OutcomeRated? Rating { get; init; }
}

/// <summary>Appeals: per ticket, the number and phone a citizen tracks it by, the photos sent along, the rating; partner ids → tickets.</summary>
public sealed class Appeals
{
    private readonly ConcurrentDictionary<Guid, AppealTicket> _tickets = new();
    private readonly ConcurrentDictionary<string, Guid> _byNumber = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Guid, Appeal> _appeals = new();

    public static string StreamOf(Guid ticketId) => $"appeal-{ticketId:N}";

    public void Registered(TicketRegistered r)
    {
        _tickets[r.TicketId] = new AppealTicket(r.TicketId, r.Number, r.CallerPhone, r.Channel);
        _byNumber[r.Number] = r.TicketId;
    }

    public AppealTicket? Ticket(Guid id) => _tickets.GetValueOrDefault(id);

    public Guid? ByNumber(string number) => _byNumber.TryGetValue(number, out var id) ? id : null;

    public Appeal? Get(Guid ticketId) => _appeals.GetValueOrDefault(ticketId);

    public void Apply(object e)
    {
        switch (e)
        {
            case PublicAppealSubmitted s:
                _appeals.AddOrUpdate(s.TicketId, _ => new Appeal(s.TicketId, s.Channel, s.Photos, s.PartnerId, s.ExternalId, s.At) { Attachments = s.Attachments },
                    (_, a) => a with { Channel = s.Channel, Photos = s.Photos, PartnerId = s.PartnerId, ExternalId = s.ExternalId, Attachments = s.Attachments });
                break;
            case OutcomeRated r:
                _appeals.AddOrUpdate(r.TicketId, _ => new Appeal(r.TicketId, "", [], null, null, r.At) { Rating = r }, (_, a) => a with { Rating = r });
                break;
        }
    }
}
