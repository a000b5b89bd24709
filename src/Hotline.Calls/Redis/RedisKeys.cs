using System.Text;
using StackExchange.Redis;

namespace Hotline.Calls.Redis;

/// <summary>
/// Every key of the Redis call queue, in one place. All keys start with <see cref="Root"/>, <c>{prefix}:</c>: the braces
/// are a cluster hash tag, so one queue lives in one slot (Lua scripts may touch all its keys) and queues with different
/// prefixes spread over the cluster. The Lua scripts build the same names from <see cref="LuaPreamble"/>, which is
/// generated here, so no key name is spelled anywhere else.
/// </summary>
public sealed class RedisKeys
{
    // Segments (the part after the root). Changing one renames the key everywhere, Lua included.
    internal const string CallSegment = "call:";
    internal const string TombstoneSegment = "gone:";
    internal const string WaitingSegment = "waiting:";
    internal const string ReadySegment = "ready:";
    internal const string AgentSegment = "agent:";
    internal const string AgentSkillsSegment = "agentskills:";
    internal const string AgentRankSegment = "agentrank:";
    internal const string MissedCallSegment = "missedcall:";
    internal const string MissedName = "missed";
    internal const string SkillsName = "skills";
    internal const string AgentsName = "agents";
    internal const string ReservationsName = "reservations";
    internal const string ConnectedName = "connected";
    internal const string PushChannelName = "push";
    internal const string AliveName = "alive";
    internal const string HeadsName = "heads";
    internal const string RestoreLockName = "restoring";

    public RedisKeys(string prefix = "hotline")
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        Prefix = prefix;
        Root = prefix.Contains('{', StringComparison.Ordinal) ? prefix + ":" : "{" + prefix + "}:";
    }

    /// <summary>The configured prefix, e.g. <c>hotline</c>.</summary>
    public string Prefix { get; }

    /// <summary>Start of every key, e.g. <c>{hotline}:</c> (a prefix that already holds a hash tag is used as is).</summary>
    public string Root { get; }

    /// <summary>HASH: a live call (fields <c>id caller dialled skill prio enq score attrs stage agent offered expires</c>).</summary>
    public RedisKey Call(string callId) => Root + CallSegment + callId;

    /// <summary>STRING with TTL: the call is gone (ended / abandoned); makes a retried enqueue a no-op.</summary>
    public RedisKey Tombstone(string callId) => Root + TombstoneSegment + callId;

    /// <summary>ZSET callId → waiting score (priority desc, enqueue ms asc): the skill's queue in dispatch order.</summary>
    public RedisKey Waiting(string skill) => Root + WaitingSegment + skill;

    /// <summary>ZSET agentId → ready score: ready agents having the skill, longest idle first (score = idle-since ms); in a level-first
    /// group highest level first (score = <see cref="CallQueueRules.ReadyOffset"/> + idle-since ms).</summary>
    public RedisKey Ready(string skill) => Root + ReadySegment + skill;

    /// <summary>HASH: an agent's state (fields <c>status reason since idle call</c>).</summary>
    public RedisKey Agent(string agentId) => Root + AgentSegment + agentId;

    /// <summary>HASH skill → level: the agent's skills.</summary>
    public RedisKey AgentSkills(string agentId) => Root + AgentSkillsSegment + agentId;

    /// <summary>HASH skill → ready-score offset (<see cref="CallQueueRules.ReadyOffset"/>), only the agent's level-first skills; written
    /// when the agent is made ready, so that an agent back in line (abandoned offer) gets the same place.</summary>
    public RedisKey AgentRank(string agentId) => Root + AgentRankSegment + agentId;

    /// <summary>
    /// ZSET, derived from the waiting queues: the head call of each non-empty <see cref="Waiting"/> queue, member
    /// <c>callId \0 skill</c>, scored by its waiting score. Dispatch reads it instead of one head per skill.
    /// </summary>
    public RedisKey Heads => Root + HeadsName;

    /// <summary>SET: every skill ever seen (queues and agents); the snapshot walks it.</summary>
    public RedisKey Skills => Root + SkillsName;

    /// <summary>SET: every agent ever signed in.</summary>
    public RedisKey Agents => Root + AgentsName;

    /// <summary>ZSET callId → expiry ms: pending offers. Also the key every script declares (cluster routing).</summary>
    public RedisKey Reservations => Root + ReservationsName;

    /// <summary>SET: connected calls.</summary>
    public RedisKey Connected => Root + ConnectedName;

    /// <summary>ZSET callId → missed ms: the open 漏接回拨 list (abandoned and missed calls), oldest first.</summary>
    public RedisKey Missed => Root + MissedName;

    /// <summary>HASH: one 漏接回拨 entry (fields <c>id caller dialled skill enq at reason agent claimedBy claimedAt attempts result</c>).</summary>
    public RedisKey MissedCall(string callId) => Root + MissedCallSegment + callId;

    /// <summary>STRING: set once the live state is known to be complete (at the first start, or after a restore). Missing = Redis lost its data.</summary>
    public RedisKey Alive => Root + AliveName;

    /// <summary>STRING with a short TTL: the node rebuilding the live state after a Redis restart holds it (SET NX PX).</summary>
    public RedisKey RestoreLock => Root + RestoreLockName;

    /// <summary>Pub/sub channel (not a key): pushes to agents' consoles, fanned out to every server node.</summary>
    public RedisChannel PushChannel => new(Root + PushChannelName, RedisChannel.PatternMode.Literal);

    /// <summary>
    /// Lua prepended to every script: key builders over ARGV[1] (the root), so scripts never spell a key name.
    /// All keys share the root's hash tag, hence the slot of KEYS[1] (<see cref="Reservations"/>).
    /// </summary>
    internal static string LuaPreamble { get; } = BuildPreamble();

    private static string BuildPreamble()
    {
        var lua = new StringBuilder();
        lua.Append("local P = ARGV[1]\n");
        void Builder(string name, string segment) =>
            lua.Append("local function ").Append(name).Append("(id) return P .. '").Append(segment).Append("' .. id end\n");
        void Fixed(string name, string key) =>
            lua.Append("local ").Append(name).Append(" = P .. '").Append(key).Append("'\n");
        Builder("kCall", CallSegment);
        Builder("kGone", TombstoneSegment);
        Builder("kWaiting", WaitingSegment);
        Builder("kReady", ReadySegment);
        Builder("kAgent", AgentSegment);
        Builder("kAgentSkills", AgentSkillsSegment);
        Builder("kAgentRank", AgentRankSegment);
        Builder("kMissedCall", MissedCallSegment);
        Fixed("kSkills", SkillsName);
        Fixed("kAgents", AgentsName);
        Fixed("kReservations", ReservationsName);
        Fixed("kConnected", ConnectedName);
        Fixed("kMissed", MissedName);
        Fixed("kHeads", HeadsName);
        return lua.ToString();
    }
}
