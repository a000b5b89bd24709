using System.IO.Compression;
using System.Net;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using Hotline.Server.Reports;
using Hotline.Testing;

namespace Hotline.Server.Tests.Reports;

/// <summary>
/// Reports through the real server: tickets registered over the API come out, masked, on the workbook's detail sheet;
/// generation shows its stage; the download carries both file names; monthly/quarterly helpers and the KPI endpoint.
/// </summary>
public sealed class ReportsTests
{
    private static readonly XNamespace S = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
    private static readonly XNamespace R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
    private static readonly XNamespace Pr = "http://schemas.openxmlformats.org/package/2006/relationships";

    [Fact]
    public async Task Registered_tickets_appear_masked_on_the_detail_sheet_of_a_generated_workbook()
    {
        await using var server = await ServerProcess.StartAsync();
        using var agent = await ApiClient.LoginAsync(server, "agent1");
        using var leader = await ApiClient.LoginAsync(server, "leader1");

        var numbers = new List<string>();
        string[] phones = ["13812345678", "13987654321", "15011112222"];
        for (var i = 0; i < phones.Length; i++)
        {
            var (status, ticket, _) = await agent.SendAsync(HttpMethod.Post, "api/tickets", new
            {
                channel = "网站", type = "投诉", urgency = "一般", categoryCode = "010201", areaCode = "010101", address = $"湖滨路 {i + 1} 号",
                content = $"小区楼道垃圾无人清理第{i + 1}件，请回电{phones[i]}。", callerName = "李女士", callerPhone = phones[i],
            }, idempotencyKey: Guid.NewGuid().ToString());
            Assert.True(status == HttpStatusCode.Created, $"register → {status}: {ticket}");
            numbers.Add((string)ticket!["number"]!);
        }

        var today = DateOnly.FromDateTime(DateTime.UtcNow.AddHours(8));
        var (reqStatus, report, _) = await leader.SendAsync(HttpMethod.Post, "api/reports",
            new { periodStart = today.AddDays(-6).ToString("yyyy-MM-dd"), periodEnd = today.ToString("yyyy-MM-dd") });
        Assert.True(reqStatus == HttpStatusCode.Accepted, $"report → {reqStatus}: {report}");
        Assert.NotNull(report!["stage"]);
        var id = (string)report["id"]!;
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while ((string?)report!["status"] is "queued" or "running" && DateTime.UtcNow < deadline)
        {
            await Task.Delay(300);
            report = await leader.GetJsonAsync($"api/reports/{id}");
        }

        Assert.Equal("done", (string?)report!["status"]);
        Assert.Equal(1.0, (double)report["progress"]!);
        Assert.Equal("完成", (string?)report["stage"]);
        Assert.Contains(id, (await leader.GetJsonAsync("api/reports")).AsArray().Select(r => (string?)r!["id"]));

        using var file = await leader.Http.GetAsync($"api/reports/{id}/download");
        Assert.Equal(HttpStatusCode.OK, file.StatusCode);
        var disposition = file.Content.Headers.GetValues("Content-Disposition").Single();
        Assert.Matches("^attachment; filename=\"hotline-(weekly|custom)-[0-9A-Z-]+\\.xlsx\"; filename\\*=UTF-8''", disposition); // a range that is an ISO week is a weekly report
        var encoded = disposition[(disposition.IndexOf("filename*=UTF-8''", StringComparison.Ordinal) + "filename*=UTF-8''".Length)..];
        Assert.Equal((string?)report["fileName"], Uri.UnescapeDataString(encoded));
        Assert.Contains("12345热线民意分析", Uri.UnescapeDataString(encoded), StringComparison.Ordinal);

        var rows = DetailRows(await file.Content.ReadAsByteArrayAsync());
        var all = string.Join("\n", rows.Select(r => string.Join("|", r)));
        foreach (var (number, phone) in numbers.Zip(phones))
        {
            var row = rows.SingleOrDefault(r => r.Count > 0 && r[0] == number);
            Assert.True(row is not null, $"ticket {number} is not on the detail sheet");
            Assert.Equal(phone[..3] + "****" + phone[^4..], row[11]);           // 来电号码
            Assert.Contains(phone[..3] + "****" + phone[^4..], row[12], StringComparison.Ordinal); // 诉求摘要: the number in the text is masked too
            Assert.DoesNotContain(phone, all, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Kind_helpers_make_monthly_and_quarterly_periods_and_the_kpi_endpoint_answers()
    {
        await using var server = await ServerProcess.StartAsync();
        using var leader = await ApiClient.LoginAsync(server, "leader1");

        var (status, monthly, _) = await leader.SendAsync(HttpMethod.Post, "api/reports", new { kind = "monthly", date = "2026-02-10" });
        Assert.True(status == HttpStatusCode.Accepted, $"monthly → {status}: {monthly}");
        Assert.Equal(("monthly", "2026-02-01", "2026-02-28"), ((string?)monthly!["kind"], (string?)monthly["periodStart"], (string?)monthly["periodEnd"]));
        Assert.Contains("月报_2026年02月", (string?)monthly["fileName"], StringComparison.Ordinal);

        var (qs, quarterly, _) = await leader.SendAsync(HttpMethod.Post, "api/reports", new { kind = "quarterly", date = "2026-08-31" });
        Assert.Equal(HttpStatusCode.Accepted, qs);
        Assert.Equal(("quarterly", "2026-07-01", "2026-09-30"), ((string?)quarterly!["kind"], (string?)quarterly["periodStart"], (string?)quarterly["periodEnd"]));

        var (bad, problem, _) = await leader.SendAsync(HttpMethod.Post, "api/reports", new { kind = "yearly" });
        Assert.Equal(HttpStatusCode.BadRequest, bad);
        Assert.NotNull(problem!["errors"]!["kind"]);

        var kpi = await leader.GetJsonAsync("api/reports/kpi");
        var ids = kpi["kpis"]!.AsArray().Select(k => (string?)k!["id"]).ToList();
        Assert.Contains("calls.answerRate", ids);
        Assert.Contains("tickets.resolution", ids);
        Assert.Contains("knowledge.updates", ids);
        Assert.Equal(3, kpi["kpis"]!.AsArray().Count(k => (bool)k!["threeRates"]!));
    }

    [Fact]
    public async Task Resolution_rate_counts_replies_resolved_and_confirmed_by_the_callback()
    {
        await using var server = await ServerProcess.StartAsync();
        using var agent = await ApiClient.LoginAsync(server, "agent1");
        using var dispatcher = await ApiClient.LoginAsync(server, "disp1");
        using var housing = await ApiClient.LoginAsync(server, "handler1"); // zjj
        using var callback = await ApiClient.LoginAsync(server, "cb1");
        using var leader = await ApiClient.LoginAsync(server, "leader1");

        // Three tickets through the loop: replied resolved / explained / resolved; callbacks 满意 / 满意 / 不满意.
        (string Result, string Satisfaction)[] cases = [("resolved", "满意"), ("explained", "满意"), ("resolved", "不满意")];
        foreach (var (result, satisfaction) in cases)
        {
            var (status, t, _) = await agent.SendAsync(HttpMethod.Post, "api/tickets", new
            {
                channel = "电话", type = "求助", urgency = "一般", categoryCode = "010201", areaCode = "010101", address = "湖滨路 9 号",
                content = "小区路灯损坏，夜间出行不便。", callerName = "张先生", callerPhone = "13600001111",
            }, idempotencyKey: Guid.NewGuid().ToString());
            Assert.True(status == HttpStatusCode.Created, $"register → {status}: {t}");
            var id = (string)t!["id"]!;
            t = await dispatcher.ActAsync(id, "dispatch", new { unitId = "zjj" }, (long)t["version"]!);
            t = await housing.ActAsync(id, "sign-for", new { }, (long)t["version"]!);
            t = await housing.ActAsync(id, "reply", new { result, text = "已安排维修并告知市民。" }, (long)t["version"]!);
            t = await dispatcher.ActAsync(id, "review", new { accept = true }, (long)t["version"]!);
            var deadline = DateTime.UtcNow.AddSeconds(45);
            while ((string?)t["state"] != "AwaitingCallback" && DateTime.UtcNow < deadline)
            {
                await Task.Delay(300);
                t = await callback.GetJsonAsync($"api/tickets/{id}");
            }

            Assert.Equal("AwaitingCallback", (string?)t["state"]);
            await callback.ActAsync(id, "callback", new { satisfaction, comment = satisfaction == "不满意" ? "路灯仍不亮" : null }, (long)t["version"]!);
        }

        var kpis = (await leader.GetJsonAsync("api/reports/kpi"))["kpis"]!.AsArray();
        JsonNode Current(string kpiId) => kpis.Single(k => (string?)k!["id"] == kpiId)!["current"]!;
        // 解决率: only the first is resolved (the second was explained, the third's callback did not confirm it): 1 / 3.
        var resolution = Current("tickets.resolution");
        Assert.Equal((1.0, 3.0), ((double)resolution["numerator"]!, (double)resolution["denominator"]!));
        var satisfied = Current("tickets.satisfaction");
        Assert.Equal((2.0, 3.0), ((double)satisfied["numerator"]!, (double)satisfied["denominator"]!));
    }

    [Theory]
    [InlineData("海州市12345热线民意分析周报_2026年第03周.xlsx", "hotline-weekly-2026-W03.xlsx")]
    [InlineData("a\"b;c.xlsx", "a\"b;c.xlsx")]
    public void Content_disposition_has_an_ascii_fallback_and_the_utf8_name(string name, string ascii)
    {
        var header = ReportsModule.ContentDisposition(name, ascii);
        var parsed = System.Net.Http.Headers.ContentDispositionHeaderValue.Parse(header);
        Assert.Equal("attachment", parsed.DispositionType);
        Assert.Equal(name, parsed.FileNameStar);
        Assert.DoesNotContain(header, c => c > 127);
        Assert.All(parsed.FileName!.Trim('"'), c => Assert.True(c is >= ' ' and < (char)127 and not ('"' or '\\' or ';')));
    }

    /// <summary>The 工单明细 sheet as rows of cell texts (shared and inline strings resolved), read with nothing but the zip.</summary>
    private static List<List<string>> DetailRows(byte[] xlsx)
    {
        using var zip = new ZipArchive(new MemoryStream(xlsx), ZipArchiveMode.Read);
        XDocument Load(string path) => XDocument.Load(zip.GetEntry(path)!.Open());
        var sheet = Load("xl/workbook.xml").Descendants(S + "sheet").Single(s => (string?)s.Attribute("name") == "工单明细");
        var rid = (string)sheet.Attribute(R + "id")!;
        var target = (string)Load("xl/_rels/workbook.xml.rels").Descendants(Pr + "Relationship").Single(r => (string?)r.Attribute("Id") == rid).Attribute("Target")!;
        var shared = zip.GetEntry("xl/sharedStrings.xml") is null ? [] : Load("xl/sharedStrings.xml").Root!.Elements(S + "si").Select(si => string.Concat(si.Descendants(S + "t").Select(t => t.Value))).ToList();
        return Load("xl/" + target.TrimStart('/').Replace("xl/", "", StringComparison.Ordinal)).Descendants(S + "row")
            .Select(row => row.Elements(S + "c").Select(c => (string?)c.Attribute("t") switch
            {
                "s" => shared[int.Parse(c.Element(S + "v")!.Value, System.Globalization.CultureInfo.InvariantCulture)],
                "inlineStr" => string.Concat(c.Descendants(S + "t").Select(t => t.Value)),
                _ => c.Element(S + "v")?.Value ?? "",
            }).ToList()).ToList();
    }
}
