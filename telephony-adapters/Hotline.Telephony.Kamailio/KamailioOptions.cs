namespace Hotline.Telephony.Kamailio;

/// <summary>Where Kamailio is and how agents are reached. Binds from "Hotline:Kamailio".</summary>
public sealed class KamailioOptions
{
    /// <summary>Kamailio's evapi listener (modparam("evapi", "bind_addr")).</summary>
    public string EvapiHost { get; set; } = "127.0.0.1";

    public int EvapiPort { get; set; } = 8448;

    /// <summary>Kamailio's JSON-RPC over HTTP (xhttp + jsonrpcs), e.g. http://127.0.0.1:5071/RPC.</summary>
    public Uri JsonRpcUrl { get; set; } = new("http://127.0.0.1:5071/RPC");

    /// <summary>
    /// The agent's SIP URI when <see cref="AgentUris"/> has no entry for the agent. <c>{agentId}</c> is replaced;
    /// null means "use the endpoint the ACD passed".
    /// </summary>
    public string? AgentUriTemplate { get; set; }

    /// <summary>Per-agent SIP URIs (agent id → sip:…), for phones that are not named after the agent.</summary>
    public Dictionary<string, string> AgentUris { get; set; } = new(StringComparer.Ordinal);

    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(5);

    public TimeSpan ReconnectInitialDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>After a forced release, how long to keep asking dlg.list before declaring the dialog gone ourselves.</summary>
    public TimeSpan ReleaseReconcileWindow { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>After a reconnect, a call missing from dlg.list is closed only if it is still missing (and its end has not arrived)
    /// this long after.</summary>
    public TimeSpan ReconcileConfirmDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>After a hotline transfer, how long to wait for Kamailio's "ended" before ending the dialog through dlg.terminate_dlg.</summary>
    public TimeSpan TransferEndWindow { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The SIP URI a transfer target (110, 120, another hotline) is referred to; <c>{target}</c> is replaced.</summary>
    public string TransferUriTemplate { get; set; } = "sip:{target}@transfer.hotline";

    public string Source { get; set; } = "kamailio";

    /// <summary>The SIP URI to ring for <paramref name="agentId"/>.</summary>
    public string AgentUri(string agentId, string endpoint) =>
        AgentUris.TryGetValue(agentId, out var uri) ? uri
        : AgentUriTemplate is { } template ? template.Replace("{agentId}", agentId, StringComparison.Ordinal)
        : endpoint;
}
