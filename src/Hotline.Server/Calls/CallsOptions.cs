namespace Hotline.Server.Calls;

/// <summary>The "Hotline:Calls" configuration section (environment: Hotline__Calls__WrapUpMaxSeconds=90).</summary>
public sealed class CallsOptions
{
    public const string Section = "Hotline:Calls";

    /// <summary>话后处理 maximum: an agent still in wrap-up this long after the call ended is made ready by the ACD. 0 = no limit.</summary>
    public int WrapUpMaxSeconds { get; set; } = 120;

    /// <summary>
    /// Overflow: a call of <see cref="OverflowOptions.Skill"/> waiting at least <see cref="OverflowOptions.AfterSeconds"/> is also offered
    /// to the ready agents of <see cref="OverflowOptions.To"/> (environment: Hotline__Calls__Overflow__0__Skill=方言 …).
    /// </summary>
    public List<OverflowOptions> Overflow { get; set; } = [];

    /// <summary>
    /// Skill groups that offer calls "highest level first": among ready agents the highest level (a user skill <c>"企业专线:3"</c>; a bare
    /// name is level 1) gets the call, then the longest idle. Other groups: longest idle only (environment: Hotline__Calls__LevelFirstSkills__0=企业专线).
    /// </summary>
    public List<string> LevelFirstSkills { get; set; } = [];

    /// <summary>Offer the caller a callback when the expected wait (<see cref="CallStats.ExpectedWaitSeconds"/>) is longer than this. 0 = never.</summary>
    public int CallbackOfferWaitSeconds { get; set; } = 120;

    /// <summary>The handle time (talk + wrap-up) the expected wait assumes before any call of the day has finished.</summary>
    public int DefaultHandleSeconds { get; set; } = 180;

    /// <summary>The DTMF digit with which a caller accepts the callback offer.</summary>
    public string CallbackAcceptDigit { get; set; } = "1";

    /// <summary>
    /// The external numbers an agent may transfer a call to (转接: the emergency lines and other hotlines). Environment:
    /// Hotline__Calls__TransferTargets__0__Number=110, …__Name=公安报警 (a configured list replaces the defaults entry by entry).
    /// </summary>
    public List<TransferTargetOptions> TransferTargets { get; set; } =
    [
        new() { Number = "110", Name = "公安报警" },
        new() { Number = "119", Name = "火警" },
        new() { Number = "120", Name = "医疗急救" },
        new() { Number = "122", Name = "交通事故" },
        new() { Number = "12315", Name = "市场监管投诉举报" },
    ];
}

public sealed class TransferTargetOptions
{
    public string Number { get; set; } = "";

    public string Name { get; set; } = "";
}

public sealed class OverflowOptions
{
    public string Skill { get; set; } = "";

    public int AfterSeconds { get; set; } = 60;

    public List<string> To { get; set; } = [];
}
