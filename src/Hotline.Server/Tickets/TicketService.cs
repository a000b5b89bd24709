using System.Diagnostics;
using System.Diagnostics.Metrics;
using Hotline.Domain.Tickets;
using Hotline.EventStore;

namespace Hotline.Server.Tickets;

/// <summary>Runs ticket commands: load the stream, decide, append with the expected version, update the inline read model.</summary>
public sealed class TicketService(TicketStore store, TicketNumbers numbers, TicketIndex index, TicketContext context, TimeProvider time, RepeatRules repeats)
{
    public sealed class VersionMismatchException(long expected, long actual)
        : Exception($"The ticket is at version {actual}, the request expected {expected}.")
    {
        public long Expected { get; } = expected;
        public long Actual { get; } = actual;
    }

    public sealed class TicketNotFoundException(Guid id) : Exception($"Ticket {id} not found.")
    {
        public Guid TicketId { get; } = id;
    }

    public record Result(Ticket Ticket, IReadOnlyList<RecordedEvent> History);

    /// <summary>Meter of the command path: where the wall time of a command goes, per phase (tag <c>phase</c>).</summary>
    public const string MeterName = "Hotline.Tickets";

    private static readonly Meter Meter = new(MeterName);
    private static readonly Histogram<double> Phases = Meter.CreateHistogram<double>("hotline.tickets.command.phase", "ms", "Wall time of one phase of a ticket command");

    private static void Time(string phase, long since) => Phases.Record(Stopwatch.GetElapsedTime(since).TotalMilliseconds, new KeyValuePair<string, object?>("phase", phase));

    /// <summary>Registers a ticket. With an idempotency key, a retry returns the ticket the first attempt created.</summary>
    public async Task<Result> RegisterAsync(RegisterTicket draft, string? idempotencyKey, Guid correlationId, CancellationToken ct)
    {
        var ticketId = idempotencyKey is null ? Guid.CreateVersion7() : Storage.DeterministicId.From("register", idempotencyKey);
        var commandId = idempotencyKey is null ? ticketId.ToString() : "register:" + idempotencyKey;
        var started = Stopwatch.GetTimestamp();
        var existing = await store.LoadAsync(ticketId, ct);
        Time("register.load", started);
        if (existing.State.State != TicketState.None)
        {
            if (existing.Recorded[0].EventId == TicketStore.EventIdOf(commandId, 0)) return new Result(existing.State, existing.Recorded);
            throw new VersionMismatchException(0, existing.State.Version);
        }

        var now = time.GetUtcNow();
        var phase = Stopwatch.GetTimestamp();
        var command = WithRepeats(draft with { TicketId = ticketId }, now);
        TicketDecider.Decide(Ticket.Initial, command with { Number = "" }, now, context); // validate before a number is taken
        Time("register.decide", phase);
        phase = Stopwatch.GetTimestamp();
        var number = await numbers.AssignAsync(now, ct);
        Time("register.number", phase);
        var events = TicketDecider.Decide(Ticket.Initial, command with { Number = number }, now, context);
        var result = await CommitAsync(ticketId, Ticket.Initial, events, commandId, draft.Actor, correlationId, now, ct);
        Time("register.total", started);
        return result;
    }

    /// <summary>
    /// Runs a command against version <paramref name="expectedVersion"/>. A retry of a command that already landed
    /// (same idempotency key, or same action on the same version) returns the current state instead of a conflict.
    /// </summary>
    public async Task<Result> ExecuteAsync(Guid ticketId, long expectedVersion, TicketCommand command, string? idempotencyKey, Guid correlationId, CancellationToken ct)
    {
        var (state, recorded) = await store.LoadAsync(ticketId, ct);
        if (state.State == TicketState.None) throw new TicketNotFoundException(ticketId);

        var commandId = idempotencyKey is null ? $"{ticketId:N}:{expectedVersion}:{command.Name}" : "cmd:" + idempotencyKey;
        if (state.Version != expectedVersion)
        {
            if (expectedVersion < state.Version && expectedVersion >= 0 && recorded[(int)expectedVersion].EventId == TicketStore.EventIdOf(commandId, 0))
                return new Result(state, recorded);
            throw new VersionMismatchException(expectedVersion, state.Version);
        }

        var now = time.GetUtcNow();
        var events = TicketDecider.Decide(state, command, now, context);
        if (events.Count == 0) return new Result(state, recorded); // an idempotent system command that found nothing to change
        return await CommitAsync(ticketId, state, events, commandId, command.Actor, correlationId, now, ct, recorded);
    }

