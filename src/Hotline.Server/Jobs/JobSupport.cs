using Hotline.Domain.Common;
using Hotline.Domain.Tickets;
using Hotline.Server.Storage;
using Hotline.Server.Tickets;
using Quartz;

namespace Hotline.Server.Jobs;

/// <summary>The actor every job writes as.</summary>
public static class SystemActor
{
    public const string Id = "system";
}

/// <summary>
/// A job of the office: <see cref="RunAsync"/> does the work and says what it did (the run's result); the Quartz
/// entry point only calls it. Tests call <see cref="RunAsync"/> directly under a fake clock.
/// </summary>
public abstract class OfficeJob : IJob
{
    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken) =>
        context.Result = await RunAsync(cancellationToken);

    public abstract Task<string> RunAsync(CancellationToken ct);
}

/// <summary>
/// How jobs write to tickets: against the version they read, with an idempotency key naming the decision, so a re-run
/// (or a second node) either finds the event already there or loses the race with a version conflict; both are fine.
/// </summary>
public sealed class TicketWriter(TicketService tickets, EventSerializer serializer, ILogger<TicketWriter> logger)
{
    /// <summary>The ticket as stored now, with its events (the decisions read these, not the index).</summary>
    public async Task<(Ticket Ticket, IReadOnlyList<ITicketEvent> History)?> LoadAsync(Guid ticketId, CancellationToken ct)
    {
        try
        {
            var result = await tickets.LoadAsync(ticketId, ct);
            return (result.Ticket, result.History.Select(serializer.Deserialize).OfType<ITicketEvent>().ToList());
        }
        catch (TicketService.TicketNotFoundException) { return null; }
    }

    /// <summary>Runs the command once; false when the ticket moved meanwhile or the state no longer allows it (the next run decides again).</summary>
    public async Task<bool> TryExecuteAsync(Ticket ticket, TicketCommand command, string key, CancellationToken ct)
    {
        try
        {
            await tickets.ExecuteAsync(ticket.Id, ticket.Version, command, $"job:{key}", DeterministicId.From("job", key), ct);
            return true;
        }
        catch (TicketService.VersionMismatchException)
        {
            logger.LogDebug("Ticket {Number} changed meanwhile ({Key}); the next run decides again", ticket.Number, key);
            return false;
        }
        catch (Exception e) when (e is InvalidTransitionException or DomainValidationException)
        {
            logger.LogInformation("Job step {Key} on ticket {Number} refused: {Reason}", key, ticket.Number, e.Message);
            return false;
        }
    }
}
