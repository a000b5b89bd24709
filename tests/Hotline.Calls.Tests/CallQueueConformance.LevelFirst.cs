using Xunit;

namespace Hotline.Calls.Tests;

// "Highest level first" groups (ICallQueue.UseLevelFirst): the same order from every ICallQueue.
public abstract partial class CallQueueConformance
{
    private const string Enterprise = "企业专线";

    private async Task ReadyAtLevelAsync(string agentId, double idleSince, params (string Skill, int Level)[] skills) =>
        Assert.True(await Queue.SetReadyAsync(agentId, [.. skills.Select(s => new AgentSkill(s.Skill, s.Level))], At(idleSince)));

    [Fact]
    public async Task In_a_level_first_group_a_higher_level_agent_idle_for_less_time_gets_the_call_first()
    {
        Queue.UseLevelFirst([Enterprise]);
        await ReadyAtLevelAsync("a1", 0, (Enterprise, 1)); // idle longest, level 1
        await ReadyAtLevelAsync("a3", 10, (Enterprise, 3)); // idle shorter, level 3
        await Queue.EnqueueAsync(Call("c1", 20, skill: Enterprise));
        await Queue.EnqueueAsync(Call("c2", 21, skill: Enterprise));

        var first = Assert.Single(await Queue.DispatchAsync(At(22), Ring, 1));
        Assert.Equal(("c1", "a3"), (first.CallId, first.AgentId));
        var second = Assert.Single(await Queue.DispatchAsync(At(23), Ring, 1));
        Assert.Equal(("c2", "a1"), (second.CallId, second.AgentId));
        await AssertHealthyAsync();
    }

    [Fact]
    public async Task In_a_group_not_configured_level_first_the_longest_idle_agent_gets_the_call_whatever_its_level()
    {
        Queue.UseLevelFirst([Enterprise]);
        await ReadyAtLevelAsync("a1", 0, (Mandarin, 1));
        await ReadyAtLevelAsync("a3", 10, (Mandarin, 3));
        await Queue.EnqueueAsync(Call("c1", 20));

        var offer = Assert.Single(await Queue.DispatchAsync(At(22), Ring, 10));
        Assert.Equal("a1", offer.AgentId);
        await AssertHealthyAsync();
    }

    [Fact]
    public async Task An_agent_in_a_level_first_and_a_normal_group_is_ordered_by_level_only_in_the_level_first_one()
    {
        Queue.UseLevelFirst([Enterprise]);
        await ReadyAtLevelAsync("a1", 0, (Enterprise, 1), (Mandarin, 1));
        await ReadyAtLevelAsync("a3", 10, (Enterprise, 3), (Mandarin, 3));
        await Queue.EnqueueAsync(Call("m1", 20));

        var normal = Assert.Single(await Queue.DispatchAsync(At(21), Ring, 10));
        Assert.Equal(("m1", "a1", Mandarin), (normal.CallId, normal.AgentId, normal.Skill));

        await Queue.EnqueueAsync(Call("e1", 22, skill: Enterprise));
        await Queue.EnqueueAsync(Call("e2", 22.5, skill: Enterprise));
        var levelFirst = Assert.Single(await Queue.DispatchAsync(At(23), Ring, 10)); // a1 is reserved: only a3 is left
        Assert.Equal(("e1", "a3"), (levelFirst.CallId, levelFirst.AgentId));
        await AssertHealthyAsync();
    }

    [Fact]
    public async Task In_a_level_first_group_agents_of_the_same_level_go_longest_idle_first()
    {
        Queue.UseLevelFirst([Enterprise]);
        await ReadyAtLevelAsync("b", 5, (Enterprise, 2));
        await ReadyAtLevelAsync("a", 7, (Enterprise, 2));
        await ReadyAtLevelAsync("low", 0, (Enterprise, 1));
        await ReadyAtLevelAsync("top", 9, (Enterprise, 9));
        for (var i = 0; i < 4; i++)
        {
            await Queue.EnqueueAsync(Call("c" + i, 10 + i, skill: Enterprise));
        }

        var offers = await Queue.DispatchAsync(At(20), Ring, 10);
        Assert.Equal(["top", "b", "a", "low"], offers.Select(o => o.AgentId));
        await AssertHealthyAsync();
    }

    [Fact]
    public async Task A_level_first_agent_whose_offer_is_abandoned_is_back_at_its_place_ahead_of_lower_levels()
    {
        Queue.UseLevelFirst([Enterprise]);
        await ReadyAtLevelAsync("a1", 0, (Enterprise, 1));
        await ReadyAtLevelAsync("a3", 10, (Enterprise, 3));
        await Queue.EnqueueAsync(Call("c1", 20, skill: Enterprise));
        Assert.Equal("a3", Assert.Single(await Queue.DispatchAsync(At(21), Ring, 10)).AgentId);

        Assert.True(await Queue.AbandonAsync("c1", At(22)));
        await AssertHealthyAsync();
        await Queue.EnqueueAsync(Call("c2", 23, skill: Enterprise));
        Assert.Equal("a3", Assert.Single(await Queue.DispatchAsync(At(24), Ring, 10)).AgentId);
        await AssertHealthyAsync();
    }

    [Fact]
    public async Task An_overflowing_call_goes_to_the_highest_level_agent_of_a_level_first_target_group()
    {
        Queue.UseLevelFirst([Enterprise]);
        Queue.UseOverflow([new OverflowRule(Dialect, TimeSpan.FromSeconds(30), [Enterprise])]);
        await ReadyAtLevelAsync("a1", 0, (Enterprise, 1));
        await ReadyAtLevelAsync("a2", 5, (Enterprise, 2));
        await Queue.EnqueueAsync(Call("d1", 0, skill: Dialect));

        var offer = Assert.Single(await Queue.DispatchAsync(At(30), Ring, 10));
        Assert.Equal(("d1", "a2", Enterprise), (offer.CallId, offer.AgentId, offer.Skill));
        await AssertHealthyAsync();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(10)]
    public async Task A_skill_level_outside_1_to_9_is_rejected(int level)
    {
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Queue.SetReadyAsync("a1", [new AgentSkill(Mandarin, level)], At(0)));
        Assert.Null(await Queue.GetAgentAsync("a1"));
    }
}
