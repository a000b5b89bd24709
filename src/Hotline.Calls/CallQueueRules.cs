namespace Hotline.Calls;

/// <summary>Rules shared by every <see cref="ICallQueue"/> implementation, so that they order and validate identically.</summary>
public static class CallQueueRules
{
    /// <summary>Lowest accepted <see cref="QueuedCall.Priority"/>.</summary>
    public const int MinPriority = -500;

    /// <summary>Highest accepted <see cref="QueuedCall.Priority"/> (elderly and repeat callers use small positive values).</summary>
    public const int MaxPriority = 500;

    /// <summary>Not-ready reason given to an agent who declined an offer.</summary>
    public const string RejectedReason = "拒接";

    /// <summary>Not-ready reason given to an agent whose offer expired unanswered.</summary>
    public const string NoAnswerReason = "未接听";

    /// <summary>漏接回拨 reason of a call whose caller hung up while waiting in the queue.</summary>
    public const string AbandonedReason = "放弃";

    /// <summary>漏接回拨 reason of a call whose caller hung up while it rang at an agent.</summary>
    public const string MissedReason = "漏接";

    /// <summary>How long a gone call's id is remembered, so that a retried enqueue of an ended call does not queue it again.</summary>
    public static readonly TimeSpan DefaultTombstoneTtl = TimeSpan.FromHours(24);

    /// <summary>
    /// The waiting order, as one number: lower goes first. Priority descending, then enqueue time ascending (Unix ms).
    /// Exact in a double (|score| &lt; 2^53) for priorities in [<see cref="MinPriority"/>, <see cref="MaxPriority"/>] and
    /// times before the year 2248; ties (same priority, same millisecond) go by call id, ordinal.
    /// </summary>
    public static long WaitingScore(int priority, DateTimeOffset enqueuedAt) =>
        (-(long)priority << 43) + enqueuedAt.ToUnixTimeMilliseconds();

    /// <summary>Lowest agent skill level (<see cref="AgentSkill.Level"/>).</summary>
    public const int MinLevel = 1;

    /// <summary>Highest agent skill level; in a level-first group (<see cref="ICallQueue.UseLevelFirst"/>) higher levels are offered first.</summary>
    public const int MaxLevel = 9;

    /// <summary>
    /// What a ready agent's place in line adds to its idle-since time (Unix ms): 0 in a normal group (longest idle first);
    /// (10 - level) * 2^43 in a level-first group, so the highest level goes first, then the longest idle. The ready
    /// score offset + idle ms stays exact in a double (&lt; 2^47) for times before the year 2248.
    /// </summary>
    public static long ReadyOffset(bool levelFirst, int level) => levelFirst ? (long)(MaxLevel + 1 - level) << 43 : 0;

    internal static void Validate(QueuedCall call)
    {
        ArgumentNullException.ThrowIfNull(call);
        ArgumentException.ThrowIfNullOrEmpty(call.CallId);
        if (call.CallId.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException("A call id must not contain NUL (the Redis queue's head index separates id and skill with it).", nameof(call));
        }

        ArgumentException.ThrowIfNullOrEmpty(call.Skill);
        ArgumentOutOfRangeException.ThrowIfLessThan(call.Priority, MinPriority);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(call.Priority, MaxPriority);
        if (call.EnqueuedAt.ToUnixTimeMilliseconds() is < 0 or >= 1L << 43)
        {
            throw new ArgumentOutOfRangeException(nameof(call), call.EnqueuedAt, "EnqueuedAt must lie between 1970 and 2248.");
        }
    }

    internal static void ValidateOverflow(IReadOnlyList<OverflowRule> rules)
    {
        ArgumentNullException.ThrowIfNull(rules);
        foreach (var r in rules)
        {
            ArgumentNullException.ThrowIfNull(r);
            ArgumentException.ThrowIfNullOrEmpty(r.Skill);
            ArgumentNullException.ThrowIfNull(r.To);
            ArgumentOutOfRangeException.ThrowIfLessThan(r.After, TimeSpan.Zero);
            foreach (var t in r.To)
            {
                ArgumentException.ThrowIfNullOrEmpty(t);
            }
        }
    }

    /// <summary>An agent id made ready: not empty, no NUL (the Redis queue's ready sets join id and skills with it).</summary>
    internal static void ValidateAgentId(string agentId)
    {
        ArgumentException.ThrowIfNullOrEmpty(agentId);
        if (agentId.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException("An agent id must not contain NUL (the Redis queue's ready sets separate id and skills with it).", nameof(agentId));
        }
    }

    internal static void ValidateSkills(IReadOnlyList<AgentSkill> skills)
    {
        ArgumentNullException.ThrowIfNull(skills);
        foreach (var s in skills)
        {
            ArgumentNullException.ThrowIfNull(s);
            ArgumentException.ThrowIfNullOrEmpty(s.Skill);
            if (s.Skill.Contains('\0', StringComparison.Ordinal))
            {
                throw new ArgumentException("A skill name must not contain NUL (the Redis queue's ready sets separate skills with it).", nameof(skills));
            }

            ArgumentOutOfRangeException.ThrowIfLessThan(s.Level, MinLevel);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(s.Level, MaxLevel);
        }
    }

    internal static void ValidateLevelFirst(IReadOnlyList<string> skills)
    {
        ArgumentNullException.ThrowIfNull(skills);
        foreach (var s in skills)
        {
            ArgumentException.ThrowIfNullOrEmpty(s);
        }
    }
}
