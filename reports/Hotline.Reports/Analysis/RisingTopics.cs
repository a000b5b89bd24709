namespace Hotline.Reports.Analysis;

public sealed record RisingOptions
{
    public static RisingOptions Default { get; } = new();

    /// <summary>Family-wise significance: each item is tested at Alpha / number of items (Bonferroni).</summary>
    public double Alpha { get; init; } = 0.01;

    /// <summary>Ignore items with fewer tickets in the period than this.</summary>
    public int MinCount { get; init; } = 10;

    /// <summary>Current count must also be at least this multiple of the baseline mean.</summary>
    public double MinRatio { get; init; } = 1.5;

    /// <summary>Floor of the baseline mean, so an item unseen before is compared with λ = 1, not 0.</summary>
    public double BaselineFloor { get; init; } = 1.0;
}

/// <summary>What is counted: a hot term or a matter category.</summary>
public enum RisingKind
{
    Term,
    Category,
}

/// <summary>One item compared with its baseline, with every number shown in the workbook.</summary>
public sealed record RisingItem(
    RisingKind Kind,
    string Name,
    int Current,
    IReadOnlyList<int> Previous,
    int? LastYear,
    double Baseline,
    double Ratio,
    double Z,
    double PValue,
    bool Alert);

/// <summary>
/// Unusual rises against the previous periods: baseline λ = mean of the previous counts (floored); the
/// p-value is the Poisson upper tail P(X ≥ current | λ); z = (current − λ)/√λ is shown as an easier number.
/// An alert needs the Bonferroni-corrected p-value, a minimum count and a minimum ratio.
/// </summary>
public static class RisingTopics
{
    public sealed record Series(RisingKind Kind, string Name, int Current, IReadOnlyList<int> Previous, int? LastYear);

    public static IReadOnlyList<RisingItem> Evaluate(IReadOnlyList<Series> series, RisingOptions? options = null)
    {
        options ??= RisingOptions.Default;
        var perTest = options.Alpha / Math.Max(1, series.Count);
        return series.Select(s =>
            {
                var mean = s.Previous.Count == 0 ? 0 : s.Previous.Average();
                var lambda = Math.Max(mean, options.BaselineFloor);
                var p = PoissonUpperTail(s.Current, lambda);
                var z = (s.Current - lambda) / Math.Sqrt(lambda);
                var ratio = s.Current / lambda;
                var alert = s.Current >= options.MinCount && ratio >= options.MinRatio && p < perTest;
                return new RisingItem(s.Kind, s.Name, s.Current, s.Previous, s.LastYear, mean, ratio, z, p, alert);
            })
            .OrderByDescending(r => r.Alert)
            .ThenBy(r => r.PValue)
            .ThenByDescending(r => r.Current)
            .ToList();
    }

    /// <summary>P(X ≥ k) for X ~ Poisson(λ), computed in log space (stable for λ in the thousands).</summary>
    public static double PoissonUpperTail(int k, double lambda)
    {
        if (k <= 0)
        {
            return 1;
        }

        if (lambda <= 0)
        {
            return 0;
        }

        double LogP(int i) => -lambda + (i * Math.Log(lambda)) - LogFactorial(i);

        if (k > lambda)
        {
            // Terms decrease from k upward.
            var first = LogP(k);
            double sum = 0;
            for (var i = k; ; i++)
            {
                var t = Math.Exp(LogP(i) - first);
                sum += t;
                if (t < 1e-16 * sum)
                {
                    break;
                }
            }

            return Math.Min(1, Math.Exp(first) * sum);
        }

        // k ≤ λ: 1 − P(X ≤ k−1); terms decrease from k−1 downward.
        var top = LogP(k - 1);
        double lower = 0;
        for (var i = k - 1; i >= 0; i--)
        {
            var t = Math.Exp(LogP(i) - top);
            lower += t;
            if (t < 1e-16 * lower)
            {
                break;
            }
        }

        return Math.Clamp(1 - (Math.Exp(top) * lower), 0, 1);
    }

    /// <summary>ln(n!) via Lanczos' log-gamma (exact summation below 20).</summary>
    public static double LogFactorial(int n)
    {
        if (n < 20)
        {
            double s = 0;
            for (var i = 2; i <= n; i++)
            {
                s += Math.Log(i);
            }

            return s;
        }

        return LogGamma(n + 1.0);
    }

    private static readonly double[] Lanczos =
    [
        0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
        -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
    ];

    private static double LogGamma(double x)
    {
        x -= 1;
        var a = Lanczos[0];
        var t = x + 7.5;
        for (var i = 1; i < 9; i++)
        {
            a += Lanczos[i] / (x + i);
        }

        return (0.5 * Math.Log(2 * Math.PI)) + ((x + 0.5) * Math.Log(t)) - t + Math.Log(a);
    }
}
