namespace Hotline.Server.Jobs;

/// <summary>
/// The "Hotline:Jobs" section: every trigger and timing rule of the office's scheduled work. A city overrides any of
/// them under "Hotline:Jobs:Cities:&lt;city&gt;" (the city is "Hotline:City"); see Jobs/README.md for each key.
/// </summary>
public sealed class JobsOptions
{
    public const string Section = "Hotline:Jobs";

    /// <summary>InMemory (embedded default) or Postgres (clustered ADO store). Empty: Postgres when Hotline:EventStore is Postgres.</summary>
    public string Store { get; set; } = "";

    /// <summary>Quartz thread pool size: how many different jobs may run at once on one node.</summary>
    public int MaxConcurrency { get; set; } = 4;

    /// <summary>Clustered store: how often a node checks in, and how long after a missed check-in the others recover its jobs.</summary>
    public int ClusterCheckinSeconds { get; set; } = 7;
    public int ClusterCheckinMisfireSeconds { get; set; } = 20;

    /// <summary>A firing later than this is a misfire and follows the stated policy (fire once now, then resume).</summary>
    public int MisfireThresholdSeconds { get; set; } = 60;

    // ---- intervals of the polling jobs -------------------------------------------------------------------------
    public int CallbackSchedulingSeconds { get; set; } = 30;
    public int AutoDispatchSeconds { get; set; } = 60;
    public int SignForChaseSeconds { get; set; } = 60;
    public int OverdueChaseSeconds { get; set; } = 300;
    public int RequestWindowsSeconds { get; set; } = 300;
    public int CallbackRetrySeconds { get; set; } = 300;
    public int ReadModelLagSeconds { get; set; } = 15;

    /// <summary>Diagnostic: the cluster probe fires every N seconds (0 = not scheduled) and runs for the given milliseconds.</summary>
    public int ClusterProbeSeconds { get; set; }
    public int ClusterProbeDurationMs { get; set; } = 1000;

    // ---- cron triggers (Quartz cron, Asia/Shanghai) ------------------------------------------------------------
    public string DailyBriefCron { get; set; } = "0 0 8 * * ?";
    public string WeeklyWorkbookCron { get; set; } = "0 0 8 ? * MON";
    public string CalendarAlertCron { get; set; } = "0 30 8 * * ?";

    /// <summary>Daily catch-up of the provisional-deadline recomputation (the holiday import also triggers it at once).</summary>
    public string RecomputeDeadlinesCron { get; set; } = "0 0 3 * * ?";

    // ---- auto-dispatch -------------------------------------------------------------------------------------------
    /// <summary>Whether the job dispatches at all (otherwise it only flags and watches the dispatch deadline).</summary>
    public bool AutoDispatchEnabled { get; set; } = true;

    /// <summary>A registered ticket waits this long for a dispatcher before the job dispatches it from the catalogue.</summary>
    public int AutoDispatchDelayMinutes { get; set; } = 30;

    /// <summary>Urgencies the job never dispatches on its own (a person looks at them).</summary>
    public List<string> AutoDispatchExcludedUrgencies { get; set; } = [];

    // ---- sign-for chase ------------------------------------------------------------------------------------------
    /// <summary>催办 this long before the sign-for deadline when the task is still not signed for.</summary>
    public int SignForUrgeMinutesBefore { get; set; } = 30;

    // ---- overdue chase -------------------------------------------------------------------------------------------
    /// <summary>督办 red card this many working days after the reply deadline has passed without a reply.</summary>
    public int RedCardAfterWorkingDays { get; set; } = 2;

    // ---- return and extension windows ----------------------------------------------------------------------------
    /// <summary>Working days the office has to decide a return request before the default decision applies.</summary>
    public int ReturnDecisionWorkingDays { get; set; } = 1;

    /// <summary>approve | reject: what an undecided return request becomes.</summary>
    public string ReturnDefaultDecision { get; set; } = "approve";

    /// <summary>Working days the office has to decide an extension request before the default decision applies.</summary>
    public int ExtensionDecisionWorkingDays { get; set; } = 1;

    /// <summary>approve | reject: what an undecided extension request becomes.</summary>
    public string ExtensionDefaultDecision { get; set; } = "reject";

    // ---- callbacks -----------------------------------------------------------------------------------------------
    /// <summary>Attempts in all (the first included) before the callback is closed as unreachable.</summary>
    public int CallbackMaxAttempts { get; set; } = 3;

    /// <summary>Local times of day (HH:mm, Asia/Shanghai) at which unreachable citizens are tried again; each retry takes a slot not used before.</summary>
    public List<string> CallbackRetrySlots { get; set; } = ["10:00", "15:00", "19:30"];

    /// <summary>At least this long between two attempts.</summary>
    public int CallbackRetryMinGapHours { get; set; } = 3;

    public IReadOnlyList<TimeOnly> RetrySlots() =>
        CallbackRetrySlots.Select(s => TimeOnly.ParseExact(s, "HH:mm", System.Globalization.CultureInfo.InvariantCulture)).Order().ToList();

    /// <summary>The options for a city: the section, then "Cities:&lt;city&gt;" on top.</summary>
    public static JobsOptions From(IConfiguration configuration)
    {
        var section = configuration.GetSection(Section);
        var options = section.Get<JobsOptions>() ?? new JobsOptions();
        var city = configuration["Hotline:City"];
        if (!string.IsNullOrEmpty(city))
        {
            var overrides = section.GetSection("Cities").GetChildren().FirstOrDefault(c => string.Equals(c.Key, city, StringComparison.OrdinalIgnoreCase));
            overrides?.Bind(options);
        }
        return options;
    }
}
