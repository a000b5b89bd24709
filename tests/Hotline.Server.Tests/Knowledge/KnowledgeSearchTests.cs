using Hotline.Server.Knowledge;

namespace Hotline.Server.Tests.Knowledge;

/// <summary>The ranking without a server: tokens, synonyms, title weight.</summary>
public sealed class KnowledgeSearchTests
{
    [Fact]
    public void Cjk_runs_become_unigrams_and_bigrams_latin_words_stay_whole_full_width_folds()
    {
        Assert.Equal(["医", "医保", "保", "APP".ToLowerInvariant(), "12345"], KnowledgeSearch.Tokens("医保ＡＰＰ，12345"));
    }

    [Fact]
    public void Title_outranks_body_and_synonyms_reach_items_without_the_query_words()
    {
        var a = Guid.NewGuid();
        var b = Guid.NewGuid();
        var c = Guid.NewGuid();
        var search = new KnowledgeSearch(
        [
            (a, "供暖收费标准", [], "按建筑面积收取。"),
            (b, "物业服务", [], "物业费包含供暖设施维护，不含供暖收费。"),
            (c, "燃气安全", ["燃气"], "燃气泄漏时关闭阀门。"),
        ]);

        Assert.Equal(a, search.Search("供暖收费", [], 3)[0].ItemId);
        Assert.Empty(search.Search("液化石油", [], 3));
        Assert.Equal(c, search.Search("液化石油", [["液化石油", "燃气"]], 3)[0].ItemId);
    }
}
