using System.Collections.Concurrent;
using Hotline.Calls.Redis;
using Hotline.Server.Hosting;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Hotline.Server.Auth;

/// <summary>Why a login must wait: the name is locked after failures, or it was tried too often this minute.</summary>
public sealed record LoginBlock(bool Locked, TimeSpan RetryAfter);

/// <summary>
/// Lockout after repeated failed logins and the per-username login rate. Unknown names are counted the same way as
/// real ones, so the answer never tells whether a username exists. In Redis when Redis is configured (one count for
/// every node), in process otherwise (embedded).
/// </summary>
public interface ILoginAttempts
{
    /// <summary>Counts an attempt for the name; answers why it must wait, or null when it may try.</summary>
    Task<LoginBlock?> BeginAsync(string username, CancellationToken ct);

    /// <summary>Counts a failure; returns the lockout that starts now, if this failure reached the limit.</summary>
    Task<TimeSpan?> FailedAsync(string username, CancellationToken ct);

    Task SucceededAsync(string username, CancellationToken ct);

    /// <summary>An admin lifts the lockout (and forgets the failures).</summary>
    Task UnlockAsync(string username, CancellationToken ct);
}

/// <summary>The embedded counters, in memory per node (a restart clears them; the IP rate limiter still applies).</summary>
public sealed class InMemoryLoginAttempts(IOptions<HotlineOptions> options, TimeProvider time) : ILoginAttempts
{
    private sealed record Entry(int Failures, DateTimeOffset? LockedUntil);

    private sealed record Window(DateTimeOffset Start, int Count);

    private const int MaxTracked = 100_000;
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, Window> _windows = new(StringComparer.OrdinalIgnoreCase);

    public Task<LoginBlock?> BeginAsync(string username, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        if (_entries.TryGetValue(username, out var e) && e.LockedUntil is { } until && until > now)
            return Task.FromResult<LoginBlock?>(new LoginBlock(true, until - now));
        if (_windows.Count > MaxTracked) _windows.Clear(); // a flood of random names must not exhaust memory
        var window = _windows.AddOrUpdate(username, _ => new Window(now, 1), (_, w) => w.Start + Minute <= now ? new Window(now, 1) : w with { Count = w.Count + 1 });
        return Task.FromResult(window.Count > Math.Max(1, options.Value.Security.LoginPerUserPerMinute)
            ? new LoginBlock(false, window.Start + Minute - now)
            : null);
    }

    public Task<TimeSpan?> FailedAsync(string username, CancellationToken ct)
    {
        if (_entries.Count > MaxTracked) _entries.Clear();
        var limit = Math.Max(1, options.Value.Security.MaxFailedLogins);
        var lockout = TimeSpan.FromMinutes(Math.Max(1, options.Value.Security.LockoutMinutes));
        var now = time.GetUtcNow();
        var entry = _entries.AddOrUpdate(username,
            _ => new Entry(1, limit <= 1 ? now + lockout : null),
            (_, e) =>
            {
                var failures = e.LockedUntil is { } u && u <= now ? 1 : e.Failures + 1;
                return new Entry(failures, failures >= limit ? now + lockout : null);
            });
        return Task.FromResult(entry.LockedUntil is { } until ? until - now : (TimeSpan?)null);
    }

    public Task SucceededAsync(string username, CancellationToken ct)
    {
        _entries.TryRemove(username, out _);
        return Task.CompletedTask;
    }

    public Task UnlockAsync(string username, CancellationToken ct)
    {
        _entries.TryRemove(username, out _);
        _windows.TryRemove(username, out _);
        return Task.CompletedTask;
    }
}

