using System.Globalization;
using Hotline.Domain.Tickets;
using Hotline.Server.Jobs;
using Hotline.Server.Reference;
using Microsoft.Extensions.DependencyInjection;

namespace Hotline.Server.Tests.Jobs;

/// <summary>
/// Auto-dispatch on a published catalogue whose entries are limited to areas and name co-units (job harness: SQLite
/// store, manual clock; each job runs twice per step, so every event must appear once). Demo areas: 01 东湖区 →
/// 0101 湖滨街道 → 010101 湖滨社区 / 010102 东门社区; 0102 青石街道 → 010201 青石社区; 02 西山区 → 020101 西山社区.
/// Category 020301 is 城市管理 / 噪音 / 施工噪音.
/// </summary>
public sealed class AutoDispatchCatalogueTests
{
    private static DateTimeOffset Local(string text) => DateTimeOffset.ParseExact(text + " +08:00", "yyyy-MM-dd HH:mm zzz", CultureInfo.InvariantCulture);

    private static async Task<List<T>> EventsOf<T>(JobHarness h, Guid id) => (await h.HistoryAsync(id)).Select(x => x.Event).OfType<T>().ToList();

    private static void Publish(JobHarness h, params CatalogueEntry[] entries) =>
        h.Services.GetRequiredService<CityReference>().Apply(new DispatchCataloguePublished("2", "1", entries, "admin", h.Clock.GetUtcNow()));

    private static async Task RunAt(JobHarness h, string at)
    {
        h.Clock.Set(Local(at));
        var job = h.Job<AutoDispatchJob>();
        await job.RunAsync(CancellationToken.None);
        await job.RunAsync(CancellationToken.None);
    }

    /// <summary>The main unit and the co-units (sorted, comma-joined) of a dispatched ticket.</summary>
    private static async Task<(string Main, string Co)> UnitsOf(JobHarness h, Guid id)
    {
        var t = (await h.Tickets.LoadAsync(id, CancellationToken.None)).Ticket;
        Assert.Equal(TicketState.Dispatched, t.State);
        return (t.Tasks.Single(x => x.Role == TaskRoles.Main).UnitId, string.Join(",", t.Tasks.Where(x => x.Role == TaskRoles.CoHandler).Select(x => x.UnitId).Order(StringComparer.Ordinal)));
    }

    [Fact]
    public async Task The_most_specific_area_entry_wins_community_then_town_then_district_then_city_wide_with_its_co_units()
    {
        await using var h = new JobHarness(Local("2025-12-30 09:00"), new JobsOptions { AutoDispatchDelayMinutes = 30 });
        Publish(h,
            new CatalogueEntry("0203", "cgj"),
            new CatalogueEntry("0203", "gov-01", "01", ["cgj"]),
            new CatalogueEntry("0203", "town-0101", "0101", ["cgj"]),
            new CatalogueEntry("0203", "town-0101", "010101", ["sthjj", "cgj"]));
        var community = await h.RegisterAsync(category: "020301", area: "010101");
        var town = await h.RegisterAsync(category: "020301", area: "010102");
        var district = await h.RegisterAsync(category: "020301", area: "010201");
        var cityWide = await h.RegisterAsync(category: "020301", area: "020101");

        await RunAt(h, "2025-12-30 09:29"); // not waited long enough yet
        Assert.Empty(await EventsOf<TicketDispatched>(h, community));
        await RunAt(h, "2025-12-30 09:31");

        Assert.Equal(("town-0101", "cgj,sthjj"), await UnitsOf(h, community));
        Assert.Equal(("town-0101", "cgj"), await UnitsOf(h, town));
        Assert.Equal(("gov-01", "cgj"), await UnitsOf(h, district));
        Assert.Equal(("cgj", ""), await UnitsOf(h, cityWide));

        // Each ticket dispatched once (main + co tasks in one decision), following the catalogue, so no override recorded.
        foreach (var id in new[] { community, town, district, cityWide })
        {
            var main = Assert.Single(await EventsOf<TicketDispatched>(h, id), d => d.Role == TaskRoles.Main);
            Assert.Null(main.OverrideReason);
            Assert.Equal("2", main.CatalogueVersion);
            Assert.Empty(await EventsOf<DispatcherAttentionFlagged>(h, id));
        }
    }

