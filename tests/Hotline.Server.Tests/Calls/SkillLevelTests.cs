using Hotline.Calls;
using Hotline.Server.Calls;

namespace Hotline.Server.Tests.Calls;

public sealed class SkillLevelTests
{
    [Theory]
    [InlineData("企业专线:3", "企业专线", 3)]
    [InlineData("普通话", "普通话", 1)]
    [InlineData("方言:9", "方言", 9)]
    [InlineData("English : 2", "English", 2)]
    public void A_configured_skill_is_the_bare_group_name_with_its_level_defaulting_to_1(string configured, string skill, int level) =>
        Assert.Equal(new AgentSkill(skill, level), CallCenter.ParseSkill(configured));

    [Theory]
    [InlineData("企业专线:0", 1)]
    [InlineData("企业专线:12", 9)]
    public void A_configured_level_outside_1_to_9_is_clamped_into_it(string configured, int level) =>
        Assert.Equal(new AgentSkill("企业专线", level), CallCenter.ParseSkill(configured));

    [Fact]
    public void A_suffix_that_is_not_a_number_stays_part_of_the_name() =>
        Assert.Equal(new AgentSkill("热线:夜班"), CallCenter.ParseSkill("热线:夜班"));
}
