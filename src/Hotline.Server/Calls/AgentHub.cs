using Hotline.Calls;
using Hotline.Server.Auth;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;

namespace Hotline.Server.Calls;

public sealed record AgentView(string AgentId, string Status, string? Reason, DateTimeOffset Since, string? CallId)
{
    /// <summary>While Reserved: the pending offer (with its screen pop), so a console that reconnects shows the call card again.</summary>
    public OfferView? Offer { get; init; }

    /// <summary>While OnCall: the connected call, so a console that reconnects shows the call card again.</summary>
    public ActiveCallView? Call { get; init; }
}

/// <summary>The call an agent is on. <see cref="Callback"/>: an outbound callback of a virtual queue entry.</summary>
public sealed record ActiveCallView(string CallId, string Caller, DateTimeOffset ConnectedAt, bool Callback);

/// <summary>One 漏接回拨 entry as the console shows it.</summary>
public sealed record MissedCallView(string CallId, string Caller, string Skill, DateTimeOffset EnqueuedAt, DateTimeOffset MissedAt, string Reason, string? AgentId, string? ClaimedBy, DateTimeOffset? ClaimedAt, int Attempts, string? LastResult);

/// <summary>The 漏接回拨 list changed (an entry was added, claimed, released or closed): consoles showing it read it again.</summary>
public sealed record MissedCallsChangedView(string CallId, string Change, int Open);

public sealed record PreviousTicket(Guid Id, string Number, string Type, string StateName, DateTimeOffset CreatedAt, string Summary);

public sealed record ScreenPop(IReadOnlyList<PreviousTicket> PreviousTickets, int Contacts30d, bool Repeat, bool Elderly, string? IvrPath);

public sealed record OfferView(string CallId, string Caller, string DialledNumber, string Skill, DateTimeOffset ExpiresAt, ScreenPop ScreenPop)
{
    /// <summary>An outbound callback (the caller accepted a callback and hung up): the agent calls <see cref="Caller"/> back.</summary>
    public bool Callback { get; init; }

    /// <summary>The caller's own group when the call overflowed to the agent's group (<see cref="Skill"/>); null otherwise.</summary>
    public string? OverflowFrom { get; init; }
}

public sealed record CallConnectedView(string CallId, string Caller);

/// <summary>An external number an agent may transfer a call to (转接).</summary>
public sealed record TransferTargetView(string Number, string Name);

public sealed record CallEndedView(string CallId, string EndedBy);

/// <summary>The server lost or rebuilt live state (Redis restart): the console should read its state again (GetState).</summary>
public sealed record ResyncView(string Reason, DateTimeOffset At);

public sealed record TicketChangedView(Guid TicketId, string Number, string State, string StateName, long Version);

/// <summary>What the server pushes to an agent's console.</summary>
public interface IAgentClient
{
    Task AgentState(AgentView view);
    Task CallOffered(OfferView offer);
    Task CallConnected(CallConnectedView call);
    Task CallEnded(CallEndedView call);
    Task TicketChanged(TicketChangedView ticket);
    Task Resync(ResyncView resync);
    Task MissedCallsChanged(MissedCallsChangedView change);
}

/// <summary>The agent console's hub: state, accept / reject, hang up, wrap-up. Every change goes through the call center.</summary>
[Authorize(Policy = "agent")]
public sealed class AgentHub(CallCenter center) : Hub<IAgentClient>
{
    public static string GroupOf(string agentId) => "agent:" + agentId;

    /// <summary>Every agent console (the 漏接回拨 list is shared).</summary>
    public const string AllAgentsGroup = "agents";

    public override async Task OnConnectedAsync()
    {
        await Groups.AddToGroupAsync(Context.ConnectionId, GroupOf(Context.User!.UserId()));
        await Groups.AddToGroupAsync(Context.ConnectionId, AllAgentsGroup);
        await base.OnConnectedAsync();
    }

    public Task<AgentView> GetState() => center.GetViewAsync(AgentId, Context.ConnectionAborted);

    public Task<AgentView> GoReady() => center.GoReadyAsync(AgentId, Context.ConnectionAborted);

    public Task<AgentView> FinishWrapUp() => center.GoReadyAsync(AgentId, Context.ConnectionAborted);

    public Task<AgentView> GoNotReady(string reason) => center.GoNotReadyAsync(AgentId, reason, Context.ConnectionAborted);

    public Task<bool> Accept(string callId) => center.AcceptAsync(AgentId, CallIdOf(callId), Context.ConnectionAborted);

    public Task<bool> Reject(string callId) => center.RejectAsync(AgentId, CallIdOf(callId), Context.ConnectionAborted);