    /// <summary>
    /// 并单: attaches the duplicate's content to the master, then closes the duplicate as merged. Two streams, two appends;
    /// a retry after a failure between them finds the master already holding the duplicate and completes the second step.
    /// </summary>
    public async Task<Result> MergeAsync(Guid duplicateId, long expectedVersion, Guid masterId, string? reason, string actor, string? idempotencyKey, Guid correlationId, CancellationToken ct)
    {
        var (dup, dupRecorded) = await store.LoadAsync(duplicateId, ct);
        if (dup.State == TicketState.None) throw new TicketNotFoundException(duplicateId);
        var (master, masterRecorded) = await store.LoadAsync(masterId, ct);
        if (master.State == TicketState.None) throw new Domain.Common.DomainValidationException("masterId", "主工单不存在");
        if (dup.MergedInto == masterId) return new Result(dup, dupRecorded);
        if (dup.Version != expectedVersion) throw new VersionMismatchException(expectedVersion, dup.Version);

        var merge = new MergeIntoMaster(masterId, master.Number, master.IsOpen, reason, actor);
        var now = time.GetUtcNow();
        TicketDecider.Decide(dup, merge, now, context); // validate the duplicate side before touching the master
        if (!master.Duplicates.Any(d => d.TicketId == duplicateId))
        {
            var attach = TicketDecider.Decide(master, new AttachDuplicate(duplicateId, dup.Number, dup.Content, actor), now, context);
            await CommitAsync(masterId, master, attach, $"attach:{masterId:N}:{duplicateId:N}", actor, correlationId, now, ct, masterRecorded);
        }
        var events = TicketDecider.Decide(dup, merge, now, context);
        var commandId = idempotencyKey is null ? $"{duplicateId:N}:{expectedVersion}:merge" : "cmd:" + idempotencyKey;
        return await CommitAsync(duplicateId, dup, events, commandId, actor, correlationId, now, ct, dupRecorded);
    }

    /// <summary>Repeat callers: earlier tickets of the same phone and category (and area) in the window, and the 30-day contact count.</summary>
    public RegisterTicket WithRepeats(RegisterTicket command, DateTimeOffset now)
    {
        var phone = command.CallerPhone?.Trim();
        if (string.IsNullOrEmpty(phone)) return command;
        var earlier = index.ByCaller(phone).Where(t => t.Id != command.TicketId).ToList();
        var repeatOf = earlier
            .Where(t => t.RegisteredAt >= now - repeats.Window && t.CategoryCode == command.CategoryCode && (!repeats.SameArea || t.AreaCode == command.AreaCode))
            .OrderByDescending(t => t.RegisteredAt).Take(10)
            .Select(t => new RepeatOfTicket(t.Id, t.Number, t.RegisteredAt)).ToList();
        return command with { RepeatOf = repeatOf, ContactsLast30Days = earlier.Count(t => t.RegisteredAt >= now.AddDays(-30)) };
    }

    public async Task<Result> LoadAsync(Guid ticketId, CancellationToken ct)
    {
        var (state, recorded) = await store.LoadAsync(ticketId, ct);
        return state.State == TicketState.None ? throw new TicketNotFoundException(ticketId) : new Result(state, recorded);
    }

    private async Task<Result> CommitAsync(Guid ticketId, Ticket state, IReadOnlyList<ITicketEvent> events, string commandId, string actor, Guid correlationId, DateTimeOffset now, CancellationToken ct, IReadOnlyList<RecordedEvent>? before = null)
    {
        var phase = Stopwatch.GetTimestamp();
        try
        {
            await store.AppendAsync(ticketId, state.Version, events, commandId, actor, correlationId, now, ct);
            Time("append", phase);
        }
        catch (WrongExpectedVersionException e)
        {
            throw new VersionMismatchException(state.Version, e.ActualRevision + 1);
        }

        // Re-read so the answer shows exactly what is stored (including an idempotent earlier write).
        phase = Stopwatch.GetTimestamp();
        var (after, recorded) = await store.LoadAsync(ticketId, ct);
        Time("reread", phase);
        index.Put(after);
        return new Result(after, recorded);
    }
}

/// <summary>What makes a new ticket a repeat ("Hotline:Repeats"): same phone + same category (+ same area) within the window.</summary>
public sealed record RepeatRules
{
    public TimeSpan Window { get; init; } = TimeSpan.FromDays(7);
    public bool SameArea { get; init; } = true;
}
