using Hotline.Calls;
using Hotline.Server.Auth;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;

namespace Hotline.Server.Calls;

public sealed record AgentView(string AgentId, string Status, string? Reason, DateTimeOffset Since, string? CallId);

public sealed record PreviousTicket(Guid Id, string Number, string Type, string StateName, DateTimeOffset CreatedAt, string Summary);

public sealed record ScreenPop(IReadOnlyList<PreviousTicket> PreviousTickets, int Contacts30d, bool Repeat, bool Elderly, string? IvrPath);

public sealed record OfferView(string CallId, string Caller, string DialledNumber, string Skill, DateTimeOffset ExpiresAt, ScreenPop ScreenPop);

public sealed record CallConnectedView(string CallId, string Caller);

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
}

/// <summary>The agent console's hub: state, accept / reject, hang up, wrap-up. Every change goes through the call center.</summary>
[Authorize(Policy = "agent")]
public sealed class AgentHub(CallCenter center) : Hub<IAgentClient>
{
    public static string GroupOf(string agentId) => "agent:" + agentId;

    public override async Task OnConnectedAsync()
    {
        await Groups.AddToGroupAsync(Context.ConnectionId, GroupOf(Context.User!.UserId()));
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

    public Task LogOut() => center.LogOutAsync(AgentId, Context.ConnectionAborted);

    private string AgentId => Context.User!.UserId();
}

public sealed record SkillFigures(string Skill, int Waiting, double LongestWaitSeconds, int ReadyAgents);

/// <summary>Telephony figures over one window; every formula is defined once, in <see cref="CallStats.Compute"/>.</summary>
public sealed record TodayFigures(int Offered, int Answered, int Abandoned, double AnswerRate, double ServiceLevel15, double AvgWaitSeconds, double AvgTalkSeconds)
{
    public double ServiceLevel20 { get; init; }
    public double AbandonRate { get; init; }
}

public sealed record AgentRow(string AgentId, string Name, string Status, string? Reason, DateTimeOffset Since);

public sealed record WallboardView(DateTimeOffset At, IReadOnlyList<SkillFigures> Skills, IReadOnlyDictionary<string, int> AgentsByStatus, TodayFigures Today, IReadOnlyList<AgentRow> Agents)
{
    /// <summary>The same figures over the calls queued in the last 15 minutes.</summary>
    public TodayFigures? Last15Minutes { get; init; }
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
