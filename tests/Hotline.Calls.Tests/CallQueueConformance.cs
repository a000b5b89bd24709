using Xunit;

namespace Hotline.Calls.Tests;

/// <summary>
/// The behaviour every <see cref="ICallQueue"/> must have. Each test gets a fresh, empty queue
/// (xunit builds a new instance of the class per test).
/// </summary>
public abstract partial class CallQueueConformance : IAsyncLifetime
{
    protected const string Mandarin = "普通话";
    protected const string Dialect = "方言";
    protected const string English = "English";

    protected static readonly DateTimeOffset T0 = new(2025, 7, 1, 8, 0, 0, TimeSpan.FromHours(8));
    protected static readonly TimeSpan Ring = TimeSpan.FromSeconds(20);

    private ICallQueue? _queue;

    protected ICallQueue Queue => _queue ?? throw new InvalidOperationException("Not initialized.");

    public async Task InitializeAsync() => _queue = await CreateQueueAsync();

    public virtual Task DisposeAsync() => Task.CompletedTask;

    /// <summary>A new, empty queue.</summary>
    protected abstract Task<ICallQueue> CreateQueueAsync();

    /// <summary>The implementation's own invariant check (violations, none when healthy).</summary>
    protected abstract Task<IReadOnlyList<string>> VerifyInvariantsAsync();

    protected static DateTimeOffset At(double seconds) => T0.AddSeconds(seconds);

    protected static QueuedCall Call(string id, double enqueuedAt, int priority = 0, string skill = Mandarin) =>
        new(id, "1380000" + id, "12345", skill, priority, At(enqueuedAt));

    protected async Task ReadyAsync(string agentId, double idleSince, params string[] skills) =>
        Assert.True(await Queue.SetReadyAsync(agentId, [.. (skills.Length == 0 ? [Mandarin] : skills).Select(s => new AgentSkill(s))], At(idleSince)));

    protected async Task AssertHealthyAsync() => Assert.Empty(await VerifyInvariantsAsync());

    [Fact]
    public async Task Enqueue_is_idempotent_by_call_id()
    {
        Assert.True(await Queue.EnqueueAsync(Call("c1", 1)));
        Assert.False(await Queue.EnqueueAsync(Call("c1", 2, priority: 9)));

        var placement = await Queue.GetCallAsync("c1");
        Assert.NotNull(placement);
        Assert.Equal(CallStage.Waiting, placement.Stage);
        Assert.Null(placement.AgentId);
        Assert.Equal(0, placement.Call.Priority);
        Assert.Equal(At(1), placement.Call.EnqueuedAt);
        Assert.Equal(1, (await Queue.GetSnapshotAsync(At(3))).Skills.Single(s => s.Skill == Mandarin).Waiting);
        await AssertHealthyAsync();
    }

    [Fact]
    public async Task Enqueue_of_a_call_already_gone_does_not_queue_it_again()
    {
        await Queue.EnqueueAsync(Call("c1", 1));
        await Queue.EnqueueAsync(Call("c2", 2));
        await ReadyAsync("a1", 0);
        Assert.True(await Queue.AbandonAsync("c1", At(3)));
        var offer = Assert.Single(await Queue.DispatchAsync(At(4), Ring, 10));
        Assert.True(await Queue.AcceptAsync("a1", offer.CallId, At(5)));
        Assert.True(await Queue.EndCallAsync("c2", At(6)));

        Assert.False(await Queue.EnqueueAsync(Call("c1", 7)));
        Assert.False(await Queue.EnqueueAsync(Call("c2", 7)));
        Assert.Null(await Queue.GetCallAsync("c1"));
        Assert.Null(await Queue.GetCallAsync("c2"));
        Assert.Equal(0, (await Queue.GetSnapshotAsync(At(8))).Skills.Single(s => s.Skill == Mandarin).Waiting);
    }

