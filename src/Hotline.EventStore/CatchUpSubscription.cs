using System.Runtime.CompilerServices;

namespace Hotline.EventStore;

/// <summary>
/// A wake-up signal: <see cref="Pulse"/> completes the task that <see cref="Next"/> handed out.
/// Take <see cref="Next"/> BEFORE reading, then await it: a pulse in between is never lost.
/// </summary>
internal sealed class AppendSignal
{
    private TaskCompletionSource next = NewSource();

    public Task Next => Volatile.Read(ref next).Task;

    public void Pulse() => Interlocked.Exchange(ref next, NewSource()).TrySetResult();

    private static TaskCompletionSource NewSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>
/// Catch-up then live, shared by the stores. Pages through the global log after the last
/// position it yielded; when a page comes back short it is at the head and waits for a wake-up
/// signal or the poll interval, whichever comes first. Since each store hands out positions in
/// commit order and every read starts strictly after the last yielded position, nothing is
/// skipped or repeated. An unavailable database is waited out (the subscription resumes where
/// it stopped); only cancellation ends it.
/// </summary>
internal static class CatchUpSubscription
{
    public const int PageSize = 512;

    /// <summary>Reads a stream forward page by page: <paramref name="readPage"/> gets the first revision of the page.</summary>
    public static async IAsyncEnumerable<RecordedEvent> ReadStreamPaged(
        string streamId, long fromRevision, Func<long, CancellationToken, Task<List<RecordedEvent>>> readPage,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(streamId);
        ArgumentOutOfRangeException.ThrowIfNegative(fromRevision);
        var next = fromRevision;
        while (true)
        {
            var page = await readPage(next, cancellationToken);
            foreach (var e in page)
            {
                yield return e;
            }

            if (page.Count < PageSize)
            {
                yield break;
            }

            next = page[^1].StreamRevision + 1;
        }
    }

    public static async IAsyncEnumerable<RecordedEvent> RunAsync(
        long afterPosition,
        Func<long, int, CancellationToken, Task<List<RecordedEvent>>> readPage,
        AppendSignal signal,
        TimeSpan pollInterval,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(afterPosition);
        var last = afterPosition;
        var failures = 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var wake = signal.Next;
            List<RecordedEvent> page;
            try
            {
                page = await readPage(last, PageSize, cancellationToken);
                failures = 0;
            }
            catch (EventStoreUnavailableException) when (!cancellationToken.IsCancellationRequested)
            {
                failures++;
                var backoff = TimeSpan.FromMilliseconds(Math.Min(5000, 100 * Math.Pow(2, Math.Min(failures, 6))));
                // A pulse means an append just committed (the database is back): read again at once, not after the backoff.
                await WaitAsync(wake, backoff, cancellationToken);
                continue;
            }

            foreach (var e in page)
            {
                if (e.Position <= last)
                {
                    throw new InvalidOperationException($"Event store returned position {e.Position} after {last}.");
                }

                last = e.Position;
                yield return e;
            }

            if (page.Count < PageSize)
            {
                await WaitAsync(wake, pollInterval, cancellationToken);
            }
        }
    }

    private static async Task WaitAsync(Task wake, TimeSpan pollInterval, CancellationToken cancellationToken)
    {
        if (wake.IsCompleted)
        {
            return;
        }

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var delay = Task.Delay(pollInterval, cts.Token);
        await Task.WhenAny(wake, delay);
        await cts.CancelAsync();
        cancellationToken.ThrowIfCancellationRequested();
    }
}
