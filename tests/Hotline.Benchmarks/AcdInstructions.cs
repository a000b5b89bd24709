using System.Globalization;
using Hotline.Calls;
using Hotline.Calls.Redis;
using Hotline.Testing;
using StackExchange.Redis;

namespace Hotline.Benchmarks;

/// <summary>
/// "acd-instructions": what one dispatch costs inside Redis, as a count that does not depend on the machine's load:
/// instructions executed by redis-server (valgrind callgrind) per <c>DispatchAsync(max: 1)</c> offer, next to an EVALSHA
/// of <c>return 1</c> sent the same way. The same backlog shape as "acd" (calls over 5 skills, one skill per agent),
/// with and without overflow rules. Needs valgrind; skipped without it. Timings in "acd" move with the other work on a
/// shared machine, this count does not (±1 %: serverCron and client pings run while it counts).
/// </summary>
public sealed class AcdInstructions : IBenchmarkSuite
{
    private const int Concurrency = 32;
    private static readonly string[] Skills = ["普通话", "方言", "English", "企业专线", "适老化"];

    public string Name => "acd-instructions";

    public async Task<IReadOnlyList<BenchmarkResult>> RunAsync(BenchmarkContext context)
    {
        if (OperatingSystem.IsWindows())
        {
            return [new BenchmarkResult("dispatch instructions inside Redis", "skipped: needs valgrind on Linux", "—", "—", "—", true)];
        }

        if (!File.Exists("/usr/bin/valgrind") || !File.Exists("/usr/bin/callgrind_control"))
        {
            return [new BenchmarkResult("dispatch instructions inside Redis", "skipped: valgrind not installed", "—", "—", "—", true)];
        }

        var calls = context.Quick ? 1_000 : 3_000;
        var offers = context.Quick ? 300 : 1_000;
        var dir = Directory.CreateTempSubdirectory("acd-callgrind-").FullName;
        var output = Path.Combine(dir, "callgrind.out");
        var wrapper = Path.Combine(dir, "redis-under-callgrind.sh");
        await File.WriteAllTextAsync(wrapper, $"#!/bin/sh\nexec /usr/bin/valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file={output} /usr/bin/redis-server \"$@\"\n");
        File.SetUnixFileMode(wrapper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        try
        {
            await using var server = await RedisServer.StartAsync(extraArguments: ["--hz", "1", "--slowlog-log-slower-than", "-1"], executable: wrapper);
            using var redis = await ConnectionMultiplexer.ConnectAsync(server.ConnectionString + ",allowAdmin=true");
            var admin = redis.GetServer(redis.GetEndPoints()[0]);
            var pid = (await admin.InfoAsync("server")).SelectMany(g => g).First(p => p.Key == "process_id").Value;

            var plain = new RedisCallQueue(redis, "acdi");
            var overflow = new RedisCallQueue(redis, "acdioverflow");
            overflow.UseOverflow([new("适老化", TimeSpan.FromSeconds(30), ["普通话", "企业专线"]), new("方言", TimeSpan.FromSeconds(60), ["普通话"])]);
            var start = DateTimeOffset.UtcNow;
            await FillAsync(plain, calls, Skills, start);
            await FillAsync(overflow, calls, Skills[..^1], start);
            var sha = (byte[])(await admin.ScriptLoadAsync("return 1"))!;
            // One offer each before counting: the scripts are loaded (SCRIPT LOAD compiles them) and the client is warm.
            await plain.DispatchAsync(start, TimeSpan.FromMinutes(10), 1);
            await overflow.DispatchAsync(start.AddMinutes(10), TimeSpan.FromMinutes(10), 1);
            await redis.GetDatabase().ScriptEvaluateAsync(sha, [], []);

            await CallgrindAsync("-i", "on", pid);
            await RepeatAsync(offers, () => redis.GetDatabase().ScriptEvaluateAsync(sha, [], []));
            var reference = await DumpAsync(output, pid, "return1", 1) / offers;
            await RepeatAsync(offers, () => plain.DispatchAsync(start, TimeSpan.FromMinutes(10), 1));
            var backlog = await DumpAsync(output, pid, "dispatch", 2) / offers;
            await RepeatAsync(offers, () => overflow.DispatchAsync(start.AddMinutes(10), TimeSpan.FromMinutes(10), 1));
            var withOverflow = await DumpAsync(output, pid, "overflow", 3) / offers;
            await CallgrindAsync("-i", "off", pid);
            EnsureHealthy(await plain.VerifyInvariantsAsync(), await overflow.VerifyInvariantsAsync());

            context.Log.WriteLine($"callgrind: {backlog:N0} instructions per offer (backlog), {withOverflow:N0} (overflow rules), `return 1` EVALSHA {reference:N0}");
            var refText = $"{reference:N0} instructions per EVALSHA of `return 1` (same client, same run)";
            return
            [
                new BenchmarkResult($"dispatch inside redis-server, one offer, backlog over 5 skills (callgrind, {offers:N0} offers)", $"{backlog:N0} instructions per offer", "—", refText, $"{reference / backlog:F2}", true),
                new BenchmarkResult("the same with two overflow rules (适老化 unstaffed, every call past its threshold)", $"{withOverflow:N0} instructions per offer", "—", refText, $"{reference / withOverflow:F2}", true),
            ];
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task FillAsync(RedisCallQueue queue, int calls, string[] agentSkills, DateTimeOffset start) =>
        await Parallel.ForEachAsync(Enumerable.Range(0, calls), new ParallelOptions { MaxDegreeOfParallelism = Concurrency }, async (i, ct) =>
        {
            await queue.SetReadyAsync($"a{i}", [new AgentSkill(agentSkills[i % agentSkills.Length])], start.AddMilliseconds(i), ct);
            await queue.EnqueueAsync(new QueuedCall($"c{i}", "139" + i.ToString("D8", CultureInfo.InvariantCulture), "12345", Skills[i % Skills.Length], i % 7 == 0 ? 20 : 0, start.AddMilliseconds(i)), ct);
        });

    private static async Task RepeatAsync<T>(int count, Func<Task<T>> run)
    {
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, Concurrency).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) < count)
            {
                await run();
            }
        }));
    }

    private static void EnsureHealthy(IReadOnlyList<string> a, IReadOnlyList<string> b)
    {
        if (a.Count + b.Count > 0)
        {
            throw new InvalidOperationException("queue invariants broken: " + string.Join("; ", a.Concat(b)));
        }
    }

    private static Task CallgrindAsync(params string[] args) =>
        ProcessRunner.RunCheckedAsync("/usr/bin/callgrind_control", args, timeout: TimeSpan.FromMinutes(1));

    /// <summary>Dump number <paramref name="dump"/> (callgrind writes <c>output.N</c>): the instructions counted since the
    /// previous dump (a dump resets the counts).</summary>
    private static async Task<double> DumpAsync(string output, string pid, string phase, int dump)
    {
        await CallgrindAsync("--dump=" + phase, pid);
        var file = $"{output}.{dump}";
        for (var i = 0; i < 300; i++)
        {
            var totals = File.Exists(file) ? File.ReadLines(file).FirstOrDefault(l => l.StartsWith("totals:", StringComparison.Ordinal)) : null;
            if (totals is not null)
            {
                return double.Parse(totals["totals:".Length..].Trim(), CultureInfo.InvariantCulture);
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"callgrind wrote no {file}; there are: " + string.Join(", ", Directory.GetFiles(Path.GetDirectoryName(output)!).Select(Path.GetFileName)));
    }
}
