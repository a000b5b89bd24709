namespace Hotline.Telephony.Simulator;

/// <summary>One generated call: when it arrives, who calls, what the caller wants and how the call will go.</summary>
public sealed record SimulatedCall(
    string CallId,
    DateTimeOffset ArrivesAt,
    string CallerNumber,
    string DialledNumber,
    string Trunk,
    string IvrPath,
    string Skill,
    bool Elderly,
    bool Vip,
    bool RepeatCaller,
    TimeSpan Patience,
    TimeSpan TalkTime,
    TimeSpan WrapUpTime);

/// <summary>Skill names as the ACD knows them (DOMAIN.md "Calls").</summary>
public static class HotlineSkills
{
    public const string Mandarin = "普通话";
    public const string Dialect = "方言";
    public const string English = "English";
    public const string Enterprise = "企业专线";
    public const string Elderly = "适老化";
}

/// <summary>A log-normal distribution given by its median and the sigma of the underlying normal.</summary>
public sealed record LogNormal(TimeSpan Median, double Sigma)
{
    public TimeSpan Sample(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        // Box-Muller; 1 - NextDouble() is in (0, 1] so the log is finite.
        var u1 = 1.0 - random.NextDouble();
        var u2 = random.NextDouble();
        var z = Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
        return TimeSpan.FromSeconds(Median.TotalSeconds * Math.Exp(Sigma * z));
    }
}

/// <summary>The shape of a hotline's traffic. Defaults follow a big-city 12345 working day.</summary>
public sealed class TrafficProfile
{
    /// <summary>Share of a day's calls in each local hour 00..23 (any scale; normalised). Quiet night, a morning peak
    /// at 9–11, a lunch dip, an afternoon peak at 14–16, a long evening tail.</summary>
    public IReadOnlyList<double> HourlyWeights { get; set; } =
    [
        1.2, 0.8, 0.5, 0.4, 0.4, 0.6, 1.2, 3.0, 6.5, 9.0, 9.5, 8.0,
        5.0, 6.0, 8.0, 8.5, 8.0, 6.0, 4.0, 3.5, 3.2, 2.8, 2.0, 1.5,
    ];

    /// <summary>Offered calls on an ordinary weekday.</summary>
    public double CallsPerDay { get; set; } = 20_000;

    /// <summary>Saturdays and Sundays bring fewer calls.</summary>
    public double WeekendFactor { get; set; } = 0.75;

    /// <summary>Multiplies the arrival rate: 2–4 for a flood or a lockdown.</summary>
    public double SurgeFactor { get; set; } = 1.0;

    /// <summary>Offset of the city's local time (China Standard Time, no DST).</summary>
    public TimeSpan UtcOffset { get; set; } = TimeSpan.FromHours(8);

    /// <summary>Share of each requested skill (normalised).</summary>
    public IReadOnlyDictionary<string, double> SkillMix { get; set; } = new Dictionary<string, double>
    {
        [HotlineSkills.Mandarin] = 0.82,
        [HotlineSkills.Dialect] = 0.06,
        [HotlineSkills.English] = 0.02,
        [HotlineSkills.Enterprise] = 0.05,
        [HotlineSkills.Elderly] = 0.05,
    };

    /// <summary>Share of elderly callers overall; callers on the 适老化 line are all elderly.</summary>
    public double ElderlyShare { get; set; } = 0.12;

    public double VipShare { get; set; } = 0.005;

    /// <summary>Share of calls from a number that called before (pool of <see cref="RepeatCallerPoolSize"/>).</summary>
    public double RepeatCallerShare { get; set; } = 0.15;

    public int RepeatCallerPoolSize { get; set; } = 2_000;

    /// <summary>Share of fixed-line callers (the rest are mobiles 1[3-9]x xxxx xxxx).</summary>
    public double LandlineShare { get; set; } = 0.08;

    public string AreaCode { get; set; } = "010";

    public string DialledNumber { get; set; } = "12345";

    public IReadOnlyList<string> Trunks { get; set; } = ["CT-SIP-01", "CU-SIP-01", "CM-SIP-01"];

    public LogNormal TalkTime { get; set; } = new(TimeSpan.FromSeconds(200), 0.55);

    public LogNormal WrapUpTime { get; set; } = new(TimeSpan.FromSeconds(45), 0.5);

    /// <summary>How long a caller waits in the queue before hanging up.</summary>
    public LogNormal Patience { get; set; } = new(TimeSpan.FromSeconds(90), 0.8);
}

/// <summary>
/// Non-homogeneous Poisson arrivals (piecewise constant rate per local hour) with a realistic caller mix.
/// Deterministic: the same seed, start and span give the same calls.
/// </summary>
public sealed class TrafficModel
{
    // Mobile number segments in use in mainland China (China Mobile, Unicom, Telecom, broadcast, virtual operators).
    private static readonly int[] MobilePrefixes =
    [
        130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 145, 147, 150, 151, 152, 153, 155, 156, 157, 158, 159,
        162, 165, 166, 167, 170, 171, 172, 173, 175, 176, 177, 178, 180, 181, 182, 183, 184, 185, 186, 187, 188, 189,
        190, 191, 192, 193, 195, 196, 197, 198, 199,
    ];

    private static readonly Dictionary<string, string> IvrDigits = new()
    {
        [HotlineSkills.Mandarin] = "1",
        [HotlineSkills.Dialect] = "2",
        [HotlineSkills.English] = "3",
        [HotlineSkills.Enterprise] = "4",
        [HotlineSkills.Elderly] = "0",
    };

    private readonly TrafficProfile _profile;
    private readonly int _seed;
    private readonly double[] _hourShare;
    private readonly (string Skill, double Cumulative)[] _skills;
    private readonly string[] _repeatPool;

