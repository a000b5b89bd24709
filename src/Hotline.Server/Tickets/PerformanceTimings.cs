using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using Hotline.EventStore;

namespace Hotline.Server.Tickets;

/// <summary>
/// Benchmark mode: with <c>Hotline:Diagnostics:TimingsSeconds</c> &gt; 0, listens to the meters of the write path
/// (<see cref="EventStoreMetrics.MeterName"/>: group commits; <see cref="TicketService.MeterName"/>: phases of a ticket
/// command) and logs one line per interval: per instrument and tag, count, mean and max. The benchmark suite
/// (tests/Hotline.Benchmarks, http-register) reads these lines from the server's output. Off by default (no listener).
/// </summary>
public sealed class PerformanceTimings(IConfiguration configuration, ILogger<PerformanceTimings> logger) : BackgroundService
{
    public const string Setting = "Hotline:Diagnostics:TimingsSeconds";

    private readonly ConcurrentDictionary<string, Aggregate> _aggregates = new(StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var seconds = configuration.GetValue(Setting, 0);
        if (seconds <= 0) return;

        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name is EventStoreMetrics.MeterName or TicketService.MeterName) l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Add(i, v, tags));
        listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Add(i, v, tags));
        listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Add(i, v, tags));
        listener.Start();

        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(seconds));
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                var line = new StringBuilder();
                foreach (var key in _aggregates.Keys.Order(StringComparer.Ordinal))
                {
                    if (!_aggregates.TryRemove(key, out var a) || a.Count == 0) continue;
                    line.Append(CultureInfo.InvariantCulture, $" {key} n={a.Count} mean={a.Sum / a.Count:0.00} max={a.Max:0.00} sum={a.Sum:0};");
                }
                if (line.Length > 0) logger.LogInformation("timings{Line}", line.ToString());
            }
        }
        catch (OperationCanceledException) { }
    }

    private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var key = instrument.Name;
        foreach (var tag in tags) key += $"[{tag.Key}={tag.Value}]";
        _aggregates.GetOrAdd(key, _ => new Aggregate()).Add(value);
    }

    private sealed class Aggregate
    {
        private readonly Lock _gate = new();
        public long Count { get; private set; }
        public double Sum { get; private set; }
        public double Max { get; private set; }

        public void Add(double value)
        {
            lock (_gate)
            {
                Count++;
                Sum += value;
                Max = Math.Max(Max, value);
            }
        }
    }
}