    public Task<bool> HangUp(string callId) => center.HangUpAsync(AgentId, CallIdOf(callId), Context.ConnectionAborted);

    /// <summary>A call id from the client: present, short, printable — otherwise a HubException naming the field.</summary>
    private static string CallIdOf(string? callId) =>
        string.IsNullOrWhiteSpace(callId) || callId.Length > 200 || callId.Any(char.IsControl)
            ? throw new HubException("callId: 通话编号不能为空、不能超过 200 个字符、不能含控制字符")
            : callId;

    /// <summary>The external numbers the agent may transfer to (转接).</summary>
    public IReadOnlyList<TransferTargetView> GetTransferTargets() => center.TransferTargets();

    /// <summary>转接: the agent's own connected call to a configured external number, with a reason; the call ends, the agent goes to
    /// wrap-up. False when the call is not the agent's connected call.</summary>
    public Task<bool> Transfer(string callId, string target, string reason) => center.TransferAsync(AgentId, CallIdOf(callId), target, reason, Context.ConnectionAborted);

    public Task LogOut() => center.LogOutAsync(AgentId, Context.ConnectionAborted);

    /// <summary>The open 漏接回拨 list, oldest first (at most 200).</summary>
    public Task<IReadOnlyList<MissedCallView>> GetMissed() => center.GetMissedAsync(Context.ConnectionAborted);

    /// <summary>Takes a 漏接回拨 entry (atomic: one agent only). False when another agent holds it or it is closed.</summary>
    public Task<bool> ClaimMissed(string callId) => center.ClaimMissedAsync(AgentId, CallIdOf(callId), Context.ConnectionAborted);

    /// <summary>Records the result of a callback attempt on a claimed entry; <paramref name="done"/> closes it, otherwise it is open again.</summary>
    public Task<bool> CompleteMissed(string callId, string result, bool done) => center.CompleteMissedAsync(AgentId, CallIdOf(callId), result, done, Context.ConnectionAborted);

    private string AgentId => Context.User!.UserId();
}

public sealed record SkillFigures(string Skill, int Waiting, double LongestWaitSeconds, int ReadyAgents);

/// <summary>Telephony figures over one window; every formula is defined once, in <see cref="CallStats.Compute"/>.</summary>
public sealed record TodayFigures(int Offered, int Answered, int Abandoned, double AnswerRate, double ServiceLevel15, double AvgWaitSeconds, double AvgTalkSeconds)
{
    public double ServiceLevel20 { get; init; }
    public double AbandonRate { get; init; }

    /// <summary>平均话后处理时长 (see <see cref="CallStats"/>).</summary>
    public double AvgWrapUpSeconds { get; init; }
}

public sealed record AgentRow(string AgentId, string Name, string Status, string? Reason, DateTimeOffset Since);

public sealed record WallboardView(DateTimeOffset At, IReadOnlyList<SkillFigures> Skills, IReadOnlyDictionary<string, int> AgentsByStatus, TodayFigures Today, IReadOnlyList<AgentRow> Agents)
{
    /// <summary>The same figures over the calls queued in the last 15 minutes.</summary>
    public TodayFigures? Last15Minutes { get; init; }

    /// <summary>Open entries of the 漏接回拨 list (live, from the queue).</summary>
    public int MissedOpen { get; init; }
}

public interface ISupervisorClient
{
    Task Wallboard(WallboardView wallboard);
}

/// <summary>The supervisor's hub: the wallboard is pushed to the "wallboard" group; supervisors can force an agent's state.</summary>
[Authorize(Policy = "supervisor")]
public sealed class SupervisorHub(CallCenter center) : Hub<ISupervisorClient>
{
    public const string WallboardGroup = "wallboard";

    public override async Task OnConnectedAsync()
    {
        await Groups.AddToGroupAsync(Context.ConnectionId, WallboardGroup);
        await base.OnConnectedAsync();
    }

    public Task<WallboardView> GetWallboard() => center.WallboardAsync(Context.ConnectionAborted);

    [Authorize(Roles = Roles.Supervisor + "," + Roles.Admin)]
    public Task<AgentView> ForceState(string agentId, string status, string? reason) => center.ForceStateAsync(agentId, status, reason, Context.ConnectionAborted);

    /// <summary>Raises one waiting (or ringing) call's priority; false when the call is no longer waiting or reserved.</summary>
    [Authorize(Roles = Roles.Supervisor + "," + Roles.Admin)]
    public Task<bool> RaisePriority(string callId, int priority) => center.RaisePriorityAsync(callId, priority, Context.User!.UserId(), Context.ConnectionAborted);
}