    [Fact]
    public async Task A_raised_priority_moves_a_waiting_call_ahead_and_a_reserved_call_comes_back_at_its_new_place()
    {
        await Queue.EnqueueAsync(Call("c1", 1));
        await Queue.EnqueueAsync(Call("c2", 2));
        await Queue.EnqueueAsync(Call("c3", 3));
        Assert.True(await Queue.SetPriorityAsync("c3", 50));
        Assert.Equal(50, (await Queue.GetCallAsync("c3"))!.Call.Priority);
        await AssertHealthyAsync();

        await ReadyAsync("a1", 0);
        var first = Assert.Single(await Queue.DispatchAsync(At(4), Ring, 1));
        Assert.Equal("c3", first.CallId);
        Assert.Equal(50, first.Call.Priority);

        // Raised while reserved: declined, it comes back ahead of c1 although c1 waited longer.
        Assert.True(await Queue.SetPriorityAsync("c3", 60));
        Assert.True(await Queue.RejectAsync("a1", "c3", At(5)));
        await ReadyAsync("a2", 0);
        Assert.Equal("c3", Assert.Single(await Queue.DispatchAsync(At(6), Ring, 1)).CallId);
        Assert.True(await Queue.AcceptAsync("a2", "c3", At(7)));

        // Connected or unknown calls are left alone.
        Assert.False(await Queue.SetPriorityAsync("c3", 1));
        Assert.False(await Queue.SetPriorityAsync("nope", 1));
        await AssertHealthyAsync();
    }

    [Fact]
    public async Task Dispatch_offers_the_call_to_the_longest_idle_agent()
    {
        await ReadyAsync("a1", 10);
        await ReadyAsync("a2", 5);
        await ReadyAsync("a3", 20);
        await Queue.EnqueueAsync(Call("c1", 30));

        var offer = Assert.Single(await Queue.DispatchAsync(At(40), Ring, 10));

        Assert.Equal("c1", offer.CallId);
        Assert.Equal("a2", offer.AgentId);
        Assert.Equal(Mandarin, offer.Skill);
        Assert.Equal(At(40), offer.OfferedAt);
        Assert.Equal(At(40) + Ring, offer.ExpiresAt);
        Assert.Equal("1380000c1", offer.Call.Caller);
        Assert.Equal("12345", offer.Call.DialledNumber);
        Assert.Equal(At(30), offer.Call.EnqueuedAt);

        var agent = await Queue.GetAgentAsync("a2");
        Assert.NotNull(agent);
        Assert.Equal(AgentStatus.Reserved, agent.Status);
        Assert.Equal("c1", agent.CallId);
        Assert.Equal(At(40), agent.Since);
        var call = await Queue.GetCallAsync("c1");
        Assert.Equal(CallStage.Reserved, call!.Stage);
        Assert.Equal("a2", call.AgentId);
        Assert.Equal(AgentStatus.Ready, (await Queue.GetAgentAsync("a1"))!.Status);
        await AssertHealthyAsync();
    }

    [Fact]
    public async Task Higher_priority_goes_first_even_when_it_came_later()
    {
        await Queue.EnqueueAsync(Call("normal", 1));
        await Queue.EnqueueAsync(Call("elderly", 50, priority: 5));
        await ReadyAsync("a1", 0);

        var offer = Assert.Single(await Queue.DispatchAsync(At(60), Ring, 10));

        Assert.Equal("elderly", offer.CallId);
        Assert.Equal(CallStage.Waiting, (await Queue.GetCallAsync("normal"))!.Stage);
    }

    [Fact]
    public async Task Within_a_priority_the_longest_waiting_call_goes_first_to_the_longest_idle_agent()
    {
        await Queue.EnqueueAsync(Call("c3", 3));
        await Queue.EnqueueAsync(Call("c1", 1));
        await Queue.EnqueueAsync(Call("c2", 2));
        await Queue.EnqueueAsync(Call("urgent", 4, priority: 1));
        await ReadyAsync("late", 30);
        await ReadyAsync("early", 10);
        await ReadyAsync("middle", 20);

        var offers = await Queue.DispatchAsync(At(40), Ring, 10);

        Assert.Equal(["urgent:early", "c1:middle", "c2:late"], offers.Select(o => $"{o.CallId}:{o.AgentId}"));
        Assert.Equal(CallStage.Waiting, (await Queue.GetCallAsync("c3"))!.Stage);
        await AssertHealthyAsync();
    }

