using System.Globalization;

namespace Hotline.Domain.Calendar;

public enum TimeUnit
{
    /// <summary>Natural clock, 7x24: nights, weekends and holidays count.</summary>
    NaturalHours,

    /// <summary>Working days per the holiday notice; start day not counted; ends 24:00. 0 = same day.</summary>
    WorkingDays,
}

/// <summary>What a limit applies to.</summary>
public enum TimeLimitKind
{
    /// <summary>派单: from registration to dispatch by the hotline office.</summary>
    Dispatch,

    /// <summary>签收: from dispatch to the unit signing for the task.</summary>
    SignFor,

    /// <summary>退回: from dispatch, the window in which the unit may ask to return the task.</summary>
    ReturnWindow,

    /// <summary>答复: from dispatch to the unit's reply.</summary>
    Reply,
}

public sealed record TimeLimit(int Amount, TimeUnit Unit)
{
    public override string ToString() => Unit switch
    {
        TimeUnit.WorkingDays when Amount == 0 => "same day",
        TimeUnit.WorkingDays => Amount.ToString(CultureInfo.InvariantCulture) + " working day(s)",
        _ => Amount.ToString(CultureInfo.InvariantCulture) + " natural hour(s)",
    };
}

/// <summary>
/// One row of the rules table, bind-friendly. <see cref="Type"/> and <see cref="Urgency"/> may be
/// <see cref="TimeLimitRule.Any"/> ("*"). The most specific row wins: an exact urgency outranks an exact
/// type (so "紧急 → same day" beats "投诉 → 15 days"); among equally specific rows the later one wins
/// (so overrides are simply appended).
/// </summary>
public sealed class TimeLimitRule
{
    public const string Any = "*";

    public TimeLimitKind Kind { get; set; }

    public string Type { get; set; } = Any;

    public string Urgency { get; set; } = Any;

    public int Amount { get; set; }

    public TimeUnit Unit { get; set; }

    public TimeLimit Limit => new(Amount, Unit);

    internal int Specificity => (Urgency == Any ? 0 : 2) + (Type == Any ? 0 : 1);

    public static TimeLimitRule For(TimeLimitKind kind, string type, string urgency, int amount, TimeUnit unit) =>
        new() { Kind = kind, Type = type, Urgency = urgency, Amount = amount, Unit = unit };

    public override string ToString() => $"{Kind} {Type}/{Urgency}: {Limit}";
}

/// <summary>
/// The time-limit table (type × urgency × kind). A mutable POCO for configuration binding; the
/// <see cref="DeadlineCalculator"/> validates it and takes an immutable snapshot.
/// </summary>
public sealed class TimeLimitRules
{
    public List<TimeLimitRule> Rules { get; set; } = [];

    /// <summary>The defaults of DOMAIN.md. A fresh instance each call (the type is mutable).</summary>
    public static TimeLimitRules Default => new()
    {
        Rules =
        [
            TimeLimitRule.For(TimeLimitKind.Dispatch, TimeLimitRule.Any, TimeLimitRule.Any, 1, TimeUnit.WorkingDays),
            TimeLimitRule.For(TimeLimitKind.Dispatch, TimeLimitRule.Any, Urgencies.Urgent, 2, TimeUnit.NaturalHours),
            TimeLimitRule.For(TimeLimitKind.Dispatch, TimeLimitRule.Any, Urgencies.VeryUrgent, 1, TimeUnit.NaturalHours),

            // "2 working hours" in DOMAIN.md, simplified to natural hours: the hotline runs 7x24.
            TimeLimitRule.For(TimeLimitKind.SignFor, TimeLimitRule.Any, TimeLimitRule.Any, 2, TimeUnit.NaturalHours),

            TimeLimitRule.For(TimeLimitKind.ReturnWindow, TimeLimitRule.Any, TimeLimitRule.Any, 2, TimeUnit.WorkingDays),

            TimeLimitRule.For(TimeLimitKind.Reply, TimeLimitRule.Any, TimeLimitRule.Any, 10, TimeUnit.WorkingDays),
            TimeLimitRule.For(TimeLimitKind.Reply, TicketTypes.Consultation, TimeLimitRule.Any, 2, TimeUnit.WorkingDays),
            TimeLimitRule.For(TimeLimitKind.Reply, TicketTypes.Complaint, TimeLimitRule.Any, 15, TimeUnit.WorkingDays),
            TimeLimitRule.For(TimeLimitKind.Reply, TicketTypes.Report, TimeLimitRule.Any, 15, TimeUnit.WorkingDays),
            TimeLimitRule.For(TimeLimitKind.Reply, TimeLimitRule.Any, Urgencies.Urgent, 0, TimeUnit.WorkingDays),
            TimeLimitRule.For(TimeLimitKind.Reply, TimeLimitRule.Any, Urgencies.VeryUrgent, 24, TimeUnit.NaturalHours),
        ],
    };

    /// <summary>A new table: these rows followed by <paramref name="overrides"/> (which win ties).</summary>
    public TimeLimitRules With(IEnumerable<TimeLimitRule> overrides)
    {
        ArgumentNullException.ThrowIfNull(overrides);
        return new TimeLimitRules { Rules = [.. Rules.Select(Copy), .. overrides.Select(Copy)] };
    }

