using System.Globalization;
using System.Text.Json;
using StackExchange.Redis;

namespace Hotline.Calls.Redis;

/// <summary>
/// Redis <see cref="ICallQueue"/> for several server nodes. Every operation that touches more than one key is one Lua
/// script (<c>Redis/Scripts/*.lua</c>), so a call is never in two places or in none, whatever the nodes do concurrently.
/// Scripts are loaded with SCRIPT LOAD and run with EVALSHA; after a NOSCRIPT (Redis restarted, SCRIPT FLUSH, fail-over)
/// they are loaded again and the call is retried once. Redis holds live, rebuildable state only.
/// </summary>
public sealed class RedisCallQueue : ICallQueue, ICallQueueRecovery
{
    private readonly IConnectionMultiplexer _redis;
    private readonly LuaScripts _scripts;
    private readonly RedisKey[] _routingKey;
    private readonly RedisValue _root;

    public RedisCallQueue(IConnectionMultiplexer redis, string keyPrefix = "hotline")
    {
        ArgumentNullException.ThrowIfNull(redis);
        _redis = redis;
        Keys = new RedisKeys(keyPrefix);
        _scripts = new LuaScripts(redis);
        _routingKey = [Keys.Reservations];
        _root = Keys.Root;
    }

    /// <summary>The key names this queue uses.</summary>
    public RedisKeys Keys { get; }

    /// <summary>How long an ended or abandoned call id is remembered (enqueue idempotency). 24 h by default.</summary>
    public TimeSpan TombstoneTtl { get; init; } = CallQueueRules.DefaultTombstoneTtl;

    /// <summary>At most this many reservations are expired per script run (the method loops until none is due).</summary>
    public int ExpireBatchSize { get; init; } = 500;

    private RedisValue[] _overflowArgs = [];

    public void UseOverflow(IReadOnlyList<OverflowRule> rules)
    {
        CallQueueRules.ValidateOverflow(rules);
        _overflowArgs = [.. rules.SelectMany(r => new RedisValue[] { r.Skill, (long)r.After.TotalMilliseconds, string.Join('\n', r.To) })];
    }

    private HashSet<string> _levelFirst = new(StringComparer.Ordinal);

    public void UseLevelFirst(IReadOnlyList<string> skills)
    {
        CallQueueRules.ValidateLevelFirst(skills);
        _levelFirst = new HashSet<string>(skills, StringComparer.Ordinal);
    }

    private long ReadyOffset(AgentSkill s) => CallQueueRules.ReadyOffset(_levelFirst.Contains(s.Skill), s.Level);

    public async Task<bool> EnqueueAsync(QueuedCall call, CancellationToken cancellationToken = default)
    {
        CallQueueRules.Validate(call);
        var result = await RunAsync(
            LuaScripts.Enqueue,
            cancellationToken,
            call.CallId,
            call.Skill,
            CallQueueRules.WaitingScore(call.Priority, call.EnqueuedAt),
            Ms(call.EnqueuedAt),
            call.Priority,
            call.Caller ?? string.Empty,
            call.DialledNumber ?? string.Empty,
            call.Attributes is null ? string.Empty : JsonSerializer.Serialize(call.Attributes));
        return (long)result == 1;
    }

    public async Task<bool> SetReadyAsync(string agentId, IReadOnlyList<AgentSkill> skills, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        CallQueueRules.ValidateAgentId(agentId);
        CallQueueRules.ValidateSkills(skills);
        var args = new List<RedisValue> { agentId, Ms(now) };
        foreach (var s in skills)
        {
            args.Add(s.Skill);
            args.Add(s.Level);
            args.Add(ReadyOffset(s));
        }

        return (long)await RunAsync(LuaScripts.SetReady, cancellationToken, [.. args]) == 1;
    }

    public async Task<bool> SetNotReadyAsync(string agentId, string reason, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(agentId);
        return (long)await RunAsync(LuaScripts.SetNotReady, cancellationToken, agentId, reason ?? string.Empty, Ms(now)) == 1;
    }

    public async Task LogOutAsync(string agentId, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(agentId);
        await RunAsync(LuaScripts.LogOut, cancellationToken, agentId, Ms(now));
    }