    [Fact]
    public async Task Across_skills_the_best_call_goes_first_and_exact_ties_go_by_call_id_ordinal()
    {
        await Queue.EnqueueAsync(Call("a-dialect", 5, skill: Dialect));
        await Queue.EnqueueAsync(Call("B-mandarin", 5, skill: Mandarin)); // same priority, same time: "B" < "a" ordinal
        await Queue.EnqueueAsync(Call("old-english", 4, skill: English));
        await ReadyAsync("a1", 0, Mandarin, Dialect, English);
        await ReadyAsync("a2", 1, Mandarin, Dialect, English);
        await ReadyAsync("a3", 2, Mandarin, Dialect, English);

        var offers = await Queue.DispatchAsync(At(10), Ring, 10);

        Assert.Equal(["old-english:a1", "B-mandarin:a2", "a-dialect:a3"], offers.Select(o => $"{o.CallId}:{o.AgentId}"));
    }

    [Fact]
    public async Task Dispatch_makes_at_most_max_offers()
    {
        for (var i = 0; i < 5; i++)
        {
            await Queue.EnqueueAsync(Call("c" + i, i));
            await ReadyAsync("a" + i, i);
        }

        Assert.Equal(2, (await Queue.DispatchAsync(At(10), Ring, 2)).Count);
        Assert.Empty(await Queue.DispatchAsync(At(10), Ring, 0));
        Assert.Equal(3, (await Queue.DispatchAsync(At(11), Ring, 10)).Count);
        Assert.Empty(await Queue.DispatchAsync(At(12), Ring, 10));
    }

    [Fact]
    public async Task An_agent_without_the_skill_gets_nothing()
    {
        await Queue.EnqueueAsync(Call("c1", 1, skill: English));
        await ReadyAsync("a1", 0, Mandarin, Dialect);

        Assert.Empty(await Queue.DispatchAsync(At(5), Ring, 10));
        Assert.Equal(CallStage.Waiting, (await Queue.GetCallAsync("c1"))!.Stage);
        Assert.Equal(AgentStatus.Ready, (await Queue.GetAgentAsync("a1"))!.Status);

        await ReadyAsync("a2", 3, English);
        var offer = Assert.Single(await Queue.DispatchAsync(At(6), Ring, 10));
        Assert.Equal("a2", offer.AgentId);
        Assert.Equal(English, offer.Skill);
    }

    [Fact]
    public async Task The_snapshot_counts_staffed_agents_per_group()
    {
        await ReadyAsync("a1", 0, Mandarin, Dialect);
        await ReadyAsync("a2", 0, Mandarin);
        await ReadyAsync("a3", 0, English);
        Assert.True(await Queue.SetNotReadyAsync("a3", "小休", At(1)));
        await Queue.EnqueueAsync(Call("m1", 2, skill: Mandarin));
        Assert.Single(await Queue.DispatchAsync(At(3), Ring, 10)); // a1 or a2 reserved: still staffed

        var skills = (await Queue.GetSnapshotAsync(At(4))).Skills.ToDictionary(s => s.Skill);
        Assert.Equal(2, skills[Mandarin].StaffedAgents);
        Assert.Equal(1, skills[Dialect].StaffedAgents);
        Assert.Equal(0, skills[English].StaffedAgents); // not ready is not staffed
        await AssertHealthyAsync();
    }

    [Fact]
    public async Task A_multi_skill_agent_leaves_every_ready_set_when_reserved()
    {
        Assert.True(await Queue.SetReadyAsync("a1", [new AgentSkill(Mandarin, 2), new AgentSkill(Dialect, 1)], At(0)));
        await Queue.EnqueueAsync(Call("m1", 1, skill: Mandarin));

        var snapshot = await Queue.GetSnapshotAsync(At(1));
        Assert.Equal(1, snapshot.Skills.Single(s => s.Skill == Dialect).ReadyAgents);
        Assert.Single(await Queue.DispatchAsync(At(2), Ring, 10));

        snapshot = await Queue.GetSnapshotAsync(At(3));
        Assert.Equal(0, snapshot.Skills.Single(s => s.Skill == Mandarin).ReadyAgents);
        Assert.Equal(0, snapshot.Skills.Single(s => s.Skill == Dialect).ReadyAgents);
        await Queue.EnqueueAsync(Call("d1", 4, skill: Dialect));
        Assert.Empty(await Queue.DispatchAsync(At(5), Ring, 10));

        var agent = await Queue.GetAgentAsync("a1");
        Assert.Equal([new AgentSkill(Dialect, 1), new AgentSkill(Mandarin, 2)], agent!.Skills.OrderBy(s => s.Skill, StringComparer.Ordinal));
        await AssertHealthyAsync();
    }

