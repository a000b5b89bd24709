using System.Globalization;
using Hotline.Reports.Facts;

namespace Hotline.Reports.Demo;

/// <summary>An extra topic planted in the report week (e.g. 50 tickets about 电动车充电桩).</summary>
public sealed record PlantedTopic(string Phrase, int Count, string CategoryCode = "010501");

/// <summary>An extra burst of tickets on one place within a few hours (a cluster alert should fire).</summary>
public sealed record PlantedCluster(int Count = 8, double Hours = 24, string Phrase = "小区突然大面积停水，至今未恢复");

public sealed record DemoOptions
{
    public static DemoOptions Default { get; } = new();

    public PlantedTopic? Topic { get; init; }
    public PlantedCluster? Cluster { get; init; }

    /// <summary>Also generate the four prior weeks and the same week last year (the facts window the builder expects).</summary>
    public bool IncludeHistory { get; init; } = true;

    /// <summary>Calls offered per ticket (many calls end without a ticket or add to one).</summary>
    public double CallsPerTicket { get; init; } = 1.2;

    /// <summary>
    /// Share of summaries that still carry a raw mobile number, to exercise the writer's masking pass
    /// (a well-behaved server masks before handing facts over).
    /// </summary>
    public double RawPhoneInTextShare { get; init; } = 0.05;
}

/// <summary>
/// A realistic week of the made-up city 海州市, reproducible from a seed: category tree and type mix
/// from DOMAIN.md, seasonal topics, daily and hourly profiles, unit quality that drives the KPIs,
/// calls with queue waits, optional planted topic and cluster.
/// </summary>
public static class DemoWeekGenerator
{
    private static readonly TimeSpan Offset = TimeSpan.FromHours(8);

    private static readonly (string Name, double Weight)[] Channels =
        [("电话", 70), ("微信", 10), ("网站", 8), ("APP", 7), ("短信", 3), ("信箱", 2)];

    private static readonly double[] HourWeights =
        [0.3, 0.2, 0.1, 0.1, 0.1, 0.3, 1, 3, 6, 9, 9, 7, 5, 6, 8, 8, 7, 6, 5, 4, 3, 2, 1.2, 0.6];

    private static readonly string[] Prefixes = ["市民来电反映，", "来电人反映：", "市民通过平台反映，", "", "市民表示，", "市民来电称，"];
    private static readonly string[] Suffixes = ["，希望相关部门尽快处理。", "，要求尽快解决。", "，请求协调处理。", "。", "，已影响正常生活。", "，望核实处理。"];
    private static readonly string[] Reasons = ["问题未解决", "答复内容不满意", "办理时间过长", "工作人员态度差", "推诿扯皮", "未联系本人"];

    public static WeeklyFacts Generate(DateOnly weekStart, int ticketsPerWeek, int seed) =>
        Generate(weekStart, ticketsPerWeek, seed, DemoOptions.Default);

