using Hotline.EventStore;

namespace Hotline.Server.Storage;

/// <summary>
/// A read model fed from the global log: a catch-up subscription from position 0 (so a restart rebuilds it), then
/// live; a dropped subscription resumes from the last applied position. <see cref="CaughtUp"/> completes once the
/// head of the log as it was at start has been applied. Subclasses only say how to apply one event.
/// </summary>
public abstract class CatchUpProjection(IEventStore store, ILogger logger) : BackgroundService
{
    private readonly TaskCompletionSource _caughtUp = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes once the read model has reached the head of the log as it was at start.</summary>
    public Task CaughtUp => _caughtUp.Task;

    /// <summary>The global position of the last event applied.</summary>
    protected virtual long Position { get; set; }

    /// <param name="live">True for events committed after the subscription started (history is not pushed again).</param>
    protected abstract Task ApplyAsync(RecordedEvent e, bool live, CancellationToken ct);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var head = await store.GetHeadPositionAsync(stoppingToken);
                if (Position >= head) _caughtUp.TrySetResult();
                await foreach (var e in store.SubscribeToAllAsync(Position, stoppingToken))
                {
                    await ApplyAsync(e, live: e.Position > head, stoppingToken);
                    Position = e.Position;
                    if (e.Position >= head) _caughtUp.TrySetResult();
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
            catch (Exception e)
            {
                logger.LogWarning(e, "{Projection} dropped at position {Position}; resubscribing", GetType().Name, Position);
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }
}
