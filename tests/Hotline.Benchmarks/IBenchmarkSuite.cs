namespace Hotline.Benchmarks;

/// <summary>
/// One line of the results table. Each suite measures its own figure and the same machine's reference figure in
/// the same run, so the ratio can be read at once. Suites are found by reflection: add a class, nothing else.
/// </summary>
public interface IBenchmarkSuite
{
    /// <summary>Short name used on the command line (e.g. "acd", "append-sqlite").</summary>
    string Name { get; }

    Task<IReadOnlyList<BenchmarkResult>> RunAsync(BenchmarkContext context);
}

/// <param name="What">What was measured.</param>
/// <param name="Figure">The measured figure, with its unit.</param>
/// <param name="Goal">The goal from the issue.</param>
/// <param name="Reference">The reference figure measured in the same run ("—" when none).</param>
/// <param name="Ratio">Figure / reference where it applies.</param>
/// <param name="Met">Whether the goal is met.</param>
public sealed record BenchmarkResult(string What, string Figure, string Goal, string Reference, string Ratio, bool Met);

public sealed class BenchmarkContext
{
    /// <summary>--quick: smaller runs for a smoke test.</summary>
    public bool Quick { get; init; }

    public TextWriter Log { get; init; } = Console.Out;
}