    public static WeeklyFacts Generate(DateOnly weekStart, int ticketsPerWeek, int seed, DemoOptions options)
    {
        var period = ReportPeriod.Week(weekStart);
        var cutoff = new DateTimeOffset(period.End.AddDays(1).ToDateTime(TimeOnly.MinValue), Offset);
        var city = new City(new Random(seed));
        var tickets = new List<TicketFact>();
        var calls = new List<CallFact>();

        var weeks = new List<(ReportPeriod Week, double Volume, bool Current)> { (period, 1.0, true) };
        if (options.IncludeHistory)
        {
            weeks.AddRange(period.PreviousPeriods(4).Select(p => (p, 1.0, false)));
            weeks.Add((period.SameLastYear, 0.88, false));
        }

        var sequence = 0;
        foreach (var (week, volume, current) in weeks)
        {
            // A different, but reproducible, stream per week.
            var rng = new Random(unchecked((seed * 1_000_003) ^ week.Start.DayNumber)); // not HashCode.Combine: it is randomised per process
            var n = (int)Math.Round(ticketsPerWeek * volume * (0.97 + (0.06 * rng.NextDouble())));
            var gen = new WeekGen(city, rng, cutoff, options);
            for (var i = 0; i < n; i++)
            {
                var day = week.Start.AddDays(Pick(rng, [1.08, 1.05, 1.0, 1.0, 1.02, 0.82, 0.78]));
                tickets.Add(gen.Ticket(day, ++sequence, topic: null, phrase: null, place: null));
            }

            if (current && options.Topic is { } plant)
            {
                var topic = DemoCatalogue.Topics.FirstOrDefault(t => t.Code == plant.CategoryCode) ?? DemoCatalogue.Topics[0];
                string[] templates = ["{0}数量不足，充电难", "{0}长期损坏无人维修", "建议增设{0}", "{0}被燃油车长期占用", "{0}存在安全隐患"];
                for (var i = 0; i < plant.Count; i++)
                {
                    var day = week.Start.AddDays(rng.Next(7));
                    var phrase = string.Format(CultureInfo.InvariantCulture, templates[rng.Next(templates.Length)], plant.Phrase);
                    tickets.Add(gen.Ticket(day, ++sequence, topic with { Place = PlaceKind.Community }, phrase, place: null));
                }
            }

            if (current && options.Cluster is { } cluster)
            {
                var topic = DemoCatalogue.Topics.First(t => t.Code == "090101");
                var place = city.RandomCommunity(rng);
                var start = city.Start(week.Start.AddDays(2)).AddHours(9);
                for (var i = 0; i < cluster.Count; i++)
                {
                    var at = start.AddHours(cluster.Hours * i / Math.Max(1, cluster.Count));
                    tickets.Add(gen.Ticket(week.Start.AddDays(2), ++sequence, topic, cluster.Phrase, place, at));
                }
            }

            var callCount = (int)(n * options.CallsPerTicket);
            for (var i = 0; i < callCount; i++)
            {
                var day = week.Start.AddDays(Pick(rng, [1.08, 1.05, 1.0, 1.0, 1.02, 0.82, 0.78]));
                calls.Add(gen.Call(day));
            }
        }

        // Knowledge-base publications: a separate stream so the ticket streams do not change.
        var knowledge = new List<KnowledgeUpdateFact>();
        foreach (var (week, _, _) in weeks)
        {
            var rng = new Random(unchecked((seed * 7_919) ^ week.Start.DayNumber ^ 0x4B42));
            foreach (var unit in city.Units)
            {
                for (var k = rng.Next(unit.PeerGroup == PeerGroup.CityDepartment ? 6 : 3); k > 0; k--)
                {
                    var at = city.Start(week.Start.AddDays(rng.Next(5))).AddHours(9 + rng.Next(8));
                    knowledge.Add(new KnowledgeUpdateFact($"{unit.Id}-KB{rng.Next(40):00}", unit.Id, at, rng.NextDouble() < 0.3));
                }
            }
        }

        return new WeeklyFacts
        {
            Period = period,
            CityName = DemoCatalogue.City,
            UtcOffset = Offset,
            AsOf = cutoff,
            Tickets = tickets,
            Calls = calls,
            Units = city.Units,
            KnowledgeUpdates = knowledge,
        };
    }

    private static int Pick(Random rng, IReadOnlyList<double> weights)
    {
        var total = weights.Sum();
        var x = rng.NextDouble() * total;
        for (var i = 0; i < weights.Count; i++)
        {
            x -= weights[i];
            if (x < 0)
            {
                return i;
            }
        }

        return weights.Count - 1;
    }

    private static double Exponential(Random rng, double mean) => -mean * Math.Log(1 - rng.NextDouble());

    private static double LogNormal(Random rng, double median, double sigma)
    {
        var u1 = 1 - rng.NextDouble();
        var u2 = rng.NextDouble();
        var z = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
        return median * Math.Exp(sigma * z);
    }

