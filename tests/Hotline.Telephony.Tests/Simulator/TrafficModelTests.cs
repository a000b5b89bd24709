using System.Text.RegularExpressions;
using Hotline.Telephony.Simulator;
using Hotline.Telephony.Tests.Support;
using Xunit;

namespace Hotline.Telephony.Tests.Simulator;

public sealed partial class TrafficModelTests
{
    // Monday 2025-03-03 00:00 China Standard Time.
    private static readonly DateTimeOffset Monday = new(2025, 3, 3, 0, 0, 0, TimeSpan.FromHours(8));

    [Fact]
    public void Same_seed_gives_the_same_calls_and_another_seed_does_not()
    {
        var a = new TrafficModel(new TrafficProfile(), seed: 7).Generate(Monday, TimeSpan.FromHours(6)).ToList();
        var b = new TrafficModel(new TrafficProfile(), seed: 7).Generate(Monday, TimeSpan.FromHours(6)).ToList();
        var c = new TrafficModel(new TrafficProfile(), seed: 8).Generate(Monday, TimeSpan.FromHours(6)).ToList();

        Assert.NotEmpty(a);
        Assert.Equal(a, b);
        Assert.NotEqual(a.Select(x => x.CallerNumber), c.Select(x => x.CallerNumber));
    }

    [Fact]
    public void A_generated_week_follows_the_hourly_profile()
    {
        var calls = new TrafficModel(new TrafficProfile(), seed: 1).Generate(Monday, TimeSpan.FromDays(7)).ToList();
        int At(int hour) => calls.Count(x => x.ArrivesAt.ToOffset(TimeSpan.FromHours(8)).Hour == hour);

        Assert.True(At(10) > 10 * At(3), $"10:00 {At(10)} vs 03:00 {At(3)}");
        Assert.True(At(15) > At(12), "afternoon peak above the lunch dip");
        Assert.True(At(10) > At(12), "morning peak above the lunch dip");
        // 5 weekdays at 20 000 and 2 weekend days at 0.75: 130 000 expected; Poisson noise is a few hundred.
        Assert.InRange(calls.Count, 128_000, 132_000);
        Assert.True(calls.Zip(calls.Skip(1)).All(p => p.First.ArrivesAt <= p.Second.ArrivesAt), "arrivals are in time order");
        Assert.All(calls, x => Assert.InRange(x.ArrivesAt, Monday, Monday.AddDays(7)));
    }

    [Fact]
    public void Surge_factor_scales_the_counts()
    {
        var normal = new TrafficModel(new TrafficProfile(), seed: 3).Generate(Monday, TimeSpan.FromDays(1)).Count();
        var surge = new TrafficModel(new TrafficProfile { SurgeFactor = 3 }, seed: 3).Generate(Monday, TimeSpan.FromDays(1)).Count();

        Assert.InRange(normal, 19_400, 20_600);
        Assert.InRange(surge / (double)normal, 2.9, 3.1);
    }

    [GeneratedRegex(@"^1[3-9]\d{9}$")]
    private static partial Regex Mobile();

    [Fact]
    public void Callers_look_like_a_real_hotline_day()
    {
        var calls = new TrafficModel(new TrafficProfile(), seed: 5).Generate(Monday, TimeSpan.FromDays(1)).ToList();
        double Share(Func<SimulatedCall, bool> p) => calls.Count(p) / (double)calls.Count;

        Assert.InRange(Share(x => Mobile().IsMatch(x.CallerNumber)), 0.89, 0.95);
        Assert.All(calls.Where(x => !Mobile().IsMatch(x.CallerNumber)), x => Assert.Matches(@"^010[2-9]\d{7}$", x.CallerNumber));
        Assert.InRange(Share(x => x.Skill == HotlineSkills.Mandarin), 0.79, 0.85);
        Assert.InRange(Share(x => x.Elderly), 0.10, 0.14);
        Assert.All(calls.Where(x => x.Skill == HotlineSkills.Elderly), x => Assert.True(x.Elderly));
        Assert.Equal(5, calls.Select(x => x.Skill).Distinct().Count());
        // repeat callers: numbers seen more than once
        Assert.True(calls.GroupBy(x => x.CallerNumber).Count(g => g.Count() > 1) > 500);
        Assert.Equal(calls.Count, calls.Select(x => x.CallId).Distinct().Count());

        var talk = calls.Where(x => x.Skill == HotlineSkills.Mandarin && !x.Elderly).Select(x => x.TalkTime.TotalSeconds).Order().ToList();
        Assert.InRange(talk[talk.Count / 2], 185, 215); // log-normal median ≈ 200 s
        Assert.True(talk.Average() > talk[talk.Count / 2], "log-normal: mean above median (long right tail)");
        Assert.All(calls, x => Assert.True(x.Patience > TimeSpan.Zero && x.WrapUpTime > TimeSpan.Zero));
    }
}

public sealed class SimulatedTelephonyTests
{
    [Fact]
    public async Task Callers_abandon_when_no_one_answers()
    {
        var sink = new RecordingSink();
        var sim = new SimulatedTelephony();
        var options = new SimulatorOptions
        {
            Seed = 42,
            Start = new DateTimeOffset(2025, 3, 3, 10, 0, 0, TimeSpan.FromHours(8)),
            Span = TimeSpan.FromMinutes(2),
            SpeedFactor = 300, // 2 simulated minutes in 0.4 s; patience (median 90 s) in 0.3 s
        };

        await sim.RunAsync(new CallEventNormalizer(sink), TimeProvider.System, options, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));

