using Hotline.Domain.Tickets;
using Hotline.EventStore;
using Hotline.Server.Calls;
using Hotline.Server.Hosting;
using Hotline.Server.Reference;
using Hotline.Server.Tickets;
using Microsoft.Extensions.Options;

namespace Hotline.Server.Storage;

/// <summary>
/// Feeds the in-process read models from the global log: a catch-up subscription from position 0 (so a restart
/// rebuilds them), then live. Writes on other nodes reach this node's read models and pushes this way.
/// Pushes come from here, never from inside a write; they are queued to <see cref="TicketPushes"/> and never awaited,
/// so a console that stops reading cannot stall the read models; a failed push never undoes anything.
/// The ticket index starts from its snapshot (<see cref="TicketIndexSnapshot"/>) when there is a usable one: ticket
/// events up to the snapshot's position are then skipped without being read as JSON (the other read models fed here
/// still see every event). A new snapshot is written once the log has grown by <c>Hotline:ReadModels:SnapshotEveryEvents</c>
/// (default 50,000; 0 = never) since the last one, checked after catching up and every
/// <c>Hotline:ReadModels:SnapshotCheckSeconds</c> (default 300).
/// </summary>
public sealed class ProjectionRunner(
    IEventStore store,
    EventSerializer serializer,
    TicketIndex tickets,
    CallStats calls,
    TicketPushes pushes,
    CityReference city,
    IOptions<HotlineOptions> options,
    IConfiguration configuration,
    TimeProvider time,
    ILogger<ProjectionRunner> logger) : CatchUpProjection(store, logger)
{
    private readonly TicketIndexSnapshot _snapshot = new(Path.Combine(Path.GetFullPath(options.Value.DataDirectory), TicketIndexSnapshot.FileName));
    private readonly long _snapshotEvery = configuration.GetValue("Hotline:ReadModels:SnapshotEveryEvents", 50_000L);
    private readonly TimeSpan _snapshotCheck = TimeSpan.FromSeconds(configuration.GetValue("Hotline:ReadModels:SnapshotCheckSeconds", 300));

    /// <summary>Ticket events up to this position are in the index already (loaded from the snapshot).</summary>
    private long _loadedUpTo;
    private long _lastSnapshot;

    /// <summary>The ticket index keeps the position (it is also advanced by inline writes' readers).</summary>
    protected override long Position
    {
        get => tickets.Position;
        set => tickets.Advance(value);
    }

    protected override async Task InitializeAsync(CancellationToken ct)
    {
        if (_snapshotEvery <= 0) return;
        _loadedUpTo = _lastSnapshot = await _snapshot.TryLoadAsync(tickets, EventLog, logger, ct);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(base.ExecuteAsync(stoppingToken), SnapshotsAsync(stoppingToken));

    /// <summary>Writes a snapshot after catching up, then whenever the log has grown enough since the last one.</summary>
    private async Task SnapshotsAsync(CancellationToken ct)
    {
        if (_snapshotEvery <= 0) return;
        try
        {
            await CaughtUp.WaitAsync(ct);
            while (!ct.IsCancellationRequested)
            {
                var position = tickets.Position;
                if (position - _lastSnapshot >= _snapshotEvery)
                {
                    try
                    {
                        var at = await EventLog.ReadAllAsync(position - 1, 1, ct).FirstOrDefaultAsync(ct);
                        if (at is not null && at.Position == position)
                        {
                            var started = System.Diagnostics.Stopwatch.GetTimestamp();
                            var count = await _snapshot.WriteAsync(tickets, position, at.EventId, time.GetUtcNow(), ct);
                            _lastSnapshot = position;
                            logger.LogInformation("Ticket index snapshot written: {Count} tickets up to position {Position} in {Seconds:F1} s",
                                count, position, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
                        }
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException or EventStoreUnavailableException)
                    {
                        logger.LogWarning(e, "Ticket index snapshot not written; the next check tries again");
                    }
                }
                await Task.Delay(_snapshotCheck, time, ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
    }

    protected override Task ApplyAsync(RecordedEvent e, bool live, CancellationToken ct)
    {
        // Already folded into the snapshot the index started from: not even read as JSON.
        if (e.Position <= _loadedUpTo && TicketStore.IsTicketStream(e.StreamId)) return Task.CompletedTask;
        var data = serializer.Deserialize(e);
        switch (data)
        {
            case ITicketEvent te:
                tickets.Apply(te.TicketId, e.StreamRevision, te);
                // Queued, never awaited: a console that stops reading must not stall the read models (TicketPushes).
                if (live && tickets.Get(te.TicketId) is { } t)
                    pushes.Enqueue(new TicketChangedView(t.Id, t.Number, t.State.ToString(), TicketStateNames.Of(t.State), t.Version), t.RegisteredBy);
                break;
            // Versions published on another node (this node applies its own at once; applying again is a no-op).
            case CategoryTreePublished c:
                city.Apply(c);
                break;
            case DispatchCataloguePublished d:
                city.Apply(d);
                break;
            case ICallRecord cr:
                calls.Apply(cr);
                break;
            default:
                break;
        }
        return Task.CompletedTask;
    }
}
