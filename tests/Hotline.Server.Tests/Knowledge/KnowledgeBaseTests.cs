using System.Net;
using System.Text.Json.Nodes;
using Hotline.Testing;

namespace Hotline.Server.Tests.Knowledge;

/// <summary>The knowledge base on a real server: units propose, the office approves, agents search Chinese text; expired items hide and their owners are reminded.</summary>
public sealed class KnowledgeBaseTests
{
    private static readonly (string Key, string Kind, string Title, string Body, string[] Keywords, string Owner)[] Sample =
    [
        ("yibao", "办事指南", "医保异地就医备案办理指南", "参保人员长期在外地居住或临时外出就医，需先办理异地就医备案，备案后在就医地定点医院直接结算医疗费用。可通过国家医保服务平台 APP 或窗口办理。", ["异地就医", "备案", "直接结算"], "rsj"),
        ("shebao", "办事指南", "养老保险关系转移接续", "参保人员跨省流动就业的，由新参保地社保经办机构办理基本养老保险关系转移接续，个人账户储存额随同转移。", ["跨省", "转移接续", "社保转移"], "rsj"),
        ("gjj", "办事指南", "住房公积金提取（租房）", "职工连续足额缴存住房公积金满 3 个月，本人及配偶在本市无自有住房且租房居住的，可提取住房公积金支付房租。", ["公积金提取", "租房提取"], "zjj"),
        ("qianxin", "常见问答", "用人单位拖欠工资怎么办", "劳动者被拖欠工资的，可向劳动保障监察机构投诉，或申请劳动人事争议仲裁；农民工欠薪可拨打 12345 转劳动监察。", ["欠薪", "劳动监察", "仲裁"], "rsj"),
        ("tingshui", "常见问答", "计划停水信息查询", "因管网施工等原因计划停水的，水务集团提前 24 小时通过官网和小区公告发布停水通知；突发停水可拨打供水抢修热线。", ["停水通知", "供水抢修"], "swjt"),
        ("gongnuan", "政策法规", "供暖期室内温度标准", "供暖期内居民住宅卧室、起居室室内温度不得低于 18℃。温度不达标的，供热单位应及时查明原因并维修，可按规定退还部分采暖费。", ["室温", "供热", "采暖费"], "rqjt"),
        ("hukou", "办事指南", "户口迁移（市内）办理", "市内购房或投靠亲属需迁移户口的，持居民户口簿、房产证明到迁入地派出所办理户籍迁移登记。", ["户籍迁移", "派出所"], "gaj"),
        ("sfz", "办事指南", "居民身份证挂失补领", "身份证丢失的，应及时到户籍所在地或居住地派出所申请补领，可同时办理临时身份证。", ["补办", "挂失", "临时身份证"], "gaj"),
        ("dibao", "政策法规", "最低生活保障申请条件", "家庭人均收入低于当地低保标准、且家庭财产符合规定的本市户籍居民，可向户籍所在地街道（乡镇）申请最低生活保障。", ["低保标准", "家庭收入"], "mzj"),
        ("ruxue", "办事指南", "义务教育小学一年级入学报名", "适龄儿童小学入学报名需准备户口簿、房产证或租房合同、出生证明及预防接种证，按学区在教育局网站报名。", ["小学报名", "学区", "入学材料"], "jyj"),
        ("zaoyin", "单位职责", "建筑施工噪音管理职责", "夜间 22 时至次日 6 时禁止产生噪声的建筑施工作业，确需连续施工的须取得夜间施工许可；违规施工由城市管理部门查处。", ["夜间施工", "噪声"], "cgj"),
        ("jiazhao", "办事指南", "机动车驾驶证到期换证", "驾驶证有效期满前 90 日内，持身份证和体检证明到车管所或通过交管 12123 APP 申请换证。", ["换证", "车管所"], "gaj"),
        ("yanglao", "常见问答", "养老金领取资格认证", "领取基本养老金的退休人员每年需进行一次领取资格认证，可通过人社 APP 刷脸完成。", ["资格认证", "退休人员"], "rsj"),
        ("chuzu", "常见问答", "出租车拒载绕路投诉", "乘客遇出租车拒载、绕路、议价的，可记下车牌号和发票信息，向交通运输局投诉。", ["拒载", "绕路", "车牌号"], "jtj"),
        ("ranqi", "常见问答", "燃气泄漏报修", "闻到燃气异味应立即关闭阀门、开窗通风，勿开关电器，到室外拨打燃气集团抢修电话。", ["燃气抢修", "漏气"], "rqjt"),
    ];

