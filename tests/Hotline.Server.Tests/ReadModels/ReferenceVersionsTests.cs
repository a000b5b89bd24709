using System.Net;
using System.Text.Json.Nodes;
using Hotline.Testing;

namespace Hotline.Server.Tests.ReadModels;

/// <summary>
/// On the real server (embedded SQLite): publishing a new category tree and dispatch catalogue (validated, admin only),
/// old tickets keeping the labels of the version they were registered with, suggestions from the current catalogue;
/// the read-model rebuild command (admin endpoint and the start-up switch's setting) giving the same search answers.
/// </summary>
public sealed class ReferenceVersionsTests
{
    private static readonly string[] SameAsMain = ["gov-01"];

    private static object Registration(string category, string content) => new
    {
        channel = "电话", type = "投诉", urgency = "一般", categoryCode = category, areaCode = "010101", address = "湖滨路 8 号",
        content, callerName = "王建华", callerPhone = "13912345678",
    };

    private static JsonObject Node(string code, string name, params JsonNode[] children) => new() { ["code"] = code, ["name"] = name, ["children"] = new JsonArray(children) };

    [Fact]
    public async Task Publishing_validates_keeps_old_ticket_labels_and_suggests_from_the_current_catalogue_and_a_rebuild_answers_the_same()
    {
        await using var server = await ServerProcess.StartAsync();
        using var admin = await ApiClient.LoginAsync(server, "admin");
        using var agent = await ApiClient.LoginAsync(server, "agent1");
        using var dispatcher = await ApiClient.LoginAsync(server, "disp1");

        var (status, old, _) = await agent.SendAsync(HttpMethod.Post, "api/tickets", Registration("020301", "夜间施工噪音扰民"));
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("城市管理 / 噪音 / 施工噪音", (string?)old!["categoryName"]);
        Assert.Equal("1", (string?)old["categoryVersion"]);

        // Validation: field paths and reasons; nothing published.
        (status, var problem, _) = await admin.SendAsync(HttpMethod.Post, "api/admin/reference/categories", new JsonObject
        {
            ["categories"] = new JsonArray(
                Node("01", "城乡建设", Node("0101", "住房")),                                   // second level without third
                Node("01", "重复", Node("0101", "住房", Node("010101", "房屋质量"))),            // duplicate code
                Node("3", "编码错误", Node("0301", "x", Node("030101", "y")))),                   // not two digits
        });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        var errors = problem!["errors"]!.AsObject();
        Assert.True(errors.ContainsKey("categories[0].children[0].children"), problem.ToJsonString());
        Assert.True(errors.ContainsKey("categories[1].code"), problem.ToJsonString());
        Assert.True(errors.ContainsKey("categories[2].code"), problem.ToJsonString());
        Assert.True(errors.ContainsKey("categories"), problem.ToJsonString()); // the current catalogue points at categories this tree lacks
        (status, problem, _) = await admin.SendAsync(HttpMethod.Post, "api/admin/reference/catalogue", new { entries = new object[]
        {
            new { categoryCode = "0203", unitId = "no-such-unit" },
            new { categoryCode = "9999", unitId = "cgj" },
            new { categoryCode = "0203", unitId = "gov-01", areaCode = "01", coUnitIds = SameAsMain },
        } });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        errors = problem!["errors"]!.AsObject();
        Assert.True(errors.ContainsKey("entries[0].unitId"), problem.ToJsonString());
        Assert.True(errors.ContainsKey("entries[1].categoryCode"), problem.ToJsonString());
        Assert.True(errors.ContainsKey("entries[2].coUnitIds[0]"), problem.ToJsonString());
        (status, _, _) = await dispatcher.SendAsync(HttpMethod.Post, "api/admin/reference/catalogue", new { entries = new[] { new { categoryCode = "02", unitId = "cgj" } } });
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("1", (string?)(await agent.GetJsonAsync("api/reference/category-versions"))["current"]);

        // Version 2: 施工噪音 renamed, a new leaf 夜间噪音.
        var tree = (await admin.GetJsonAsync("api/reference/categories")).AsArray();
        var noise = tree.Single(n => (string?)n!["code"] == "02")!["children"]!.AsArray().Single(n => (string?)n!["code"] == "0203")!;
        noise["children"]!.AsArray().Single(n => (string?)n!["code"] == "020301")!["name"] = "建筑施工噪音";
        noise["children"]!.AsArray().Add(Node("020303", "夜间噪音"));
        (status, var published, _) = await admin.SendAsync(HttpMethod.Post, "api/admin/reference/categories", new JsonObject { ["categories"] = tree.DeepClone() });
        Assert.True(status == HttpStatusCode.Created, published?.ToJsonString());
        Assert.Equal("2", (string?)published!["version"]);

        (status, var fresh, _) = await agent.SendAsync(HttpMethod.Post, "api/tickets", Registration("020303", "楼下烧烤夜间噪音"));
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("城市管理 / 噪音 / 夜间噪音", (string?)fresh!["categoryName"]);
        Assert.Equal("2", (string?)fresh["categoryVersion"]);
        var oldAgain = await agent.GetJsonAsync($"api/tickets/{old["id"]}");
        Assert.Equal("城市管理 / 噪音 / 施工噪音", (string?)oldAgain["categoryName"]);   // the label of version 1
        Assert.Equal("1", (string?)oldAgain["categoryVersion"]);
        Assert.Equal("施工噪音", (string?)(await agent.GetJsonAsync("api/reference/categories?version=1")).AsArray()
            .Single(n => (string?)n!["code"] == "02")!["children"]!.AsArray().Single(n => (string?)n!["code"] == "0203")!["children"]![0]!["name"]);
        (status, _, _) = await agent.SendAsync(HttpMethod.Get, "api/reference/categories?version=99");
        Assert.Equal(HttpStatusCode.NotFound, status);

        // Catalogue version 2: 噪音 in 东湖区 goes to the district government with 市城管局 as co-unit.
        var entries = (await admin.GetJsonAsync("api/reference/catalogue"))["entries"]!.AsArray()
            .Select(e => (JsonNode)new JsonObject { ["categoryCode"] = (string?)e!["categoryPrefix"], ["unitId"] = (string?)e["unitId"] }).ToList();
        entries.Add(new JsonObject { ["categoryCode"] = "0203", ["areaCode"] = "01", ["unitId"] = "gov-01", ["coUnitIds"] = new JsonArray("cgj") });
        (status, published, _) = await admin.SendAsync(HttpMethod.Post, "api/admin/reference/catalogue", new JsonObject { ["entries"] = new JsonArray([.. entries]) });
        Assert.True(status == HttpStatusCode.Created, published?.ToJsonString());
        Assert.Equal("2", (string?)published!["version"]);
        var suggestion = await dispatcher.GetJsonAsync("api/reference/suggest-unit?categoryCode=020301&areaCode=010101");
        Assert.Equal("gov-01", (string?)suggestion["unitId"]);
        Assert.Equal("cgj", (string?)suggestion["coUnitIds"]![0]);
        Assert.Equal("2", (string?)suggestion["catalogueVersion"]);
        Assert.Equal("cgj", (string?)(await dispatcher.GetJsonAsync("api/reference/suggest-unit?categoryCode=020301&areaCode=020101"))["unitId"]);
        var dispatched = await dispatcher.ActAsync((string)old["id"]!, "dispatch", new { unitId = "gov-01" }, (long)oldAgain["version"]!);
        Assert.Equal("gov-01", (string?)dispatched["tasks"]![0]!["unitId"]);   // the suggestion: no override reason needed

        // Rebuild by command: unknown name 404; the same answers after it.
        // Ids and total (the rows also carry remaining seconds, which move).
        static async Task<string> Search(ApiClient c, string query)
        {
            var page = await c.GetJsonAsync("api/tickets?" + query);
            return (int)page["total"]! + ":" + string.Join(",", page["items"]!.AsArray().Select(i => (string?)i!["id"]));
        }
        string[] queries = ["q=" + Uri.EscapeDataString("噪音"), "q=" + Uri.EscapeDataString("夜间施工噪音"), "category=0203&state=Dispatched", "unit=gov-01", "area=01&sort=number"];
        var before = await Task.WhenAll(queries.Select(q => Search(dispatcher, q)));
        Assert.Contains((string)old["id"]!, before[0], StringComparison.Ordinal);
        Assert.Contains((string)fresh["id"]!, before[0], StringComparison.Ordinal);
        (status, problem, _) = await dispatcher.SendAsync(HttpMethod.Get, "api/tickets?q=%01");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.True(problem!["errors"]!.AsObject().ContainsKey("q"), problem.ToJsonString());
        (status, problem, _) = await admin.SendAsync(HttpMethod.Post, "api/admin/read-models/no-such-model/rebuild");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Contains("ticket-search", problem!.ToJsonString(), StringComparison.Ordinal);
        (status, _, _) = await dispatcher.SendAsync(HttpMethod.Post, "api/admin/read-models/ticket-search/rebuild");
        Assert.Equal(HttpStatusCode.Forbidden, status);
        (status, var done, _) = await admin.SendAsync(HttpMethod.Post, "api/admin/read-models/ticket-search/rebuild?wait=true");
        Assert.True(status == HttpStatusCode.OK, done?.ToJsonString());
        Assert.Equal(before, await Task.WhenAll(queries.Select(q => Search(dispatcher, q))));

        // The start-up switch (--rebuild-read-models sets Hotline:RebuildReadModels): a restart that replays from 0 answers the same,
        // and the published versions are loaded again.
        await server.KillAsync();
        await using var again = await ServerProcess.StartAsync(new Dictionary<string, string> { ["Hotline:RebuildReadModels"] = "true" }, server.DataDirectory);
        using var dispatcher2 = await ApiClient.LoginAsync(again, "disp1");
        Assert.Equal(before, await Task.WhenAll(queries.Select(q => Search(dispatcher2, q))));
        Assert.Equal("城市管理 / 噪音 / 施工噪音", (string?)(await dispatcher2.GetJsonAsync($"api/tickets/{old["id"]}"))["categoryName"]);
        Assert.Equal("2", (string?)(await dispatcher2.GetJsonAsync("api/reference/catalogue"))["version"]);
    }
}
