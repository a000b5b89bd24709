namespace Hotline.Telephony;

// Every fact a telephony platform reports about a call, normalised. One file, one hierarchy.
// EventId is the platform's own identity of the fact (stable across re-delivery), so the
// server and CallEventNormalizer can drop duplicates. Source is the adapter name
// ("freeswitch", "webhook", "simulator", later "kamailio").

/// <summary>Who put the phone down.</summary>
public enum CallEndedBy
{
    Unknown = 0,
    Caller = 1,
    Agent = 2,
    System = 3,
}

/// <summary>A fact about one call, reported by a telephony adapter.</summary>
public abstract record CallEvent(string EventId, string CallId, DateTimeOffset OccurredAt, string Source);

/// <summary>A call has passed the IVR and asks for an agent (it is now queued by the ACD).</summary>
public sealed record CallOffered(
    string EventId, string CallId, DateTimeOffset OccurredAt, string Source,
    string CallerNumber,
    string DialledNumber,
    string? Trunk = null,
    string? IvrPath = null,
    string? RequestedSkill = null,
    bool Elderly = false,
    bool Vip = false,
    string? CallerName = null) : CallEvent(EventId, CallId, OccurredAt, Source);

/// <summary>The agent's phone (endpoint) is ringing for this call.</summary>
public sealed record CallRinging(
    string EventId, string CallId, DateTimeOffset OccurredAt, string Source,
    string AgentId,
    string? AgentEndpoint = null) : CallEvent(EventId, CallId, OccurredAt, Source);

/// <summary>The agent is talking to the caller.</summary>
public sealed record CallAnswered(
    string EventId, string CallId, DateTimeOffset OccurredAt, string Source,
    string AgentId) : CallEvent(EventId, CallId, OccurredAt, Source);

public sealed record CallHeld(string EventId, string CallId, DateTimeOffset OccurredAt, string Source)
    : CallEvent(EventId, CallId, OccurredAt, Source);

public sealed record CallResumed(string EventId, string CallId, DateTimeOffset OccurredAt, string Source)
    : CallEvent(EventId, CallId, OccurredAt, Source);

/// <summary>The call left the hotline for another number (110/119/120/122, another hotline, a unit).</summary>
public sealed record CallTransferred(
    string EventId, string CallId, DateTimeOffset OccurredAt, string Source,
    string Target,
    string? Reason = null,
    string? AgentId = null) : CallEvent(EventId, CallId, OccurredAt, Source);

/// <summary>The call is over. Terminal: later events of the call are ignored.</summary>
public sealed record CallEnded(
    string EventId, string CallId, DateTimeOffset OccurredAt, string Source,
    CallEndedBy EndedBy,
    string? Cause = null) : CallEvent(EventId, CallId, OccurredAt, Source);

/// <summary>The caller hung up while still waiting in the queue. Terminal like <see cref="CallEnded"/>.</summary>
public sealed record CallAbandoned(
    string EventId, string CallId, DateTimeOffset OccurredAt, string Source,
    string? Queue = null,
    string? Reason = null) : CallEvent(EventId, CallId, OccurredAt, Source);

/// <summary>Offering the call to an agent failed (busy, no answer, not registered); the ACD tries the next agent.</summary>
public sealed record CallFailed(
    string EventId, string CallId, DateTimeOffset OccurredAt, string Source,
    string? AgentId,
    string Cause) : CallEvent(EventId, CallId, OccurredAt, Source);

/// <summary>Keys pressed during the call (SIP INFO, RFC 2833 via ESL, or a PBX callback).</summary>
public sealed record DtmfReceived(
    string EventId, string CallId, DateTimeOffset OccurredAt, string Source,
    string Digits) : CallEvent(EventId, CallId, OccurredAt, Source);
