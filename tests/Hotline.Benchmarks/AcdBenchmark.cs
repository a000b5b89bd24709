using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Hotline.Calls;
using Hotline.Calls.Redis;
using Hotline.Testing;

namespace Hotline.Benchmarks;

/// <summary>
/// "acd": ACD routing on a private redis-server (Hotline.Testing.RedisServer). An offer is one <c>dispatch</c> script
/// run that reserves the best waiting call to the longest-idle ready agent (max = 1 per run, the worst case: one
/// round-trip per offer). Measured with a backlog (N calls waiting over 5 skills, N agents ready) and
/// <see cref="Concurrency"/> dispatches in flight; latency = one DispatchAsync, client side. Reference: the same
/// machine's <c>redis-benchmark</c> rate for EVALSHA of a trivial script (<c>return 1</c>) at the same concurrency.
/// A second line runs the whole call cycle (enqueue → dispatch → accept → end call → ready: five scripts per call).
/// </summary>
public sealed partial class AcdBenchmark : IBenchmarkSuite
{
    private const int Concurrency = 32;
    private static readonly string[] Skills = ["普通话", "方言", "English", "企业专线", "适老化"];

    public string Name => "acd";

    public async Task<IReadOnlyList<BenchmarkResult>> RunAsync(BenchmarkContext context)
    {
        var calls = context.Quick ? 5_000 : 40_000;
        await using var server = await RedisServer.StartAsync();
        using var redis = await server.ConnectAsync();

        // Reference: redis-benchmark, EVALSHA of `return 1`, same concurrency.
        var sha = (byte[])(await redis.GetServer(redis.GetEndPoints()[0]).ScriptLoadAsync("return 1"))!;
        var shaHex = Convert.ToHexString(sha).ToLowerInvariant();
        var reference = await RedisBenchmarkAsync(server.Port, shaHex, context.Quick ? 50_000 : 200_000, context.Log);

        // Warm-up (JIT, script load) on its own prefix.
        await BacklogAsync(new RedisCallQueue(redis, "acdwarm"), 1_000);

        await using var profile = await AcdProfile.StartAsync(server.ConnectionString);
        var backlog = await BacklogAsync(new RedisCallQueue(redis, "acd"), calls, profile);
        context.Log.WriteLine($"backlog: {backlog.Offers} offers in {backlog.Elapsed.TotalSeconds:F2} s, p50 {backlog.P50:F2} ms, p99 {backlog.P99:F2} ms");
        context.Log.WriteLine("  " + backlog.Profile);

        // Overflow: nobody staffs 适老化; its calls and 方言's overflow into staffed groups, and every call has waited
        // past the thresholds (dispatch 10 minutes after the arrivals): each offer weighs the overflow candidates.
        var overflowQueue = new RedisCallQueue(redis, "acdoverflow");
        overflowQueue.UseOverflow([new("适老化", TimeSpan.FromSeconds(30), ["普通话", "企业专线"]), new("方言", TimeSpan.FromSeconds(60), ["普通话"])]);
        var overflow = await BacklogAsync(overflowQueue, calls / 4, profile, agentSkills: Skills[..^1], dispatchAfter: TimeSpan.FromMinutes(10));
        context.Log.WriteLine($"overflow: {overflow.Offers} offers in {overflow.Elapsed.TotalSeconds:F2} s, p50 {overflow.P50:F2} ms, p99 {overflow.P99:F2} ms");
        context.Log.WriteLine("  " + overflow.Profile);
        var cycle = await CycleAsync(new RedisCallQueue(redis, "acdcycle"), calls / 4, profile);
        context.Log.WriteLine($"cycle: {cycle.Offers} calls in {cycle.Elapsed.TotalSeconds:F2} s, dispatch p50 {cycle.P50:F2} ms, p99 {cycle.P99:F2} ms");
        context.Log.WriteLine("  " + cycle.Profile);

        // The reference again after the ACD runs; the higher of the two counts (the machine is shared: conservative ratio).
        var referenceAfter = await RedisBenchmarkAsync(server.Port, shaHex, context.Quick ? 50_000 : 200_000, context.Log);
        reference = Math.Max(reference, referenceAfter);
        var rate = backlog.Offers / backlog.Elapsed.TotalSeconds;
        var ratio = rate / reference;
        var overflowRate = overflow.Offers / overflow.Elapsed.TotalSeconds;
        var cycleRate = cycle.Offers / cycle.Elapsed.TotalSeconds;
        var refText = $"{reference:N0} EVALSHA/s (redis-benchmark -c {Concurrency}, `return 1`, higher of before/after)";
        return
        [
            new BenchmarkResult($"ACD offers, backlog of {calls:N0} calls × 5 skills, {Concurrency} in flight", $"{rate:N0} offers/s", "≥ 5,000 offers/s", refText, $"{ratio:F2} (goal ≥ 0.3)", rate >= 5_000 && ratio >= 0.3),
            new BenchmarkResult("offer latency (one dispatch script, client side)", $"p50 {backlog.P50:F2} ms, p99 {backlog.P99:F2} ms", "p99 ≤ 5 ms", "—", "—", backlog.P99 <= 5),
            new BenchmarkResult($"ACD offers with overflow: {calls / 4:N0} calls, 适老化 unstaffed, every call past its threshold", $"{overflowRate:N0} offers/s, p50 {overflow.P50:F2} ms, p99 {overflow.P99:F2} ms", "—", refText, $"{overflowRate / reference:F2}", true),
            new BenchmarkResult($"full call cycle (5 scripts: enqueue, dispatch, accept, end, ready), {Concurrency} agents", $"{cycleRate:N0} calls/s, dispatch p99 {cycle.P99:F2} ms", "—", refText, $"{cycleRate / reference:F2}", true),
        ];
    }

