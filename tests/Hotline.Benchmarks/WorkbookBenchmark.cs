using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Spreadsheet;
using Hotline.Reports;
using Hotline.Reports.Demo;
using Hotline.Reports.Facts;
using Hotline.Reports.Workbook;

namespace Hotline.Benchmarks;

/// <summary>
/// The weekly workbook for 1,000,000 tickets (analysis + every sheet + the streamed detail sheet) against a raw
/// <see cref="OpenXmlWriter"/> dump of the same detail rows through the SDK's <see cref="SpreadsheetDocument"/>.
/// Each side runs in its own child process (this executable with <c>HOTLINE_WORKBOOK_CHILD</c> set) so its peak
/// resident set is its own: the facts are generated first, then the peak is reset (Linux <c>/proc/self/clear_refs</c>)
/// and the work is measured.
/// </summary>
public sealed class WorkbookBenchmark : IBenchmarkSuite
{
    private const string ChildVariable = "HOTLINE_WORKBOOK_CHILD";
    private const double Gb = 1024.0 * 1024 * 1024;

    public string Name => "workbook";

    public async Task<IReadOnlyList<BenchmarkResult>> RunAsync(BenchmarkContext context)
    {
        var tickets = context.Quick ? 100_000 : 1_000_000;
        var n = tickets.ToString("N0", CultureInfo.InvariantCulture);
        var raw = await RunChildAsync("raw", tickets, context.Log);
        var book = await RunChildAsync("workbook", tickets, context.Log);
        var s = (double x) => x.ToString("0.0", CultureInfo.InvariantCulture) + " s";
        var g = (double x) => (x / Gb).ToString("0.00", CultureInfo.InvariantCulture) + " GB";
        var m = (double x) => (x / (1024 * 1024)).ToString("N0", CultureInfo.InvariantCulture) + " MB";
        return
        [
            new($"workbook {n} tickets: analysis + 13 sheets, time", s(book.Seconds), "≤ 30 s", "raw OpenXmlWriter dump " + s(raw.Seconds), Measure.Ratio(book.Seconds, raw.Seconds), book.Seconds <= 30 && book.Seconds <= 2 * raw.Seconds),
            new("  CPU time (the machine is shared: wall time includes waiting for a core)", s(book.CpuSeconds), "—", "raw dump " + s(raw.CpuSeconds), Measure.Ratio(book.CpuSeconds, raw.CpuSeconds), book.CpuSeconds <= 2 * raw.CpuSeconds),
            new("  of which analysis (WeeklyReport.Build)", s(book.AnalysisSeconds), "—", "—", "—", true),
            new("  of which writing the .xlsx", s(book.Seconds - book.AnalysisSeconds), "ratio ≤ 2", s(raw.Seconds), Measure.Ratio(book.Seconds - book.AnalysisSeconds, raw.Seconds), book.Seconds - book.AnalysisSeconds <= 2 * raw.Seconds),
            new($"workbook {n} tickets: peak working set (process, facts included)", g(book.PeakBytes), "≤ 1.5 GB", "raw dump " + g(raw.PeakBytes), Measure.Ratio(book.PeakBytes, raw.PeakBytes), book.PeakBytes <= 1.5 * Gb),
            new("  peak above the facts in memory", m(book.PeakBytes - book.BaselineBytes), "flat in rows", "raw dump " + m(raw.PeakBytes - raw.BaselineBytes), Measure.Ratio(book.PeakBytes - book.BaselineBytes, raw.PeakBytes - raw.BaselineBytes), true),
            new("  GC allocations during the run", m(book.AllocatedBytes), "—", "raw dump " + m(raw.AllocatedBytes), Measure.Ratio(book.AllocatedBytes, raw.AllocatedBytes), true),
            new("  file size", m(book.FileBytes), "—", "raw dump " + m(raw.FileBytes), Measure.Ratio(book.FileBytes, raw.FileBytes), true),
        ];
    }

    private sealed record ChildResult(double Seconds, double AnalysisSeconds, long BaselineBytes, long PeakBytes, long AllocatedBytes, long FileBytes, double GenerateSeconds, double CpuSeconds);

    private static async Task<ChildResult> RunChildAsync(string mode, int tickets, TextWriter log)
    {
        var exe = Environment.ProcessPath!;
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(exe) is "dotnet")
        {
            psi.ArgumentList.Add(typeof(WorkbookBenchmark).Assembly.Location);
        }

        psi.Environment[ChildVariable] = $"{mode}:{tickets}";
        psi.Environment["DOTNET_gcServer"] = "0";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        var line = (await stdout).Split('\n').LastOrDefault(l => l.StartsWith('{')) ?? throw new InvalidOperationException($"{mode} child failed: {await stderr}");
        var r = JsonSerializer.Deserialize<ChildResult>(line)!;
        log.WriteLine($"  {mode}: generate {r.GenerateSeconds:0.0} s, run {r.Seconds:0.0} s, cpu {r.CpuSeconds:0.0} s (analysis {r.AnalysisSeconds:0.0} s), peak {r.PeakBytes / Gb:0.00} GB (baseline {r.BaselineBytes / Gb:0.00} GB), file {r.FileBytes / 1048576.0:0} MB");
        return r;
    }

    /// <summary>Runs before Main: when started as a child, does the measured work, prints one JSON line and exits.</summary>
