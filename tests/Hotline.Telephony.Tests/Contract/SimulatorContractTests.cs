using Hotline.Telephony.Simulator;
using Hotline.Telephony.Tests.Support;

namespace Hotline.Telephony.Tests.Contract;

public sealed class SimulatorContractTests : TelephonyAdapterContract
{
    protected override Task<ITelephonyDriver> StartDriverAsync() => Task.FromResult<ITelephonyDriver>(new SimulatorDriver());
}

/// <summary>Drives the simulator with its own controls; no generated traffic, only the scenario's calls.</summary>
public sealed class SimulatorDriver : ITelephonyDriver
{
    private readonly SimulatedTelephony _sim = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _run;

    public SimulatorDriver()
    {
        var options = new SimulatorOptions { Traffic = new TrafficProfile { CallsPerDay = 0 }, RingTimeout = TimeSpan.FromHours(1) };
        _run = _sim.RunAsync(new CallEventNormalizer(Sink), TimeProvider.System, options, _stop.Token);
    }

    public ITelephonyControl Control => _sim;

    public RecordingSink Sink { get; } = new();

    public Task CallArrivesAsync(string callId, string callerNumber, string skill, bool willAbandon = false)
    {
        _sim.Inject(_sim.NewCall(callerNumber, skill, patience: willAbandon ? TimeSpan.FromMilliseconds(200) : TimeSpan.FromHours(1),
            talkTime: TimeSpan.FromHours(1), callId: callId));
        return Task.CompletedTask;
    }

    public void AgentIsBusy(string agentId) => _sim.SetAgentBusy(agentId, true);

    public Task AgentAnswersAsync(string callId, string agentId) => _sim.AgentAcceptedAsync(callId, agentId, CancellationToken.None);

    public Task CallerHangsUpAsync(string callId)
    {
        _sim.CallerHangsUp(callId);
        return Task.CompletedTask;
    }

    public Task CallerPressesAsync(string callId, string digits)
    {
        _sim.CallerPresses(callId, digits);
        return Task.CompletedTask;
    }

    // Patience runs out by itself (200 ms).
    public Task CallerAbandonsAsync(string callId) => Task.CompletedTask;

    // The console sends the accept twice.
    public Task RedeliverLastAsync(string callId, string agentId) => _sim.AgentAcceptedAsync(callId, agentId, CancellationToken.None);

    public async Task EndThenLateAnswerAsync(string callId, string agentId)
    {
        await _sim.ReleaseAsync(callId, "supervisor released", CancellationToken.None);
        await _sim.AgentAcceptedAsync(callId, agentId, CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _run;
        _stop.Dispose();
    }
}
