using Hotline.Reports.Facts;

namespace Hotline.Reports.Analysis;

public sealed record ClusterOptions
{
    public static ClusterOptions Default { get; } = new();

    /// <summary>K: at least this many tickets on the same place/object …</summary>
    public int MinTickets { get; init; } = 5;

    /// <summary>T: … within this time window.</summary>
    public TimeSpan Window { get; init; } = TimeSpan.FromHours(48);

    /// <summary>N: a caller (by phone hash) with at least this many tickets in the period is a repeat caller.</summary>
    public int RepeatCallerMinContacts { get; init; } = 3;
}

/// <summary>The densest window of tickets on one place.</summary>
public sealed record PlaceCluster(
    string Place,
    string District,
    int Count,
    DateTimeOffset First,
    DateTimeOffset Last,
    string MainCategory,
    IReadOnlyList<TicketFact> Tickets);

public sealed record RepeatCaller(
    string PhoneHash,
    int Contacts,
    DateTimeOffset First,
    DateTimeOffset Last,
    IReadOnlyList<string> Categories,
    IReadOnlyList<TicketFact> Tickets);

/// <summary>Cluster alerts (≥ K tickets on one place within T hours) and repeat callers (≥ N contacts).</summary>
public static class Clusters
{
    public static IReadOnlyList<PlaceCluster> FindPlaces(IEnumerable<TicketFact> tickets, ClusterOptions? options = null)
    {
        options ??= ClusterOptions.Default;
        var result = new List<PlaceCluster>();
        foreach (var group in tickets.Where(t => !string.IsNullOrWhiteSpace(t.PlaceKey)).GroupBy(t => t.PlaceKey!, StringComparer.Ordinal))
        {
            var list = group.OrderBy(t => t.RegisteredAt).ToList();
            if (list.Count < options.MinTickets)
            {
                continue;
            }

            // Two pointers: the widest-count window [lo, hi] with Last − First ≤ T.
            int bestLo = 0, bestCount = 0, lo = 0;
            for (var hi = 0; hi < list.Count; hi++)
            {
                while (list[hi].RegisteredAt - list[lo].RegisteredAt > options.Window)
                {
                    lo++;
                }

                if (hi - lo + 1 > bestCount)
                {
                    bestCount = hi - lo + 1;
                    bestLo = lo;
                }
            }

            if (bestCount < options.MinTickets)
            {
                continue;
            }

            var window = list.GetRange(bestLo, bestCount);
            result.Add(new PlaceCluster(
                group.Key,
                MostCommon(window.Select(t => t.District)),
                bestCount,
                window[0].RegisteredAt,
                window[^1].RegisteredAt,
                MostCommon(window.Select(t => $"{t.Category1}/{t.Category2}")),
                window));
        }

        return result.OrderByDescending(c => c.Count).ThenBy(c => c.First).ToList();
    }

    public static IReadOnlyList<RepeatCaller> FindRepeatCallers(IEnumerable<TicketFact> tickets, ClusterOptions? options = null)
    {
        options ??= ClusterOptions.Default;
        return tickets.Where(t => !string.IsNullOrEmpty(t.CallerPhoneHash))
            .GroupBy(t => t.CallerPhoneHash!, StringComparer.Ordinal)
            .Where(g => g.Count() >= options.RepeatCallerMinContacts)
            .Select(g =>
            {
                var list = g.OrderBy(t => t.RegisteredAt).ToList();
                return new RepeatCaller(g.Key, list.Count, list[0].RegisteredAt, list[^1].RegisteredAt,
                    list.Select(t => t.Category2).Distinct(StringComparer.Ordinal).ToList(), list);
            })
            .OrderByDescending(r => r.Contacts)
            .ThenBy(r => r.First)
            .ToList();
    }

    private static string MostCommon(IEnumerable<string> values) =>
        values.GroupBy(v => v, StringComparer.Ordinal).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).First().Key;
}
