using Xunit;

namespace Hotline.Calls.Tests;

// Overflow, callback (virtual queue entries) and the 漏接回拨 list: the same behaviour from every ICallQueue.
public abstract partial class CallQueueConformance
{
    private static readonly OverflowRule DialectToMandarin = new(Dialect, TimeSpan.FromSeconds(30), [Mandarin]);

    [Fact]
    public async Task A_call_waiting_past_the_threshold_overflows_to_the_configured_group_and_comes_back_to_its_own_queue_if_declined()
    {
        Queue.UseOverflow([DialectToMandarin]);
        await Queue.EnqueueAsync(Call("d1", 0, skill: Dialect));
        await ReadyAsync("a1", 0, Mandarin);

        Assert.Empty(await Queue.DispatchAsync(At(29.999), Ring, 10)); // not yet: waited less than 30 s
        var offer = Assert.Single(await Queue.DispatchAsync(At(30), Ring, 10));

        Assert.Equal("d1", offer.CallId);
        Assert.Equal("a1", offer.AgentId);
        Assert.Equal(Mandarin, offer.Skill); // served by the overflow group
        Assert.Equal(Dialect, offer.Call.Skill); // still a 方言 call
        await AssertHealthyAsync();

        Assert.True(await Queue.RejectAsync("a1", "d1", At(31)));
        var placement = await Queue.GetCallAsync("d1");
        Assert.Equal(CallStage.Waiting, placement!.Stage);
        Assert.Equal(Dialect, placement.Call.Skill);
        var snapshot = await Queue.GetSnapshotAsync(At(32));
        Assert.Equal(1, snapshot.Skills.Single(s => s.Skill == Dialect).Waiting);
        Assert.Equal(0, snapshot.Skills.Single(s => s.Skill == Mandarin).Waiting);
        await AssertHealthyAsync();
    }

    [Fact]
    public async Task Overflow_does_not_apply_without_a_rule_or_to_groups_not_named()
    {
        await Queue.EnqueueAsync(Call("d1", 0, skill: Dialect));
        await ReadyAsync("a1", 0, Mandarin);
        await ReadyAsync("a2", 0, English);
        Assert.Empty(await Queue.DispatchAsync(At(600), Ring, 10));

        Queue.UseOverflow([DialectToMandarin]);
        await Queue.SetNotReadyAsync("a1", "小休", At(601));
        Assert.Empty(await Queue.DispatchAsync(At(602), Ring, 10)); // English is not an overflow target

        Queue.UseOverflow([]);
        await ReadyAsync("a1", 603, Mandarin);
        Assert.Empty(await Queue.DispatchAsync(At(604), Ring, 10)); // rules replaced by none
        await AssertHealthyAsync();
    }

    [Fact]
    public async Task An_overflowing_call_competes_with_the_groups_own_calls_by_priority_and_age()
    {
        Queue.UseOverflow([DialectToMandarin]);
        await Queue.EnqueueAsync(Call("d1", 0, skill: Dialect));
        await Queue.EnqueueAsync(Call("d2", 5, skill: Dialect));
        await Queue.EnqueueAsync(Call("m1", 10));
        await Queue.EnqueueAsync(Call("m2", 20, priority: 10));
        await ReadyAsync("a1", 0, Mandarin);
        await ReadyAsync("a2", 1, Mandarin);
        await ReadyAsync("a3", 2, Mandarin);

        // At 34 s: d1 (enq 0) and d2 (enq 5, waited 29 s: not yet) … m2 has priority, then d1 (older than m1), then m1.
        var offers = await Queue.DispatchAsync(At(34), Ring, 10);

        Assert.Equal(["m2", "d1", "m1"], offers.Select(o => o.CallId));
        Assert.Equal(["a1", "a2", "a3"], offers.Select(o => o.AgentId));
        Assert.Equal(CallStage.Waiting, (await Queue.GetCallAsync("d2"))!.Stage);
        await AssertHealthyAsync();
    }

