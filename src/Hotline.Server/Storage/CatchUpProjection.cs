using Hotline.EventStore;

namespace Hotline.Server.Storage;

/// <summary>
/// A read model fed from the global log: a catch-up subscription from <see cref="Position"/> (0 for the in-memory
/// read models, so a restart rebuilds them; a stored checkpoint for the persistent ones), then live; a dropped
/// subscription resumes from the last applied position. <see cref="CaughtUp"/> completes once the head of the log as it
/// was at start has been applied. <see cref="RebuildAsync"/> resets the read model and replays from position 0.
/// Subclasses only say how to apply one event (and, when rebuildable, how to reset).
/// </summary>
public abstract class CatchUpProjection(IEventStore store, ILogger logger) : BackgroundService
{
    private readonly TaskCompletionSource _caughtUp = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _gate = new();
    private CancellationTokenSource? _round;
    private TaskCompletionSource? _rebuilt;
    private bool _resetRequested;

    /// <summary>Completes once the read model has reached the head of the log as it was at start.</summary>
    public Task CaughtUp => _caughtUp.Task;

    /// <summary>True from a rebuild request until the replay has reached the head of the log as it was when the replay began.</summary>
    public bool Rebuilding
    {
        get { lock (_gate) return _rebuilt is not null; }
    }

    /// <summary>The log this read model is fed from.</summary>
    protected IEventStore EventLog => store;

    /// <summary>The global position of the last event applied.</summary>
    protected virtual long Position { get; set; }

    /// <summary>The head of the log when the current subscription started (events after it are live).</summary>
    protected long HeadAtStart { get; private set; }

    /// <param name="live">True for events committed after the subscription started (history is not pushed again).</param>
    protected abstract Task ApplyAsync(RecordedEvent e, bool live, CancellationToken ct);

    /// <summary>Runs once before the first subscription (create tables, load the checkpoint into <see cref="Position"/>).</summary>
    protected virtual Task InitializeAsync(CancellationToken ct) => Task.CompletedTask;

    /// <summary>Clears the read model and its checkpoint for a rebuild; <see cref="Position"/> is set to 0 afterwards.</summary>
    protected virtual Task ResetAsync(CancellationToken ct) => throw new NotSupportedException($"{GetType().Name} cannot be rebuilt.");

    /// <summary>Asks for a reset and a replay from position 0; the task completes when the replay has caught up.</summary>
    public Task RebuildAsync()
    {
        lock (_gate)
        {
            if (_rebuilt is null)
            {
                _rebuilt = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _resetRequested = true;
                _round?.Cancel();
            }
            return _rebuilt.Task;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // A database that is down at start must not stop the host: retry until it answers.
        while (true)
        {
            try
            {
                await InitializeAsync(stoppingToken);
                break;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "{Projection} could not start; retrying", GetType().Name);
                await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
                if (stoppingToken.IsCancellationRequested) return;
            }
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            using var round = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            bool reset;
            lock (_gate)
            {
                _round = round;
                reset = _resetRequested;
            }
            try
            {
                if (reset)
                {
                    await ResetAsync(round.Token);
                    Position = 0;
                    lock (_gate) _resetRequested = false;
                }
                var head = await store.GetHeadPositionAsync(round.Token);
                HeadAtStart = head;
                if (Position >= head) Reached();
                await foreach (var e in store.SubscribeToAllAsync(Position, round.Token))
                {
                    await ApplyAsync(e, live: e.Position > head, round.Token);
                    Position = e.Position;
                    if (e.Position >= head) Reached();
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
            catch (OperationCanceledException) when (round.IsCancellationRequested)
            {
                logger.LogInformation("{Projection} restarts for a rebuild from position 0", GetType().Name);
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "{Projection} dropped at position {Position}; resubscribing", GetType().Name, Position);
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
            finally
            {
                lock (_gate) _round = null;
            }
        }
    }

    private void Reached()
    {
        _caughtUp.TrySetResult();
        TaskCompletionSource? done = null;
        lock (_gate)
        {
            if (_rebuilt is not null && !_resetRequested)
            {
                done = _rebuilt;
                _rebuilt = null;
            }
        }
        if (done is not null)
        {
            logger.LogInformation("{Projection} rebuilt from position 0 up to {Position}", GetType().Name, Position);
            done.TrySetResult();
        }
    }
}
