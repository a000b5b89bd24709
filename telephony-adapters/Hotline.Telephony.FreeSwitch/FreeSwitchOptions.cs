namespace Hotline.Telephony.FreeSwitch;

public sealed class FreeSwitchOptions
{
    /// <summary>Host of FreeSWITCH's mod_event_socket (event_socket.conf.xml <c>listen-ip</c>).</summary>
    public string Host { get; set; } = "127.0.0.1";

    public int Port { get; set; } = 8021;

    /// <summary>event_socket.conf.xml <c>password</c>. Change the default "ClueCon" in every deployment.</summary>
    public string Password { get; set; } = "ClueCon";

    /// <summary>Events subscribed with <c>event plain ...</c>.</summary>
    public string Events { get; set; } =
        "CHANNEL_CREATE CHANNEL_ANSWER CHANNEL_HANGUP_COMPLETE DTMF BACKGROUND_JOB CUSTOM callcenter::info";

    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long an <c>api</c> command may take before it is failed.</summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>First reconnect delay; doubled after each failed attempt (with ±20 % jitter) up to the maximum.</summary>
    public TimeSpan ReconnectInitialDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Dialplan context where transfers to 110/119/120/122 and other hotlines are routed out.</summary>
    public string TransferContext { get; set; } = "hotline-transfer";

    public string TransferDialplan { get; set; } = "XML";

    /// <summary>Seconds the agent's phone rings before the originate fails with NO_ANSWER.</summary>
    public int OriginateTimeoutSeconds { get; set; } = 20;
}

/// <summary>FreeSWITCH refused the Event Socket password (<c>-ERR invalid</c>). Retrying will not help.</summary>
public sealed class FreeSwitchAuthenticationException : Exception
{
    public FreeSwitchAuthenticationException() { }
    public FreeSwitchAuthenticationException(string message) : base(message) { }
    public FreeSwitchAuthenticationException(string message, Exception inner) : base(message, inner) { }
}

public enum FreeSwitchConnectionState
{
    Disconnected,
    Connecting,
    Connected,
    AuthenticationFailed,
}