    [Fact]
    public async Task Accept_connects_the_call_and_puts_the_agent_on_call()
    {
        await Queue.EnqueueAsync(Call("c1", 1));
        await ReadyAsync("a1", 0);
        await ReadyAsync("a2", 0.5);
        await Queue.DispatchAsync(At(2), Ring, 10);

        Assert.False(await Queue.AcceptAsync("a2", "c1", At(3)));
        Assert.False(await Queue.AcceptAsync("a1", "nope", At(3)));
        Assert.True(await Queue.AcceptAsync("a1", "c1", At(3)));
        Assert.False(await Queue.AcceptAsync("a1", "c1", At(4)));

        var call = await Queue.GetCallAsync("c1");
        Assert.Equal(CallStage.Connected, call!.Stage);
        Assert.Equal("a1", call.AgentId);
        var agent = await Queue.GetAgentAsync("a1");
        Assert.Equal(AgentStatus.OnCall, agent!.Status);
        Assert.Equal("c1", agent.CallId);
        Assert.Equal(At(3), agent.Since);
        var snapshot = await Queue.GetSnapshotAsync(At(5));
        Assert.Equal(0, snapshot.Reserved);
        Assert.Equal(1, snapshot.Connected);
        Assert.Empty(await Queue.ExpireReservationsAsync(At(100)));
        await AssertHealthyAsync();
    }

    [Fact]
    public async Task Reject_puts_the_call_back_at_its_original_place_and_the_agent_not_ready()
    {
        await Queue.EnqueueAsync(Call("c1", 1, priority: 2));
        await Queue.EnqueueAsync(Call("c2", 2, priority: 2));
        await ReadyAsync("a1", 0);
        var first = Assert.Single(await Queue.DispatchAsync(At(5), Ring, 1));
        Assert.Equal("c1:a1", $"{first.CallId}:{first.AgentId}");
        await Queue.EnqueueAsync(Call("c0", 0.5, priority: 2)); // older than c1: c1 must not jump it, nor c2 it

        Assert.False(await Queue.RejectAsync("a2", "c1", At(6)));
        Assert.True(await Queue.RejectAsync("a1", "c1", At(6)));
        Assert.False(await Queue.RejectAsync("a1", "c1", At(6)));

        var agent = await Queue.GetAgentAsync("a1");
        Assert.Equal(AgentStatus.NotReady, agent!.Status);
        Assert.Equal(CallQueueRules.RejectedReason, agent.Reason);
        Assert.Equal("拒接", agent.Reason);
        Assert.Equal(At(6), agent.Since);
        Assert.Null(agent.CallId);
        var call = await Queue.GetCallAsync("c1");
        Assert.Equal(CallStage.Waiting, call!.Stage);
        Assert.Equal(2, call.Call.Priority);
        Assert.Equal(At(1), call.Call.EnqueuedAt);

        await ReadyAsync("b1", 7);
        await ReadyAsync("b2", 8);
        await ReadyAsync("b3", 9);
        var offers = await Queue.DispatchAsync(At(10), Ring, 10);
        Assert.Equal(["c0:b1", "c1:b2", "c2:b3"], offers.Select(o => $"{o.CallId}:{o.AgentId}"));
        await AssertHealthyAsync();
    }