/// <summary>
/// The counters in Redis, shared by every node: a lockout on one node holds on all of them. Each step is one Lua
/// script (atomic). When Redis cannot be reached the node falls back to its in-memory counters (logged), so logins keep
/// working and are still limited, per node, until Redis is back.
/// </summary>
public sealed class RedisLoginAttempts(
    IConnectionMultiplexer redis, LoginKeys keys, IOptions<HotlineOptions> options, InMemoryLoginAttempts fallback, ILogger<RedisLoginAttempts> logger)
    : ILoginAttempts
{
    // KEYS: lock, rate. ARGV: per-minute limit. → {0,0} may try; {1, ms} locked; {2, ms} too many attempts.
    private const string BeginScript = """
        local locked = redis.call('PTTL', KEYS[1])
        if locked > 0 then return {1, locked} end
        local n = redis.call('INCR', KEYS[2])
        if n == 1 then redis.call('PEXPIRE', KEYS[2], 60000) end
        if n > tonumber(ARGV[1]) then
          local left = redis.call('PTTL', KEYS[2])
          if left < 0 then redis.call('PEXPIRE', KEYS[2], 60000); left = 60000 end
          return {2, left}
        end
        return {0, 0}
        """;

    // KEYS: failures, lock. ARGV: limit, lockout ms. Failures are forgotten a lockout period after the last one.
    // → lockout ms when this failure locks the name, -1 otherwise.
    private const string FailScript = """
        local n = redis.call('INCR', KEYS[1])
        redis.call('PEXPIRE', KEYS[1], ARGV[2])
        if n >= tonumber(ARGV[1]) then
          redis.call('SET', KEYS[2], '1', 'PX', ARGV[2])
          redis.call('DEL', KEYS[1])
          return tonumber(ARGV[2])
        end
        return -1
        """;

    private SecurityOptions Security => options.Value.Security;

    public async Task<LoginBlock?> BeginAsync(string username, CancellationToken ct)
    {
        try
        {
            var result = (RedisResult[])(await redis.GetDatabase().ScriptEvaluateAsync(BeginScript,
                [keys.Lock(username), keys.Rate(username)], [Math.Max(1, Security.LoginPerUserPerMinute)]))!;
            var kind = (int)result[0];
            var left = TimeSpan.FromMilliseconds((long)result[1]);
            return kind switch { 1 => new LoginBlock(true, left), 2 => new LoginBlock(false, left), _ => null };
        }
        catch (Exception e) when (IsUnreachable(e))
        {
            logger.LogWarning(e, "Redis unreachable: login counters of this node only");
            return await fallback.BeginAsync(username, ct);
        }
    }

    public async Task<TimeSpan?> FailedAsync(string username, CancellationToken ct)
    {
        var lockout = TimeSpan.FromMinutes(Math.Max(1, Security.LockoutMinutes));
        try
        {
            var ms = (long)(await redis.GetDatabase().ScriptEvaluateAsync(FailScript,
                [keys.Failures(username), keys.Lock(username)], [Math.Max(1, Security.MaxFailedLogins), (long)lockout.TotalMilliseconds]));
            return ms < 0 ? null : TimeSpan.FromMilliseconds(ms);
        }
        catch (Exception e) when (IsUnreachable(e))
        {
            logger.LogWarning(e, "Redis unreachable: login counters of this node only");
            return await fallback.FailedAsync(username, ct);
        }
    }

    public async Task SucceededAsync(string username, CancellationToken ct)
    {
        await fallback.SucceededAsync(username, ct);
        try { await redis.GetDatabase().KeyDeleteAsync(keys.Failures(username)); }
        catch (Exception e) when (IsUnreachable(e)) { logger.LogWarning(e, "Redis unreachable: failed-login count of {User} not reset", username); }
    }

    public async Task UnlockAsync(string username, CancellationToken ct)
    {
        await fallback.UnlockAsync(username, ct);
        await redis.GetDatabase().KeyDeleteAsync([keys.Failures(username), keys.Lock(username), keys.Rate(username)]);
    }

    private static bool IsUnreachable(Exception e) => e is RedisConnectionException or RedisTimeoutException;
}

/// <summary>
/// The Redis keys of the login counters. They share the call queue's root (<see cref="RedisKeys.Root"/>, one hash tag),
/// so one prefix names one deployment; the segments are spelled only here. Usernames are lower-cased (names are
/// case-insensitive).
/// </summary>
public sealed class LoginKeys(string prefix)
{
    private readonly string _root = new RedisKeys(prefix).Root + "login:";

    /// <summary>STRING counter with TTL: consecutive failed logins of the name.</summary>
    public RedisKey Failures(string username) => _root + "fail:" + username.ToLowerInvariant();

    /// <summary>STRING with TTL: the name is locked until the key expires.</summary>
    public RedisKey Lock(string username) => _root + "lock:" + username.ToLowerInvariant();

    /// <summary>STRING counter with a one-minute TTL: login attempts of the name in the current window.</summary>
    public RedisKey Rate(string username) => _root + "rate:" + username.ToLowerInvariant();
}