    public async Task<IReadOnlyList<Offer>> DispatchAsync(DateTimeOffset now, TimeSpan reservationTimeout, int max, CancellationToken cancellationToken = default)
    {
        if (max <= 0)
        {
            return [];
        }

        var expiresAt = now + reservationTimeout;
        var nowMs = Ms(now);
        var overflow = _overflowArgs;
        var args = new List<RedisValue>(3 + overflow.Length) { nowMs, Ms(expiresAt), max };
        for (var i = 0; i < overflow.Length; i += 3)
        {
            args.Add(overflow[i]);
            args.Add(nowMs - (long)overflow[i + 1]); // cutoff: enqueued at or before it = waited at least the threshold
            args.Add(overflow[i + 2]);
        }

        var rows = (RedisResult[])(await RunAsync(LuaScripts.Dispatch, cancellationToken, [.. args]))!;
        var offers = new List<Offer>(rows.Length);
        foreach (var r in rows)
        {
            var f = (RedisValue[])r!;
            var call = ToCall(f[0], f[3], f[4], f[8], f[5], f[6], f[7]);
            offers.Add(new Offer(call.CallId, (string)f[1]!, (string)f[2]!, FromMs(nowMs), FromMs(Ms(expiresAt)), call) { Callback = (string?)f[9] == "1" });
        }

        return offers;
    }

    public async Task<bool> AcceptAsync(string agentId, string callId, DateTimeOffset now, CancellationToken cancellationToken = default) =>
        (long)await RunAsync(LuaScripts.Accept, cancellationToken, agentId, callId, Ms(now)) == 1;

    public async Task<bool> RejectAsync(string agentId, string callId, DateTimeOffset now, CancellationToken cancellationToken = default) =>
        (long)await RunAsync(LuaScripts.Reject, cancellationToken, agentId, callId, Ms(now), CallQueueRules.RejectedReason) == 1;

    public async Task<IReadOnlyList<Offer>> ExpireReservationsAsync(DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        var expired = new List<Offer>();
        while (true)
        {
            var rows = (RedisResult[])(await RunAsync(LuaScripts.Expire, cancellationToken, Ms(now), ExpireBatchSize, CallQueueRules.NoAnswerReason))!;
            foreach (var r in rows)
            {
                var f = (RedisValue[])r!;
                var call = ToCall(f[0], f[5], f[6], f[2], f[7], f[8], f[9]);
                expired.Add(new Offer(call.CallId, (string)f[1]!, call.Skill, FromMs((long)f[3]), FromMs((long)f[4]), call));
            }

            if (rows.Length < ExpireBatchSize)
            {
                return expired;
            }
        }
    }

    public async Task<bool> AbandonAsync(string callId, DateTimeOffset now, CancellationToken cancellationToken = default) =>
        (long)await RunAsync(LuaScripts.Abandon, cancellationToken, callId, Ms(now), (long)TombstoneTtl.TotalMilliseconds) == 1;

    public async Task<bool> SetPriorityAsync(string callId, int priority, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(priority, CallQueueRules.MinPriority);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(priority, CallQueueRules.MaxPriority);
        // The enqueue time never changes, so reading it first and computing the score here is safe; the script checks it.
        var enq = await _redis.GetDatabase().HashGetAsync(Keys.Call(callId), "enq");
        if (enq.IsNull)
        {
            return false;
        }

        var enqueuedMs = long.Parse((string)enq!, CultureInfo.InvariantCulture);
        return (long)await RunAsync(LuaScripts.SetPriority, cancellationToken, callId, priority, CallQueueRules.WaitingScore(priority, FromMs(enqueuedMs)), (string)enq!) == 1;
    }

    public async Task<bool> EndCallAsync(string callId, DateTimeOffset now, CancellationToken cancellationToken = default) =>
        (long)await RunAsync(LuaScripts.EndCall, cancellationToken, callId, Ms(now), (long)TombstoneTtl.TotalMilliseconds) == 1;

    public async Task<AgentState?> GetAgentAsync(string agentId, CancellationToken cancellationToken = default)
    {
        var result = await RunAsync(LuaScripts.GetAgent, cancellationToken, agentId);
        if (result.IsNull)
        {
            return null;
        }

        var f = (RedisResult[])result!;
        var skillPairs = (RedisValue[])f[4]!;
        var skills = new List<AgentSkill>(skillPairs.Length / 2);
        for (var i = 0; i < skillPairs.Length; i += 2)
        {
            skills.Add(new AgentSkill((string)skillPairs[i]!, (int)skillPairs[i + 1]));
        }

        skills.Sort((a, b) => string.CompareOrdinal(a.Skill, b.Skill));
        var reason = (string?)f[1];
        var callId = (string?)f[3];
        return new AgentState(
            agentId,
            Enum.Parse<AgentStatus>((string)f[0]!),
            string.IsNullOrEmpty(reason) ? null : reason,
            FromMs((long)f[2]),
            string.IsNullOrEmpty(callId) ? null : callId,
            skills);
    }

