namespace Hotline.Calls;

/// <summary>
/// Recovery of a queue whose store can lose its data (Redis restarted empty). The server rebuilds the live calls from its
/// call records: <see cref="TryBeginRestoreAsync"/> tells one node (of many) that the data is gone and that it should
/// rebuild; it then calls <see cref="RestoreAsync"/>. The in-process queue never loses its data and does not implement this.
/// </summary>
public interface ICallQueueRecovery
{
    /// <summary>Whether the live state is known to be complete (the alive marker is present).</summary>
    Task<bool> IsAliveAsync(CancellationToken cancellationToken = default);

    /// <summary>True when the live state is gone and this caller won the short restore lock: it must call <see cref="RestoreAsync"/>.
    /// False when the state is alive or another node is restoring it.</summary>
    Task<bool> TryBeginRestoreAsync(CancellationToken cancellationToken = default);

    /// <summary>Puts the live calls back (waiting ones at their original place, connected ones with their agent on call) in one
    /// atomic step, skipping calls already known, and marks the state alive. Returns the number of calls restored.</summary>
    /// <remarks><paramref name="agents"/>: agents not on a restored call, put back in their last recorded state (Ready, NotReady with
    /// its reason, WrapUp, LoggedOut) unless already known; a Ready agent's idle time is its recorded <see cref="RestoredAgent.Since"/>.</remarks>
    /// <remarks><paramref name="missed"/>: the open 漏接回拨 entries (with their claim, attempt count and last result), put back unless
    /// already listed or live.</remarks>
    Task<int> RestoreAsync(IReadOnlyList<RestoredCall> calls, IReadOnlyList<RestoredAgent>? agents = null, IReadOnlyList<MissedCall>? missed = null, CancellationToken cancellationToken = default);
}

/// <summary>A live call to restore. <see cref="AgentId"/> null: waiting; else connected to that agent since <see cref="ConnectedAt"/>
/// (the agent, unless already known, is restored OnCall with <see cref="AgentSkills"/>).</summary>
public sealed record RestoredCall(QueuedCall Call, string? AgentId, DateTimeOffset? ConnectedAt, IReadOnlyList<string> AgentSkills);

/// <summary>An agent's last recorded state, to restore after the live state was lost. <see cref="Status"/> is Ready, NotReady, WrapUp or LoggedOut.</summary>
public sealed record RestoredAgent(string AgentId, AgentStatus Status, string? Reason, DateTimeOffset Since, IReadOnlyList<AgentSkill> Skills);
