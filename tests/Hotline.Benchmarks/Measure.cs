using System.Diagnostics;
using System.Globalization;

namespace Hotline.Benchmarks;

/// <summary>A closed-loop load: <c>writers</c> tasks each run <c>operation</c> back to back until the time is up.</summary>
internal static class Measure
{
    public sealed record Figures(long Count, long Errors, TimeSpan Elapsed, double P50Ms, double P99Ms)
    {
        public double PerSecond => Count / Elapsed.TotalSeconds;
    }

    /// <param name="operation">Gets the writer index and its iteration; returns how many units it did (events, requests).</param>
    public static async Task<Figures> ClosedLoopAsync(int writers, TimeSpan duration, Func<int, long, Task<int>> operation, TimeSpan? warmUp = null)
    {
        if (warmUp is { } w && w > TimeSpan.Zero)
        {
            await RunAsync(writers, w, operation, 1_000_000);
        }

        return await RunAsync(writers, duration, operation, 0);
    }

    private static async Task<Figures> RunAsync(int writers, TimeSpan duration, Func<int, long, Task<int>> operation, long iterationOffset)
    {
        var latencies = new List<double>[writers];
        var counts = new long[writers];
        var errors = new long[writers];
        var clock = Stopwatch.StartNew();
        var tasks = Enumerable.Range(0, writers).Select(i => Task.Run(async () =>
        {
            var mine = latencies[i] = new List<double>(4096);
            for (long n = iterationOffset; clock.Elapsed < duration; n++)
            {
                var started = Stopwatch.GetTimestamp();
                try
                {
                    counts[i] += await operation(i, n);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    if (Interlocked.Increment(ref errors[i]) == 1 && i == 0)
                    {
                        Console.Error.WriteLine($"  first error: {e.GetType().Name}: {e.Message}");
                    }
                }

                mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        })).ToArray();
        await Task.WhenAll(tasks);
        var elapsed = clock.Elapsed;
        var all = latencies.SelectMany(l => l).Order().ToArray();
        return new Figures(counts.Sum(), errors.Sum(), elapsed, Percentile(all, 0.50), Percentile(all, 0.99));
    }

    public static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

    public static string Rate(double perSecond, string unit) => perSecond.ToString("N0", CultureInfo.InvariantCulture) + " " + unit;

    public static string Ms(double ms) => ms.ToString("0.0", CultureInfo.InvariantCulture) + " ms";

    public static string Ratio(double figure, double reference) =>
        reference > 0 ? (figure / reference).ToString("0.00", CultureInfo.InvariantCulture) : "—";
}