    /// <summary>The limit that applies, or null when no row matches.</summary>
    public TimeLimit? Find(TimeLimitKind kind, string type, string urgency)
    {
        TimeLimitRule? best = null;
        foreach (var rule in Rules)
        {
            if (rule.Kind == kind
                && (rule.Type == TimeLimitRule.Any || rule.Type == type)
                && (rule.Urgency == TimeLimitRule.Any || rule.Urgency == urgency)
                && (best is null || rule.Specificity >= best.Specificity))
            {
                best = rule;
            }
        }

        return best?.Limit;
    }

    /// <summary>Problems with the table: unknown types or urgencies, bad amounts, uncovered combinations.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        for (var i = 0; i < Rules.Count; i++)
        {
            var rule = Rules[i];
            var at = $"Rules[{i}]";
            if (rule is null)
            {
                problems.Add($"{at}: empty row");
                continue;
            }

            if (!Enum.IsDefined(rule.Kind))
            {
                problems.Add($"{at}.Kind: unknown kind {rule.Kind}");
            }

            if (!Enum.IsDefined(rule.Unit))
            {
                problems.Add($"{at}.Unit: unknown unit {rule.Unit}");
            }

            if (rule.Type != TimeLimitRule.Any && !TicketTypes.IsKnown(rule.Type))
            {
                problems.Add($"{at}.Type: unknown ticket type '{rule.Type}'");
            }

            if (rule.Urgency != TimeLimitRule.Any && !Urgencies.IsKnown(rule.Urgency))
            {
                problems.Add($"{at}.Urgency: unknown urgency '{rule.Urgency}'");
            }

            if (rule.Amount < 0 || rule.Amount > WorkingCalendar.MaxWorkingDays
                || (rule.Unit == TimeUnit.NaturalHours && rule.Amount == 0))
            {
                problems.Add($"{at}.Amount: {rule.Amount} is out of range");
            }
        }

        if (problems.Count > 0)
        {
            return problems;
        }

        foreach (var kind in Enum.GetValues<TimeLimitKind>())
        {
            foreach (var type in TicketTypes.All)
            {
                foreach (var urgency in Urgencies.All)
                {
                    if (Find(kind, type, urgency) is null)
                    {
                        problems.Add($"no rule for {kind} {type}/{urgency}");
                    }
                }
            }
        }

        return problems;
    }

    private static TimeLimitRule Copy(TimeLimitRule r) => TimeLimitRule.For(r.Kind, r.Type, r.Urgency, r.Amount, r.Unit);
}

/// <summary>
/// Configuration section <c>Hotline:TimeLimits</c>: rows in <see cref="Rules"/> override the defaults for
/// every city, rows in <see cref="Cities"/>[city] override those for one city.
/// </summary>
public sealed class TimeLimitOptions
{
    public const string SectionName = "Hotline:TimeLimits";

    public List<TimeLimitRule> Rules { get; set; } = [];

    public Dictionary<string, List<TimeLimitRule>> Cities { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Defaults, then the shared overrides, then the city's.</summary>
    public TimeLimitRules ForCity(string? city)
    {
        var rules = TimeLimitRules.Default.With(Rules);
        return city is not null && Cities.TryGetValue(city, out var own) ? rules.With(own) : rules;
    }
}

/// <summary>Rules table plus working calendar: the deadline of a step of a ticket.</summary>
public sealed class DeadlineCalculator
{
    private readonly Dictionary<(TimeLimitKind, string, string), TimeLimit> _limits = [];

    public DeadlineCalculator(TimeLimitRules rules, WorkingCalendar calendar)
    {
        ArgumentNullException.ThrowIfNull(rules);
        ArgumentNullException.ThrowIfNull(calendar);
        var problems = rules.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid time-limit rules: " + string.Join("; ", problems), nameof(rules));
        }

        foreach (var kind in Enum.GetValues<TimeLimitKind>())
        {
            foreach (var type in TicketTypes.All)
            {
                foreach (var urgency in Urgencies.All)
                {
                    _limits[(kind, type, urgency)] = rules.Find(kind, type, urgency)!;
                }
            }
        }

        Calendar = calendar;
    }

    public WorkingCalendar Calendar { get; }

    public TimeLimit Limit(TimeLimitKind kind, string type, string urgency)
    {
        if (!TicketTypes.IsKnown(type))
        {
            throw new ArgumentException($"Unknown ticket type '{type}'.", nameof(type));
        }

        if (!Urgencies.IsKnown(urgency))
        {
            throw new ArgumentException($"Unknown urgency '{urgency}'.", nameof(urgency));
        }

        return _limits[(kind, type, urgency)];
    }

    /// <summary>The deadline of <paramref name="kind"/> for a ticket of this type and urgency, counted from <paramref name="start"/>.</summary>
    public Deadline Due(TimeLimitKind kind, string type, string urgency, DateTimeOffset start)
    {
        var limit = Limit(kind, type, urgency);
        var deadline = limit.Unit == TimeUnit.NaturalHours
            ? Calendar.AddNaturalHours(start, limit.Amount)
            : Calendar.AddWorkingDays(start, limit.Amount);
        return deadline with { Basis = $"{kind} {type}/{urgency} = {limit}: {deadline.Basis}" };
    }
}
