using Hotline.Reports.Facts;

namespace Hotline.Reports.Kpi;

/// <summary>
/// Weights of the unit score, keyed by KPI id; only percentage KPIs can be weighted (a count has no 0–1 scale).
/// Rates where lower is better (退回率, 重办率) enter as 1 − rate.
/// The score is 100 × Σ wᵢ·vᵢ / Σ wᵢ over the KPIs the unit has a value for.
/// </summary>
public sealed record UnitScoreOptions
{
    public static UnitScoreOptions Default { get; } = new();

    public IReadOnlyDictionary<string, double> Weights { get; init; } = new Dictionary<string, double>
    {
        [KpiBook.OnTimeSignFor.Id] = 0.10,
        [KpiBook.OnTimeCompletion.Id] = 0.20,
        [KpiBook.CompletionRate.Id] = 0.10,
        [KpiBook.ResolutionRate.Id] = 0.15,
        [KpiBook.SatisfactionRate.Id] = 0.30,
        [KpiBook.ReturnRate.Id] = 0.05,
        [KpiBook.ReHandlingRate.Id] = 0.10,
    };

    /// <summary>Throws when a weight names an unknown KPI, a KPI that is not a percentage, or is negative.</summary>
    public UnitScoreOptions Validate()
    {
        foreach (var (id, w) in Weights)
        {
            var k = KpiBook.All.FirstOrDefault(x => x.Id == id)
                ?? throw new ArgumentException($"Unit score weight for unknown KPI '{id}'. Known: {string.Join(", ", KpiBook.All.Where(x => x.Unit == KpiUnit.Percent).Select(x => x.Id))}");
            if (k.Unit != KpiUnit.Percent)
            {
                throw new ArgumentException($"Unit score weight for '{id}': only percentage KPIs can be weighted.");
            }

            if (w < 0 || !double.IsFinite(w))
            {
                throw new ArgumentException($"Unit score weight for '{id}' must be ≥ 0.");
            }
        }

        return this;
    }

    /// <summary>Units with fewer dispatched tickets are listed but not ranked (样本不足).</summary>
    public int MinTicketsToRank { get; init; } = 5;

    /// <summary>How many units per peer group go on the red list (best) and the black list (worst).</summary>
    public int ListSize { get; init; } = 3;

    public KpiOptions Kpi { get; init; } = KpiOptions.Default;
}

public sealed record UnitScore(
    UnitFact Unit,
    IReadOnlyDictionary<string, KpiValue> Kpis,
    double? Score,
    int? Rank,
    int RankedInGroup)
{
    public KpiValue this[KpiDefinition kpi] => Kpis[kpi.Id];
}

public sealed record UnitRanking(IReadOnlyList<UnitScore> Units, IReadOnlyList<UnitScore> RedList, IReadOnlyList<UnitScore> BlackList);

public static class UnitScores
{
    /// <summary>Scores and ranks every unit within its peer group; tickets are attributed to their main unit.</summary>
    public static UnitRanking Rank(IReadOnlyList<TicketFact> tickets, IReadOnlyList<UnitFact> units, DateTimeOffset cutoff, int days, UnitScoreOptions? options = null,
        IReadOnlyList<KnowledgeUpdateFact>? knowledge = null)
    {
        options ??= UnitScoreOptions.Default;
        var byUnit = tickets.Where(t => t.MainUnitId is not null).GroupBy(t => t.MainUnitId!).ToDictionary(g => g.Key, g => (IReadOnlyList<TicketFact>)g.ToList());
        var kbByUnit = (knowledge ?? []).ToLookup(k => k.OwnerUnitId, StringComparer.Ordinal);

        var raw = units.Select(u =>
        {
            var input = new KpiInput(byUnit.GetValueOrDefault(u.Id) ?? [], [], cutoff, days, options.Kpi) { Knowledge = kbByUnit[u.Id].ToList() };
            var values = KpiBook.UnitKpis.ToDictionary(k => k.Id, k => k.Of(input));
            var dispatched = values[KpiBook.Dispatched.Id].Value ?? 0;
            return (Unit: u, Values: values, Score: dispatched >= options.MinTicketsToRank ? Score(values, options) : null);
        }).ToList();

        var scored = new List<UnitScore>();
        foreach (var group in raw.GroupBy(r => r.Unit.PeerGroup))
        {
            var ranked = group.Where(r => r.Score is not null).OrderByDescending(r => r.Score).ToList();
            foreach (var r in group)
            {
                int? rank = r.Score is null ? null : 1 + ranked.Count(o => o.Score > r.Score);
                scored.Add(new UnitScore(r.Unit, r.Values, r.Score, rank, ranked.Count));
            }
        }

        scored = scored.OrderBy(s => s.Unit.PeerGroup).ThenBy(s => s.Rank ?? int.MaxValue).ThenBy(s => s.Unit.Name, StringComparer.Ordinal).ToList();
        var red = new List<UnitScore>();
        var black = new List<UnitScore>();
        foreach (var group in scored.Where(s => s.Rank is not null).GroupBy(s => s.Unit.PeerGroup))
        {
            var ordered = group.OrderBy(s => s.Rank).ToList();
            var n = Math.Min(options.ListSize, ordered.Count / 2);
            red.AddRange(ordered.Take(n));
            black.AddRange(ordered.Skip(ordered.Count - n).Reverse());
        }

        return new UnitRanking(scored, red, black);
    }

    public static double? Score(IReadOnlyDictionary<string, KpiValue> values, UnitScoreOptions options)
    {
        double sum = 0, weights = 0;
        foreach (var (id, w) in options.Weights)
        {
            if (!values.TryGetValue(id, out var v) || v.Value is not { } value)
            {
                continue;
            }

            var def = KpiBook.ById(id);
            if (def.Unit != KpiUnit.Percent)
            {
                continue;
            }

            sum += w * (def.HigherIsBetter ? value : 1 - value);
            weights += w;
        }

        return weights > 0 ? 100 * sum / weights : null;
    }
}
