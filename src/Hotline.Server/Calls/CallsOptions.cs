namespace Hotline.Server.Calls;

/// <summary>The "Hotline:Calls" configuration section (environment: Hotline__Calls__WrapUpMaxSeconds=90).</summary>
public sealed class CallsOptions
{
    public const string Section = "Hotline:Calls";

    /// <summary>话后处理 maximum: an agent still in wrap-up this long after the call ended is made ready by the ACD. 0 = no limit.</summary>
    public int WrapUpMaxSeconds { get; set; } = 120;
}