    [Fact]
    public async Task An_expired_reservation_puts_the_call_back_and_the_agent_not_ready()
    {
        await Queue.EnqueueAsync(Call("c1", 1));
        await Queue.EnqueueAsync(Call("c2", 2));
        await ReadyAsync("a1", 0);
        var offer = Assert.Single(await Queue.DispatchAsync(At(100), TimeSpan.FromSeconds(20), 1));

        Assert.Empty(await Queue.ExpireReservationsAsync(At(119)));
        var expired = Assert.Single(await Queue.ExpireReservationsAsync(At(120)));

        Assert.Equal(offer.CallId, expired.CallId);
        Assert.Equal("a1", expired.AgentId);
        Assert.Equal(At(100), expired.OfferedAt);
        Assert.Equal(At(120), expired.ExpiresAt);
        Assert.Equal(At(1), expired.Call.EnqueuedAt);
        var agent = await Queue.GetAgentAsync("a1");
        Assert.Equal(AgentStatus.NotReady, agent!.Status);
        Assert.Equal("未接听", agent.Reason);
        Assert.Equal(At(120), agent.Since);
        Assert.Equal(CallStage.Waiting, (await Queue.GetCallAsync("c1"))!.Stage);
        Assert.Empty(await Queue.ExpireReservationsAsync(At(500)));
        Assert.False(await Queue.AcceptAsync("a1", "c1", At(121)));

        await ReadyAsync("a2", 121);
        Assert.Equal("c1", Assert.Single(await Queue.DispatchAsync(At(122), Ring, 1)).CallId);
        await AssertHealthyAsync();
    }

    [Fact]
    public async Task Abandoning_a_waiting_call_removes_it()
    {
        await Queue.EnqueueAsync(Call("c1", 1));

        Assert.True(await Queue.AbandonAsync("c1", At(2)));
        Assert.False(await Queue.AbandonAsync("c1", At(3)));
        Assert.False(await Queue.AbandonAsync("unknown", At(3)));

        Assert.Null(await Queue.GetCallAsync("c1"));
        await ReadyAsync("a1", 4);
        Assert.Empty(await Queue.DispatchAsync(At(5), Ring, 10));
        var figures = (await Queue.GetSnapshotAsync(At(6))).Skills.Single(s => s.Skill == Mandarin);
        Assert.Equal(0, figures.Waiting);
        Assert.Equal(TimeSpan.Zero, figures.LongestWait);
        await AssertHealthyAsync();
    }

    [Fact]
    public async Task Longest_wait_is_the_oldest_call_whatever_the_priorities_say()
    {
        // Priorities reorder the queue: the head (p 9, enqueued at 5) is not the call waiting longest (p 0, at 2).
        await Queue.EnqueueAsync(Call("old", 2));
        await Queue.EnqueueAsync(Call("vip", 5, priority: 9));
        await Queue.EnqueueAsync(Call("low", 1, priority: -3));
        await Queue.EnqueueAsync(Call("d1", 7, priority: 4, skill: Dialect));
        var skills = (await Queue.GetSnapshotAsync(At(10))).Skills.ToDictionary(s => s.Skill);
        Assert.Equal(TimeSpan.FromSeconds(9), skills[Mandarin].LongestWait);
        Assert.Equal(TimeSpan.FromSeconds(3), skills[Dialect].LongestWait);

        // The oldest leaves (abandoned), then a priority change keeps the enqueue time: the next oldest counts.
        Assert.True(await Queue.AbandonAsync("low", At(11)));
        Assert.True(await Queue.SetPriorityAsync("old", 20));
        Assert.Equal(TimeSpan.FromSeconds(10), (await Queue.GetSnapshotAsync(At(12))).Skills.Single(s => s.Skill == Mandarin).LongestWait);
        await ReadyAsync("a1", 12);
        Assert.Equal("old", Assert.Single(await Queue.DispatchAsync(At(13), Ring, 1)).CallId);
        Assert.Equal(TimeSpan.FromSeconds(9), (await Queue.GetSnapshotAsync(At(14))).Skills.Single(s => s.Skill == Mandarin).LongestWait);
        await AssertHealthyAsync();
    }

    [Fact]
    public async Task Abandoning_a_reserved_call_makes_the_agent_ready_again_keeping_its_idle_time()
    {
        await ReadyAsync("a1", 5, Mandarin, Dialect);
        await ReadyAsync("a2", 10, Mandarin, Dialect);
        await Queue.EnqueueAsync(Call("c1", 20));
        Assert.Equal("a1", Assert.Single(await Queue.DispatchAsync(At(50), Ring, 10)).AgentId);

        Assert.True(await Queue.AbandonAsync("c1", At(55)));

        var agent = await Queue.GetAgentAsync("a1");
        Assert.Equal(AgentStatus.Ready, agent!.Status);
        Assert.Equal(At(5), agent.Since);
        Assert.Null(agent.CallId);
        Assert.Null(await Queue.GetCallAsync("c1"));
        Assert.Equal(2, (await Queue.GetSnapshotAsync(At(56))).Skills.Single(s => s.Skill == Dialect).ReadyAgents);
        Assert.Empty(await Queue.ExpireReservationsAsync(At(1000)));

        await Queue.EnqueueAsync(Call("d1", 60, skill: Dialect));
        Assert.Equal("a1", Assert.Single(await Queue.DispatchAsync(At(61), Ring, 10)).AgentId);
        await AssertHealthyAsync();
    }