    /// <summary>The fixed parts of the city: places, units and each unit's (hidden) quality.</summary>
    private sealed class City
    {
        public City(Random rng)
        {
            foreach (var (name, residents, towns) in DemoCatalogue.Districts)
            {
                var id = "D" + Units.Count.ToString("00", CultureInfo.InvariantCulture);
                Units.Add(new UnitFact(id, name + "人民政府", PeerGroup.District, residents, name));
                DistrictUnit[name] = id;
                Quality[id] = 0.75 + (0.23 * rng.NextDouble());
                foreach (var town in towns)
                {
                    var tid = "T" + Units.Count.ToString("000", CultureInfo.InvariantCulture);
                    Units.Add(new UnitFact(tid, $"{name}{town}办事处", PeerGroup.Town, null, name));
                    TownUnit[(name, town)] = tid;
                    Quality[tid] = 0.6 + (0.38 * rng.NextDouble());
                    Communities[(name, town)] = Enumerable.Range(0, 24)
                        .Select(_ => DemoCatalogue.CommunityPrefixes[rng.Next(DemoCatalogue.CommunityPrefixes.Count)] + DemoCatalogue.CommunitySuffixes[rng.Next(DemoCatalogue.CommunitySuffixes.Count)])
                        .Distinct(StringComparer.Ordinal).ToArray();
                }
            }

            foreach (var dept in DemoCatalogue.OwnerDepartments.Values.Distinct(StringComparer.Ordinal))
            {
                var id = "C" + Units.Count.ToString("000", CultureInfo.InvariantCulture);
                Units.Add(new UnitFact(id, dept, PeerGroup.CityDepartment));
                DepartmentUnit[dept] = id;
                Quality[id] = 0.7 + (0.28 * rng.NextDouble());
            }

            FrequentCallers = Enumerable.Range(0, 40).Select(_ => Phone(rng)).ToArray();
        }

        public List<UnitFact> Units { get; } = [];
        public Dictionary<string, string> DistrictUnit { get; } = new(StringComparer.Ordinal);
        public Dictionary<(string, string), string> TownUnit { get; } = [];
        public Dictionary<string, string> DepartmentUnit { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, double> Quality { get; } = new(StringComparer.Ordinal);
        public Dictionary<(string District, string Town), string[]> Communities { get; } = [];
        public string[] FrequentCallers { get; }

        public (string District, string Town) RandomTown(Random rng)
        {
            var d = DemoCatalogue.Districts[Pick(rng, DemoCatalogue.Districts.Select(x => (double)x.Residents).ToList())];
            return (d.Name, d.Towns[rng.Next(d.Towns.Length)]);
        }

        public (string District, string Town, string Place) RandomCommunity(Random rng)
        {
            var (d, t) = RandomTown(rng);
            var list = Communities[(d, t)];
            return (d, t, list[rng.Next(list.Length)]);
        }

        public DateTimeOffset Start(DateOnly day) => new(day.ToDateTime(TimeOnly.MinValue), Offset);

        public static string Phone(Random rng) =>
            "1" + "3456789"[rng.Next(7)] + rng.NextInt64(0, 1_000_000_000).ToString("000000000", CultureInfo.InvariantCulture);
    }

