namespace Hotline.Server.Reference;

/// <summary>The demo city 海川市 used by the embedded default, tests and demo data.</summary>
public static class DemoCity
{
    public static CityReference Create()
    {
        var categories = Tree(
            ("01", "城乡建设", [("01", "住房", ["房屋质量", "房产中介", "小区配套"]), ("02", "物业", ["物业服务", "维修资金"]), ("03", "违建", ["违法建设"]), ("04", "市政设施", ["道路设施", "路灯"])]),
            ("02", "城市管理", [("01", "市容环卫", ["垃圾清运", "环境卫生"]), ("02", "占道经营", ["占道经营"]), ("03", "噪音", ["施工噪音", "社会生活噪音"]), ("04", "油烟", ["餐饮油烟"])]),
            ("03", "市场监管", [("01", "消费维权", ["商品质量", "预付卡"]), ("02", "食品药品", ["食品安全", "药品安全"]), ("03", "价格", ["价格欺诈"]), ("04", "网络交易", ["网购纠纷"])]),
            ("04", "劳动和社会保障", [("01", "欠薪", ["拖欠工资"]), ("02", "社保", ["社保缴纳", "社保转移"]), ("03", "医保", ["医保报销"]), ("04", "就业", ["就业服务"])]),
            ("05", "教育", [("01", "入学", ["义务教育入学"]), ("02", "校外培训", ["培训退费"])]),
            ("06", "卫生健康", [("01", "医疗服务", ["就医服务", "医疗纠纷"])]),
            ("07", "交通运输", [("01", "公交", ["线路站点"]), ("02", "出租", ["拒载绕路"]), ("03", "停车", ["停车收费", "停车位"]), ("04", "道路", ["道路破损"])]),
            ("08", "生态环境", [("01", "大气污染", ["工业废气"]), ("02", "水污染", ["河道污染"])]),
            ("09", "公用事业", [("01", "供水", ["停水", "水质"]), ("02", "供电", ["停电"]), ("03", "供气", ["燃气服务"]), ("04", "供暖", ["供暖温度", "供暖收费"]), ("05", "通信", ["通信信号"])]),
            ("10", "公安与社会秩序", [("01", "户籍", ["户口办理"]), ("02", "交通管理", ["违章停车"]), ("03", "非紧急治安", ["治安隐患"])]),
            ("11", "民政", [("01", "低保", ["低保申请"]), ("02", "养老", ["养老服务"]), ("03", "殡葬", ["殡葬服务"])]),
            ("18", "其他", [("01", "其他", ["其他事项"])]));

        var areas = new List<TreeNode>
        {
            Area("01", "东湖区", ("01", "湖滨街道", ["湖滨社区", "东门社区"]), ("02", "青石街道", ["青石社区", "望湖社区"])),
            Area("02", "西山区", ("01", "西山街道", ["西山社区", "翠微社区"]), ("02", "枫林镇", ["枫林村", "石桥村"])),
            Area("03", "南江区", ("01", "江南街道", ["江南社区", "码头社区"]), ("02", "滨江街道", ["滨江社区", "新港社区"])),
            Area("04", "北岸区", ("01", "北岸街道", ["北岸社区", "柳湾社区"]), ("02", "柳湾镇", ["柳湾村", "河口村"])),
            Area("05", "高新区", ("01", "科技城街道", ["科技城社区", "软件园社区"]), ("02", "创业街道", ["创业社区", "未来社区"])),
        };

        var units = new List<Unit>
        {
            new("hotline", "海川市12345热线办公室", UnitKinds.Office, null, null),
            new("zjj", "市住房和城乡建设局", UnitKinds.Department, null, null),
            new("cgj", "市城市管理局", UnitKinds.Department, null, null),
            new("scjgj", "市市场监督管理局", UnitKinds.Department, null, null),
            new("rsj", "市人力资源和社会保障局", UnitKinds.Department, null, null),
            new("jyj", "市教育局", UnitKinds.Department, null, null),
            new("wjw", "市卫生健康委员会", UnitKinds.Department, null, null),
            new("jtj", "市交通运输局", UnitKinds.Department, null, null),
            new("sthjj", "市生态环境局", UnitKinds.Department, null, null),
            new("swjt", "市水务集团", UnitKinds.Department, null, null),
            new("gdgs", "市供电公司", UnitKinds.Department, null, null),
            new("rqjt", "市燃气热力集团", UnitKinds.Department, null, null),
            new("gaj", "市公安局", UnitKinds.Department, null, null),
            new("mzj", "市民政局", UnitKinds.Department, null, null),
        };
        foreach (var district in areas)
        {
            var districtId = "gov-" + district.Code;
            units.Add(new Unit(districtId, district.Name + "人民政府", UnitKinds.District, null, district.Code));
            foreach (var town in district.Children)
                units.Add(new Unit("town-" + town.Code, town.Name.EndsWith('镇') ? town.Name + "人民政府" : town.Name + "办事处", UnitKinds.Town, districtId, town.Code));
        }

        var catalogue = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["01"] = "zjj", ["0103"] = "cgj", ["02"] = "cgj", ["03"] = "scjgj", ["04"] = "rsj", ["05"] = "jyj", ["06"] = "wjw",
            ["07"] = "jtj", ["08"] = "sthjj", ["0901"] = "swjt", ["0902"] = "gdgs", ["0903"] = "rqjt", ["0904"] = "rqjt",
            ["10"] = "gaj", ["11"] = "mzj",
        };

        return new CityReference("海川市", categories, areas, units, catalogue);
    }

    private static List<TreeNode> Tree(params (string Code, string Name, (string Code, string Name, string[] Leaves)[] Children)[] roots) =>
        roots.Select(r => new TreeNode(r.Code, r.Name,
            r.Children.Select(c => new TreeNode(r.Code + c.Code, c.Name,
                c.Leaves.Select((leaf, i) => new TreeNode(r.Code + c.Code + (i + 1).ToString("D2", System.Globalization.CultureInfo.InvariantCulture), leaf, [])).ToList())).ToList())).ToList();

    private static TreeNode Area(string code, string name, params (string Code, string Name, string[] Communities)[] towns) =>
        new(code, name, towns.Select(t => new TreeNode(code + t.Code, t.Name,
            t.Communities.Select((c, i) => new TreeNode(code + t.Code + (i + 1).ToString("D2", System.Globalization.CultureInfo.InvariantCulture), c, [])).ToList())).ToList());
}
