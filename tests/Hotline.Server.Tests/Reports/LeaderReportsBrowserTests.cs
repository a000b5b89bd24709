using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Spreadsheet;
using Hotline.Testing;

namespace Hotline.Server.Tests.Reports;

/// <summary>
/// The leader's report page in a real browser: tests/e2e/leader-reports.mjs (playwright-core driving Debian chromium,
/// headless) against a real server process — KPI cards, a workbook for a date range generated with its progress shown,
/// downloaded under its Chinese name (Content-Disposition), and the downloaded file opened here with the OpenXml SDK.
/// </summary>
public sealed class LeaderReportsBrowserTests
{
    [Fact]
    public async Task Leader_generates_a_workbook_for_a_range_watches_its_progress_and_downloads_it_under_its_chinese_name()
    {
        var failure = await E2eScripts.EnsureInstalledAsync();
        Assert.True(failure is null, failure);
        await using var server = await ServerProcess.StartAsync();
        var artifacts = Path.Combine(Path.GetTempPath(), "hotline-leader-e2e-" + Guid.NewGuid().ToString("N"));
        try
        {
            var (exit, output) = await E2eScripts.RunScriptAsync("leader-reports.mjs", new Dictionary<string, string>
            {
                ["BASE_URL"] = server.BaseAddress.ToString(),
                ["ARTIFACTS"] = artifacts,
            });
            Assert.True(exit == 0, $"leader-reports.mjs exited with {exit}:\n{output}\n--- server log ---\n{E2eScripts.Tail(server.Log, 80)}");

            // The downloaded file is a valid workbook: the SDK opens it, the sheets are there, the detail sheet has rows.
            using var doc = SpreadsheetDocument.Open(Path.Combine(artifacts, "leader-report.xlsx"), isEditable: false);
            var sheets = doc.WorkbookPart!.Workbook.Sheets!.Elements<Sheet>().Select(s => s.Name!.Value!).ToList();
            Assert.Equal(Hotline.Reports.Workbook.WeeklyWorkbookWriter.SheetNames, sheets);
            var detail = doc.WorkbookPart.Workbook.Sheets!.Elements<Sheet>().Single(s => s.Name == "工单明细");
            var part = (WorksheetPart)doc.WorkbookPart.GetPartById(detail.Id!);
            Assert.True(part.Worksheet.GetFirstChild<SheetData>()!.Elements<Row>().Count() >= 3, "the detail sheet has its title, note and header rows");
        }
        finally
        {
            if (Directory.Exists(artifacts))
            {
                Directory.Delete(artifacts, recursive: true);
            }
        }
    }
}