    [Fact]
    public async Task Ending_a_call_puts_the_agent_in_wrap_up()
    {
        await Queue.EnqueueAsync(Call("c1", 1));
        await Queue.EnqueueAsync(Call("c2", 2));
        await ReadyAsync("a1", 0);
        await Queue.DispatchAsync(At(3), Ring, 1);
        Assert.False(await Queue.EndCallAsync("c1", At(4))); // reserved, not connected
        Assert.False(await Queue.EndCallAsync("c2", At(4))); // waiting
        await Queue.AcceptAsync("a1", "c1", At(4));

        Assert.True(await Queue.EndCallAsync("c1", At(100)));
        Assert.False(await Queue.EndCallAsync("c1", At(101)));

        var agent = await Queue.GetAgentAsync("a1");
        Assert.Equal(AgentStatus.WrapUp, agent!.Status);
        Assert.Equal(At(100), agent.Since);
        Assert.Null(agent.CallId);
        Assert.Null(await Queue.GetCallAsync("c1"));
        Assert.Empty(await Queue.DispatchAsync(At(102), Ring, 10)); // wrap-up is not ready

        Assert.True(await Queue.SetReadyAsync("a1", [new AgentSkill(Mandarin)], At(130)));
        agent = await Queue.GetAgentAsync("a1");
        Assert.Equal(AgentStatus.Ready, agent!.Status);
        Assert.Equal(At(130), agent.Since);
        Assert.Equal(0, (await Queue.GetSnapshotAsync(At(131))).Connected);
        await AssertHealthyAsync();
    }

    [Fact]
    public async Task Status_changes_are_refused_while_reserved_or_on_call()
    {
        await Queue.EnqueueAsync(Call("c1", 1));
        await ReadyAsync("a1", 0);
        await Queue.DispatchAsync(At(2), Ring, 1);

        Assert.False(await Queue.SetReadyAsync("a1", [new AgentSkill(Mandarin)], At(3)));
        Assert.False(await Queue.SetNotReadyAsync("a1", "小休", At(3)));
        Assert.Equal(AgentStatus.Reserved, (await Queue.GetAgentAsync("a1"))!.Status);

        await Queue.AcceptAsync("a1", "c1", At(4));
        Assert.False(await Queue.SetReadyAsync("a1", [new AgentSkill(Mandarin)], At(5)));
        Assert.False(await Queue.SetNotReadyAsync("a1", "小休", At(5)));
        Assert.Equal(AgentStatus.OnCall, (await Queue.GetAgentAsync("a1"))!.Status);
        await AssertHealthyAsync();
    }

    [Fact]
    public async Task Not_ready_and_ready_again()
    {
        Assert.Null(await Queue.GetAgentAsync("a1"));
        Assert.False(await Queue.SetNotReadyAsync("a1", "小休", At(0))); // never signed in
        await ReadyAsync("a1", 1);
        await ReadyAsync("a2", 2);
        await ReadyAsync("a1", 3); // already ready: keeps its place in line

        Assert.Equal(At(1), (await Queue.GetAgentAsync("a1"))!.Since);
        Assert.True(await Queue.SetNotReadyAsync("a1", "培训", At(4)));
        var agent = await Queue.GetAgentAsync("a1");
        Assert.Equal(AgentStatus.NotReady, agent!.Status);
        Assert.Equal("培训", agent.Reason);
        Assert.Equal(At(4), agent.Since);

        await Queue.EnqueueAsync(Call("c1", 5));
        Assert.Equal("a2", Assert.Single(await Queue.DispatchAsync(At(6), Ring, 10)).AgentId);

        await ReadyAsync("a1", 7);
        agent = await Queue.GetAgentAsync("a1");
        Assert.Equal(AgentStatus.Ready, agent!.Status);
        Assert.Null(agent.Reason);
        Assert.Equal(At(7), agent.Since);
        await AssertHealthyAsync();
    }

