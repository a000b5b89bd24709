using Hotline.Calls;
using Hotline.EventStore;
using Hotline.Server.Auth;
using Hotline.Server.Hosting;
using Hotline.Server.Storage;
using Hotline.Server.Tickets;
using Hotline.Telephony;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;

namespace Hotline.Server.Calls;

/// <summary>
/// Ties the telephony adapters, the live queue (ACD) and the agents' consoles together. Telephony events come in
/// through <see cref="ICallEventSink"/>; agents act through the hub; the ACD loop calls <see cref="TickAsync"/>.
/// Every step is recorded in the call's stream before anyone is told about it.
/// </summary>
public sealed class CallCenter(
    ICallQueue queue,
    ITelephonyControl telephony,
    IEventStore store,
    EventSerializer serializer,
    ConsolePushes pushes,
    TicketIndex tickets,
    CallStats stats,
    UserDirectory users,
    IOptions<HotlineOptions> options,
    IOptions<CallsOptions> callsOptions,
    TimeProvider time,
    ILogger<CallCenter> logger) : ICallEventSink, IDisposable
{
    public const string DefaultSkill = "普通话";

    private readonly SemaphoreSlim _wake = new(0, int.MaxValue);

    // Calls being transferred out (call id → target): their end, whichever path reports it first, is "Transferred".
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _transferred = new();

    // Agents this node put in wrap-up, and when (for the wrap-up maximum).
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, DateTimeOffset> _wrapUps = new();

    // Redis restart recovery (null for the in-process queue, which cannot lose its data).
    private readonly ICallQueueRecovery? _recovery = queue as ICallQueueRecovery;
    private long _nextAliveCheckTicks;

    // The overflow rules come from configuration; the queue applies them in its dispatch script.
    private readonly bool _overflowApplied = ApplyOverflow(queue, callsOptions.Value);

    private static bool ApplyOverflow(ICallQueue queue, CallsOptions options)
    {
        queue.UseOverflow([.. options.Overflow
            .Where(o => !string.IsNullOrWhiteSpace(o.Skill) && o.To.Count > 0)
            .Select(o => new OverflowRule(o.Skill, TimeSpan.FromSeconds(Math.Max(0, o.AfterSeconds)), o.To.Where(t => !string.IsNullOrWhiteSpace(t)).ToList()))]);
        return options.Overflow.Count > 0;
    }

    // The "highest level first" groups come from configuration too; the queue orders their ready agents by level, then idle time.
    private readonly bool _levelFirstApplied = ApplyLevelFirst(queue, callsOptions.Value);

    private static bool ApplyLevelFirst(ICallQueue queue, CallsOptions options)
    {
        queue.UseLevelFirst([.. options.LevelFirstSkills.Where(s => !string.IsNullOrWhiteSpace(s)).Select(s => s.Trim()).Distinct(StringComparer.Ordinal)]);
        return options.LevelFirstSkills.Count > 0;
    }

    /// <summary>Whether level-first skill groups are configured (diagnostics).</summary>
    public bool LevelFirstConfigured => _levelFirstApplied;

    /// <summary>Whether overflow rules are configured (diagnostics).</summary>
    public bool OverflowConfigured => _overflowApplied;

    /// <summary>Wakes the ACD loop (a call arrived or an agent became ready).</summary>
    public void Signal()
    {
        if (_wake.CurrentCount == 0) _wake.Release();
    }

    public Task WaitForSignalAsync(TimeSpan timeout, CancellationToken ct) => _wake.WaitAsync(timeout, ct);

    public void Dispose() => _wake.Dispose();

    // ---- telephony events in ----

    public async Task PublishAsync(CallEvent e, CancellationToken ct)
    {
        switch (e)
        {
            case CallOffered o:
                await OfferedAsync(o, ct);
                break;
            case CallAnswered a:
                await ConnectAsync(a.AgentId, a.CallId, fromTelephony: true, ct);
                break;
            case CallEnded end:
                await EndedAsync(end.CallId, end.EndedBy.ToString(), end.Cause, ct);
                break;
            case CallAbandoned ab:
                await AbandonedAsync(ab.CallId, ct);
                break;
            case CallFailed f when f.AgentId is not null:
                if (await queue.RejectAsync(f.AgentId, f.CallId, time.GetUtcNow(), ct))
                {
                    await RecordAsync(f.CallId, new CallOfferDeclined(f.CallId, f.AgentId, "失败:" + f.Cause, time.GetUtcNow()), "declined:" + f.EventId, ct);
                    await PushStateAsync(f.AgentId, ct);
                    await pushes.Agent(f.AgentId).CallEnded(new CallEndedView(f.CallId, "failed"));
                    Signal();
                }
                break;
            case CallTransferred t:
                _transferred[t.CallId] = t.Target;
                // One transfer per call (a blind transfer ends our leg): the same key as an agent's transfer, so it is recorded once.
                await RecordAsync(t.CallId, new CallTransferredOut(t.CallId, t.Target, t.Reason, t.AgentId, t.OccurredAt), "transfer", ct);
                break;
            case DtmfReceived d:
                // Keyed by the platform's event id: a redelivered key press is recorded once.
                await RecordAsync(d.CallId, new CallDigitsReceived(d.CallId, d.Digits, d.Source, d.OccurredAt), "dtmf:" + d.EventId, ct);
                // The caller's answer to the callback offer (the platform's queue prompt: "press 1 to be called back").
                if (d.Digits.Trim() == callsOptions.Value.CallbackAcceptDigit && stats.CallbackWasOffered(d.CallId)) await AcceptCallbackAsync(d.CallId, ct);
                break;
            default:
                break;
        }
    }

    private async Task OfferedAsync(CallOffered o, CancellationToken ct)
    {
        var skill = string.IsNullOrWhiteSpace(o.RequestedSkill) ? DefaultSkill : o.RequestedSkill;
        var repeat = stats.IsRecentCaller(o.CallerNumber, o.OccurredAt, TimeSpan.FromHours(24))
            || tickets.ByCaller(o.CallerNumber).Any(t => t.RegisteredAt > o.OccurredAt.AddHours(-24));
        var priority = (o.Elderly ? 20 : 0) + (repeat ? 10 : 0) + (o.Vip ? 5 : 0);
        var attributes = new Dictionary<string, string>
        {
            ["ivr"] = o.IvrPath ?? "",
            ["elderly"] = o.Elderly ? "1" : "0",
            ["repeat"] = repeat ? "1" : "0",
        };
        // Record first: once the queue holds the call, the record already does too. The callback offer (when the expected wait is
        // long) is decided before the enqueue and written in the same append, so a call's entry is one group-committed write.
        var queued = new CallQueued(o.CallId, o.CallerNumber, o.DialledNumber, skill, priority, o.IvrPath, o.Elderly, repeat, o.Source, o.OccurredAt);
        var callbackOffer = await CallbackOfferIfLongWaitAsync(o.CallId, skill, ct);
        if (callbackOffer is null) await RecordAsync(o.CallId, queued, "queued", ct);
        else await RecordAsync(o.CallId, [(queued, "queued"), (callbackOffer, "callback-offered")], ct);
        await queue.EnqueueAsync(new QueuedCall(o.CallId, o.CallerNumber, o.DialledNumber, skill, priority, o.OccurredAt, attributes), ct);
        Signal();
    }

    // ---- callback offer (virtual queue entry) ----

    /// <summary>
    /// When the expected wait (<see cref="CallStats.ExpectedWaitSeconds"/>) of a call entering its group is over
    /// <see cref="CallsOptions.CallbackOfferWaitSeconds"/>, the offer to record with its <see cref="CallQueued"/>
    /// (<see cref="CallbackOffered"/>); the platform's queue prompt offers it to the caller, whose acceptance comes back as the DTMF
    /// digit <see cref="CallsOptions.CallbackAcceptDigit"/>. Read before the call is enqueued: the group's waiting calls are the
    /// ones ahead of it. Today's handle time comes from figures at most a second old (<see cref="HandleFigures"/>).
    /// </summary>
    private async Task<CallbackOffered?> CallbackOfferIfLongWaitAsync(string callId, string skill, CancellationToken ct)
    {
        var threshold = callsOptions.Value.CallbackOfferWaitSeconds;
        if (threshold <= 0) return null;
        var now = time.GetUtcNow();
        var snapshot = await queue.GetSnapshotAsync(now, ct);
        var group = snapshot.Skills.FirstOrDefault(s => s.Skill == skill);
        var ewt = CallStats.ExpectedWaitSeconds(group?.Waiting ?? 0, group?.ReadyAgents ?? 0, group?.StaffedAgents ?? 0, HandleFigures(now), callsOptions.Value.DefaultHandleSeconds);
        return ewt <= threshold ? null : new CallbackOffered(callId, ewt, now);
    }

    // Today's figures for the expected wait's handle time: folding every call of the day for each call that enters would cost
    // O(calls today) per call; the average talk and wrap-up move slowly, so figures up to a second old serve.
    private sealed record CachedFigures(long At, TodayFigures Figures);

    private volatile CachedFigures? _handleFigures;

    private TodayFigures HandleFigures(DateTimeOffset now)
    {
        if (_handleFigures is { } cached && now.UtcTicks - cached.At is >= 0 and < TimeSpan.TicksPerSecond) return cached.Figures;
        var figures = stats.Today(now);
        _handleFigures = new CachedFigures(now.UtcTicks, figures);
        return figures;
    }

    /// <summary>The caller accepted the callback offer: the call stays at its place as a virtual entry; the caller's hang-up no longer
    /// abandons it, and its turn makes an outbound callback offer to an agent. False when the call is not waiting any more.</summary>
    public async Task<bool> AcceptCallbackAsync(string callId, CancellationToken ct)
    {
        var placement = await GetCallAsync(callId, ct);
        if (placement is null || !await queue.ConvertToCallbackAsync(callId, time.GetUtcNow(), ct)) return false;
        await RecordAsync(callId, new CallbackAccepted(callId, placement.Call.Caller, time.GetUtcNow()), "callback-accepted", ct);
        return true;
    }

    private async Task EndedAsync(string callId, string endedBy, string? cause, CancellationToken ct)
    {
        // The transfer mark stays until this end is over: the hub's transfer and the platform's end of the same call may run at
        // once, and whichever ends it in the queue first pushes the end to the console, so both must read it as transferred.
        var transferred = _transferred.TryGetValue(callId, out var transferredTo);
        if (transferred) (endedBy, cause) = ("Transferred", "transferred to " + transferredTo);
        try
        {
            var placement = await GetCallAsync(callId, ct);
            if (placement is null)
            {
                await RecordLostAbandonAsync(callId, ct);
                return;
            }
            if (placement.Stage != CallStage.Connected)
            {
                await AbandonedAsync(callId, ct);
                return;
            }
            var now = time.GetUtcNow();
            var connectedAt = stats.ConnectedAt(callId) ?? now;
            // Record first, then end it in the queue: a node killed between the two leaves the call connected in the queue with
            // its end recorded, so the retry (the platform's re-delivered hang-up, the agent's hang-up after reconnecting) ends it
            // there too; the other order left a call the queue had ended with no end in its record. A second end of the same
            // call (agent and caller hang up at once) has the same event id: stored once.
            await RecordAsync(callId, new CallFinished(callId, endedBy, cause, placement.AgentId, Math.Max(0, (now - connectedAt).TotalSeconds), now), "finished", ct);
            if (!await queue.EndCallAsync(callId, now, ct)) return;
            if (placement.AgentId is { } agentId)
            {
                _wrapUps[agentId] = now;
                await pushes.Agent(agentId).CallEnded(new CallEndedView(callId, endedBy));
                await PushStateAsync(agentId, ct);
            }
        }
        finally
        {
            if (transferred) _transferred.TryRemove(callId, out _);
        }
    }

    private async Task AbandonedAsync(string callId, CancellationToken ct)
    {
        var placement = await GetCallAsync(callId, ct);
        var now = time.GetUtcNow();
        if (placement is null)
        {
            await RecordLostAbandonAsync(callId, ct);
            return;
        }
        if (!await queue.AbandonAsync(callId, now, ct)) return;
        // The queue put it on the 漏接回拨 list in the same step; the record says so too, in the same append.
        var reason = placement.Stage == CallStage.Reserved ? CallQueueRules.MissedReason : CallQueueRules.AbandonedReason;
        await RecordAsync(callId,
        [
            (new CallAbandonedInQueue(callId, Math.Max(0, (now - placement.Call.EnqueuedAt).TotalSeconds), now), "abandoned"),
            (new MissedCallListed(callId, placement.Call.Caller, reason, placement.AgentId, now), "missed-listed"),
        ], ct);
        await PushMissedChangedAsync(callId, "listed", ct);
        if (placement.AgentId is { } agentId)
        {
            await pushes.Agent(agentId).CallEnded(new CallEndedView(callId, "caller-abandoned"));
            await PushStateAsync(agentId, ct);
            Signal();
        }
    }

    /// <summary>
    /// The re-delivered hang-up of a call the queue no longer holds. When the call's record has its entry and no end, the node that
    /// abandoned it in the queue (which put it on the 漏接回拨 list in the same atomic step) died before recording that: the record
    /// catches up here, with the same event ids, so a node still about to write it stores nothing twice. A call that was never
    /// recorded, or whose end is recorded, is left alone.
    /// </summary>
    private async Task RecordLostAbandonAsync(string callId, CancellationToken ct)
    {
        CallQueued? queued = null;
        await foreach (var e in store.ReadStreamAsync("call-" + callId, 0, ct))
        {
            switch (serializer.Deserialize(e))
            {
                case CallQueued q:
                    queued = q;
                    break;
                case CallFinished or CallAbandonedInQueue:
                    return;
                default:
                    break;
            }
        }
        if (queued is null) return;
        var now = time.GetUtcNow();
        logger.LogWarning("Call {CallId}: not in the queue and its record has no end; recording the abandon a stopped node did not record", callId);
        await RecordAsync(callId,
        [
            (new CallAbandonedInQueue(callId, Math.Max(0, (now - queued.At).TotalSeconds), now), "abandoned"),
            (new MissedCallListed(callId, queued.Caller, CallQueueRules.AbandonedReason, null, now), "missed-listed"),
        ], ct);
        await PushMissedChangedAsync(callId, "listed", ct);
    }

    // ---- agent actions ----

    public async Task<AgentView> GoReadyAsync(string agentId, CancellationToken ct)
    {
        _wrapUps.TryRemove(agentId, out _);
        var skills = SkillsOf(agentId);
        var before = await queue.GetAgentAsync(agentId, ct);
        if (await queue.SetReadyAsync(agentId, skills, time.GetUtcNow(), ct))
        {
            await RecordWrapUpEndAsync(agentId, before, ct);
            Signal();
        }
        return await PushStateAsync(agentId, ct);
    }

    public async Task<AgentView> GoNotReadyAsync(string agentId, string? reason, CancellationToken ct)
    {
        var why = string.IsNullOrWhiteSpace(reason) ? "小休" : reason.Trim();
        if (why.Length > 20 || why.Any(char.IsControl)) throw new HubException("reason: 示忙原因不能超过 20 个字符");
        var before = await queue.GetAgentAsync(agentId, ct);
        if (await queue.SetNotReadyAsync(agentId, why, time.GetUtcNow(), ct)) await RecordWrapUpEndAsync(agentId, before, ct);
        return await PushStateAsync(agentId, ct);
    }

    public async Task LogOutAsync(string agentId, CancellationToken ct)
    {
        var before = await queue.GetAgentAsync(agentId, ct);
        await queue.LogOutAsync(agentId, time.GetUtcNow(), ct);
        await RecordWrapUpEndAsync(agentId, before, ct);
        await PushStateAsync(agentId, ct);
        Signal();
    }

    public Task<bool> AcceptAsync(string agentId, string callId, CancellationToken ct) => ConnectAsync(agentId, callId, fromTelephony: false, ct);

    private async Task<bool> ConnectAsync(string agentId, string callId, bool fromTelephony, CancellationToken ct)
    {
        var placement = await queue.GetCallAsync(callId, ct);
        var now = time.GetUtcNow();
        if (placement is null || !await queue.AcceptAsync(agentId, callId, now, ct)) return false;
        await RecordAsync(callId, new CallConnected(callId, agentId, Math.Max(0, (now - placement.Call.EnqueuedAt).TotalSeconds), now), "connected", ct);
        if (!fromTelephony && !placement.Callback)
        {
            try { await telephony.AgentAcceptedAsync(callId, agentId, ct); }
            catch (TelephonyCommandException e) { logger.LogWarning(e, "Telephony did not take the accept of {CallId}", callId); }
        }
        await pushes.Agent(agentId).CallConnected(new CallConnectedView(callId, placement.Call.Caller));
        await PushStateAsync(agentId, ct);
        return true;
    }

    public async Task<bool> RejectAsync(string agentId, string callId, CancellationToken ct)
    {
        if (!await queue.RejectAsync(agentId, callId, time.GetUtcNow(), ct)) return false;
        await RecordAsync(callId, new CallOfferDeclined(callId, agentId, "拒接", time.GetUtcNow()), $"declined:{agentId}:{Guid.CreateVersion7()}", ct);
        await PushStateAsync(agentId, ct);
        Signal();
        return true;
    }

    public async Task<bool> HangUpAsync(string agentId, string callId, CancellationToken ct)
    {
        var placement = await GetCallAsync(callId, ct);
        if (placement is null || placement.AgentId != agentId || placement.Stage != CallStage.Connected) return false;
        if (!placement.Callback) // an outbound callback is dialled from the agent's own phone: the platform has no leg of it
        {
            try { await telephony.ReleaseAsync(callId, "agent", ct); }
            catch (TelephonyCommandException e) { logger.LogWarning(e, "Telephony did not release {CallId}", callId); }
        }
        await EndedAsync(callId, "Agent", "agent hang-up", ct);
        return true;
    }

    /// <summary>The numbers an agent may transfer to (<see cref="CallsOptions.TransferTargets"/>).</summary>
    public IReadOnlyList<TransferTargetView> TransferTargets() =>
        [.. callsOptions.Value.TransferTargets.Where(t => !string.IsNullOrWhiteSpace(t.Number)).Select(t => new TransferTargetView(t.Number.Trim(), t.Name))];

    /// <summary>
    /// 转接: the agent's own connected call goes to an external number of the configured list (110/119/120/122, another hotline) with a
    /// reason. The platform transfers it (<see cref="ITelephonyControl.TransferAsync"/>); then <see cref="CallTransferredOut"/> is recorded
    /// (the same record the platform's <c>CallTransferred</c> makes: recorded once), the call ends and the agent goes to wrap-up.
    /// False when the call is not this agent's connected call (or is an outbound callback, which has no platform leg); a bad target or
    /// reason, or a platform refusal, is a <see cref="HubException"/> naming the field.
    /// </summary>
    public async Task<bool> TransferAsync(string agentId, string callId, string? target, string? reason, CancellationToken ct)
    {
        var number = target?.Trim() ?? "";
        if (!TransferTargets().Any(t => t.Number == number)) throw new HubException("target: 只能转接到配置的外部号码（" + string.Join("、", TransferTargets().Select(t => t.Number)) + "）");
        var why = reason?.Trim() ?? "";
        if (why.Length is 0 or > 100 || why.Any(char.IsControl)) throw new HubException("reason: 转接原因不能为空、不能超过 100 个字符、不能含控制字符");
        var placement = await GetCallAsync(callId, ct);
        if (placement is null || placement.AgentId != agentId || placement.Stage != CallStage.Connected || placement.Callback) return false;
        _transferred[callId] = number;
        try { await telephony.TransferAsync(callId, number, why, ct); }
        catch (TelephonyCommandException e)
        {
            _transferred.TryRemove(callId, out _);
            logger.LogWarning(e, "Telephony refused the transfer of {CallId} to {Target}", callId, number);
            throw new HubException("target: 话务平台未能转接该通话，请稍后重试或口头告知来电人拨打 " + number);
        }
        await RecordAsync(callId, new CallTransferredOut(callId, number, why, agentId, time.GetUtcNow()), "transfer", ct);
        await EndedAsync(callId, "Transferred", "transferred to " + number, ct);
        return true;
    }

    public async Task<AgentView> ForceStateAsync(string agentId, string status, string? reason, CancellationToken ct)
    {
        return status switch
        {
            "Ready" => await GoReadyAsync(agentId, ct),
            "NotReady" => await GoNotReadyAsync(agentId, reason ?? "班长置忙", ct),
            "LoggedOut" => await LogOutThenViewAsync(agentId, ct),
            _ => throw new HubException("status: 只能强制为 Ready / NotReady / LoggedOut"),
        };
    }

    public async Task<bool> RaisePriorityAsync(string callId, int priority, string by, CancellationToken ct)
    {
        if (priority is < 0 or > CallQueueRules.MaxPriority) throw new HubException($"priority: 优先级须在 0–{CallQueueRules.MaxPriority} 之间");
        var placement = await queue.GetCallAsync(callId, ct);
        if (placement is null || priority <= placement.Call.Priority) return false;
        var now = time.GetUtcNow();
        // Recorded first (the record may then hold a raise the queue refused because the call was just answered: harmless).
        await RecordAsync(callId, new CallPriorityRaised(callId, priority, by, now), $"priority:{priority}", ct);
        if (!await queue.SetPriorityAsync(callId, priority, ct)) return false;
        Signal();
        return true;
    }

    private async Task<AgentView> LogOutThenViewAsync(string agentId, CancellationToken ct)
    {
        await LogOutAsync(agentId, ct);
        return await GetViewAsync(agentId, ct);
    }

    /// <summary>
    /// The agent's live state as the console shows it, with the pending offer (Reserved) or the connected call (OnCall), so a console
    /// that (re)connects — after a network drop, a server restart or a Redis restart — shows the same call card again.
    /// </summary>
    public async Task<AgentView> GetViewAsync(string agentId, CancellationToken ct)
    {
        var state = await queue.GetAgentAsync(agentId, ct);
        if (state is null && await EnsureLiveStateAsync(force: true, ct)) state = await queue.GetAgentAsync(agentId, ct);
        return await ViewOfAsync(agentId, state, ct);
    }

    private async Task<AgentView> ViewOfAsync(string agentId, AgentState? state, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        if (state is null) return new AgentView(agentId, nameof(AgentStatus.LoggedOut), null, now, null);
        var view = new AgentView(agentId, state.Status.ToString(), state.Reason, state.Since, state.CallId);
        if (state.CallId is null || state.Status is not (AgentStatus.Reserved or AgentStatus.OnCall)) return view;
        var placement = await queue.GetCallAsync(state.CallId, ct);
        if (placement is null || placement.AgentId != agentId) return view;
        if (state.Status == AgentStatus.Reserved)
        {
            // The offer's expiry is not kept with the call: the reservation started at Since and lasts the configured timeout.
            var offer = new Offer(placement.Call.CallId, agentId, placement.Call.Skill, state.Since, state.Since.AddSeconds(options.Value.ReservationTimeoutSeconds), placement.Call)
            {
                Callback = placement.Callback,
            };
            return view with { Offer = ViewOf(offer, now) };
        }
        return view with { Call = new ActiveCallView(placement.Call.CallId, placement.Call.Caller, stats.ConnectedAt(placement.Call.CallId) ?? state.Since, placement.Callback) };
    }

    // ---- the ACD loop ----

    /// <summary>One round of the ACD: expire unanswered offers, then match waiting calls with ready agents.</summary>
    public async Task<int> TickAsync(CancellationToken ct)
    {
        await EnsureLiveStateAsync(force: false, ct);
        var now = time.GetUtcNow();
        await EndLongWrapUpsAsync(now, ct);
        foreach (var expired in await queue.ExpireReservationsAsync(now, ct))
        {
            await RecordAsync(expired.CallId, new CallOfferDeclined(expired.CallId, expired.AgentId, "未接听", now), $"expired:{expired.AgentId}:{expired.OfferedAt.ToUnixTimeMilliseconds()}", ct);
            await pushes.Agent(expired.AgentId).CallEnded(new CallEndedView(expired.CallId, "offer-timeout"));
            await PushStateAsync(expired.AgentId, ct);
        }

        var offers = await queue.DispatchAsync(now, TimeSpan.FromSeconds(options.Value.ReservationTimeoutSeconds), 100, ct);
        foreach (var offer in offers)
        {
            await RecordAsync(offer.CallId, new CallOfferedToAgent(offer.CallId, offer.AgentId, offer.ExpiresAt, offer.OfferedAt), $"offered:{offer.AgentId}:{offer.OfferedAt.ToUnixTimeMilliseconds()}", ct);
            if (!offer.Callback) // a callback has no caller leg to route: the agent dials out
            {
                try { await telephony.RouteToAgentAsync(offer.CallId, offer.AgentId, $"sip:{offer.AgentId}@agents.hotline", ct); }
                catch (TelephonyCommandException e) { logger.LogWarning(e, "Telephony could not route {CallId} to {AgentId}", offer.CallId, offer.AgentId); }
            }
            await pushes.Agent(offer.AgentId).CallOffered(ViewOf(offer, now));
            await PushStateAsync(offer.AgentId, ct);
        }
        return offers.Count;
    }

    // ---- Redis restart recovery ----

    /// <summary>
    /// Checks that the live queue still holds its data (the queue's alive marker; at most once a second unless
    /// <paramref name="force"/>d). When Redis restarted empty, one node (the winner of a short lock) puts the live calls of the
    /// last 24 h back from the call records — waiting ones at their original place, connected ones with their agent on
    /// call — and every agent console is told to resync; a node that lost the lock waits briefly for the winner.
    /// Returns true when the state was found missing (so the caller may read again).
    /// </summary>
    public async Task<bool> EnsureLiveStateAsync(bool force, CancellationToken ct)
    {
        if (_recovery is null) return false;
        var now = time.GetUtcNow();
        var next = Interlocked.Read(ref _nextAliveCheckTicks);
        if (!force && now.UtcTicks < next) return false;
        Interlocked.Exchange(ref _nextAliveCheckTicks, now.AddSeconds(1).UtcTicks);
        if (await _recovery.IsAliveAsync(ct)) return false;
        if (!await _recovery.TryBeginRestoreAsync(ct))
        {
            // Another node is restoring (or just finished): give it a moment.
            for (var i = 0; i < 30 && !await _recovery.IsAliveAsync(ct); i++) await Task.Delay(100, ct);
            return true;
        }

        var calls = stats.LiveCalls(now.AddHours(-24)).Select(l => new RestoredCall(
            new QueuedCall(l.Queued.CallId, l.Queued.Caller, l.Queued.DialledNumber, l.Queued.Skill, l.Priority, l.Queued.At, new Dictionary<string, string>
            {
                ["ivr"] = l.Queued.IvrPath ?? "",
                ["elderly"] = l.Queued.Elderly ? "1" : "0",
                ["repeat"] = l.Queued.Repeat ? "1" : "0",
                ["callback"] = l.Callback ? "1" : "0", // a virtual callback entry stays one
            }),
            l.AgentId,
            l.ConnectedAt,
            l.AgentId is null ? [] : SkillsOf(l.AgentId).Select(x => x.Skill).ToList())).ToList();
        var agents = RestoredAgents(calls);
        var missed = stats.OpenMissed();
        var restored = await _recovery.RestoreAsync(calls, agents, missed, ct);
        logger.LogWarning("The live queue had lost its data (Redis restart); restored {Restored} of {Live} live calls and {Missed} open 漏接回拨 entries from the call records", restored, calls.Count, missed.Count);
        var resync = new ResyncView("queue-restored", now);
        foreach (var user in users.All.Where(u => u.Roles.Contains(Roles.Agent))) await pushes.Agent(user.Id).Resync(resync);
        Signal();
        return true;
    }

    /// <summary>
    /// The agents not on a restored call, in their last recorded state: Ready (idle since then), NotReady (with its reason), WrapUp and
    /// LoggedOut as recorded; Reserved (the offer is lost, the call is queued again) comes back Ready; OnCall whose call is no longer
    /// live comes back WrapUp.
    /// </summary>
    private List<RestoredAgent> RestoredAgents(IReadOnlyList<RestoredCall> calls)
    {
        var onCall = calls.Where(c => c.AgentId is not null).Select(c => c.AgentId!).ToHashSet(StringComparer.Ordinal);
        var agents = new List<RestoredAgent>();
        foreach (var a in stats.AgentStates())
        {
            if (onCall.Contains(a.AgentId) || !Enum.TryParse<AgentStatus>(a.Status, out var status)) continue;
            status = status switch
            {
                AgentStatus.Reserved => AgentStatus.Ready,
                AgentStatus.OnCall => AgentStatus.WrapUp,
                _ => status,
            };
            agents.Add(new RestoredAgent(a.AgentId, status, status == AgentStatus.NotReady ? a.Reason : null, a.At, SkillsOf(a.AgentId)));
        }
        return agents;
    }

    private async Task<CallPlacement?> GetCallAsync(string callId, CancellationToken ct) =>
        await queue.GetCallAsync(callId, ct) ?? (await EnsureLiveStateAsync(force: true, ct) ? await queue.GetCallAsync(callId, ct) : null);

    private List<AgentSkill> SkillsOf(string agentId)
    {
        var user = users.Find(agentId);
        return (user?.Skills is { Count: > 0 } s ? s : [DefaultSkill]).Select(ParseSkill).ToList();
    }

    /// <summary>
    /// A configured user skill: <c>"企业专线:3"</c> is the group 企业专线 at level 3, a bare <c>"普通话"</c> is level 1. A level outside
    /// 1–9 is clamped into it; a suffix that is not a number is part of the name.
    /// </summary>
    public static AgentSkill ParseSkill(string configured)
    {
        var colon = configured.LastIndexOf(':');
        if (colon > 0 && int.TryParse(configured.AsSpan(colon + 1), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var level))
        {
            return new AgentSkill(configured[..colon].Trim(), Math.Clamp(level, CallQueueRules.MinLevel, CallQueueRules.MaxLevel));
        }

        return new AgentSkill(configured.Trim());
    }

    /// <summary>The wrap-up maximum: an agent still in wrap-up <see cref="CallsOptions.WrapUpMaxSeconds"/> after its call ended is made ready.</summary>
    private async Task EndLongWrapUpsAsync(DateTimeOffset now, CancellationToken ct)
    {
        var max = callsOptions.Value.WrapUpMaxSeconds;
        if (max <= 0 || _wrapUps.IsEmpty) return;
        foreach (var (agentId, since) in _wrapUps)
        {
            if (now - since < TimeSpan.FromSeconds(max)) continue;
            _wrapUps.TryRemove(agentId, out _);
            var state = await queue.GetAgentAsync(agentId, ct);
            if (state is { Status: AgentStatus.WrapUp } && state.Since <= since.AddSeconds(1)) await GoReadyAsync(agentId, ct);
        }
    }

    private OfferView ViewOf(Offer offer, DateTimeOffset now)
    {
        var caller = offer.Call.Caller;
        var previous = tickets.ByCaller(caller).OrderByDescending(t => t.RegisteredAt).ToList();
        var attrs = offer.Call.Attributes ?? new Dictionary<string, string>();
        var pop = new ScreenPop(
            previous.Take(5).Select(t => new PreviousTicket(t.Id, t.Number, t.Type, Domain.Tickets.TicketStateNames.Of(t.State), t.RegisteredAt, t.Content.Length > 40 ? t.Content[..40] + "…" : t.Content)).ToList(),
            previous.Count(t => t.RegisteredAt > now.AddDays(-30)) + stats.CallsFrom(caller, now.AddDays(-30)),
            attrs.GetValueOrDefault("repeat") == "1",
            attrs.GetValueOrDefault("elderly") == "1",
            attrs.GetValueOrDefault("ivr"));
        return new OfferView(offer.CallId, caller, offer.Call.DialledNumber, offer.Skill, offer.ExpiresAt, pop)
        {
            Callback = offer.Callback,
            OverflowFrom = offer.Skill == offer.Call.Skill ? null : offer.Call.Skill,
        };
    }

    // ---- wallboard ----

    public async Task<WallboardView> WallboardAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var snapshot = await queue.GetSnapshotAsync(now, ct);
        var rows = new List<AgentRow>();
        foreach (var user in users.All.Where(u => u.Roles.Contains(Roles.Agent)))
        {
            var a = await queue.GetAgentAsync(user.Id, ct);
            rows.Add(new AgentRow(user.Id, user.DisplayName, (a?.Status ?? AgentStatus.LoggedOut).ToString(), a?.Reason, a?.Since ?? now));
        }
        return new WallboardView(
            now,
            snapshot.Skills.Select(s => new SkillFigures(s.Skill, s.Waiting, s.LongestWait.TotalSeconds, s.ReadyAgents)).ToList(),
            snapshot.AgentsByStatus.ToDictionary(kv => kv.Key.ToString(), kv => kv.Value),
            stats.Today(now),
            rows)
        { Last15Minutes = stats.Last15Minutes(now), MissedOpen = snapshot.Missed };
    }

    // ---- helpers ----

    /// <summary>After every change of an agent's live state: records it (<see cref="AgentStateChanged"/>, deterministic id, so a repeat
    /// is a no-op) and pushes it to the agent's consoles.</summary>
    private async Task<AgentView> PushStateAsync(string agentId, CancellationToken ct)
    {
        var state = await queue.GetAgentAsync(agentId, ct);
        if (state is null && await EnsureLiveStateAsync(force: true, ct)) state = await queue.GetAgentAsync(agentId, ct);
        if (state is not null) await RecordAgentAsync(state, ct);
        var view = await ViewOfAsync(agentId, state, ct);
        await pushes.Agent(agentId).AgentState(view);
        return view;
    }

    /// <summary>The agent left 话后处理: the wrap-up time of its last call is recorded (<see cref="CallWrappedUp"/>, for the average).</summary>
    private async Task RecordWrapUpEndAsync(string agentId, AgentState? before, CancellationToken ct)
    {
        if (before is not { Status: AgentStatus.WrapUp } || stats.LastCallOf(agentId) is not { } callId) return;
        var now = time.GetUtcNow();
        await RecordAsync(callId, new CallWrappedUp(callId, agentId, Math.Max(0, Math.Round((now - before.Since).TotalSeconds, 1)), now), "wrapped:" + agentId, ct);
    }

    // ---- 漏接回拨 (missed calls to call back) ----

    public async Task<IReadOnlyList<MissedCallView>> GetMissedAsync(CancellationToken ct) =>
        [.. (await queue.GetMissedAsync(200, ct)).Select(m => new MissedCallView(m.CallId, m.Caller, m.Skill, m.EnqueuedAt, m.MissedAt, m.Reason, m.AgentId, m.ClaimedBy, m.ClaimedAt, m.Attempts, m.LastResult))];

    public async Task<bool> ClaimMissedAsync(string agentId, string callId, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        if (!await queue.ClaimMissedAsync(callId, agentId, now, ct)) return false;
        await RecordAsync(callId, new MissedCallClaimed(callId, agentId, now), $"missed-claimed:{agentId}:{now.ToUnixTimeMilliseconds()}", ct);
        await PushMissedChangedAsync(callId, "claimed", ct);
        return true;
    }

    public async Task<bool> CompleteMissedAsync(string agentId, string callId, string? result, bool done, CancellationToken ct)
    {
        var what = result?.Trim() ?? "";
        if (what.Length is 0 or > 100 || what.Any(char.IsControl)) throw new HubException("result: 回拨结果不能为空、不能超过 100 个字符、不能含控制字符");
        var now = time.GetUtcNow();
        if (!await queue.CompleteMissedAsync(callId, agentId, what, done, now, ct)) return false;
        await RecordAsync(callId, new MissedCallbackRecorded(callId, agentId, what, done, now), $"missed-result:{agentId}:{now.ToUnixTimeMilliseconds()}", ct);
        await PushMissedChangedAsync(callId, done ? "done" : "released", ct);
        return true;
    }

    // 漏接回拨 list changes go to every console: up to 5 at once, then at most one a second (the latest change, with the open
    // count read when it is sent), so a wave of abandoned calls does not become calls × consoles frames (BroadcastLimiter).
    private BroadcastLimiter? _missedPushes;

    private Task PushMissedChangedAsync(string callId, string change, CancellationToken ct)
    {
        var limiter = LazyInitializer.EnsureInitialized(ref _missedPushes, () => new BroadcastLimiter(5, TimeSpan.FromSeconds(1), time, logger));
        return limiter.SendAsync(async token =>
        {
            var open = (await queue.GetSnapshotAsync(time.GetUtcNow(), token)).Missed;
            await pushes.AllAgents().MissedCallsChanged(new MissedCallsChangedView(callId, change, open));
        }, ct);
    }

    private Task RecordAsync(string callId, ICallRecord record, string key, CancellationToken ct) => RecordAsync(callId, [(record, key)], ct);

    /// <summary>
    /// Several records of one call step (entry + callback offer, abandon + 漏接回拨 listing) in one append: one group-committed write,
    /// all or none. Ids are deterministic per key, so a retried step is a no-op; if only some of them were written before (a retry
    /// after a step that wrote fewer records), the store refuses the batch and each is appended on its own, idempotently.
    /// </summary>
    private async Task RecordAsync(string callId, IReadOnlyList<(ICallRecord Record, string Key)> records, CancellationToken ct)
    {
        var at = time.GetUtcNow();
        var data = records.Select(r => serializer.ToEventData(r.Record, DeterministicId.From("call", callId, r.Key), new EventMetadata("acd", null, null, at))).ToList();
        try
        {
            var appended = await store.AppendAsync("call-" + callId, ExpectedRevision.Any, data, ct);
            if (appended.AlreadyStored) return; // a repeat of the step: the records are stored already, maybe with other details
            foreach (var (record, _) in records) stats.Apply(record);
        }
        catch (WrongExpectedVersionException)
        {
            for (var i = 0; i < data.Count; i++)
            {
                var appended = await store.AppendAsync("call-" + callId, ExpectedRevision.Any, [data[i]], ct);
                if (!appended.AlreadyStored) stats.Apply(records[i].Record);
            }
        }
    }

    private async Task RecordAgentAsync(AgentState state, CancellationToken ct)
    {
        var agentId = state.AgentId;
        var e = new AgentStateChanged(agentId, state.Status.ToString(), state.Reason, state.CallId, state.Since);
        var data = serializer.ToEventData(e, DeterministicId.From("agent", agentId, state.Status.ToString(), state.Since.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture)), new EventMetadata(agentId, null, null, time.GetUtcNow()));
        await store.AppendAsync("agent-" + agentId, ExpectedRevision.Any, [data], ct);
        stats.Apply(e);
    }
}

/// <summary>Runs the ACD: a round whenever a call arrives or an agent gets ready, and at least every 250 ms for expiries.</summary>
public sealed class AcdLoop(CallCenter center, ILogger<AcdLoop> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                while (await center.TickAsync(stoppingToken) > 0) { }
                await center.WaitForSignalAsync(TimeSpan.FromMilliseconds(250), stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
            catch (Exception e)
            {
                logger.LogWarning(e, "ACD round failed; retrying");
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }
}

/// <summary>Pushes the wallboard to supervisors every two seconds.</summary>
public sealed class WallboardPublisher(CallCenter center, IHubContext<SupervisorHub, ISupervisorClient> hub, ILogger<WallboardPublisher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(2));
        while (!stoppingToken.IsCancellationRequested)
        {
            try { await timer.WaitForNextTickAsync(stoppingToken); }
            catch (OperationCanceledException) { return; }
            try { await hub.Clients.Group(SupervisorHub.WallboardGroup).Wallboard(await center.WallboardAsync(stoppingToken)); }
            catch (Exception e) when (e is not OperationCanceledException) { logger.LogWarning(e, "Wallboard push failed"); }
        }
    }
}
