namespace Hotline.Calls;

/// <summary>
/// The live call queue and automatic call distribution (ACD) port. Two implementations:
/// in-process (embedded default) and Redis (production, one Lua script per multi-step
/// operation so that no call is ever in two places or in none, even with several server nodes).
/// A call is always in exactly one of: waiting (in its skill queue), reserved (offered to one
/// agent), connected (accepted by one agent), or gone (ended / abandoned).
/// </summary>
public interface ICallQueue
{
    /// <summary>Queues a call. Idempotent by <see cref="QueuedCall.CallId"/>: false when the call is already known.</summary>
    Task<bool> EnqueueAsync(QueuedCall call, CancellationToken cancellationToken = default);

    /// <summary>Signs the agent in (if needed) and makes it ready for calls of its skills; its idle time starts at <paramref name="now"/>.
    /// Rejected (false) while the agent is reserved or on a call.</summary>
    Task<bool> SetReadyAsync(string agentId, IReadOnlyList<AgentSkill> skills, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>Agent is not ready with a reason (小休, 培训, 会议, 就餐 …). Rejected (false) while reserved or on a call.</summary>
    Task<bool> SetNotReadyAsync(string agentId, string reason, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>Logs the agent out. A pending reservation goes back to the queue at its old place.</summary>
    Task LogOutAsync(string agentId, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>
    /// Matches waiting calls with ready agents: for each skill, the highest-priority, longest-waiting call goes to the
    /// longest-idle ready agent with that skill (in a level-first group: the highest-level, then longest-idle one). Each match is a reservation that expires at now + <paramref name="reservationTimeout"/>.
    /// Returns the offers made (at most <paramref name="max"/>).
    /// </summary>
    Task<IReadOnlyList<Offer>> DispatchAsync(DateTimeOffset now, TimeSpan reservationTimeout, int max, CancellationToken cancellationToken = default);

    /// <summary>The agent takes the call offered to it: the call is connected, the agent on call.</summary>
    Task<bool> AcceptAsync(string agentId, string callId, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>The agent declines the offer: the call goes back to the queue at its old place, the agent becomes not ready ("拒接").</summary>
    Task<bool> RejectAsync(string agentId, string callId, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>Reservations past their expiry: each call goes back to its old place, each agent becomes not ready ("未接听"). Returns the expired offers.</summary>
    Task<IReadOnlyList<Offer>> ExpireReservationsAsync(DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>The caller hung up before being connected. Removes a waiting call, or cancels its reservation (the agent is ready again,
    /// keeping its idle time). False when the call is not waiting or reserved.</summary>
    Task<bool> AbandonAsync(string callId, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>
    /// Changes the priority of a waiting or reserved call (a supervisor raises one call). Its enqueue time is kept, so it
    /// goes ahead of the calls of lower priority and stays behind older calls of the same priority; a reserved call keeps
    /// its reservation and comes back at the new place if the offer is declined. False when the call is not waiting or reserved.
    /// </summary>
    Task<bool> SetPriorityAsync(string callId, int priority, CancellationToken cancellationToken = default);

    /// <summary>A connected call ended: the call is gone, the agent goes to wrap-up (话后处理).</summary>
    Task<bool> EndCallAsync(string callId, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>The agent's live state, or null when unknown (never signed in).</summary>
    Task<AgentState?> GetAgentAsync(string agentId, CancellationToken cancellationToken = default);

    /// <summary>Where the call is now, or null when gone / unknown.</summary>
    Task<CallPlacement?> GetCallAsync(string callId, CancellationToken cancellationToken = default);

    /// <summary>Queue and agent figures for the wallboard.</summary>
    Task<QueueSnapshot> GetSnapshotAsync(DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>
    /// The overflow rules <see cref="DispatchAsync"/> applies from now on (replacing earlier ones): a call of
    /// <see cref="OverflowRule.Skill"/> that has waited at least <see cref="OverflowRule.After"/> may also be offered to the ready
    /// agents of the rule's <see cref="OverflowRule.To"/> groups. The call stays in its own queue until it is offered (never in two places).
    /// </summary>
    void UseOverflow(IReadOnlyList<OverflowRule> rules);

    /// <summary>
    /// The skill groups that offer calls "highest level first" (replacing earlier ones): among the group's ready agents the
    /// highest <see cref="AgentSkill.Level"/> gets the call, then the longest idle; other groups go by idle time only. Applies to
    /// agents made ready (<see cref="SetReadyAsync"/>) from now on; an agent already ready keeps its place until it is made ready again.
    /// </summary>
    void UseLevelFirst(IReadOnlyList<string> skills);

    /// <summary>
    /// The caller accepted a callback offer: the waiting call stays at its place as a virtual entry (the caller hangs up), and
    /// when its turn comes it is offered to an agent as an outbound callback (<see cref="Offer.Callback"/>). A virtual entry is
    /// not abandoned by the caller's hang-up. False when the call is not waiting or is already a callback.
    /// </summary>
    Task<bool> ConvertToCallbackAsync(string callId, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>The open entries of the 漏接回拨 list (abandoned and missed calls; filled by <see cref="AbandonAsync"/> in the same
    /// atomic step), oldest first, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<MissedCall>> GetMissedAsync(int limit, CancellationToken cancellationToken = default);

    /// <summary>An agent takes a missed call to call back. Atomic: true for one agent only (again true for the same agent);
    /// false when another agent holds it or the entry is gone.</summary>
    Task<bool> ClaimMissedAsync(string callId, string agentId, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>The claiming agent reports a callback attempt. <paramref name="done"/>: the entry leaves the list; otherwise it is
    /// released for another attempt (attempts + 1, last result kept). False when the agent does not hold the claim.</summary>
    Task<bool> CompleteMissedAsync(string callId, string agentId, string result, bool done, DateTimeOffset now, CancellationToken cancellationToken = default);
}

/// <summary>Overflow: calls of <paramref name="Skill"/> waiting at least <paramref name="After"/> are also offered to agents of <paramref name="To"/>.</summary>
public sealed record OverflowRule(string Skill, TimeSpan After, IReadOnlyList<string> To);

/// <summary>An entry of the 漏接回拨 list. <see cref="Reason"/>: <see cref="CallQueueRules.AbandonedReason"/> (hung up while waiting) or
/// <see cref="CallQueueRules.MissedReason"/> (hung up while ringing at <see cref="AgentId"/>).</summary>
public sealed record MissedCall(
    string CallId,
    string Caller,
    string DialledNumber,
    string Skill,
    DateTimeOffset EnqueuedAt,
    DateTimeOffset MissedAt,
    string Reason,
    string? AgentId,
    string? ClaimedBy,
    DateTimeOffset? ClaimedAt,
    int Attempts,
    string? LastResult);

/// <summary>A call as the queue sees it. Higher <see cref="Priority"/> goes first (0 normal; repeat callers and the elderly jump ahead).</summary>
public sealed record QueuedCall(
    string CallId,
    string Caller,
    string DialledNumber,
    string Skill,
    int Priority,
    DateTimeOffset EnqueuedAt,
    IReadOnlyDictionary<string, string>? Attributes = null);

/// <summary>An agent's skill group and level (<see cref="CallQueueRules.MinLevel"/>..<see cref="CallQueueRules.MaxLevel"/>; higher is more
/// skilled, used only by level-first groups, see <see cref="ICallQueue.UseLevelFirst"/>).</summary>
public sealed record AgentSkill(string Skill, int Level = 1);

/// <summary>A reservation. <see cref="Skill"/> is the group whose agent got it: another than <c>Call.Skill</c> when the call overflowed.</summary>
public sealed record Offer(string CallId, string AgentId, string Skill, DateTimeOffset OfferedAt, DateTimeOffset ExpiresAt, QueuedCall Call)
{
    /// <summary>A virtual entry: the agent calls the citizen back (the caller accepted a callback offer and hung up).</summary>
    public bool Callback { get; init; }
}

public enum AgentStatus
{
    LoggedOut,
    Ready,
    Reserved,
    OnCall,
    WrapUp,
    NotReady,
}

/// <summary>An agent's live state. <see cref="CallId"/> is set while reserved or on call.</summary>
public sealed record AgentState(string AgentId, AgentStatus Status, string? Reason, DateTimeOffset Since, string? CallId, IReadOnlyList<AgentSkill> Skills);

public enum CallStage
{
    Waiting,
    Reserved,
    Connected,
}

public sealed record CallPlacement(QueuedCall Call, CallStage Stage, string? AgentId)
{
    /// <summary>A virtual callback entry (see <see cref="ICallQueue.ConvertToCallbackAsync"/>).</summary>
    public bool Callback { get; init; }
}

public sealed record SkillQueueFigures(string Skill, int Waiting, TimeSpan LongestWait, int ReadyAgents)
{
    /// <summary>Agents having this skill that are staffed: Ready, Reserved, OnCall or WrapUp (the expected wait divides by it).</summary>
    public int StaffedAgents { get; init; }
}

public sealed record QueueSnapshot(IReadOnlyList<SkillQueueFigures> Skills, IReadOnlyDictionary<AgentStatus, int> AgentsByStatus, int Reserved, int Connected)
{
    /// <summary>Open entries of the 漏接回拨 list.</summary>
    public int Missed { get; init; }
}
