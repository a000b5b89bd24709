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

    /// <summary>
    /// Registers a ticket. With an idempotency key, a retry returns the ticket the first attempt created. The key fixes
    /// the ticket id and the event ids, so the append itself is the idempotency check: it expects no stream, and finds
    /// a retry's events already stored (or the stream taken), also for concurrent duplicates, across nodes and after
    /// a crash. Only a retry this node has already seen is answered before a number is taken.
    /// </summary>
    public async Task<Result> RegisterAsync(RegisterTicket draft, string? idempotencyKey, Guid correlationId, CancellationToken ct)
    {
        var ticketId = idempotencyKey is null ? Guid.CreateVersion7() : Storage.DeterministicId.From("register", idempotencyKey);
        var commandId = idempotencyKey is null ? ticketId.ToString() : "register:" + idempotencyKey;
        var started = Stopwatch.GetTimestamp();
        if (idempotencyKey is not null && index.Get(ticketId) is not null)
        {
            var known = await RegisteredAsync(ticketId, commandId, ct);
            Time("register.load", started);
            return known;
        }

        var now = time.GetUtcNow();
        var phase = Stopwatch.GetTimestamp();
        var command = WithRepeats(draft with { TicketId = ticketId }, now);
        IReadOnlyList<ITicketEvent> decided;
        try
        {
            decided = TicketDecider.Decide(Ticket.Initial, command with { Number = "" }, now, context); // validate before a number is taken
        }
        catch (Domain.Common.DomainValidationException) when (idempotencyKey is not null)
        {
            // A retry of a registration that landed answers what it created, even if it no longer validates.
            if (await FirstAnswerAsync(ticketId, commandId, ct) is { } first) return first;
            throw;
        }
        Time("register.decide", phase);
        phase = Stopwatch.GetTimestamp();
        var number = await numbers.AssignAsync(now, ct);
        Time("register.number", phase);
        // The decision only copies the number into TicketRegistered: set it there instead of deciding again.
        var events = decided.Select(e => e is TicketRegistered r ? r with { Number = number } : e).ToList();
        Result result;
        try
        {
            result = await CommitAsync(ticketId, Ticket.Initial, events, commandId, draft.Actor, correlationId, now, ct, []);
        }
        catch (VersionMismatchException) when (idempotencyKey is not null)
        {
            // The stream exists: a retry whose first attempt decided other events (then the first answer stands), or
            // another command's stream (a conflict).
            result = await RegisteredAsync(ticketId, commandId, ct);
        }
        Time("register.total", started);
        return result;
    }

    private async Task<Result?> FirstAnswerAsync(Guid ticketId, string commandId, CancellationToken ct)
    {
        var (state, recorded) = await store.LoadAsync(ticketId, ct);
        return state.State != TicketState.None && recorded[0].EventId == TicketStore.EventIdOf(commandId, 0) ? new Result(state, recorded) : null;
    }

    /// <summary>The ticket a registration with <paramref name="commandId"/> created, or a conflict when the stream is not that registration's.</summary>
    private async Task<Result> RegisteredAsync(Guid ticketId, string commandId, CancellationToken ct)
    {
        var (state, recorded) = await store.LoadAsync(ticketId, ct);
        if (state.State != TicketState.None && recorded[0].EventId == TicketStore.EventIdOf(commandId, 0)) return new Result(state, recorded);
        throw new VersionMismatchException(0, state.Version);
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
        IReadOnlyList<RecordedEvent>? written;
        try
        {
            (_, written) = await store.AppendAsync(ticketId, state.Version, events, commandId, actor, correlationId, now, ct);
            Time("append", phase);
        }
        catch (WrongExpectedVersionException e)
        {
            throw new VersionMismatchException(state.Version, e.ActualRevision + 1);
        }

        // The append held at the expected version, so the stream is what was read plus what was written: no re-read.
        if (written is not null && before is not null && before.Count == state.Version)
        {
            var (next, all) = store.Fold(state, before, written);
            index.Put(next);
            return new Result(next, all);
        }

        // An idempotent earlier write (its stored events are the answer), or no history at hand: read what is stored.
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