    [Fact]
    public async Task A_deeper_category_beats_a_shallower_one_in_the_same_area_and_agreeing_candidates_are_not_ambiguous()
    {
        await using var h = new JobHarness(Local("2025-12-30 09:00"), new JobsOptions { AutoDispatchDelayMinutes = 30 });
        Publish(h,
            new CatalogueEntry("02", "town-0101", "0101"),
            new CatalogueEntry("0203", "sthjj", "0101", ["town-0101"]),
            // a town entry for 01 and a city-wide one for 0102 name the same unit: not a conflict
            new CatalogueEntry("01", "zjj", "0101"),
            new CatalogueEntry("0102", "zjj"));
        var noise = await h.RegisterAsync(category: "020301", area: "010101");
        var property = await h.RegisterAsync(category: "010201", area: "010101");

        await RunAt(h, "2025-12-30 09:31");

        Assert.Equal(("sthjj", "town-0101"), await UnitsOf(h, noise));
        Assert.Equal(("zjj", ""), await UnitsOf(h, property));
    }

    [Fact]
    public async Task Two_equally_specific_entries_that_disagree_are_flagged_ambiguous_once_and_not_dispatched()
    {
        await using var h = new JobHarness(Local("2025-12-30 09:00"), new JobsOptions { AutoDispatchDelayMinutes = 30 });
        // The town entry is more specific by area, the city-wide one by category: neither beats the other.
        Publish(h,
            new CatalogueEntry("02", "town-0101", "0101"),
            new CatalogueEntry("0203", "sthjj"));
        var id = await h.RegisterAsync(category: "020301", area: "010101");
        var elsewhere = await h.RegisterAsync(category: "020301", area: "020101"); // only the city-wide entry matches

        await RunAt(h, "2025-12-30 09:31");
        await RunAt(h, "2025-12-30 10:30");

        var t = (await h.Tickets.LoadAsync(id, CancellationToken.None)).Ticket;
        Assert.Equal(TicketState.Registered, t.State);
        var flag = Assert.Single(await EventsOf<DispatcherAttentionFlagged>(h, id));
        Assert.Equal(DispatcherAttentionReasons.Ambiguous, flag.ReasonCode);
        Assert.Contains("02@0101→town-0101", flag.Detail, StringComparison.Ordinal);
        Assert.Contains("0203@全市→sthjj", flag.Detail, StringComparison.Ordinal);
        Assert.Equal(Local("2025-12-30 09:31"), flag.At);

        Assert.Equal(("sthjj", ""), await UnitsOf(h, elsewhere));

        // A dispatcher decides; the flag ends with the wait.
        await h.ActAsync(id, new DispatchTicket(Guid.NewGuid(), "town-0101", "属地街道先行处置", "disp1"));
        Assert.Empty(h.Services.GetRequiredService<DispatchAttention>().Current);
    }

    [Fact]
    public async Task Entries_of_another_area_or_only_the_district_fallback_leave_the_ticket_flagged_as_without_an_entry()
    {
        await using var h = new JobHarness(Local("2025-12-30 09:00"), new JobsOptions { AutoDispatchDelayMinutes = 30 });
        Publish(h, new CatalogueEntry("0203", "town-0101", "0101"));
        var id = await h.RegisterAsync(category: "020301", area: "010201"); // 青石街道: the 湖滨街道 entry does not apply

        await RunAt(h, "2025-12-30 09:31");
        await RunAt(h, "2025-12-30 09:45");

        Assert.Equal(TicketState.Registered, (await h.Tickets.LoadAsync(id, CancellationToken.None)).Ticket.State);
        Assert.Equal(DispatcherAttentionReasons.NoCatalogueEntry, Assert.Single(await EventsOf<DispatcherAttentionFlagged>(h, id)).ReasonCode);
    }

    [Fact]
    public void The_choice_is_the_entry_the_catalogue_suggests_whenever_it_is_unambiguous()
    {
        CatalogueEntry[] entries =
        [
            new("02", "cgj"), new("0203", "sthjj", "01"), new("0203", "town-0101", "0101", ["cgj"]), new("020301", "gov-01", "01"),
        ];
        var city = DemoCity.Create();
        city.Apply(new DispatchCataloguePublished("2", "1", entries, "admin", DateTimeOffset.UnixEpoch));
        foreach (var (category, area) in new[] { ("020301", "010101"), ("020302", "010101"), ("020302", "010201"), ("020101", "020101"), ("020301", "020101") })
        {
            var choice = CatalogueChoice.For(entries, category, area);
            if (choice.Entry is { } entry) Assert.Equal(city.SuggestUnit(category, area), entry.UnitId);
        }
        // 020301 in 010101: 020301@01 (deeper category) vs 0203@0101 (deeper area) disagree.
        Assert.True(CatalogueChoice.For(entries, "020301", "010101").IsAmbiguous);
        Assert.Equal("town-0101", CatalogueChoice.For(entries, "020302", "010101").Entry?.UnitId);
    }
}
