namespace Hotline.Server.Knowledge;

/// <summary>
/// Demo content for 海川市 (Hotline:Demo, unless Hotline:Knowledge:SeedDemo=false): a few published items so the agent
/// desk's knowledge panel has something to find. Ids and event ids are fixed, so a restart seeds nothing twice.
/// </summary>
public sealed class KnowledgeDemoSeed(KnowledgeBase kb, KnowledgeProjection projection, IConfiguration configuration, ILogger<KnowledgeDemoSeed> logger) : BackgroundService
{
    private static readonly (string Key, string Kind, string Title, string Body, string[] Keywords, string Owner)[] Items =
    [
        ("demo-yibao", "办事指南", "医保异地就医备案", "长期在外地居住或临时外出就医的参保人，先通过国家医保服务平台 APP 或医保窗口办理异地就医备案，备案后在就医地定点医院直接结算。", ["异地就医", "备案"], "rsj"),
        ("demo-qianxin", "常见问答", "被拖欠工资怎么办", "可向市劳动保障监察支队投诉或申请劳动仲裁；建筑领域农民工欠薪可由 12345 直接转劳动监察处理。", ["欠薪", "劳动监察"], "rsj"),
        ("demo-gongnuan", "政策法规", "供暖期室内温度标准", "供暖期为 11 月 15 日至次年 3 月 15 日，居民卧室、起居室温度不低于 18℃；不达标可要求供热单位检修并按规定退费。", ["室温", "供热"], "rqjt"),
        ("demo-tingshui", "常见问答", "停水信息查询", "计划停水提前 24 小时在水务集团官网和小区公告栏发布；突发停水请拨打供水抢修电话 96116。", ["停水通知", "供水抢修"], "swjt"),
        ("demo-ruxue", "办事指南", "小学一年级入学报名", "每年 5 月在市教育局网站按学区报名，需户口簿、房产证或租房备案、出生证明、预防接种证。", ["入学报名", "学区"], "jyj"),
        ("demo-zaoyin", "单位职责", "夜间施工噪音的处理", "22 时至次日 6 时禁止产生噪声的建筑施工；无夜间施工许可的由城市管理局查处，有许可但超标的由生态环境局处理。", ["夜间施工", "噪声"], "cgj"),
        ("demo-wuye", "办事指南", "物业维修资金使用", "共用部位维修使用专项维修资金须经专有部分面积和人数双过半业主同意，由业委会或物业向住建局申请。", ["维修资金", "业主表决"], "zjj"),
        ("demo-hukou", "办事指南", "市内户口迁移", "市内购房迁户口，持户口簿、不动产权证书到迁入地派出所办理，当场办结。", ["户籍迁移", "派出所"], "gaj"),
    ];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!configuration.GetValue("Hotline:Demo", true) || !configuration.GetValue("Hotline:Knowledge:SeedDemo", true)) return;
        try
        {
            await projection.CaughtUp.WaitAsync(stoppingToken);
            foreach (var (key, kind, title, body, keywords, owner) in Items)
            {
                var id = Storage.DeterministicId.From("kb-demo", key);
                if (kb.Get(id) is not null) continue;
                var proposed = kb.Validate(id, 1, new ProposeRequest(kind, title, body, keywords, owner, null, null, null), owner, "system");
                await kb.AppendAsync(KnowledgeBase.StreamOf(id), 0, proposed, "proposed:1", "system", stoppingToken);
                await kb.AppendAsync(KnowledgeBase.StreamOf(id), 1, new KnowledgeApproved(id, 1, "system", kb.Time.GetUtcNow()), "approved:1", "system", stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
        catch (KnowledgeVersionException) { /* another node seeded meanwhile */ }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "Knowledge demo seed failed");
        }
    }
}