    public async Task<CallPlacement?> GetCallAsync(string callId, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var f = await _redis.GetDatabase().HashGetAsync(
            Keys.Call(callId),
            ["id", "caller", "dialled", "skill", "prio", "enq", "attrs", "stage", "agent", "cb"]); // one command: consistent
        if (f[0].IsNull)
        {
            return null;
        }

        var stage = Enum.Parse<CallStage>((string)f[7]!);
        return new CallPlacement(ToCall(f[0], f[1], f[2], f[3], f[4], f[5], f[6]), stage, stage == CallStage.Waiting ? null : (string?)f[8]) { Callback = (string?)f[9] == "1" };
    }

    public async Task<QueueSnapshot> GetSnapshotAsync(DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        var f = (RedisResult[])(await RunAsync(LuaScripts.Snapshot, cancellationToken))!;
        var skills = new List<SkillQueueFigures>();
        foreach (var r in (RedisResult[])f[0]!)
        {
            var s = (RedisValue[])r!;
            var longest = TimeSpan.Zero;
            if (!s[2].IsNullOrEmpty)
            {
                var oldest = FromMs((long)s[2]);
                longest = now > oldest ? now - oldest : TimeSpan.Zero;
            }

            skills.Add(new SkillQueueFigures((string)s[0]!, (int)s[1], longest, (int)s[3]) { StaffedAgents = (int)s[4] });
        }

        var byStatus = Enum.GetValues<AgentStatus>().ToDictionary(s => s, _ => 0);
        var counts = (RedisValue[])f[1]!;
        for (var i = 0; i < counts.Length; i += 2)
        {
            byStatus[Enum.Parse<AgentStatus>((string)counts[i]!)] = (int)counts[i + 1];
        }

        return new QueueSnapshot(skills, byStatus, (int)f[2], (int)f[3]) { Missed = (int)f[4] };
    }

    public async Task<bool> ConvertToCallbackAsync(string callId, DateTimeOffset now, CancellationToken cancellationToken = default) =>
        (long)await RunAsync(LuaScripts.Callback, cancellationToken, callId) == 1;

    public async Task<IReadOnlyList<MissedCall>> GetMissedAsync(int limit, CancellationToken cancellationToken = default)
    {
        if (limit <= 0)
        {
            return [];
        }

        var rows = (RedisResult[])(await RunAsync(LuaScripts.MissedList, cancellationToken, limit))!;
        var list = new List<MissedCall>(rows.Length);
        foreach (var r in rows)
        {
            var f = (RedisValue[])r!;
            list.Add(new MissedCall(
                (string)f[0]!,
                (string?)f[1] ?? string.Empty,
                (string?)f[2] ?? string.Empty,
                (string)f[3]!,
                FromMs((long)f[4]),
                FromMs((long)f[5]),
                (string)f[6]!,
                f[7].IsNullOrEmpty ? null : (string?)f[7],
                f[8].IsNullOrEmpty ? null : (string?)f[8],
                f[9].IsNullOrEmpty ? null : FromMs((long)f[9]),
                (int)f[10],
                f[11].IsNullOrEmpty ? null : (string?)f[11]));
        }

        return list;
    }

    public async Task<bool> ClaimMissedAsync(string callId, string agentId, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(callId);
        ArgumentException.ThrowIfNullOrEmpty(agentId);
        return (long)await RunAsync(LuaScripts.MissedClaim, cancellationToken, callId, agentId, Ms(now)) == 1;
    }

    public async Task<bool> CompleteMissedAsync(string callId, string agentId, string result, bool done, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(callId);
        ArgumentException.ThrowIfNullOrEmpty(agentId);
        return (long)await RunAsync(LuaScripts.MissedDone, cancellationToken, callId, agentId, Ms(now), result ?? string.Empty, done ? "1" : "0") == 1;
    }

    /// <summary>Checks the queue's invariants in one script (O(all queue keys); diagnostics and tests only).</summary>
    public async Task<IReadOnlyList<string>> VerifyInvariantsAsync(CancellationToken cancellationToken = default)
    {
        var result = (RedisValue[])(await RunAsync(LuaScripts.Verify, cancellationToken))!;
        return [.. result.Select(v => (string)v!)];
    }