        var offered = sink.Events.OfType<CallOffered>().ToList();
        var expected = new TrafficModel(options.Traffic, options.Seed).Generate(options.Start.Value, options.Span.Value).Count();
        Assert.True(offered.Count > 20, $"{offered.Count} calls offered");
        Assert.Equal(expected, offered.Count);
        Assert.All(offered, o => Assert.Equal(["CallOffered", "CallAbandoned"], sink.KindsFor(o.CallId)));
        Assert.Equal(0, sim.LiveCalls);
    }

    /// <summary>Records every event and how many publishes were in flight at once; each publish takes a few milliseconds, like an append.</summary>
    private sealed class SlowSink : ICallEventSink
    {
        private int _inFlight;

        public int MaxInFlight;

        public RecordingSink Recorded { get; } = new();

        public async Task PublishAsync(CallEvent e, CancellationToken ct)
        {
            var now = Interlocked.Increment(ref _inFlight);
            InterlockedMax(ref MaxInFlight, now);
            await Task.Delay(5, ct);
            await Recorded.PublishAsync(e, ct);
            Interlocked.Decrement(ref _inFlight);
        }

        private static void InterlockedMax(ref int target, int value)
        {
            int seen;
            while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen) { }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(8)]
    public async Task Publish_lanes_keep_each_calls_events_in_order_and_publish_different_calls_at_once(int lanes)
    {
        var sink = new SlowSink();
        var sim = new SimulatedTelephony();
        using var stop = new CancellationTokenSource();
        var run = sim.RunAsync(sink, TimeProvider.System, new SimulatorOptions { Traffic = new TrafficProfile { CallsPerDay = 0 }, PublishLanes = lanes }, stop.Token);
        var ids = Enumerable.Range(1, 40).Select(n => $"lane-{n}").ToList();
        foreach (var id in ids) sim.Inject(sim.NewCall("13800138000", callId: id, patience: TimeSpan.FromMilliseconds(50)));

        foreach (var id in ids) await sink.Recorded.WaitForAsync<CallAbandoned>(id, timeout: TimeSpan.FromSeconds(30));
        Assert.All(ids, id => Assert.Equal(["CallOffered", "CallAbandoned"], sink.Recorded.KindsFor(id)));
        if (lanes == 1) Assert.Equal(1, sink.MaxInFlight);
        else Assert.True(sink.MaxInFlight > 1, $"at most {sink.MaxInFlight} publish at once over {lanes} lanes");

        await stop.CancelAsync();
        await run;
    }

    [Fact]
    public async Task An_unanswered_ring_fails_with_no_answer_and_the_call_stays_queued()
    {
        var sink = new RecordingSink();
        var sim = new SimulatedTelephony();
        using var stop = new CancellationTokenSource();
        var run = sim.RunAsync(sink, TimeProvider.System,
            new SimulatorOptions { Traffic = new TrafficProfile { CallsPerDay = 0 }, RingTimeout = TimeSpan.FromMilliseconds(100) }, stop.Token);
        sim.Inject(sim.NewCall("13800138000", callId: "ring-1"));

        await sim.RouteToAgentAsync("ring-1", "A1", "webrtc:A1", CancellationToken.None);
        var failed = await sink.WaitForAsync<CallFailed>("ring-1");
        Assert.Equal(("A1", "NO_ANSWER"), (failed.AgentId, failed.Cause));

        await sim.RouteToAgentAsync("ring-1", "A2", "webrtc:A2", CancellationToken.None);
        await sim.AgentAcceptedAsync("ring-1", "A2", CancellationToken.None);
        await sink.WaitForAsync<CallAnswered>("ring-1", a => a.AgentId == "A2");

        await stop.CancelAsync();
        await run;
    }

    [Fact]
    public async Task AddSimulatorTelephony_plays_traffic_into_the_servers_sink()
    {
        var sink = new RecordingSink();
        var services = new Microsoft.Extensions.DependencyInjection.ServiceCollection();
        Microsoft.Extensions.DependencyInjection.ServiceCollectionServiceExtensions.AddSingleton<ICallEventSink>(services, sink);
        Microsoft.Extensions.DependencyInjection.LoggingServiceCollectionExtensions.AddLogging(services);
        services.AddSimulatorTelephony(o =>
        {
            o.Traffic.SurgeFactor = 20;
            o.SpeedFactor = 600;
        });
        await using var provider = Microsoft.Extensions.DependencyInjection.ServiceCollectionContainerBuilderExtensions.BuildServiceProvider(services);
        var hosted = Assert.Single(Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions
            .GetServices<Microsoft.Extensions.Hosting.IHostedService>(provider));
        Assert.IsType<SimulatedTelephony>(Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<ITelephonyControl>(provider));

        await hosted.StartAsync(CancellationToken.None);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!sink.Events.OfType<CallOffered>().Any() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
        await hosted.StopAsync(CancellationToken.None);
        Assert.NotEmpty(sink.Events.OfType<CallOffered>());
    }
}
