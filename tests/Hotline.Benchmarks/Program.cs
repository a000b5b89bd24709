using System.Reflection;
using System.Text;
using Hotline.Benchmarks;

// Usage: dotnet run -c Release --project tests/Hotline.Benchmarks -- [suite ...] [--quick] [--out results.md] [--list]
// With no suite names every suite runs and the table goes to tests/Hotline.Benchmarks/RESULTS.md (unless --out says
// otherwise); a subset writes a file only with --out. Prints a markdown table with the machine's core count.
var quick = args.Contains("--quick");
var outIndex = Array.IndexOf(args, "--out");
var names = args.Where((a, i) => !a.StartsWith("--", StringComparison.Ordinal) && (outIndex < 0 || i != outIndex + 1)).ToHashSet(StringComparer.OrdinalIgnoreCase);
var outFile = outIndex >= 0 && outIndex + 1 < args.Length ? args[outIndex + 1]
    : names.Count == 0 ? Path.Combine(Hotline.Testing.RepoPaths.Root, "tests", "Hotline.Benchmarks", "RESULTS.md") : null;
if (args.Contains("--list"))
{
    foreach (var t in Assembly.GetExecutingAssembly().GetTypes().Where(t => typeof(IBenchmarkSuite).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false }))
    {
        Console.WriteLine(((IBenchmarkSuite)Activator.CreateInstance(t)!).Name);
    }

    return 0;
}

var suites = Assembly.GetExecutingAssembly().GetTypes()
    .Where(t => typeof(IBenchmarkSuite).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
    .Select(t => (IBenchmarkSuite)Activator.CreateInstance(t)!)
    .Where(s => names.Count == 0 || names.Contains(s.Name))
    .OrderBy(s => s.Name, StringComparer.Ordinal)
    .ToList();

if (suites.Count == 0)
{
    Console.Error.WriteLine("No suite matched. Known: " + string.Join(", ", Assembly.GetExecutingAssembly().GetTypes().Where(t => typeof(IBenchmarkSuite).IsAssignableFrom(t) && !t.IsInterface).Select(t => ((IBenchmarkSuite)Activator.CreateInstance(t)!).Name)));
    return 2;
}

var context = new BenchmarkContext { Quick = quick };
var rows = new List<BenchmarkResult>();
foreach (var suite in suites)
{
    Console.WriteLine($"== {suite.Name}");
    try { rows.AddRange(await suite.RunAsync(context)); }
    catch (Exception e) { rows.Add(new BenchmarkResult(suite.Name, "error: " + e.Message, "", "", "", false)); }
}

var table = new StringBuilder();
table.AppendLine($"Machine: {Environment.ProcessorCount} cores, {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024 * 1024 * 1024.0):F0} GiB, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}; {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC{(quick ? " (--quick)" : "")}");
table.AppendLine();
table.AppendLine("| what | figure | goal | reference (same run) | ratio | met |");
table.AppendLine("|---|---|---|---|---|---|");
foreach (var r in rows) table.AppendLine($"| {r.What} | {r.Figure} | {r.Goal} | {r.Reference} | {r.Ratio} | {(r.Met ? "yes" : "no")} |");
Console.WriteLine();
Console.WriteLine(table);
if (outFile is not null)
{
    await File.WriteAllTextAsync(outFile, table.ToString());
    Console.WriteLine("Written to " + outFile);
}

return 0;
