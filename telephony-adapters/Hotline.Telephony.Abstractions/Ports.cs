namespace Hotline.Telephony;

/// <summary>Implemented by the server: receives every call event from the adapters.</summary>
public interface ICallEventSink
{
    Task PublishAsync(CallEvent e, CancellationToken ct);
}

/// <summary>Implemented by each adapter: what the server (the ACD, the console) asks the platform to do.</summary>
public interface ITelephonyControl
{
    /// <summary>Offer a queued call to an agent's endpoint (SIP URI, extension, WebRTC id). The outcome comes back as
    /// <see cref="CallRinging"/> / <see cref="CallAnswered"/> or <see cref="CallFailed"/>.</summary>
    Task RouteToAgentAsync(string callId, string agentId, string agentEndpoint, CancellationToken ct);

    /// <summary>The agent pressed "accept" in the web console. Platforms where the phone answer is the accept ignore it.</summary>
    Task AgentAcceptedAsync(string callId, string agentId, CancellationToken ct);

    /// <summary>Blind transfer out (110/119/120/122, another hotline). Produces <see cref="CallTransferred"/>.</summary>
    Task TransferAsync(string callId, string target, string reason, CancellationToken ct);

    /// <summary>Hang the call up from the system side.</summary>
    Task ReleaseAsync(string callId, string reason, CancellationToken ct);
}

/// <summary>The platform refused or could not carry out a command.</summary>
public class TelephonyCommandException : Exception
{
    public TelephonyCommandException() { }
    public TelephonyCommandException(string message) : base(message) { }
    public TelephonyCommandException(string message, Exception inner) : base(message, inner) { }
}
