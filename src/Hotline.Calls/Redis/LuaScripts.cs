using System.Collections.Concurrent;
using System.Reflection;
using StackExchange.Redis;

namespace Hotline.Calls.Redis;

/// <summary>
/// The queue's Lua scripts (embedded <c>Redis/Scripts/*.lua</c>, each prefixed with the key builders of
/// <see cref="RedisKeys.LuaPreamble"/> and <c>common.lua</c>). Loaded with SCRIPT LOAD on every primary, run with
/// EVALSHA; on NOSCRIPT they are loaded again and the call is retried once.
/// </summary>
internal sealed class LuaScripts(IConnectionMultiplexer redis)
{
    public const string Enqueue = "enqueue";
    public const string SetReady = "set_ready";
    public const string SetNotReady = "set_not_ready";
    public const string LogOut = "log_out";
    public const string Dispatch = "dispatch";
    public const string Accept = "accept";
    public const string Reject = "reject";
    public const string Expire = "expire";
    public const string Abandon = "abandon";
    public const string EndCall = "end_call";
    public const string SetPriority = "set_priority";
    public const string GetAgent = "get_agent";
    public const string Snapshot = "snapshot";
    public const string Verify = "verify";
    public const string Restore = "restore";
    public const string Callback = "callback";
    public const string MissedClaim = "missed_claim";
    public const string MissedDone = "missed_done";
    public const string MissedList = "missed_list";

    private static readonly IReadOnlyDictionary<string, string> Sources = LoadSources();

    private readonly ConcurrentDictionary<string, byte[]> _hashes = new(StringComparer.Ordinal);

    /// <summary>The full text of a script as sent to Redis (for documentation and tests).</summary>
    public static string Source(string name) => Sources[name];

    public async Task<RedisResult> EvaluateAsync(string name, RedisKey[] keys, RedisValue[] values)
    {
        var db = redis.GetDatabase();
        if (!_hashes.TryGetValue(name, out var hash))
        {
            hash = await LoadAsync(name);
        }

        try
        {
            return await db.ScriptEvaluateAsync(hash, keys, values);
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            // Redis restarted or its script cache was flushed: load again and retry once.
            hash = await LoadAsync(name);
            return await db.ScriptEvaluateAsync(hash, keys, values);
        }
    }

    private async Task<byte[]> LoadAsync(string name)
    {
        byte[]? hash = null;
        foreach (var endpoint in redis.GetEndPoints())
        {
            var server = redis.GetServer(endpoint);
            if (server.IsConnected && !server.IsSlave)
            {
                hash = await server.ScriptLoadAsync(Sources[name]);
            }
        }

        if (hash is null)
        {
            throw new InvalidOperationException("No connected Redis primary to load the call queue scripts on.");
        }

        _hashes[name] = hash;
        return hash;
    }

    private static Dictionary<string, string> LoadSources()
    {
        var assembly = typeof(LuaScripts).Assembly;
        const string ResourcePrefix = "Hotline.Calls.Redis.Scripts.";
        string Read(string file)
        {
            using var stream = assembly.GetManifestResourceStream(ResourcePrefix + file)
                ?? throw new InvalidOperationException($"Embedded script {file} is missing.");
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        }

        var common = RedisKeys.LuaPreamble + Read("common.lua");
        return typeof(LuaScripts)
            .GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral)
            .Select(f => (string)f.GetRawConstantValue()!)
            .ToDictionary(n => n, n => common + "\n" + Read(n + ".lua"), StringComparer.Ordinal);
    }
}