    [Fact]
    public async Task Logging_out_with_a_pending_reservation_requeues_the_call()
    {
        await Queue.EnqueueAsync(Call("c1", 1));
        await Queue.EnqueueAsync(Call("c2", 2));
        await ReadyAsync("a1", 0, Mandarin, English);
        await Queue.DispatchAsync(At(3), Ring, 1);

        await Queue.LogOutAsync("a1", At(4));

        var agent = await Queue.GetAgentAsync("a1");
        Assert.Equal(AgentStatus.LoggedOut, agent!.Status);
        Assert.Equal(At(4), agent.Since);
        Assert.Null(agent.CallId);
        Assert.Equal(CallStage.Waiting, (await Queue.GetCallAsync("c1"))!.Stage);
        var snapshot = await Queue.GetSnapshotAsync(At(5));
        Assert.Equal(0, snapshot.Reserved);
        Assert.Equal(0, snapshot.Skills.Single(s => s.Skill == English).ReadyAgents);
        Assert.Empty(await Queue.ExpireReservationsAsync(At(1000)));

        await ReadyAsync("a2", 5);
        var offer = Assert.Single(await Queue.DispatchAsync(At(6), Ring, 1));
        Assert.Equal("c1:a2", $"{offer.CallId}:{offer.AgentId}");
        await Queue.LogOutAsync("never-seen", At(7)); // no-op
        Assert.Null(await Queue.GetAgentAsync("never-seen"));
        await AssertHealthyAsync();
    }

    [Fact]
    public async Task Logging_out_on_a_call_leaves_the_call_connected_until_it_ends()
    {
        await Queue.EnqueueAsync(Call("c1", 1));
        await ReadyAsync("a1", 0);
        await Queue.DispatchAsync(At(2), Ring, 1);
        await Queue.AcceptAsync("a1", "c1", At(3));

        await Queue.LogOutAsync("a1", At(4));

        Assert.Equal(AgentStatus.LoggedOut, (await Queue.GetAgentAsync("a1"))!.Status);
        Assert.Equal(CallStage.Connected, (await Queue.GetCallAsync("c1"))!.Stage);
        Assert.True(await Queue.EndCallAsync("c1", At(5)));
        Assert.Equal(AgentStatus.LoggedOut, (await Queue.GetAgentAsync("a1"))!.Status);
        Assert.Equal(0, (await Queue.GetSnapshotAsync(At(6))).Connected);
    }

    [Fact]
    public async Task Snapshot_figures()
    {
        await Queue.EnqueueAsync(Call("m-old", 10));
        await Queue.EnqueueAsync(Call("m-vip", 40, priority: 3)); // first in line, but not the longest waiting
        await Queue.EnqueueAsync(Call("m3", 50));
        await Queue.EnqueueAsync(Call("e1", 30, skill: English));
        await Queue.EnqueueAsync(Call("e2", 35, skill: English));
        await ReadyAsync("ready", 0, Dialect);
        await ReadyAsync("reserved", 1, English);
        await ReadyAsync("oncall", 2, English);
        await ReadyAsync("wrapup", 3, Dialect);
        await ReadyAsync("notready", 4, Mandarin);
        await ReadyAsync("loggedout", 5, Mandarin);
        Assert.True(await Queue.SetNotReadyAsync("notready", "会议", At(6)));
        await Queue.LogOutAsync("loggedout", At(6));
        Assert.Equal(2, (await Queue.DispatchAsync(At(60), Ring, 10)).Count); // e1 → reserved, e2 → oncall
        Assert.True(await Queue.AcceptAsync("oncall", "e2", At(61)));
        await Queue.EnqueueAsync(Call("w1", 62, skill: Dialect));
        var toWrapUp = Assert.Single(await Queue.DispatchAsync(At(62), Ring, 10));
        Assert.Equal("ready", toWrapUp.AgentId); // longest idle of the two Dialect agents
        await Queue.AcceptAsync("ready", "w1", At(63));
        await Queue.EndCallAsync("w1", At(64));
        Assert.True(await Queue.SetReadyAsync("ready", [new AgentSkill(Dialect)], At(65)));
        await Queue.EnqueueAsync(Call("w2", 66, skill: Dialect));
        Assert.Equal("wrapup", Assert.Single(await Queue.DispatchAsync(At(66), Ring, 10)).AgentId);
        await Queue.AcceptAsync("wrapup", "w2", At(67));
        await Queue.EndCallAsync("w2", At(68));

        var snapshot = await Queue.GetSnapshotAsync(At(100));

        var skills = snapshot.Skills.ToDictionary(s => s.Skill);
        Assert.Equal(new SkillQueueFigures(Mandarin, 3, TimeSpan.FromSeconds(90), 0) { StaffedAgents = 0 }, skills[Mandarin]); // not ready, logged out
        Assert.Equal(new SkillQueueFigures(English, 0, TimeSpan.Zero, 0) { StaffedAgents = 2 }, skills[English]); // reserved, on call
        Assert.Equal(new SkillQueueFigures(Dialect, 0, TimeSpan.Zero, 1) { StaffedAgents = 2 }, skills[Dialect]); // ready, wrap-up
        Assert.Equal(3, snapshot.Skills.Count);
        Assert.Equal(1, snapshot.AgentsByStatus[AgentStatus.Ready]);
        Assert.Equal(1, snapshot.AgentsByStatus[AgentStatus.Reserved]);
        Assert.Equal(1, snapshot.AgentsByStatus[AgentStatus.OnCall]);
        Assert.Equal(1, snapshot.AgentsByStatus[AgentStatus.WrapUp]);
        Assert.Equal(1, snapshot.AgentsByStatus[AgentStatus.NotReady]);
        Assert.Equal(1, snapshot.AgentsByStatus[AgentStatus.LoggedOut]);
        Assert.Equal(1, snapshot.Reserved);
        Assert.Equal(1, snapshot.Connected);
        await AssertHealthyAsync();
    }