    [Fact]
    public async Task The_overflowing_call_is_the_best_one_past_the_threshold_even_behind_younger_calls_of_higher_priority()
    {
        Queue.UseOverflow([DialectToMandarin]);
        await Queue.EnqueueAsync(Call("d1", 0, skill: Dialect));
        await Queue.EnqueueAsync(Call("d2", 20, priority: 10, skill: Dialect)); // first in its queue, but waited only 20 s at 40 s
        await Queue.EnqueueAsync(Call("d3", 5, priority: 5, skill: Dialect));
        await ReadyAsync("a1", 0, Mandarin);
        await ReadyAsync("a2", 1, Mandarin);
        await ReadyAsync("a3", 2, Mandarin);

        Assert.Equal(["d3", "d1"], (await Queue.DispatchAsync(At(40), Ring, 10)).Select(o => o.CallId));
        Assert.Equal(CallStage.Waiting, (await Queue.GetCallAsync("d2"))!.Stage);
        var last = Assert.Single(await Queue.DispatchAsync(At(50), Ring, 10));
        Assert.Equal(("d2", "a3", Mandarin), (last.CallId, last.AgentId, last.Skill));
        await AssertHealthyAsync();
    }

    [Fact]
    public async Task Each_overflow_rule_has_its_own_threshold_and_targets()
    {
        Queue.UseOverflow([new(Dialect, TimeSpan.FromSeconds(30), [English]), new(Dialect, TimeSpan.FromSeconds(60), [Mandarin])]);
        await Queue.EnqueueAsync(Call("d1", 0, skill: Dialect));
        await Queue.EnqueueAsync(Call("d2", 40, skill: Dialect));
        await ReadyAsync("m", 0, Mandarin);

        Assert.Empty(await Queue.DispatchAsync(At(45), Ring, 10)); // 方言 → 普通话 only after 60 s; no English agent
        await ReadyAsync("e", 46, English);
        var toEnglish = Assert.Single(await Queue.DispatchAsync(At(50), Ring, 10));
        Assert.Equal(("d1", "e", English), (toEnglish.CallId, toEnglish.AgentId, toEnglish.Skill));
        Assert.Empty(await Queue.DispatchAsync(At(99), Ring, 10)); // d2 waited 59 s
        var toMandarin = Assert.Single(await Queue.DispatchAsync(At(100), Ring, 10));
        Assert.Equal(("d2", "m", Mandarin), (toMandarin.CallId, toMandarin.AgentId, toMandarin.Skill));
        await AssertHealthyAsync();
    }

    [Fact]
    public async Task A_call_that_can_be_served_by_its_own_group_goes_there_first()
    {
        Queue.UseOverflow([DialectToMandarin]);
        await Queue.EnqueueAsync(Call("d1", 0, skill: Dialect));
        await ReadyAsync("m", 0, Mandarin); // idle longer than the 方言 agent
        await ReadyAsync("d", 5, Dialect);

        var offer = Assert.Single(await Queue.DispatchAsync(At(60), Ring, 1));

        Assert.Equal("d", offer.AgentId);
        Assert.Equal(Dialect, offer.Skill);
        await AssertHealthyAsync();
    }

    [Fact]
    public async Task A_callback_keeps_the_callers_place_survives_the_hang_up_and_is_offered_as_a_callback()
    {
        await Queue.EnqueueAsync(Call("c1", 1));
        await Queue.EnqueueAsync(Call("c2", 2));
        await Queue.EnqueueAsync(Call("c3", 3));

        Assert.True(await Queue.ConvertToCallbackAsync("c2", At(4)));
        Assert.False(await Queue.ConvertToCallbackAsync("c2", At(4))); // already one
        Assert.False(await Queue.ConvertToCallbackAsync("nope", At(4)));
        Assert.False(await Queue.AbandonAsync("c2", At(5))); // the caller hung up on purpose: still queued
        Assert.True((await Queue.GetCallAsync("c2"))!.Callback);
        Assert.Equal(3, (await Queue.GetSnapshotAsync(At(5))).Skills.Single(s => s.Skill == Mandarin).Waiting);
        Assert.Empty(await Queue.GetMissedAsync(10));

        await ReadyAsync("a1", 0);
        await ReadyAsync("a2", 1);
        var offers = await Queue.DispatchAsync(At(6), Ring, 2);
        Assert.Equal(["c1", "c2"], offers.Select(o => o.CallId));
        Assert.False(offers[0].Callback);
        Assert.True(offers[1].Callback);
        Assert.False(await Queue.ConvertToCallbackAsync("c1", At(7))); // only a waiting call

        // Declined, it comes back as a callback at its place; accepted and ended like any call.
        Assert.True(await Queue.RejectAsync("a2", "c2", At(7)));
        await ReadyAsync("a3", 2);
        var again = Assert.Single(await Queue.DispatchAsync(At(8), Ring, 1));
        Assert.Equal("c2", again.CallId);
        Assert.True(again.Callback);
        Assert.True(await Queue.AcceptAsync("a3", "c2", At(9)));
        Assert.True(await Queue.EndCallAsync("c2", At(10)));
        Assert.Null(await Queue.GetCallAsync("c2"));
        await AssertHealthyAsync();
    }