    private sealed class WeekGen(City city, Random rng, DateTimeOffset cutoff, DemoOptions options)
    {
        public TicketFact Ticket(DateOnly day, int seq, DemoTopic? topic, string? phrase, (string District, string Town, string Place)? place, DateTimeOffset? at = null)
        {
            topic ??= PickTopic(day);
            phrase ??= topic.Phrases[rng.Next(topic.Phrases.Count)];
            var registered = at ?? city.Start(day).AddHours(Pick(rng, HourWeights)).AddSeconds(rng.Next(3600));

            string district, town;
            string? placeKey = null, placeText = "";
            if (place is { } p)
            {
                (district, town) = (p.District, p.Town);
                placeKey = $"{p.District}{p.Town}{p.Place}";
                placeText = p.Town + p.Place;
            }
            else if (topic.Place == PlaceKind.Community)
            {
                var c = city.RandomCommunity(rng);
                (district, town) = (c.District, c.Town);
                placeKey = $"{c.District}{c.Town}{c.Place}";
                placeText = c.Town + c.Place;
            }
            else if (topic.Place == PlaceKind.Road)
            {
                (district, town) = city.RandomTown(rng);
                var road = DemoCatalogue.Roads[rng.Next(DemoCatalogue.Roads.Count)];
                placeKey = $"{district}{road}";
                placeText = district + road;
            }
            else
            {
                (district, town) = city.RandomTown(rng);
            }

            var type = rng.NextDouble() < 0.8 ? topic.Type : GlobalType();
            var channel = Channels[Pick(rng, Channels.Select(c => c.Weight).ToList())].Name;
            var phone = rng.NextDouble() < 0.04 ? city.FrequentCallers[rng.Next(city.FrequentCallers.Length)] : City.Phone(rng);
            var anonymous = type == TicketType.Report && rng.NextDouble() < 0.3;
            var summary = Prefixes[rng.Next(Prefixes.Length)] + placeText + phrase + Suffixes[rng.Next(Suffixes.Length)];
            if (rng.NextDouble() < options.RawPhoneInTextShare)
            {
                summary += "回电号码" + phone + "。";
            }

            var urgency = rng.NextDouble() switch { < 0.01 => Urgency.VeryUrgent, < 0.06 => Urgency.Urgent, _ => Urgency.Normal };
            var onTheSpot = type switch
            {
                TicketType.Consultation => rng.NextDouble() < 0.75,
                TicketType.Praise or TicketType.Other => rng.NextDouble() < 0.6,
                _ => rng.NextDouble() < 0.04,
            };

            var ticket = new TicketFact
            {
                Number = registered.ToString("yyyyMMdd", CultureInfo.InvariantCulture) + seq.ToString("000000", CultureInfo.InvariantCulture),
                RegisteredAt = registered,
                Channel = channel,
                Type = type,
                CategoryCode = topic.Code,
                Category1 = topic.Category1,
                Category2 = topic.Category2,
                Category3 = topic.Category3,
                District = district,
                Town = town,
                Urgency = urgency,
                Summary = summary,
                CallerPhone = anonymous ? null : phone,
                CallerPhoneHash = anonymous ? null : Hash(phone),
                PlaceKey = placeKey,
                AnsweredOnTheSpot = onTheSpot,
                // Derived without drawing from rng, so the seeded streams (and the planted-topic tests) stay as they were.
                KnowledgeItemId = onTheSpot && seq % 10 < 7 ? "KB-" + topic.Code : null,
                DispatchDeadline = onTheSpot ? null : registered.AddHours(urgency switch { Urgency.VeryUrgent => 1, Urgency.Urgent => 2, _ => 24 }),
                Tags = urgency == Urgency.VeryUrgent ? ["紧急关注"] : [],
            };

            if (onTheSpot)
            {
                var closed = registered.AddMinutes(5 + rng.Next(20));
                var calledBack = !anonymous && rng.NextDouble() < 0.3 ? closed.AddHours(24 + rng.Next(48)) : (DateTimeOffset?)null;
                calledBack = calledBack <= cutoff ? calledBack : null;
                return ticket with
                {
                    ClosedAt = closed <= cutoff ? closed : null,
                    CalledBackAt = calledBack,
                    Satisfaction = calledBack is null ? null : rng.NextDouble() < 0.93 ? Satisfaction.Satisfied : Satisfaction.BasicallySatisfied,
                };
            }

            var unit = ChooseUnit(topic, district, town);
            var q = city.Quality[unit];
            var dispatched = registered.AddMinutes(10 + Exponential(rng, urgency == Urgency.Normal ? 90 : 20));
            var signDeadline = dispatched.AddHours(2);
            var signed = dispatched.AddMinutes(Exponential(rng, 30 + (150 * (1 - q))));
            var limitDays = urgency != Urgency.Normal ? 1 : type switch
            {
                TicketType.Consultation => 2,
                TicketType.Complaint or TicketType.Report => 15,
                _ => 10,
            };
            var replyDeadline = dispatched.AddDays(limitDays * 7.0 / 5.0);
            var extensions = rng.NextDouble() < 0.05 + (0.1 * (1 - q)) ? 1 : 0;
            if (extensions > 0)
            {
                replyDeadline = replyDeadline.AddDays(7);
            }

            var late = rng.NextDouble() < 0.02 + (0.3 * (1 - q));
            var fraction = late ? 1 + (0.4 * rng.NextDouble()) : 0.15 + (0.8 * rng.NextDouble());
            var replied = dispatched + ((replyDeadline - dispatched) * fraction);
            var returns = rng.NextDouble() < 0.03 + (0.1 * (1 - q)) ? 1 : 0;
            var rehandle = rng.NextDouble() < 0.02 + (0.1 * (1 - q)) ? 1 : 0;
            var calledBackAt = !anonymous && rng.NextDouble() < 0.93 ? replied.AddHours(4 + rng.Next(44)) : (DateTimeOffset?)null;
            var unhappy = rng.NextDouble() < 0.03 + (0.35 * (1 - q)) + (type == TicketType.Complaint ? 0.05 : 0);
            var rated = calledBackAt is not null && calledBackAt <= cutoff && rng.NextDouble() < 0.95;
            var closedAt = (calledBackAt ?? replied).AddHours(1);
            var overdue = (replied <= cutoff ? replied : cutoff) > replyDeadline;

            return ticket with
            {
                MainUnitId = unit,
                DispatchedAt = dispatched <= cutoff ? dispatched : null,
                SignForDeadline = signDeadline,
                SignedForAt = signed <= cutoff ? signed : null,
                ReplyDeadline = replyDeadline,
                RepliedAt = replied <= cutoff ? replied : null,
                ReturnCount = returns,
                ExtensionCount = extensions,
                ReHandlingCount = rehandle,
                ClosedAt = closedAt <= cutoff ? closedAt : null,
                CalledBackAt = calledBackAt <= cutoff ? calledBackAt : null,
                Satisfaction = !rated ? null : unhappy ? Satisfaction.Unsatisfied : rng.NextDouble() < 0.8 ? Satisfaction.Satisfied : Satisfaction.BasicallySatisfied,
                // 办理结果: mostly 已解决; unhappy citizens mostly got 已解释说明 or 未解决. Half the callbacks also ask "是否解决".
                ReplyResult = replied > cutoff ? null : (unhappy ? seq % 3 : seq % 11) switch
                {
                    0 => ReplyResult.Resolved,
                    1 => ReplyResult.Unresolved,
                    _ => unhappy ? ReplyResult.Explained : ReplyResult.Resolved,
                },
                Resolved = !rated || seq % 2 == 0 ? null : !unhappy && seq % 17 != 0,
                UnsatisfiedReason = rated && unhappy ? Reasons[rng.Next(Reasons.Length)] : null,
                IsOverdue = overdue,
                Supervision = !overdue ? SupervisionLevel.None : rng.NextDouble() switch
                {
                    < 0.05 => SupervisionLevel.RedCard,
                    < 0.20 => SupervisionLevel.YellowCard,
                    < 0.60 => SupervisionLevel.Ordinary,
                    _ => SupervisionLevel.None,
                },
            };
        }