    public TrafficModel(TrafficProfile profile, int seed)
    {
        ArgumentNullException.ThrowIfNull(profile);
        if (profile.HourlyWeights.Count != 24)
        {
            throw new ArgumentException("HourlyWeights needs 24 values, one per local hour.", nameof(profile));
        }
        _profile = profile;
        _seed = seed;
        var total = profile.HourlyWeights.Sum();
        _hourShare = [.. profile.HourlyWeights.Select(w => total > 0 ? w / total : 0)];

        var skillTotal = profile.SkillMix.Values.Sum();
        var cumulative = 0.0;
        _skills = [.. profile.SkillMix.OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => (kv.Key, cumulative += kv.Value / skillTotal))];

        // The pool of regular callers depends on the seed only, so it is the same on every day generated.
        var poolRandom = new Random(seed);
        _repeatPool = [.. Enumerable.Range(0, Math.Max(1, profile.RepeatCallerPoolSize)).Select(_ => PhoneNumber(poolRandom))];
    }

    public TrafficProfile Profile => _profile;

    /// <summary>Expected calls in the local hour starting at <paramref name="at"/> (the Poisson rate times an hour).</summary>
    public double ExpectedCallsInHour(DateTimeOffset at)
    {
        var local = at.ToOffset(_profile.UtcOffset);
        var day = local.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday ? _profile.WeekendFactor : 1.0;
        return _profile.CallsPerDay * _hourShare[local.Hour] * day * _profile.SurgeFactor;
    }

    public IEnumerable<SimulatedCall> Generate(DateTimeOffset from, TimeSpan span)
    {
        var random = new Random(StableSeed(_seed, from.UtcTicks, span.Ticks));
        var end = from + span;
        var t = from;
        var n = 0;
        var elderlyLine = _profile.SkillMix.TryGetValue(HotlineSkills.Elderly, out var e) ? e / _profile.SkillMix.Values.Sum() : 0;
        var elderlyElsewhere = elderlyLine >= 1 ? 0 : Math.Clamp((_profile.ElderlyShare - elderlyLine) / (1 - elderlyLine), 0, 1);

        while (t < end)
        {
            var local = t.ToOffset(_profile.UtcOffset);
            var hourStart = new DateTimeOffset(local.Year, local.Month, local.Day, local.Hour, 0, 0, local.Offset);
            var segmentEnd = hourStart.AddHours(1) < end ? hourStart.AddHours(1) : end;
            var ratePerSecond = ExpectedCallsInHour(t) / 3600.0;
            if (ratePerSecond <= 0)
            {
                t = segmentEnd;
                continue;
            }
            var next = t + TimeSpan.FromSeconds(-Math.Log(1.0 - random.NextDouble()) / ratePerSecond);
            if (next >= segmentEnd)
            {
                // Exponential gaps are memoryless: restart at the boundary with the next hour's rate.
                t = segmentEnd;
                continue;
            }
            t = next;
            yield return NewCall(random, t, n++, elderlyElsewhere);
        }
    }

    // HashCode.Combine is randomised per process; a simulation must replay identically everywhere (SplitMix64).
    private static int StableSeed(int seed, long a, long b)
    {
        static ulong Mix(ulong z)
        {
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
        var h = Mix((ulong)seed + 0x9E3779B97F4A7C15UL);
        h = Mix(h ^ (ulong)a);
        h = Mix(h ^ (ulong)b);
        return (int)(h & 0x7FFFFFFF);
    }

    private SimulatedCall NewCall(Random random, DateTimeOffset at, int n, double elderlyElsewhere)
    {
        var skill = PickSkill(random.NextDouble());
        var elderly = skill == HotlineSkills.Elderly || random.NextDouble() < elderlyElsewhere;
        var repeat = random.NextDouble() < _profile.RepeatCallerShare;
        var number = repeat ? _repeatPool[random.Next(_repeatPool.Length)] : PhoneNumber(random);
        var vip = random.NextDouble() < _profile.VipShare;
        var talk = _profile.TalkTime.Sample(random);
        if (skill == HotlineSkills.English || elderly)
        {
            talk *= 1.3; // interpreting and patient explaining take longer
        }
        var patience = _profile.Patience.Sample(random);
        if (elderly)
        {
            patience *= 1.5;
        }
        return new SimulatedCall(
            CallId: $"sim-{_seed}-{at.ToUnixTimeMilliseconds()}-{n}",
            ArrivesAt: at,
            CallerNumber: number,
            DialledNumber: _profile.DialledNumber,
            Trunk: _profile.Trunks.Count == 0 ? "sim" : _profile.Trunks[random.Next(_profile.Trunks.Count)],
            IvrPath: IvrDigits.GetValueOrDefault(skill, "1"),
            Skill: skill,
            Elderly: elderly,
            Vip: vip,
            RepeatCaller: repeat,
            Patience: patience,
            TalkTime: talk,
            WrapUpTime: _profile.WrapUpTime.Sample(random));
    }

    private string PickSkill(double u)
    {
        foreach (var (skill, cumulative) in _skills)
        {
            if (u < cumulative)
            {
                return skill;
            }
        }
        return _skills[^1].Skill;
    }

    private string PhoneNumber(Random random)
    {
        if (random.NextDouble() < _profile.LandlineShare)
        {
            // 8-digit local numbers do not start with 0 or 1.
            return $"{_profile.AreaCode}{random.Next(2, 10)}{random.Next(0, 10_000_000):D7}";
        }
        return $"{MobilePrefixes[random.Next(MobilePrefixes.Length)]}{random.Next(0, 100_000_000):D8}";
    }
}