    [Fact]
    public async Task Abandoned_and_missed_calls_land_on_the_missed_list_in_the_same_step()
    {
        await Queue.EnqueueAsync(Call("c1", 1));
        await Queue.EnqueueAsync(Call("c2", 2));
        await ReadyAsync("a1", 0);
        var offer = Assert.Single(await Queue.DispatchAsync(At(3), Ring, 1));
        Assert.Equal("c1", offer.CallId);

        Assert.True(await Queue.AbandonAsync("c2", At(4))); // hung up while waiting
        Assert.True(await Queue.AbandonAsync("c1", At(5))); // hung up while ringing at a1

        var missed = await Queue.GetMissedAsync(10);
        Assert.Equal(["c2", "c1"], missed.Select(m => m.CallId)); // oldest miss first
        Assert.Equal(CallQueueRules.AbandonedReason, missed[0].Reason);
        Assert.Null(missed[0].AgentId);
        Assert.Equal(CallQueueRules.MissedReason, missed[1].Reason);
        Assert.Equal("a1", missed[1].AgentId);
        Assert.Equal("1380000c1", missed[1].Caller);
        Assert.Equal(At(1), missed[1].EnqueuedAt);
        Assert.Equal(At(5), missed[1].MissedAt);
        Assert.Null(missed[1].ClaimedBy);
        Assert.Equal(2, (await Queue.GetSnapshotAsync(At(6))).Missed);
        Assert.Single(await Queue.GetMissedAsync(1));
        await AssertHealthyAsync();
    }

    [Fact]
    public async Task A_missed_call_is_claimed_by_one_agent_released_after_a_failed_attempt_and_gone_when_done()
    {
        await Queue.EnqueueAsync(Call("c1", 1));
        await Queue.AbandonAsync("c1", At(2));

        Assert.True(await Queue.ClaimMissedAsync("c1", "a1", At(3)));
        Assert.False(await Queue.ClaimMissedAsync("c1", "a2", At(3)));
        Assert.True(await Queue.ClaimMissedAsync("c1", "a1", At(4))); // its own claim
        Assert.False(await Queue.CompleteMissedAsync("c1", "a2", "已回拨", done: true, At(5)));
        var claimed = Assert.Single(await Queue.GetMissedAsync(10));
        Assert.Equal("a1", claimed.ClaimedBy);
        Assert.Equal(At(3), claimed.ClaimedAt);

        Assert.True(await Queue.CompleteMissedAsync("c1", "a1", "无人接听", done: false, At(6)));
        var released = Assert.Single(await Queue.GetMissedAsync(10));
        Assert.Null(released.ClaimedBy);
        Assert.Equal(1, released.Attempts);
        Assert.Equal("无人接听", released.LastResult);

        Assert.True(await Queue.ClaimMissedAsync("c1", "a2", At(7)));
        Assert.True(await Queue.CompleteMissedAsync("c1", "a2", "已回拨，已受理", done: true, At(8)));
        Assert.Empty(await Queue.GetMissedAsync(10));
        Assert.Equal(0, (await Queue.GetSnapshotAsync(At(9))).Missed);
        Assert.False(await Queue.ClaimMissedAsync("c1", "a1", At(10)));
        Assert.False(await Queue.ClaimMissedAsync("nope", "a1", At(10)));
        await AssertHealthyAsync();
    }

    [Fact]
    public async Task Concurrent_claims_of_one_missed_call_let_exactly_one_agent_win()
    {
        await Queue.EnqueueAsync(Call("c1", 1));
        await Queue.AbandonAsync("c1", At(2));

        var claims = await Task.WhenAll(Enumerable.Range(0, 32).Select(i => Task.Run(() => Queue.ClaimMissedAsync("c1", "a" + i, At(3)))));

        Assert.Equal(1, claims.Count(c => c));
        var winner = "a" + Array.IndexOf(claims, true);
        Assert.Equal(winner, Assert.Single(await Queue.GetMissedAsync(10)).ClaimedBy);
    }
}