        public CallFact Call(DateOnly day)
        {
            var hour = Pick(rng, HourWeights);
            var offered = city.Start(day).AddHours(hour).AddSeconds(rng.Next(3600));
            var busy = HourWeights[hour] / 9.0;
            var wait = Exponential(rng, 4 + (22 * busy));
            var patience = Exponential(rng, 120);
            if (patience < wait)
            {
                return new CallFact(offered, false, patience, 0, 0, true);
            }

            return new CallFact(offered, true, wait, Math.Max(20, LogNormal(rng, 170, 0.6)), 15 + rng.Next(90), false);
        }

        private DemoTopic PickTopic(DateOnly day)
        {
            var topics = DemoCatalogue.Topics;
            var w = topics.Select(t => DemoCatalogue.InSeason(t.Season, day) ? t.Weight : 0).ToList();
            return topics[Pick(rng, w)];
        }

        private TicketType GlobalType() =>
            (TicketType)Pick(rng, [50, 15, 20, 5, 6, 0.8, 3.2]);

        private string ChooseUnit(DemoTopic topic, string district, string town)
        {
            var x = rng.NextDouble();
            if (topic.Place != PlaceKind.None && x < 0.5)
            {
                return city.TownUnit[(district, town)];
            }

            return x < 0.75 ? city.DistrictUnit[district] : city.DepartmentUnit[DemoCatalogue.OwnerDepartments[topic.Category1]];
        }

        private static string Hash(string phone)
        {
            // FNV-1a 64: stable across runs; the server uses a keyed hash instead.
            var h = 14695981039346656037UL;
            foreach (var c in phone)
            {
                h = (h ^ c) * 1099511628211UL;
            }

            return h.ToString("x16", CultureInfo.InvariantCulture);
        }
    }
}
