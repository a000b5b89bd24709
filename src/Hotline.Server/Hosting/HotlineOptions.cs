namespace Hotline.Server.Hosting;

/// <summary>The "Hotline" configuration section. Every setting can also come from the environment (Hotline__EventStore=Postgres).</summary>
public sealed class HotlineOptions
{
    public const string Section = "Hotline";

    /// <summary>Sqlite (embedded default) or Postgres (production).</summary>
    public string EventStore { get; set; } = "Sqlite";

    /// <summary>InMemory (embedded default) or Redis (production).</summary>
    public string Queue { get; set; } = "InMemory";

    /// <summary>Folder for the SQLite file and generated reports (embedded profile).</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>Seed demo users, city, and (with --demo) a simulated call stream.</summary>
    public bool Demo { get; set; } = true;

    /// <summary>Start the call simulator (the run command's --demo switch).</summary>
    public bool SimulateCalls { get; set; }

    /// <summary>Seconds an agent has to accept an offered call before it goes to the next agent.</summary>
    public int ReservationTimeoutSeconds { get; set; } = 20;

    /// <summary>Delay after a reply is accepted before the callback task is created.</summary>
    public int CallbackDelayMinutes { get; set; }

    /// <summary>HMAC key for access tokens. The production profile refuses the development default.</summary>
    public string SigningKey { get; set; } = DevelopmentSigningKey;

    public const string DevelopmentSigningKey = "hotline-development-signing-key-change-me-0123456789";

    public int TokenLifetimeHours { get; set; } = 12;
}
