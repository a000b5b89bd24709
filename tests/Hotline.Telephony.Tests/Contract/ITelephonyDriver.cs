using Hotline.Telephony.Tests.Support;

namespace Hotline.Telephony.Tests.Contract;

/// <summary>
/// Plays "the world" (callers, agents' phones, the platform) for one adapter, in that platform's native form:
/// ESL frames for FreeSWITCH, signed HTTP for the webhook, simulator controls for the simulator.
/// The adapter under test is wired to <see cref="Sink"/> through a CallEventNormalizer, as in production.
/// </summary>
public interface ITelephonyDriver : IAsyncDisposable
{
    ITelephonyControl Control { get; }

    RecordingSink Sink { get; }

    /// <summary>A caller passes the IVR and queues for <paramref name="skill"/>. A caller who will abandon has little patience.</summary>
    Task CallArrivesAsync(string callId, string callerNumber, string skill, bool willAbandon = false);

    /// <summary>From now on the platform reports this agent's phone as busy when a call is routed to it.</summary>
    void AgentIsBusy(string agentId);

    /// <summary>The agent takes the call (phone off-hook, or console accept, whatever the platform needs).</summary>
    Task AgentAnswersAsync(string callId, string agentId);

    /// <summary>The caller hangs up during the conversation.</summary>
    Task CallerHangsUpAsync(string callId);

    /// <summary>The caller presses <paramref name="digits"/> during the call; a platform that can deliver a fact twice does so.</summary>
    Task CallerPressesAsync(string callId, string digits);

    /// <summary>The caller gives up while queued.</summary>
    Task CallerAbandonsAsync(string callId);

    /// <summary>The platform delivers its last event about the call again (retry, reconnect, double click).</summary>
    Task RedeliverLastAsync(string callId, string agentId);

    /// <summary>The call ends while the agent's phone is ringing, and the agent's answer arrives after the end.</summary>
    Task EndThenLateAnswerAsync(string callId, string agentId);
}
