using Hotline.Reports.Facts;

namespace Hotline.Reports.Demo;

/// <summary>Seasonal windows a demo topic can belong to.</summary>
public enum Season
{
    None,

    /// <summary>供暖季 15 Nov – 15 Mar.</summary>
    Heating,

    /// <summary>汛期 June – September.</summary>
    Flood,

    /// <summary>开学 20 Aug – 30 Sep.</summary>
    School,
}

/// <summary>Where a topic happens: a residential community, a road, or nowhere in particular.</summary>
public enum PlaceKind
{
    None,
    Community,
    Road,
}

/// <summary>A level-3 category of the demo tree with the phrases citizens use about it.</summary>
public sealed record DemoTopic(
    string Code,
    string Category1,
    string Category2,
    string Category3,
    TicketType Type,
    double Weight,
    Season Season,
    PlaceKind Place,
    IReadOnlyList<string> Phrases);

/// <summary>The made-up city 海州市: districts, towns, communities, roads, units and the 2+2+2 category tree.</summary>
public static class DemoCatalogue
{
    public const string City = "海州市";

    public static IReadOnlyList<(string Name, int Residents, string[] Towns)> Districts { get; } =
    [
        ("清江区", 820_000, ["江滨街道", "望江街道", "南门街道", "白沙镇", "青石镇"]),
        ("云台区", 650_000, ["云台街道", "凤凰街道", "朝阳街道", "花果山镇"]),
        ("新港区", 540_000, ["港城街道", "海棠街道", "临港街道", "盐田镇"]),
        ("临湖区", 470_000, ["湖滨街道", "柳岸街道", "荷塘街道", "渔村镇"]),
        ("东山区", 390_000, ["东山街道", "松岭街道", "石门镇", "桃源镇"]),
        ("高新区", 310_000, ["科创街道", "软件园街道", "未来城街道"]),
        ("西岭区", 280_000, ["西岭街道", "枫林街道", "茶园镇", "龙潭镇"]),
        ("南浦区", 450_000, ["南浦街道", "金沙街道", "银湾街道", "沙洲镇"]),
    ];

    public static IReadOnlyList<string> CommunityPrefixes { get; } =
        ["幸福", "锦绣", "阳光", "翠湖", "金桥", "明珠", "书香", "康乐", "和平", "滨江", "紫荆", "桂园", "梧桐", "春晖", "丽景", "汇景", "天悦", "碧水", "御景", "龙湾"];

    public static IReadOnlyList<string> CommunitySuffixes { get; } = ["花园", "小区", "家园", "新村", "公寓", "雅苑", "名邸", "嘉园"];

    public static IReadOnlyList<string> Roads { get; } =
        ["人民路", "解放路", "建设大道", "海州大道", "滨河路", "新华路", "中山路", "迎宾大道", "环湖路", "工业大道", "学府路", "通港路"];

    public static IReadOnlyDictionary<string, string> OwnerDepartments { get; } = new Dictionary<string, string>
    {
        ["城乡建设"] = "市住房和城乡建设局",
        ["城市管理"] = "市城市管理局",
        ["市场监管"] = "市市场监督管理局",
        ["劳动和社会保障"] = "市人力资源和社会保障局",
        ["教育"] = "市教育局",
        ["卫生健康"] = "市卫生健康委员会",
        ["交通运输"] = "市交通运输局",
        ["生态环境"] = "市生态环境局",
        ["公用事业"] = "市公用事业管理局",
        ["公安与社会秩序"] = "市公安局",
        ["民政"] = "市民政局",
        ["农业农村"] = "市农业农村局",
        ["自然资源与规划"] = "市自然资源和规划局",
        ["文旅体育"] = "市文化广电旅游局",
        ["政务服务"] = "市政务服务管理局",
        ["营商环境与涉企服务"] = "市发展和改革委员会",
        ["突发与专项"] = "市应急管理局",
        ["其他"] = "市政府办公室",
    };

