using System.Globalization;

namespace Hotline.Telephony.FreeSwitch;

/// <summary>A follow-up the adapter must send to FreeSWITCH because of an event (e.g. bridge the answered agent leg).</summary>
public sealed record FreeSwitchFollowUp(string ApiCommand);

/// <summary>
/// Turns FreeSWITCH events into <see cref="CallEvent"/>s. Holds the little state the mapping needs (which channels
/// are agent legs this adapter originated, which calls were released by the system), so it must see every event of
/// one FreeSWITCH in order. Thread-safe.
/// <para>Channel variables this adapter and the hotline dialplan set (see the README): <c>hotline_call_id</c>,
/// <c>hotline_agent_id</c>, <c>hotline_agent_endpoint</c> on agent legs; <c>hotline_skill</c>, <c>hotline_ivr_path</c>,
/// <c>hotline_elderly</c>, <c>hotline_vip</c>, <c>hotline_trunk</c> on the caller leg.</para>
/// </summary>
public sealed class FreeSwitchEventMapper
{
    public const string SourceName = "freeswitch";

    private sealed class AgentLeg(string callId, string agentId)
    {
        public string CallId { get; } = callId;
        public string AgentId { get; } = agentId;
        public bool Answered { get; set; }
    }

    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private readonly Dictionary<string, AgentLeg> _agentLegs = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, (string CallId, string AgentId)> _jobs = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _offered = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _answered = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _releasedBySystem = new(StringComparer.OrdinalIgnoreCase);

    public FreeSwitchEventMapper(TimeProvider? time = null) => _time = time ?? TimeProvider.System;

    /// <summary>Remember an originate job so its failure (<c>-ERR USER_BUSY</c>) becomes <see cref="CallFailed"/>.</summary>
    public void ExpectJob(string jobUuid, string callId, string agentId)
    {
        lock (_lock) { _jobs[jobUuid] = (callId, agentId); }
    }

    public void ForgetJob(string jobUuid)
    {
        lock (_lock) { _jobs.Remove(jobUuid); }
    }

    public void ReleasedBySystem(string callId)
    {
        lock (_lock) { _releasedBySystem.Add(callId); }
    }

    public (CallEvent? Event, FreeSwitchFollowUp? FollowUp) Map(EslEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        lock (_lock)
        {
            return e.Name switch
            {
                "CHANNEL_CREATE" => (ChannelCreate(e), null),
                "CHANNEL_ANSWER" => ChannelAnswer(e),
                "CHANNEL_HANGUP_COMPLETE" => (HangupComplete(e), null),
                "DTMF" => (Dtmf(e), null),
                "BACKGROUND_JOB" => (BackgroundJob(e), null),
                "CUSTOM" when e["Event-Subclass"] == "callcenter::info" => (Callcenter(e), null),
                _ => (null, null),
            };
        }
    }

    private CallRinging? ChannelCreate(EslEvent e)
    {
        var uuid = e["Unique-ID"];
        var callId = e["variable_hotline_call_id"];
        var agentId = e["variable_hotline_agent_id"];
        if (uuid is null || callId is null || agentId is null)
        {
            return null; // a caller leg: it becomes a call when it enters the queue (member-queue-start)
        }
        _agentLegs[uuid] = new AgentLeg(callId, agentId);
        return new CallRinging(Id(e), callId, At(e), SourceName, agentId,
            e["variable_hotline_agent_endpoint"] ?? e["Caller-Destination-Number"]);
    }

    private (CallEvent?, FreeSwitchFollowUp?) ChannelAnswer(EslEvent e)
    {
        var uuid = e["Unique-ID"];
        if (uuid is null || !_agentLegs.TryGetValue(uuid, out var leg))
        {
            return (null, null); // the caller leg is answered by the IVR; that is not an agent answer
        }
        leg.Answered = true;
        _answered.Add(leg.CallId);
        return (new CallAnswered(Id(e), leg.CallId, At(e), SourceName, leg.AgentId),
            new FreeSwitchFollowUp($"uuid_bridge {leg.CallId} {uuid}"));
    }

