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

    /// <summary>Login lockout, rate limits, request size limits, cookie settings ("Hotline:Security").</summary>
    public SecurityOptions Security { get; set; } = new();

    /// <summary>
    /// Local accounts for a deployment without demo data ("Hotline:Users:0:Username" …). Each has either a PasswordHash
    /// (ASP.NET Core PasswordHasher v3 format) or an initial Password the user then changes.
    /// </summary>
    public List<ConfiguredUser> Users { get; set; } = [];
}

public sealed class SecurityOptions
{
    /// <summary>Consecutive failed logins before the account (or the unknown name) is locked.</summary>
    public int MaxFailedLogins { get; set; } = 5;

    public int LockoutMinutes { get; set; } = 15;

    /// <summary>Login attempts per client IP per minute (an office behind one NAT address needs more; see SECURITY.md).</summary>
    public int LoginPerIpPerMinute { get; set; } = 60;

    /// <summary>Login attempts per username per minute, right or wrong, over every node (in Redis when configured).</summary>
    public int LoginPerUserPerMinute { get; set; } = 30;

    /// <summary>Requests per signed-in user per minute, over every endpoint.</summary>
    public int RequestsPerUserPerMinute { get; set; } = 6000;

    /// <summary>Anonymous requests per client IP per minute (login page, /api/meta, webhooks); health probes are not limited.</summary>
    public int AnonymousPerIpPerMinute { get; set; } = 1200;

    /// <summary>Largest accepted request body (bytes); larger answers 413.</summary>
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>Shortest accepted new password.</summary>
    public int MinPasswordLength { get; set; } = 10;
}

public sealed class ConfiguredUser
{
    public string Username { get; set; } = "";
    public string? DisplayName { get; set; }
    public List<string> Roles { get; set; } = [];
    public string UnitId { get; set; } = "hotline";
    public List<string> Skills { get; set; } = [];
    public string? PasswordHash { get; set; }
    public string? Password { get; set; }
}
