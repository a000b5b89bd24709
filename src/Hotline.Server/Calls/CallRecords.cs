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

/// <summary>The expected wait was over the threshold: the caller was offered a callback (the platform plays the prompt; "1" accepts).</summary>
[EventType("V1.CallbackOffered")]
public sealed record CallbackOffered(string CallId, double ExpectedWaitSeconds, DateTimeOffset At) : ICallRecord;

/// <summary>The caller accepted: the call is a virtual queue entry at its place; its turn makes an outbound callback offer.</summary>
[EventType("V1.CallbackAccepted")]
public sealed record CallbackAccepted(string CallId, string Number, DateTimeOffset At) : ICallRecord;

/// <summary>The agent left 话后处理 (wrap-up) after this call: <see cref="WrapUpSeconds"/> from the call's end.</summary>
[EventType("V1.CallWrappedUp")]
public sealed record CallWrappedUp(string CallId, string AgentId, double WrapUpSeconds, DateTimeOffset At) : ICallRecord;

/// <summary>The call landed on the 漏接回拨 list: reason 放弃 (hung up waiting) or 漏接 (hung up while ringing at <see cref="AgentId"/>).</summary>
[EventType("V1.MissedCallListed")]
public sealed record MissedCallListed(string CallId, string Caller, string Reason, string? AgentId, DateTimeOffset At) : ICallRecord;

[EventType("V1.MissedCallClaimed")]
public sealed record MissedCallClaimed(string CallId, string AgentId, DateTimeOffset At) : ICallRecord;

/// <summary>A callback attempt on a 漏接回拨 entry: <see cref="Done"/> closes the entry, otherwise it is open again.</summary>
[EventType("V1.MissedCallbackRecorded")]
public sealed record MissedCallbackRecorded(string CallId, string AgentId, string Result, bool Done, DateTimeOffset At) : ICallRecord;

/// <summary>Recorded on every change of an agent's live state ("agent-{id}" stream). Also folded by <see cref="CallStats"/> (every node
/// sees every node's changes), so a Redis restart can put agents back in their last recorded state.</summary>
[EventType("V1.AgentStateChanged")]
public sealed record AgentStateChanged(string AgentId, string Status, string? Reason, string? CallId, DateTimeOffset At) : ICallRecord
{
    string ICallRecord.CallId => CallId ?? string.Empty;
}

public static class CallRecordTypes
{
    public static IReadOnlyList<Type> All { get; } =
    [
        typeof(CallQueued), typeof(CallOfferedToAgent), typeof(CallOfferDeclined), typeof(CallConnected),
        typeof(CallTransferredOut), typeof(CallDigitsReceived), typeof(CallFinished), typeof(CallAbandonedInQueue), typeof(CallPriorityRaised), typeof(AgentStateChanged),
        typeof(CallbackOffered), typeof(CallbackAccepted), typeof(CallWrappedUp), typeof(MissedCallListed), typeof(MissedCallClaimed),
        typeof(MissedCallbackRecorded),
    ];
}