    public async Task<bool> IsAliveAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return await _redis.GetDatabase().KeyExistsAsync(Keys.Alive);
    }

    public async Task<bool> TryBeginRestoreAsync(CancellationToken cancellationToken = default)
    {
        if (await IsAliveAsync(cancellationToken))
        {
            return false;
        }

        return await _redis.GetDatabase().StringSetAsync(Keys.RestoreLock, Environment.MachineName, RestoreLockTtl, When.NotExists);
    }

    /// <summary>How long the restore lock is held at most (a node that dies while restoring frees it after this).</summary>
    public TimeSpan RestoreLockTtl { get; init; } = TimeSpan.FromSeconds(10);

    public async Task<int> RestoreAsync(IReadOnlyList<RestoredCall> calls, IReadOnlyList<RestoredAgent>? agents = null, IReadOnlyList<MissedCall>? missed = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(calls);
        agents ??= [];
        missed ??= [];
        var args = new List<RedisValue> { (string)Keys.Alive!, agents.Count, missed.Count };
        foreach (var a in agents)
        {
            CallQueueRules.ValidateAgentId(a.AgentId);
            if (a.Status is AgentStatus.Reserved or AgentStatus.OnCall)
            {
                throw new ArgumentException($"Agent {a.AgentId}: only Ready, NotReady, WrapUp or LoggedOut can be restored without a call.", nameof(agents));
            }

            args.Add(a.AgentId);
            args.Add(a.Status.ToString());
            args.Add(a.Reason ?? string.Empty);
            args.Add(Ms(a.Since));
            CallQueueRules.ValidateSkills(a.Skills);
            args.Add(string.Join('\n', a.Skills.Select(s => s.Skill + "\t" + s.Level.ToString(CultureInfo.InvariantCulture) + "\t" + ReadyOffset(s).ToString(CultureInfo.InvariantCulture))));
        }

        foreach (var m in missed)
        {
            ArgumentException.ThrowIfNullOrEmpty(m.CallId);
            args.Add(m.CallId);
            args.Add(m.Caller);
            args.Add(m.DialledNumber);
            args.Add(m.Skill);
            args.Add(Ms(m.EnqueuedAt));
            args.Add(Ms(m.MissedAt));
            args.Add(m.Reason);
            args.Add(m.AgentId ?? string.Empty);
            args.Add(m.ClaimedBy ?? string.Empty);
            args.Add(m.ClaimedAt is { } claimedAt ? Ms(claimedAt) : string.Empty);
            args.Add(Math.Max(0, m.Attempts));
            args.Add(m.LastResult ?? string.Empty);
        }

        foreach (var r in calls)
        {
            var call = r.Call;
            CallQueueRules.Validate(call);
            args.Add(call.CallId);
            args.Add(call.Skill);
            args.Add(CallQueueRules.WaitingScore(call.Priority, call.EnqueuedAt));
            args.Add(Ms(call.EnqueuedAt));
            args.Add(call.Priority);
            args.Add(call.Caller ?? string.Empty);
            args.Add(call.DialledNumber ?? string.Empty);
            args.Add(call.Attributes is null ? string.Empty : JsonSerializer.Serialize(call.Attributes));
            args.Add(r.AgentId ?? string.Empty);
            args.Add(Ms(r.ConnectedAt ?? call.EnqueuedAt));
            args.Add(string.Join('\n', r.AgentSkills));
        }

        var restored = (long)await RunAsync(LuaScripts.Restore, cancellationToken, [.. args]);
        await _redis.GetDatabase().KeyDeleteAsync(Keys.RestoreLock);
        return (int)restored;
    }

    private async Task<RedisResult> RunAsync(string script, CancellationToken cancellationToken, params RedisValue[] args)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var values = new RedisValue[args.Length + 1];
        values[0] = _root;
        args.CopyTo(values, 1);
        return await _scripts.EvaluateAsync(script, _routingKey, values);
    }

    private static QueuedCall ToCall(RedisValue callId, RedisValue caller, RedisValue dialled, RedisValue skill, RedisValue priority, RedisValue enqueuedMs, RedisValue attributes) =>
        new(
            (string)callId!,
            (string?)caller ?? string.Empty,
            (string?)dialled ?? string.Empty,
            (string)skill!,
            int.Parse((string)priority!, CultureInfo.InvariantCulture),
            FromMs(long.Parse((string)enqueuedMs!, CultureInfo.InvariantCulture)),
            attributes.IsNullOrEmpty ? null : JsonSerializer.Deserialize<Dictionary<string, string>>((string)attributes!));

    private static long Ms(DateTimeOffset t) => t.ToUnixTimeMilliseconds();

    private static DateTimeOffset FromMs(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);
}
