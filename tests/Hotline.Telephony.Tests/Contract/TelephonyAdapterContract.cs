using Hotline.Telephony.Tests.Support;
using Xunit;

namespace Hotline.Telephony.Tests.Contract;

/// <summary>The behaviour every telephony adapter owes the server. Run against each adapter by a subclass.</summary>
public abstract class TelephonyAdapterContract : IAsyncLifetime
{
    private ITelephonyDriver? _driver;

    protected ITelephonyDriver Driver => _driver ?? throw new InvalidOperationException("Driver not started.");

    private RecordingSink Sink => Driver.Sink;

    protected abstract Task<ITelephonyDriver> StartDriverAsync();

    public async Task InitializeAsync() => _driver = await StartDriverAsync();

    public async Task DisposeAsync()
    {
        if (_driver is not null)
        {
            await _driver.DisposeAsync();
        }
    }

    private static CancellationToken Ct => CancellationToken.None;

    /// <summary>Another call's offer, used to know that everything sent before it has been processed.</summary>
    private async Task BarrierAsync()
    {
        var id = "barrier-" + Guid.NewGuid().ToString("N")[..8];
        await Driver.CallArrivesAsync(id, "13900000000", "普通话");
        await Sink.WaitForAsync<CallOffered>(id);
    }

    private async Task<string> AnsweredCallAsync(string agentId = "A1")
    {
        var callId = NewCallId();
        await Driver.CallArrivesAsync(callId, "13812345678", "普通话");
        await Sink.WaitForAsync<CallOffered>(callId);
        await Driver.Control.RouteToAgentAsync(callId, agentId, "user/1001", Ct);
        await Sink.WaitForAsync<CallRinging>(callId, r => r.AgentId == agentId);
        await Driver.AgentAnswersAsync(callId, agentId);
        await Sink.WaitForAsync<CallAnswered>(callId, a => a.AgentId == agentId);
        return callId;
    }

    private static string NewCallId() => Guid.NewGuid().ToString();

    [Fact]
    public async Task Offered_routed_answered_ended()
    {
        var callId = NewCallId();
        await Driver.CallArrivesAsync(callId, "13812345678", "普通话");
        var offered = await Sink.WaitForAsync<CallOffered>(callId);
        Assert.Equal("13812345678", offered.CallerNumber);
        Assert.Equal("普通话", offered.RequestedSkill);
        Assert.False(string.IsNullOrEmpty(offered.EventId));
        Assert.False(string.IsNullOrEmpty(offered.Source));

        await Driver.Control.RouteToAgentAsync(callId, "A1", "user/1001", Ct);
        await Sink.WaitForAsync<CallRinging>(callId, r => r.AgentId == "A1");
        await Driver.AgentAnswersAsync(callId, "A1");
        await Sink.WaitForAsync<CallAnswered>(callId, a => a.AgentId == "A1");
        await Driver.CallerHangsUpAsync(callId);
        var ended = await Sink.WaitForAsync<CallEnded>(callId);

        Assert.Equal(CallEndedBy.Caller, ended.EndedBy);
        Assert.Equal(["CallOffered", "CallRinging", "CallAnswered", "CallEnded"], Sink.KindsFor(callId));
        Assert.Equal(4, Sink.For(callId).Select(e => e.EventId).Distinct().Count());
    }

    [Fact]
    public async Task Abandoned_in_queue()
    {
        var callId = NewCallId();
        await Driver.CallArrivesAsync(callId, "13712345678", "方言", willAbandon: true);
        await Sink.WaitForAsync<CallOffered>(callId);
        await Driver.CallerAbandonsAsync(callId);
        await Sink.WaitForAsync<CallAbandoned>(callId);
        await BarrierAsync();

        // The platform's own hang-up after the abandon (if it sends one) is not a second ending.
        Assert.Equal(["CallOffered", "CallAbandoned"], Sink.KindsFor(callId));
    }

    [Fact]
    public async Task Busy_agent_fails_and_the_next_agent_gets_the_call()
    {
        var callId = NewCallId();
        Driver.AgentIsBusy("A-busy");
        await Driver.CallArrivesAsync(callId, "15912345678", "普通话");
        await Sink.WaitForAsync<CallOffered>(callId);

        await Driver.Control.RouteToAgentAsync(callId, "A-busy", "user/1002", Ct);
        var failed = await Sink.WaitForAsync<CallFailed>(callId);
        Assert.Equal("A-busy", failed.AgentId);
        Assert.Contains("BUSY", failed.Cause, StringComparison.OrdinalIgnoreCase);

        await Driver.Control.RouteToAgentAsync(callId, "A2", "user/1003", Ct);
        await Sink.WaitForAsync<CallRinging>(callId, r => r.AgentId == "A2");
        await Driver.AgentAnswersAsync(callId, "A2");
        await Sink.WaitForAsync<CallAnswered>(callId, a => a.AgentId == "A2");

        Assert.DoesNotContain(Sink.For(callId), e => e is CallAnswered { AgentId: "A-busy" });
    }

    [Fact]
    public async Task Transfer_to_an_emergency_line_is_recorded_and_ends_the_call()
    {
        var callId = await AnsweredCallAsync();
        await Driver.Control.TransferAsync(callId, "110", "caller reports a fight in progress", Ct);
        var transferred = await Sink.WaitForAsync<CallTransferred>(callId);
        Assert.Equal("110", transferred.Target);
        await Sink.WaitForAsync<CallEnded>(callId);
        await BarrierAsync();

        var kinds = Sink.KindsFor(callId).ToList();
        Assert.Equal(1, kinds.Count(k => k == "CallEnded"));
        Assert.True(kinds.IndexOf("CallTransferred") < kinds.IndexOf("CallEnded"));
    }

    [Fact]
    public async Task Caller_digits_arrive_once_as_DtmfReceived()
    {
        var callId = await AnsweredCallAsync();
        await Driver.CallerPressesAsync(callId, "3");
        var dtmf = await Sink.WaitForAsync<DtmfReceived>(callId);
        Assert.Equal("3", dtmf.Digits);
        await Driver.CallerHangsUpAsync(callId);
        await Sink.WaitForAsync<CallEnded>(callId);
        await BarrierAsync();

        Assert.Equal(["CallOffered", "CallRinging", "CallAnswered", "DtmfReceived", "CallEnded"], Sink.KindsFor(callId));
    }

    [Fact]
    public async Task Redelivered_events_are_published_once()
    {
        var callId = await AnsweredCallAsync();
        await Driver.RedeliverLastAsync(callId, "A1");
        await Driver.CallerHangsUpAsync(callId);
        await Sink.WaitForAsync<CallEnded>(callId);
        await BarrierAsync();

        Assert.Equal(["CallOffered", "CallRinging", "CallAnswered", "CallEnded"], Sink.KindsFor(callId));
    }

    [Fact]
    public async Task An_answer_arriving_after_the_end_is_ignored()
    {
        var callId = NewCallId();
        await Driver.CallArrivesAsync(callId, "18612345678", "普通话");
        await Sink.WaitForAsync<CallOffered>(callId);
        await Driver.Control.RouteToAgentAsync(callId, "A1", "user/1001", Ct);
        await Sink.WaitForAsync<CallRinging>(callId);

        await Driver.EndThenLateAnswerAsync(callId, "A1");
        await BarrierAsync();

        var kinds = Sink.KindsFor(callId);
        Assert.DoesNotContain("CallAnswered", kinds);
        Assert.True(kinds[^1] is "CallEnded" or "CallAbandoned", string.Join(", ", kinds));
    }
}
