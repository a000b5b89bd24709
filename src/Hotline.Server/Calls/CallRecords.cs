using Hotline.Domain.Common;

namespace Hotline.Server.Calls;

// The record of every call ("call-{id}" streams) and every agent state change ("agent-{id}" streams).
// Redis holds the live queue; these streams are the record that nothing about a call is lost.

public interface ICallRecord
{
    string CallId { get; }
    DateTimeOffset At { get; }
}

[EventType("V1.CallQueued")]
public sealed record CallQueued(string CallId, string Caller, string DialledNumber, string Skill, int Priority, string? IvrPath, bool Elderly, bool Repeat, string Source, DateTimeOffset At) : ICallRecord;

[EventType("V1.CallOfferedToAgent")]
public sealed record CallOfferedToAgent(string CallId, string AgentId, DateTimeOffset ExpiresAt, DateTimeOffset At) : ICallRecord;

[EventType("V1.CallOfferDeclined")]
public sealed record CallOfferDeclined(string CallId, string AgentId, string Reason, DateTimeOffset At) : ICallRecord;

[EventType("V1.CallConnected")]
public sealed record CallConnected(string CallId, string AgentId, double WaitSeconds, DateTimeOffset At) : ICallRecord;

[EventType("V1.CallTransferredOut")]
public sealed record CallTransferredOut(string CallId, string Target, string? Reason, string? AgentId, DateTimeOffset At) : ICallRecord;

/// <summary>Keys the caller pressed during the call (SIP INFO / RFC 2833 / the platform's IVR), in the order received.</summary>
[EventType("V1.CallDigitsReceived")]
public sealed record CallDigitsReceived(string CallId, string Digits, string Source, DateTimeOffset At) : ICallRecord;

[EventType("V1.CallFinished")]
public sealed record CallFinished(string CallId, string EndedBy, string? Cause, string? AgentId, double TalkSeconds, DateTimeOffset At) : ICallRecord;

[EventType("V1.CallAbandonedInQueue")]
public sealed record CallAbandonedInQueue(string CallId, double WaitSeconds, DateTimeOffset At) : ICallRecord;

[EventType("V1.CallPriorityRaised")]
public sealed record CallPriorityRaised(string CallId, int Priority, string By, DateTimeOffset At) : ICallRecord;

[EventType("V1.AgentStateChanged")]
public sealed record AgentStateChanged(string AgentId, string Status, string? Reason, string? CallId, DateTimeOffset At);

public static class CallRecordTypes
{
    public static IReadOnlyList<Type> All { get; } =
    [
        typeof(CallQueued), typeof(CallOfferedToAgent), typeof(CallOfferDeclined), typeof(CallConnected),
        typeof(CallTransferredOut), typeof(CallDigitsReceived), typeof(CallFinished), typeof(CallAbandonedInQueue), typeof(CallPriorityRaised), typeof(AgentStateChanged),
    ];
}
