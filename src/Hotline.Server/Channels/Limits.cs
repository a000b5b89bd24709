using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;

namespace Hotline.Server.Channels;

/// <summary>
/// Fixed-window counters for the public endpoints (per phone, per client address). Shared by every node when Redis is
/// configured (<see cref="RedisRateCounters"/>), in process in the embedded profile (<see cref="InProcessRateCounters"/>).
/// </summary>
public interface IRateCounters
{
    /// <summary>Counts one use of <paramref name="key"/>; false when the limit for the current window is spent.</summary>
    Task<bool> TryTakeAsync(string key, int limit, TimeSpan window);
}

/// <summary>Verification codes sent by SMS before a public submission: 6 digits, 10 minutes, 5 tries. Shared like the counters.</summary>
public interface IVerificationCodes
{
    /// <summary>A new code for the phone (replacing an earlier one).</summary>
    Task<string> IssueAsync(string phone);

    /// <summary>True once for the right code; a wrong code counts a try, five wrong tries burn the code.</summary>
    Task<bool> VerifyAsync(string phone, string? code);
}

public static class VerificationCode
{
    public const int Tries = 5;
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    public static string New() => RandomNumberGenerator.GetInt32(0, 1_000_000).ToString("D6", CultureInfo.InvariantCulture);
}

/// <summary>In-process counters (embedded profile, one node). A restart forgives.</summary>
public sealed class InProcessRateCounters(TimeProvider time) : IRateCounters
{
    private readonly ConcurrentDictionary<string, (long Window, int Count)> _counters = new(StringComparer.Ordinal);

    public Task<bool> TryTakeAsync(string key, int limit, TimeSpan window)
    {
        var slot = time.GetUtcNow().Ticks / window.Ticks;
        var entry = _counters.AddOrUpdate(key, _ => (slot, 1), (_, c) => c.Window == slot ? (slot, c.Count + 1) : (slot, 1));
        if (_counters.Count > 100_000) Sweep(slot, window);
        return Task.FromResult(entry.Count <= limit);
    }

    private void Sweep(long slot, TimeSpan window)
    {
        foreach (var (k, v) in _counters)
            if (v.Window < slot - (TimeSpan.FromHours(1).Ticks / window.Ticks) - 1) _counters.TryRemove(k, out _);
    }
}

/// <summary>In-process verification codes (embedded profile, one node).</summary>
public sealed class InProcessVerificationCodes(TimeProvider time) : IVerificationCodes
{
    private readonly ConcurrentDictionary<string, (string Code, DateTimeOffset Expires, int Tries)> _codes = new(StringComparer.Ordinal);

    public Task<string> IssueAsync(string phone)
    {
        var code = VerificationCode.New();
        _codes[phone] = (code, time.GetUtcNow() + VerificationCode.Lifetime, 0);
        return Task.FromResult(code);
    }

    public Task<bool> VerifyAsync(string phone, string? code)
    {
        if (code is null || !_codes.TryGetValue(phone, out var entry)) return Task.FromResult(false);
        if (entry.Expires < time.GetUtcNow() || entry.Tries >= VerificationCode.Tries) { _codes.TryRemove(phone, out _); return Task.FromResult(false); }
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(entry.Code), Encoding.ASCII.GetBytes(code.Trim())))
        {
            _codes[phone] = entry with { Tries = entry.Tries + 1 };
            return Task.FromResult(false);
        }
        _codes.TryRemove(phone, out _);
        return Task.FromResult(true);
    }
}

/// <summary>
/// Every Redis key of the channels, in one place (the call queue's keys are in Hotline.Calls' RedisKeys; these share its
/// prefix but are separate single-key entries, so they need no common hash tag).
/// </summary>
public sealed class ChannelRedisKeys(string prefix)
{
    /// <summary>STRING counter with a TTL of one window: uses of <paramref name="key"/> in window number <paramref name="slot"/>.</summary>
    public RedisKey Rate(string key, long slot) => $"{prefix}:rate:{key}:{slot.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>HASH (code, tries) with a TTL of the code's lifetime: the phone's current verification code.</summary>
    public RedisKey Code(string phone) => $"{prefix}:vcode:{phone}";
}

/// <summary>Counters on Redis: INCR and the window's expiry in one script, so every node counts against the same number.</summary>
public sealed class RedisRateCounters(IConnectionMultiplexer redis, ChannelRedisKeys keys, TimeProvider time) : IRateCounters
{
    private const string Script = """
        local n = redis.call('INCR', KEYS[1])
        if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
        return n
        """;

    public async Task<bool> TryTakeAsync(string key, int limit, TimeSpan window)
    {
        var slot = time.GetUtcNow().Ticks / window.Ticks;
        var n = (long)await redis.GetDatabase().ScriptEvaluateAsync(Script, [keys.Rate(key, slot)], [(long)window.TotalMilliseconds + 1000]);
        return n <= limit;
    }
}

/// <summary>Verification codes on Redis: issue and verify are one script each (a try is counted atomically; the right code is consumed once).</summary>
public sealed class RedisVerificationCodes(IConnectionMultiplexer redis, ChannelRedisKeys keys) : IVerificationCodes
{
    private const string IssueScript = """
        redis.call('DEL', KEYS[1])
        redis.call('HSET', KEYS[1], 'code', ARGV[1], 'tries', 0)
        redis.call('PEXPIRE', KEYS[1], ARGV[2])
        return 1
        """;

    // 1 = right code (consumed); 0 = wrong (a try counted; the fifth wrong try burns it); -1 = no code.
    private const string VerifyScript = """
        local code = redis.call('HGET', KEYS[1], 'code')
        if not code then return -1 end
        if tonumber(redis.call('HGET', KEYS[1], 'tries')) >= tonumber(ARGV[2]) then redis.call('DEL', KEYS[1]) return -1 end
        if code == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end
        redis.call('HINCRBY', KEYS[1], 'tries', 1)
        return 0
        """;

    public async Task<string> IssueAsync(string phone)
    {
        var code = VerificationCode.New();
        await redis.GetDatabase().ScriptEvaluateAsync(IssueScript, [keys.Code(phone)], [code, (long)VerificationCode.Lifetime.TotalMilliseconds]);
        return code;
    }

    public async Task<bool> VerifyAsync(string phone, string? code)
    {
        if (string.IsNullOrWhiteSpace(code)) return false;
        var r = (long)await redis.GetDatabase().ScriptEvaluateAsync(VerifyScript, [keys.Code(phone)], [code.Trim(), VerificationCode.Tries]);
        return r == 1;
    }
}