    // code | l1 | l2 | l3 | type | weight | season | place | phrases (;)
    private const string Tree = """
        010101|城乡建设|住房|房屋质量|T|3|N|C|新房墙体开裂渗水;交房后屋顶漏水;房屋外墙瓷砖脱落
        010102|城乡建设|住房|中介服务|T|3|N|N|房产中介虚假房源;中介违规收取费用;中介卷走租房押金
        010103|城乡建设|住房|公租房|C|3|N|N|公租房申请条件;公租房轮候进度;保障性住房申请材料
        010201|城乡建设|物业|电梯故障|H|4|N|C|小区电梯频繁故障停运;电梯困人物业迟迟不到;电梯维修基金使用
        010202|城乡建设|物业|物业服务|T|5|N|C|物业公司不作为;物业费上涨未公示;物业拒不维修楼道照明
        010203|城乡建设|物业|停车管理|T|3|N|C|小区停车位只售不租;物业乱收停车费;消防通道被车辆占用
        010301|城乡建设|拆迁|征收补偿|C|2|N|N|房屋征收补偿标准;拆迁安置房交付时间;征收补偿款迟迟未发放
        010401|城乡建设|违建|违章搭建|J|4|N|C|楼顶私搭乱建;一楼住户私自扩建院子;私自破坏承重墙装修
        010501|城乡建设|市政设施|道路破损|H|3|N|R|路面坑洼破损;人行道砖松动;井盖缺失存在安全隐患
        010502|城乡建设|市政设施|路灯故障|H|2|N|R|路灯长期不亮;路灯白天常亮浪费;路灯杆倾斜
        010503|城乡建设|市政设施|施工扰民|T|4|N|C|工地夜间施工噪音扰民;工地渣土车遗撒;施工围挡占用人行道
        020101|城市管理|市容环卫|垃圾清运|T|4|N|C|垃圾桶满溢无人清运;垃圾分类投放点异味大;建筑垃圾堆放未清理
        020201|城市管理|占道经营|流动摊贩|T|3|N|R|流动摊贩占道经营;夜市摊点堵塞通道;商户店外经营
        020301|城市管理|噪音|社会生活噪音|T|4|N|C|广场舞音响声音过大;商铺高音喇叭促销;楼上住户深夜噪音
        020401|城市管理|油烟|餐饮油烟|T|3|N|C|餐馆油烟直排;烧烤摊油烟扰民;餐饮店排烟管道噪音
        020501|城市管理|园林绿化|树木修剪|H|2|N|C|行道树遮挡采光;枯树存在倒伏隐患;绿地被毁种菜
        030101|市场监管|消费维权|预付卡|T|5|N|N|健身房办卡后跑路;美容院预付卡无法退费;培训机构关门不退费
        030102|市场监管|消费维权|商品质量|T|3|N|N|网购家电质量问题;新车质量问题商家拒绝退换;商场售假
        030201|市场监管|食品药品|食品安全|J|3|N|N|餐馆食品变质;超市销售过期食品;外卖餐食有异物
        030301|市场监管|价格|价格欺诈|J|2|N|N|景区商户价格欺诈;停车场乱收费;药店价格虚高
        030401|市场监管|网络交易|网购纠纷|T|3|N|N|网店拒绝七天无理由退货;直播带货虚假宣传;平台商家不发货
        040101|劳动和社会保障|欠薪|拖欠工资|H|5|N|N|公司拖欠工资;工地拖欠农民工工资;离职后工资未结清
        040201|劳动和社会保障|社保|社保缴费|C|6|N|N|社保缴费基数调整;灵活就业人员社保缴费;社保转移接续办理
        040301|劳动和社会保障|医保|医保报销|C|5|N|N|异地就医医保报销;医保卡个人账户使用;门诊慢特病办理
        040401|劳动和社会保障|就业|就业创业|C|3|N|N|失业保险金申领;创业担保贷款政策;技能培训补贴申领
        050101|教育|入学|入学报名|C|2|S|N|小学入学报名材料;学位分配结果查询;新生入学划片范围
        050102|教育|入学|校外培训|T|2|N|N|校外培训机构违规补课;培训机构虚假宣传;学科类培训收费过高
        050201|教育|学校管理|校园周边|S|1|S|R|学校门口接送拥堵;校车安全管理;学校周边交通秩序
        060101|卫生健康|医疗服务|就医服务|T|4|N|N|医院挂号难;医生服务态度差;医院检查收费不透明
        060102|卫生健康|疾病防控|疫苗接种|C|3|N|N|儿童疫苗接种预约;流感疫苗接种点;狂犬疫苗接种费用
        070101|交通运输|公交|公交服务|S|4|N|R|公交车班次太少;公交司机不按站停靠;建议增设公交站点
        070201|交通运输|出租|出租网约车|T|3|N|N|出租车拒载绕路;网约车乱收费;出租车司机态度恶劣
        070301|交通运输|停车|停车难|S|4|N|R|道路停车位收费不合理;医院周边停车难;共享单车乱停乱放
        070401|交通运输|道路|交通设施|H|2|N|R|红绿灯时长不合理;交通标志被遮挡;道路标线不清
        080101|生态环境|大气|废气污染|J|2|N|N|工厂夜间偷排废气;企业焚烧垃圾冒黑烟;化工厂异味刺鼻
        080201|生态环境|水环境|河道污染|J|2|N|R|河道水体发黑发臭;企业偷排污水;河道漂浮垃圾
        090101|公用事业|供水|停水|H|4|N|C|小区突然停水无通知;自来水浑浊发黄;水压太低高层无水
        090201|公用事业|供电|停电|H|3|N|C|小区频繁停电;电费异常偏高;变压器噪音扰民
        090301|公用事业|供气|燃气|C|2|N|C|燃气开户办理;燃气表故障;燃气管道改造进度
        090401|公用事业|供暖|供暖|T|8|H|C|暖气不热室温不达标;供暖管道漏水;供暖费缴纳标准
        090501|公用事业|通信|通信服务|T|2|N|N|手机信号差;宽带安装迟缓;运营商套餐乱扣费
        100101|公安与社会秩序|户籍|户籍办理|C|4|N|N|新生儿落户办理;身份证补办流程;居住证办理条件
        100201|公安与社会秩序|交通管理|违章处理|C|3|N|N|交通违章处理流程;驾驶证换证;机动车年检预约
        100301|公安与社会秩序|非紧急治安|邻里纠纷|H|2|N|C|邻里纠纷调解;小区宠物狗扰民;楼道堆放杂物
        110101|民政|低保|低保救助|C|2|N|N|低保申请条件;临时救助申请;特困人员供养
        110201|民政|养老|养老服务|C|3|N|N|高龄津贴申领;社区养老服务中心;老年助餐点开放时间
        120101|农业农村|农村管理|农村事务|C|1|N|N|农村宅基地审批;土地承包经营权纠纷;农业补贴发放
        130101|自然资源与规划|规划|规划建设|C|1|N|C|小区规划变更;违规占用绿地;不动产登记办理进度
        140101|文旅体育|文化旅游|旅游投诉|T|1|N|N|旅行社强制购物;景区门票价格;公共体育场馆开放
        150101|政务服务|办事服务|政务办事|C|4|N|N|营业执照办理流程;公积金提取条件;不动产证办理时长
        150102|政务服务|办事服务|服务表扬|P|0.6|N|N|感谢工作人员耐心帮助;感谢社区及时解决问题;表扬热线服务热情
        160101|营商环境与涉企服务|涉企服务|惠企政策|C|2|N|N|中小企业纾困政策;企业稳岗补贴申领;高新技术企业认定
        170101|突发与专项|汛期防汛|道路积水|H|6|F|R|暴雨后道路积水严重;地下车库进水;雨水井堵塞排水不畅
        170201|突发与专项|专项整治|燃气安全|J|1|N|C|餐馆违规使用液化气瓶;燃气管道私改;瓶装燃气无证经营
        180101|其他|其他|其他事项|O|3|N|N|咨询事项无法归类;来电内容不清;重复来电已答复
        """;