#pragma warning disable CA2255 // a benchmark executable, not a library: the child mode must bypass the suite runner
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void ChildEntry()
    {
        if (Environment.GetEnvironmentVariable(ChildVariable) is not { Length: > 0 } spec)
        {
            return;
        }

        var parts = spec.Split(':');
        var mode = parts[0];
        var tickets = int.Parse(parts[1], CultureInfo.InvariantCulture);
        var clock = Stopwatch.StartNew();
        // The period holds the tickets; history weeks are left out so the facts are 1M tickets, not 6M.
        var facts = DemoWeekGenerator.Generate(new DateOnly(2025, 11, 17), tickets, 7, new DemoOptions { IncludeHistory = false });
        var generate = clock.Elapsed.TotalSeconds;
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        var baseline = Environment.WorkingSet;
        ResetPeak();
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var file = Path.Combine(Path.GetTempPath(), $"hotline-bench-{Environment.ProcessId}.xlsx");
        double analysis = 0;
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        clock.Restart();
        if (mode == "raw")
        {
            RawDump(facts, file);
        }
        else
        {
            var report = WeeklyReport.Build(facts);
            analysis = clock.Elapsed.TotalSeconds;
            using var stream = new FileStream(file, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
            WeeklyWorkbookWriter.Write(report, stream);
        }

        var seconds = clock.Elapsed.TotalSeconds;
        var cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
        var result = new ChildResult(seconds, analysis, baseline, Peak(), GC.GetTotalAllocatedBytes(precise: true) - allocated, new FileInfo(file).Length, generate, cpuSeconds);
        File.Delete(file);
        Console.WriteLine(JsonSerializer.Serialize(result));
        Console.Out.Flush();
        Environment.Exit(0);
    }

    /// <summary>The reference: the same 29 detail columns per ticket, inline strings, via the SDK package and OpenXmlWriter.</summary>
    private static void RawDump(WeeklyFacts facts, string file)
    {
        var tz = facts.UtcOffset;
        using var doc = SpreadsheetDocument.Create(file, SpreadsheetDocumentType.Workbook);
        var book = doc.AddWorkbookPart();
        var sheet = book.AddNewPart<WorksheetPart>();
        using (var w = OpenXmlWriter.Create(sheet))
        {
            w.WriteStartElement(new Worksheet());
            w.WriteStartElement(new SheetData());
            var row = 0;
            foreach (var t in facts.Tickets)
            {
                row++;
                w.WriteStartElement(new Row(), [new OpenXmlAttribute("r", "", row.ToString(CultureInfo.InvariantCulture))]);
                void Text(string? s)
                {
                    w.WriteStartElement(new Cell { DataType = CellValues.InlineString });
                    w.WriteElement(new InlineString(new Text(s ?? "")));
                    w.WriteEndElement();
                }

                void Num(double? d)
                {
                    w.WriteStartElement(new Cell());
                    w.WriteElement(new CellValue(d?.ToString("R", CultureInfo.InvariantCulture) ?? ""));
                    w.WriteEndElement();
                }

                double? Dt(DateTimeOffset? x) => x?.ToOffset(tz).DateTime.ToOADate();
                Text(t.Number); Num(Dt(t.RegisteredAt)); Text(t.Channel); Text(t.Type.ToString()); Text(t.CategoryCode); Text(t.Category1); Text(t.Category2);
                Text(t.Category3); Text(t.District); Text(t.Town); Text(t.Urgency.ToString()); Text(t.CallerPhone); Text(t.Summary); Text(t.MainUnitId);
                Text(t.AnsweredOnTheSpot ? "是" : "否"); Num(Dt(t.DispatchedAt)); Num(Dt(t.SignedForAt)); Num(Dt(t.SignForDeadline)); Num(Dt(t.RepliedAt));
                Num(Dt(t.ReplyDeadline)); Num(t.ReturnCount); Num(t.ExtensionCount); Num(t.ReHandlingCount); Num(Dt(t.ClosedAt)); Text(t.Satisfaction?.ToString());
                Text(t.UnsatisfiedReason); Text(t.Supervision.ToString()); Text(t.IsOverdue ? "是" : "否"); Text(string.Join("、", t.Tags));
                w.WriteEndElement();
            }

            w.WriteEndElement();
            w.WriteEndElement();
        }

        book.Workbook = new DocumentFormat.OpenXml.Spreadsheet.Workbook(new Sheets(new Sheet { Name = "工单明细", SheetId = 1, Id = book.GetIdOfPart(sheet) }));
    }

    private static void ResetPeak()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // not Linux: the peak then includes generating the facts
        }
    }

    private static long Peak()
    {
        try
        {
            var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            if (line is not null)
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
            }
        }
        catch (IOException)
        {
        }

        using var self = Process.GetCurrentProcess();
        return self.PeakWorkingSet64;
    }
}