    private CallEnded? HangupComplete(EslEvent e)
    {
        var uuid = e["Unique-ID"];
        if (uuid is null)
        {
            return null;
        }
        if (_agentLegs.Remove(uuid))
        {
            // An agent leg that never answered is reported by its originate job (BACKGROUND_JOB -ERR ...);
            // an answered one is followed by the caller leg's hangup.
            return null;
        }
        var wasOffered = _offered.Remove(uuid) || e["variable_cc_queue"] is not null;
        var wasAnswered = _answered.Remove(uuid);
        var bySystem = _releasedBySystem.Remove(uuid);
        if (!wasOffered)
        {
            return null; // hung up in the IVR before asking for an agent: not a call for the ACD
        }
        var disposition = e["variable_sip_hangup_disposition"];
        var endedBy = disposition is "recv_bye" or "recv_cancel" or "recv_refuse" ? CallEndedBy.Caller
            : bySystem ? CallEndedBy.System
            : wasAnswered ? CallEndedBy.Agent
            : CallEndedBy.System;
        return new CallEnded(Id(e), uuid, At(e), SourceName, endedBy, e["Hangup-Cause"]);
    }

    private DtmfReceived? Dtmf(EslEvent e)
    {
        var callId = e["variable_hotline_call_id"] ?? e["Unique-ID"];
        var digit = e["DTMF-Digit"];
        return callId is null || digit is null ? null : new DtmfReceived(Id(e), callId, At(e), SourceName, digit);
    }

    private CallFailed? BackgroundJob(EslEvent e)
    {
        var job = e["Job-UUID"];
        if (job is null || !_jobs.Remove(job, out var target))
        {
            return null;
        }
        var result = e.Body.Trim();
        if (!result.StartsWith("-ERR", StringComparison.Ordinal))
        {
            return null; // +OK <agent leg uuid>: the answer arrives as CHANNEL_ANSWER
        }
        var cause = result["-ERR".Length..].Trim();
        return new CallFailed(Id(e), target.CallId, At(e), SourceName, target.AgentId, cause.Length == 0 ? "UNKNOWN" : cause);
    }

    private CallEvent? Callcenter(EslEvent e)
    {
        var callId = e["CC-Member-Session-UUID"] ?? e["Unique-ID"];
        if (callId is null)
        {
            return null;
        }
        var agent = e["CC-Agent"];
        switch (e["CC-Action"])
        {
            case "member-queue-start":
                _offered.Add(callId);
                var queue = e["CC-Queue"];
                return new CallOffered(Id(e), callId, At(e), SourceName,
                    CallerNumber: e["CC-Member-CID-Number"] ?? e["Caller-Caller-ID-Number"] ?? "",
                    DialledNumber: e["Caller-Destination-Number"] ?? e["variable_destination_number"] ?? "",
                    Trunk: e["variable_hotline_trunk"] ?? e["variable_sip_gateway_name"],
                    IvrPath: e["variable_hotline_ivr_path"],
                    RequestedSkill: e["variable_hotline_skill"] ?? queue?.Split('@')[0],
                    Elderly: IsTrue(e["variable_hotline_elderly"]),
                    Vip: IsTrue(e["variable_hotline_vip"]),
                    CallerName: e["CC-Member-CID-Name"] ?? e["Caller-Caller-ID-Name"]);
            case "agent-offering" when agent is not null:
                return new CallRinging(Id(e), callId, At(e), SourceName, agent, e["CC-Agent-Contact"]);
            case "bridge-agent-start" when agent is not null:
                _answered.Add(callId);
                return new CallAnswered(Id(e), callId, At(e), SourceName, agent);
            case "bridge-agent-fail":
                return new CallFailed(Id(e), callId, At(e), SourceName, agent, e["CC-Hangup-Cause"] ?? "UNKNOWN");
            case "member-queue-end" when e["CC-Cause"] == "Cancel" && !_answered.Contains(callId):
                // Cancel also fires when this adapter pulls an answered caller out of the queue to bridge it.
                return new CallAbandoned(Id(e), callId, At(e), SourceName, e["CC-Queue"], e["CC-Cancel-Reason"]);
            default:
                return null;
        }
    }

    private static bool IsTrue(string? v) => v is "true" or "1" or "yes";

    /// <summary>Event-Sequence is unique per FreeSWITCH core and identical on re-delivery.</summary>
    private static string Id(EslEvent e) =>
        e["Core-UUID"] is { } core && e["Event-Sequence"] is { } seq ? $"{core}:{seq}" : e["Event-UUID"] ?? Guid.NewGuid().ToString("N");

    private DateTimeOffset At(EslEvent e) =>
        long.TryParse(e["Event-Date-Timestamp"], NumberStyles.None, CultureInfo.InvariantCulture, out var micros)
            ? DateTimeOffset.UnixEpoch.AddTicks(micros * 10)
            : _time.GetUtcNow();
}