    public static IReadOnlyList<DemoTopic> Topics { get; } = Parse();

    public static bool InSeason(Season season, DateOnly day) => season switch
    {
        Season.Heating => day.Month is 12 or 1 or 2 || (day.Month == 11 && day.Day >= 15) || (day.Month == 3 && day.Day <= 15),
        Season.Flood => day.Month is >= 6 and <= 9,
        Season.School => (day.Month == 8 && day.Day >= 20) || day.Month == 9,
        _ => true,
    };

    private static List<DemoTopic> Parse() =>
        Tree.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split('|'))
            .Select(f => new DemoTopic(
                f[0], f[1], f[2], f[3],
                f[4] switch
                {
                    "C" => TicketType.Consultation,
                    "H" => TicketType.HelpRequest,
                    "T" => TicketType.Complaint,
                    "J" => TicketType.Report,
                    "S" => TicketType.Suggestion,
                    "P" => TicketType.Praise,
                    _ => TicketType.Other,
                },
                double.Parse(f[5], System.Globalization.CultureInfo.InvariantCulture),
                f[6] switch { "H" => Season.Heating, "F" => Season.Flood, "S" => Season.School, _ => Season.None },
                f[7] switch { "C" => PlaceKind.Community, "R" => PlaceKind.Road, _ => PlaceKind.None },
                f[8].Split(';')))
            .ToList();
}