    [Fact]
    public async Task Attributes_travel_with_the_call()
    {
        var call = Call("c1", 1) with { Attributes = new Dictionary<string, string> { ["区域"] = "朝阳区", ["repeat"] = "3" } };
        await Queue.EnqueueAsync(call);
        await ReadyAsync("a1", 0);

        var offer = Assert.Single(await Queue.DispatchAsync(At(2), Ring, 1));

        Assert.Equal("朝阳区", offer.Call.Attributes!["区域"]);
        Assert.Equal("3", (await Queue.GetCallAsync("c1"))!.Call.Attributes!["repeat"]);
        Assert.True(await Queue.EnqueueAsync(Call("c2", 2)));
        Assert.Null((await Queue.GetCallAsync("c2"))!.Call.Attributes);
    }

    [Fact]
    public async Task A_priority_out_of_range_is_refused()
    {
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Queue.EnqueueAsync(Call("c1", 1, priority: CallQueueRules.MaxPriority + 1)));
        Assert.True(await Queue.EnqueueAsync(Call("c2", 1, priority: CallQueueRules.MaxPriority)));
        Assert.True(await Queue.EnqueueAsync(Call("c3", 0, priority: CallQueueRules.MinPriority)));
        await ReadyAsync("a1", 0);
        await ReadyAsync("a2", 0.5);
        Assert.Equal(["c2", "c3"], (await Queue.DispatchAsync(At(2), Ring, 2)).Select(o => o.CallId));
    }

    [Fact]
    public async Task An_agent_id_or_skill_with_NUL_is_refused_and_ids_tie_ordinally()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Queue.SetReadyAsync("a\01", [new AgentSkill(Mandarin)], At(0)));
        await Assert.ThrowsAsync<ArgumentException>(() => Queue.SetReadyAsync("a1", [new AgentSkill("普通\0话")], At(0)));

        // Same idle time: agent ids in ordinal order, also when one id is a prefix of another (a1 before a1x before a2).
        await ReadyAsync("a2", 0, Mandarin, Dialect);
        await ReadyAsync("a1x", 0, Dialect, Mandarin);
        await ReadyAsync("a1", 0, Mandarin);
        foreach (var id in new[] { "c1", "c2", "c3" })
        {
            await Queue.EnqueueAsync(Call(id, 1));
        }

        Assert.Equal(["a1", "a1x", "a2"], (await Queue.DispatchAsync(At(2), Ring, 3)).Select(o => o.AgentId));
        await AssertHealthyAsync();
    }
}