    private sealed record Run(int Offers, TimeSpan Elapsed, double P50, double P99, string Profile);

    /// <summary>
    /// N calls waiting (spread over the skills), N agents ready (spread over <paramref name="agentSkills"/>), then
    /// dispatch (at <paramref name="dispatchAfter"/> past the arrivals) until no offer can be made.
    /// </summary>
    private static async Task<Run> BacklogAsync(RedisCallQueue queue, int calls, AcdProfile? profile = null, string[]? agentSkills = null, TimeSpan dispatchAfter = default)
    {
        var start = DateTimeOffset.UtcNow;
        agentSkills ??= Skills;
        await Parallel.ForEachAsync(Enumerable.Range(0, calls), new ParallelOptions { MaxDegreeOfParallelism = Concurrency }, async (i, ct) =>
        {
            var skill = Skills[i % Skills.Length];
            await queue.SetReadyAsync($"a{i}", [new AgentSkill(agentSkills[i % agentSkills.Length])], start.AddMilliseconds(i), ct);
            await queue.EnqueueAsync(new QueuedCall($"c{i}", "139" + i.ToString("D8", CultureInfo.InvariantCulture), "12345", skill, i % 7 == 0 ? 20 : 0, start.AddMilliseconds(i)), ct);
        });

        var latencies = new double[calls + Concurrency];
        var offers = 0;
        if (profile is not null) await profile.ResetAsync();
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Concurrency).Select(async _ =>
        {
            while (Volatile.Read(ref offers) < calls)
            {
                var t0 = Stopwatch.GetTimestamp();
                var made = await queue.DispatchAsync(start + dispatchAfter, TimeSpan.FromMinutes(10), 1);
                var ms = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                if (made.Count == 0) break;
                var n = Interlocked.Increment(ref offers);
                latencies[n - 1] = ms;
            }
        }));
        clock.Stop();
        var report = profile is null ? "" : await profile.ReportAsync(offers);
        return new Run(offers, clock.Elapsed, Percentile(latencies, offers, 0.50), Percentile(latencies, offers, 0.99), report);
    }

    /// <summary>Each of <see cref="Concurrency"/> agents loops: a call arrives, is offered to it, accepted, ended; the agent is ready again.</summary>
    private static async Task<Run> CycleAsync(RedisCallQueue queue, int calls, AcdProfile profile)
    {
        var start = DateTimeOffset.UtcNow;
        for (var a = 0; a < Concurrency; a++) await queue.SetReadyAsync($"a{a}", [new AgentSkill(Skills[0])], start);
        var latencies = new double[calls + Concurrency];
        var next = -1;
        var done = 0;
        await profile.ResetAsync();
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < calls)
            {
                var now = start.AddMilliseconds(i);
                await queue.EnqueueAsync(new QueuedCall($"k{i}", "13800000000", "12345", Skills[0], 0, now));
                var t0 = Stopwatch.GetTimestamp();
                var offers = await queue.DispatchAsync(now, TimeSpan.FromMinutes(10), 1);
                latencies[Interlocked.Increment(ref done) - 1] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                foreach (var o in offers)
                {
                    await queue.AcceptAsync(o.AgentId, o.CallId, now);
                    await queue.EndCallAsync(o.CallId, now);
                    await queue.SetReadyAsync(o.AgentId, [new AgentSkill(Skills[0])], now);
                }
            }
        }));
        clock.Stop();
        var report = await profile.ReportAsync(done);
        return new Run(done, clock.Elapsed, Percentile(latencies, done, 0.50), Percentile(latencies, done, 0.99), report);
    }

    private static double Percentile(double[] values, int count, double p)
    {
        if (count == 0) return double.NaN;
        var sorted = values.AsSpan(0, count).ToArray();
        Array.Sort(sorted);
        return sorted[Math.Min(count - 1, (int)Math.Ceiling(p * count) - 1)];
    }

    private static async Task<double> RedisBenchmarkAsync(int port, string sha, int requests, TextWriter log)
    {
        var result = await ProcessRunner.RunCheckedAsync("redis-benchmark",
            ["-h", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture), "-n", requests.ToString(CultureInfo.InvariantCulture),
             "-c", Concurrency.ToString(CultureInfo.InvariantCulture), "-q", "EVALSHA", sha, "0"], timeout: TimeSpan.FromMinutes(3));
        var text = result.StandardOutput.Replace("\r", "\n", StringComparison.Ordinal);
        log.WriteLine("redis-benchmark: " + text.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault()?.Trim());
        var m = RequestsPerSecond().Matches(text);
        if (m.Count == 0) throw new InvalidOperationException("redis-benchmark printed no rate: " + result.Output);
        return double.Parse(m[^1].Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"([\d.]+) requests per second")]
    private static partial Regex RequestsPerSecond();
}
