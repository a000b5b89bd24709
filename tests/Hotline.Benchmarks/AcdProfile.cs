using System.Globalization;
using System.Text;
using StackExchange.Redis;

namespace Hotline.Benchmarks;

/// <summary>
/// The server side of an ACD run, read from Redis itself: <c>INFO commandstats</c> (commands per offer, including the
/// ones a script issues, and the server time per EVALSHA), <c>INFO cpu</c> (how busy the single Redis thread was) and
/// <c>SLOWLOG</c> (commands slower than <see cref="SlowMicros"/>). Started right before the measured phase.
/// </summary>
internal sealed class AcdProfile : IAsyncDisposable
{
    public const int SlowMicros = 1_000;

    private readonly ConnectionMultiplexer _admin;
    private readonly IServer _server;
    private double _cpuStart;
    private DateTime _wallStart;

    private AcdProfile(ConnectionMultiplexer admin)
    {
        _admin = admin;
        _server = admin.GetServer(admin.GetEndPoints()[0]);
    }

    public static async Task<AcdProfile> StartAsync(string connectionString)
    {
        var profile = new AcdProfile(await ConnectionMultiplexer.ConnectAsync(connectionString + ",allowAdmin=true"));
        await profile.ResetAsync();
        return profile;
    }

    public async Task ResetAsync()
    {
        await _server.ConfigSetAsync("slowlog-log-slower-than", SlowMicros);
        await _server.ConfigSetAsync("slowlog-max-len", 1024);
        await _server.SlowlogResetAsync();
        await _server.ConfigResetStatisticsAsync();
        _cpuStart = await CpuSecondsAsync();
        _wallStart = DateTime.UtcNow;
    }

    /// <summary>One line: server µs per EVALSHA, Redis CPU share of the wall time, commands per offer, slow log.</summary>
    public async Task<string> ReportAsync(int offers)
    {
        var wall = (DateTime.UtcNow - _wallStart).TotalSeconds;
        var cpu = await CpuSecondsAsync() - _cpuStart;
        var stats = new List<(string Command, long Calls, double Usec)>();
        foreach (var group in await _server.InfoAsync("commandstats"))
        {
            foreach (var (key, value) in group)
            {
                if (!key.StartsWith("cmdstat_", StringComparison.Ordinal)) continue;
                var fields = value.Split(',').Select(f => f.Split('=')).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
                stats.Add((key["cmdstat_".Length..], long.Parse(fields["calls"], CultureInfo.InvariantCulture), double.Parse(fields["usec"], CultureInfo.InvariantCulture)));
            }
        }

        var eval = stats.FirstOrDefault(s => s.Command == "evalsha");
        var inner = stats.Where(s => s.Command is not ("evalsha" or "info" or "config" or "slowlog" or "ping" or "client" or "cluster" or "echo" or "subscribe" or "select"))
            .OrderByDescending(s => s.Calls).ToList();
        var slow = await _server.SlowlogGetAsync(1024);
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"redis: {eval.Calls:N0} EVALSHA, {(eval.Calls == 0 ? 0 : eval.Usec / eval.Calls):F1} µs each inside Redis; ");
        text.Append(CultureInfo.InvariantCulture, $"Redis CPU {cpu:F2} s of {wall:F2} s wall ({100 * cpu / wall:F0}% of one core); ");
        text.Append(CultureInfo.InvariantCulture, $"per offer {inner.Sum(s => s.Calls) / (double)Math.Max(1, offers):F1} commands inside scripts (");
        text.Append(string.Join(", ", inner.Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Command} {s.Calls / (double)Math.Max(1, offers):F1}"))));
        text.Append(CultureInfo.InvariantCulture, $"); SLOWLOG > {SlowMicros} µs: {slow.Length} entries");
        if (slow.Length > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $", max {slow.Max(s => s.Duration.TotalMilliseconds):F2} ms");
        }

        return text.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        await _admin.CloseAsync();
        _admin.Dispose();
    }

    private async Task<double> CpuSecondsAsync()
    {
        var cpu = (await _server.InfoAsync("cpu")).SelectMany(g => g).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        return double.Parse(cpu["used_cpu_user"], CultureInfo.InvariantCulture) + double.Parse(cpu["used_cpu_sys"], CultureInfo.InvariantCulture);
    }
}
