using Hotline.Reports.Analysis;
using Hotline.Reports.Demo;
using Hotline.Reports.Facts;

namespace Hotline.Reports.Tests;

public class AnalysisTests
{
    // A May week: no seasonal topic starts or ends in the window, so a quiet week really is quiet.
    private static readonly DateOnly Week = new(2025, 5, 12);

    [Fact]
    public void Planted_topic_comes_out_as_the_top_hot_term_and_maps_to_its_category()
    {
        // 800 tickets a week: the largest natural term (物业) then stays near 40 tickets, so 50 planted ones must win.
        var facts = DemoWeekGenerator.Generate(Week, 800, 11, new DemoOptions { Topic = new PlantedTopic("电动车充电桩", 50) });

        var terms = HotTerms.Find(facts.TicketsIn(facts.Period));

        Assert.Equal("电动车充电桩", terms[0].Term);
        Assert.Equal(50, terms[0].Documents);
        Assert.Equal("城乡建设", terms[0].Category);
        // Overlapping sub-terms are suppressed.
        Assert.DoesNotContain(terms, t => t.Term is "充电桩" or "电动车" or "充电" or "电动车充电");
    }

    [Fact]
    public void Special_topics_count_each_ticket_once_when_any_of_its_keywords_occurs()
    {
        var facts = DemoWeekGenerator.Generate(new DateOnly(2025, 12, 8), 1500, 5); // December: 供暖 is in season
        var tickets = facts.TicketsIn(facts.Period);
        var options = WeeklyReportOptions.Default with
        {
            // overlapping keywords (暖气 inside 暖气片) and a keyword shared by two topics: still one count per ticket and topic
            SpecialTopics = [("供暖", ["供暖", "暖气", "暖气片"]), ("停水停电", ["停水", "停电"]), ("物业", ["物业", "暖气"])],
        };

        var report = WeeklyReport.Build(facts, options);

        foreach (var (name, keywords) in options.SpecialTopics)
        {
            var expected = tickets.Count(t => keywords.Any(k => t.Summary.Contains(k, StringComparison.Ordinal)));
            Assert.Equal(expected, report.SpecialTopics.Single(r => r.Name == name).Counts.Current);
        }

        Assert.True(report.SpecialTopics[0].Counts.Current > 0, "the December demo week mentions 供暖");
    }

    [Fact]
    public void Planted_topic_raises_a_rising_alert()
    {
        var facts = DemoWeekGenerator.Generate(Week, 1000, 11, new DemoOptions { Topic = new PlantedTopic("电动车充电桩", 50) });

        var report = WeeklyReport.Build(facts);

        var item = Assert.Single(report.Rising, r => r.Kind == RisingKind.Term && r.Name == "电动车充电桩");
        Assert.True(item.Alert);
        Assert.Equal(50, item.Current);
        Assert.True(item.PValue < 1e-10);
    }

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    [InlineData(13)]
    public void Quiet_week_raises_no_rising_topic_alert(int seed)
    {
        var facts = DemoWeekGenerator.Generate(Week, 1000, seed);

        var report = WeeklyReport.Build(facts);

        Assert.NotEmpty(report.Rising);
        Assert.DoesNotContain(report.Rising, r => r.Alert);
    }

    [Fact]
    public void Poisson_tail_matches_known_values()
    {
        Assert.Equal(1, RisingTopics.PoissonUpperTail(0, 3));
        Assert.Equal(1 - Math.Exp(-2), RisingTopics.PoissonUpperTail(1, 2), 12);
        Assert.Equal(0.0526530173437111, RisingTopics.PoissonUpperTail(5, 2), 10); // 1 − P(X ≤ 4 | λ = 2)
        Assert.InRange(RisingTopics.PoissonUpperTail(5000, 5000), 0.49, 0.51);
    }

    [Fact]
    public void Planted_cluster_is_detected()
    {
        var facts = DemoWeekGenerator.Generate(Week, 1000, 11, new DemoOptions { Cluster = new PlantedCluster(Count: 8, Hours: 24) });

        var clusters = Clusters.FindPlaces(facts.TicketsIn(facts.Period));

        // The alert holds every ticket on that place inside the window: the 8 planted ones, plus any
        // ordinary ticket that happened to land there at the same time.
        var c = Assert.Single(clusters);
        Assert.InRange(c.Count, 8, 10);
        Assert.Equal(8, c.Tickets.Count(t => t.Summary.Contains("突然大面积停水", StringComparison.Ordinal)));
        Assert.True(c.Last - c.First <= TimeSpan.FromHours(24));
    }

    [Fact]
    public void No_cluster_without_a_plant()
    {
        var facts = DemoWeekGenerator.Generate(Week, 1000, 11);

        Assert.Empty(Clusters.FindPlaces(facts.TicketsIn(facts.Period)));
    }

    [Fact]
    public void Cluster_needs_k_tickets_within_t_hours()
    {
        var t0 = new DateTimeOffset(2025, 5, 12, 8, 0, 0, TimeSpan.FromHours(8));
        TicketFact At(int hours, string n) => new()
        {
            Number = n, RegisteredAt = t0.AddHours(hours), Channel = "电话", Type = TicketType.HelpRequest, CategoryCode = "090101",
            Category1 = "公用事业", Category2 = "供水", Category3 = "停水", District = "清江区", Summary = "停水", PlaceKey = "幸福花园",
        };
        TicketFact[] spread = [At(0, "1"), At(30, "2"), At(60, "3"), At(90, "4"), At(120, "5")];
        TicketFact[] dense = [At(0, "1"), At(1, "2"), At(2, "3"), At(3, "4"), At(40, "5"), At(200, "6")];
        var options = new ClusterOptions { MinTickets = 5, Window = TimeSpan.FromHours(48) };

        Assert.Empty(Clusters.FindPlaces(spread, options));
        Assert.Equal(5, Assert.Single(Clusters.FindPlaces(dense, options)).Count);
    }

    [Fact]
    public void Repeat_callers_need_n_contacts()
    {
        var t0 = new DateTimeOffset(2025, 5, 12, 8, 0, 0, TimeSpan.FromHours(8));
        TicketFact Call(string hash, int i) => new()
        {
            Number = hash + i, RegisteredAt = t0.AddHours(i), Channel = "电话", Type = TicketType.Complaint, CategoryCode = "020301",
            Category1 = "城市管理", Category2 = "噪音", Category3 = "社会生活噪音", District = "清江区", Summary = "噪音", CallerPhoneHash = hash,
        };
        TicketFact[] tickets = [Call("aa", 1), Call("aa", 2), Call("aa", 3), Call("bb", 1), Call("bb", 2)];

        var repeat = Clusters.FindRepeatCallers(tickets, new ClusterOptions { RepeatCallerMinContacts = 3 });

        Assert.Equal(("aa", 3), (Assert.Single(repeat).PhoneHash, repeat[0].Contacts));
    }
}
