using System.Collections.Concurrent;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using StackExchange.Redis;

namespace Hotline.Calls.Redis;

/// <summary>
/// The queue's Lua scripts (embedded <c>Redis/Scripts/*.lua</c>, each prefixed with the key builders of
/// <see cref="RedisKeys.LuaPreamble"/> and the helpers of <c>common.lua</c> it uses, see <see cref="Link"/>). Loaded with
/// SCRIPT LOAD on every primary, run with EVALSHA; on NOSCRIPT they are loaded again and the call is retried once.
/// </summary>
internal sealed partial class LuaScripts(IConnectionMultiplexer redis)
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

        var library = RedisKeys.LuaPreamble + Read("common.lua");
        return typeof(LuaScripts)
            .GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral)
            .Select(f => (string)f.GetRawConstantValue()!)
            .ToDictionary(n => n, n => Link(library, Read(n + ".lua")), StringComparer.Ordinal);
    }

    /// <summary>
    /// The script preceded by the definitions of <paramref name="library"/> (key builders + common.lua) it uses, directly
    /// or through another definition, in library order. Redis runs the whole text on every EVALSHA, so every
    /// <c>local function</c> in it builds a closure and every <c>local k = P .. '…'</c> a string, each run: linking only
    /// what is used saved ~10k of ~190k instructions per dispatch (callgrind). A definition is a top-level line
    /// <c>local [function] name</c> with the comment lines right above it, up to the next definition; a name counts as used
    /// when it occurs as a word in code (comments, from <c>--</c> to the end of the line, are skipped).
    /// </summary>
    internal static string Link(string library, string script)
    {
        var chunks = new List<(string? Name, List<string> Lines)> { (null, []) };
        foreach (var line in library.Split('\n'))
        {
            var m = DefinitionLine().Match(line);
            if (!m.Success)
            {
                chunks[^1].Lines.Add(line);
                continue;
            }

            // The comment lines right above a definition belong to it.
            var previous = chunks[^1].Lines;
            var start = previous.Count;
            while (start > 0 && previous[start - 1].StartsWith("--", StringComparison.Ordinal))
            {
                start--;
            }

            var lines = previous.GetRange(start, previous.Count - start);
            previous.RemoveRange(start, previous.Count - start);
            lines.Add(line);
            chunks.Add((m.Groups[1].Value, lines));
        }

        var texts = chunks.Where(c => c.Name is not null).ToDictionary(c => c.Name!, c => string.Join('\n', c.Lines), StringComparer.Ordinal);
        var used = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>();
        void Scan(string text)
        {
            foreach (Match w in Word().Matches(Comment().Replace(text, string.Empty)))
            {
                if (texts.ContainsKey(w.Value) && used.Add(w.Value))
                {
                    pending.Push(w.Value);
                }
            }
        }

        Scan(script);
        while (pending.Count > 0)
        {
            Scan(texts[pending.Pop()]);
        }

        var linked = new StringBuilder();
        foreach (var (name, lines) in chunks)
        {
            if (name is null || used.Contains(name))
            {
                linked.Append(string.Join('\n', lines)).Append('\n');
            }
        }

        return linked.Append(script).ToString();
    }

    [GeneratedRegex(@"^local (?:function )?([A-Za-z_][A-Za-z0-9_]*)")]
    private static partial Regex DefinitionLine();

    [GeneratedRegex(@"[A-Za-z_][A-Za-z0-9_]*")]
    private static partial Regex Word();

    [GeneratedRegex("--.*$", RegexOptions.Multiline)]
    private static partial Regex Comment();
}