    private static readonly (string Query, string Expected)[] Queries =
    [
        ("在外地看病医疗保险怎么报销", "yibao"),
        ("换了个省工作社会保险怎么转过去", "shebao"),
        ("公积金能不能取出来交房租", "gjj"),
        ("老板一直工资不发怎么办", "qianxin"),
        ("家里没水了是不是停水了", "tingshui"),
        ("暖气不热屋里才15度", "gongnuan"),
        ("孩子户口怎么迁到新买的房子", "hukou"),
        ("身份证丢了去哪补办", "sfz"),
        ("申请低保需要什么条件", "dibao"),
        ("小孩上小学报名要准备什么材料", "ruxue"),
    ];

    [Fact]
    public async Task Units_propose_the_office_approves_agents_find_the_right_item_and_expired_items_hide()
    {
        await using var server = await ServerProcess.StartAsync(new Dictionary<string, string> { ["Hotline:Knowledge:ReminderIntervalSeconds"] = "1", ["Hotline:Knowledge:SeedDemo"] = "false" });
        using var dispatcher = await ApiClient.LoginAsync(server, "disp1");
        using var handler = await ApiClient.LoginAsync(server, "handler1");
        using var agent = await ApiClient.LoginAsync(server, "agent1");

        // A unit proposes: the owner is its own unit whatever it asks; the agent does not find it before approval.
        var (status, proposed, _) = await handler.SendAsync(HttpMethod.Post, "api/knowledge/items",
            new { kind = "办事指南", title = "物业维修资金使用申请", body = "小区共用部位维修使用专项维修资金，须经业主表决同意后向住建局申请。", keywords = new List<string> { "维修资金" }, ownerUnitId = "rsj" });
        Assert.True(status == HttpStatusCode.Created, $"{status}: {proposed}");
        Assert.Equal("zjj", (string?)proposed!["ownerUnitId"]);
        Assert.Equal("待审核", (string?)proposed["status"]);
        Assert.Empty((await agent.GetJsonAsync("api/knowledge/search?q=维修资金")).AsArray());
        Assert.Equal(HttpStatusCode.Forbidden, (await agent.SendAsync(HttpMethod.Post, $"api/knowledge/items/{proposed["id"]}/approve", new { })).Status);
        var approved = await Act(dispatcher, $"api/knowledge/items/{proposed["id"]}/approve", new { revision = 1 });
        Assert.Equal("已发布", (string?)approved["status"]);
        Assert.Equal((string?)proposed["id"], (string?)(await agent.GetJsonAsync("api/knowledge/search?q=维修资金怎么用")).AsArray()[0]!["id"]);

        // A revision waits for approval; agents keep seeing the published text meanwhile.
        var (revStatus, revised, _) = await handler.SendAsync(HttpMethod.Post, $"api/knowledge/items/{proposed["id"]}/proposals",
            new { kind = "办事指南", title = "物业维修资金使用申请（2026 版）", body = "新流程：业主线上表决。", keywords = new List<string> { "维修资金" } }, ifMatch: 2);
        Assert.True(revStatus == HttpStatusCode.OK, $"{revStatus}: {revised}");
        Assert.Equal("物业维修资金使用申请", (string?)revised!["published"]!["title"]);
        Assert.Equal(2, (int)revised["pending"]!["revision"]!);
        Assert.Equal(HttpStatusCode.PreconditionFailed, (await handler.SendAsync(HttpMethod.Post, $"api/knowledge/items/{proposed["id"]}/proposals",
            new { kind = "办事指南", title = "过期的写", body = "x" }, ifMatch: 2)).Status);

        // The Chinese sample set: the expected item is in the top 3 for at least 9 of 10 caller-style questions.
        var ids = new Dictionary<string, string>();
        foreach (var item in Sample)
        {
            var (s, body, _) = await dispatcher.SendAsync(HttpMethod.Post, "api/knowledge/items",
                new { kind = item.Kind, title = item.Title, body = item.Body, keywords = item.Keywords, ownerUnitId = item.Owner }, idempotencyKey: "sample-" + item.Key);
            Assert.True(s == HttpStatusCode.Created, $"{s}: {body}");
            await Act(dispatcher, $"api/knowledge/items/{body!["id"]}/approve", new { revision = 1 });
            ids[item.Key] = (string)body["id"]!;
        }
        var hits = 0;
        var report = new List<string>();
        foreach (var (query, expected) in Queries)
        {
            var results = (await agent.GetJsonAsync($"api/knowledge/search?q={Uri.EscapeDataString(query)}&top=3")).AsArray();
            var found = results.Any(r => (string?)r!["id"] == ids[expected]);
            if (found) hits++;
            report.Add($"{query} → {(found ? "ok" : "MISS")}: {string.Join(" / ", results.Select(r => (string?)r!["title"]))}");
        }
        Assert.True(hits >= 9, $"{hits}/10 in top 3:\n{string.Join('\n', report)}");

        // Synonyms are configurable: a new term finds the item once the office maps it.
        Assert.DoesNotContain((await agent.GetJsonAsync("api/knowledge/search?q=" + Uri.EscapeDataString("液化石油") + "&top=3")).AsArray(), r => (string?)r!["id"] == ids["ranqi"]);
        var synonyms = await agent.GetJsonAsync("api/knowledge/synonyms");
        var groups = synonyms["groups"]!.AsArray().Select(g => g!.AsArray().Select(t => (string)t!).ToArray()).Append(["液化石油", "燃气"]).ToArray();
        var (synStatus, _, _) = await dispatcher.SendAsync(HttpMethod.Put, "api/knowledge/synonyms", new { groups });
        Assert.Equal(HttpStatusCode.OK, synStatus);
        Assert.Equal(ids["ranqi"], (string?)(await agent.GetJsonAsync("api/knowledge/search?q=" + Uri.EscapeDataString("液化石油") + "&top=3")).AsArray()[0]!["id"]);

        // An expired item is hidden from agents, listed for review and its owner unit is reminded (once).
        var (expStatus, expired, _) = await dispatcher.SendAsync(HttpMethod.Post, "api/knowledge/items",
            new { kind = "政策法规", title = "2020 年冬季供暖补贴政策", body = "低保家庭冬季供暖补贴每户 800 元。", keywords = new List<string> { "供暖补贴" }, ownerUnitId = "mzj", validTo = "2021-03-31" });
        Assert.True(expStatus == HttpStatusCode.Created, $"{expStatus}: {expired}");
        var expiredView = await Act(dispatcher, $"api/knowledge/items/{expired!["id"]}/approve", new { revision = 1 });
        Assert.Equal("已过期", (string?)expiredView["status"]);
        Assert.DoesNotContain((await agent.GetJsonAsync("api/knowledge/search?q=" + Uri.EscapeDataString("供暖补贴"))).AsArray(), r => (string?)r!["id"] == (string?)expired["id"]);
        var reminded = await WaitAsync(async () => (await dispatcher.GetJsonAsync($"api/knowledge/items/{expired["id"]}")) is var v && v["reminders"]!.AsArray().Count > 0 ? v : null);
        Assert.Single(reminded["reminders"]!.AsArray());
        Assert.Contains((await dispatcher.GetJsonAsync("api/knowledge/reminders")).AsArray(), r => (string?)r!["id"] == (string?)expired["id"]);

        // The item that answered a 咨询 is recorded on the ticket (answer-directly) and counted.
        var (regStatus, ticket, _) = await agent.SendAsync(HttpMethod.Post, "api/tickets", new
        {
            channel = "电话", type = "咨询", urgency = "一般", categoryCode = "040301", areaCode = "010101", content = "咨询异地就医备案怎么办理", callerName = "孙女士", callerPhone = "13912340000",
        });
        Assert.True(regStatus == HttpStatusCode.Created, $"{regStatus}: {ticket}");
        await agent.ActAsync((string)ticket!["id"]!, "answer-directly", new { text = "告知可通过国家医保服务平台 APP 办理备案。", knowledgeItemId = ids["yibao"] }, 1);
        await WaitAsync(async () => (await agent.GetJsonAsync("api/knowledge/usage"))[ids["yibao"]] is { } n && (int)n == 1 ? n : null);
    }

    private static async Task<JsonNode> Act(ApiClient client, string url, object body)
    {
        var (status, result, _) = await client.SendAsync(HttpMethod.Post, url, body);
        Assert.True(status == HttpStatusCode.OK, $"{url} → {status}: {result}");
        return result!;
    }

    private static async Task<JsonNode> WaitAsync(Func<Task<JsonNode?>> probe, int seconds = 20)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            if (await probe() is { } found) return found;
            if (DateTime.UtcNow > deadline) throw new TimeoutException("condition not met in time");
            await Task.Delay(200);
        }
    }
}
