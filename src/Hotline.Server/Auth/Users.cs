using System.Collections.Concurrent;
using Microsoft.AspNetCore.Identity;

namespace Hotline.Server.Auth;

public static class Roles
{
    public const string Agent = "agent";
    public const string Supervisor = "supervisor";
    public const string Dispatcher = "dispatcher";
    public const string Handler = "handler";
    public const string Callback = "callback";
    public const string Leader = "leader";
    public const string Admin = "admin";

    /// <summary>Roles of the hotline office itself: they see callers' personal data unmasked.</summary>
    public static IReadOnlySet<string> Office { get; } = new HashSet<string>(StringComparer.Ordinal) { Agent, Supervisor, Dispatcher, Callback, Admin };
}

public sealed record UserAccount(string Id, string Username, string DisplayName, IReadOnlyList<string> Roles, string UnitId)
{
    /// <summary>Skill groups an agent takes calls for (普通话, 方言, English, 企业专线, 适老化).</summary>
    public IReadOnlyList<string> Skills { get; init; } = [];

    public string PasswordHash { get; init; } = "";

    /// <summary>When the password last changed: tokens issued before it are no longer accepted.</summary>
    public DateTimeOffset PasswordChangedAt { get; init; }
}

/// <summary>Local user accounts with ASP.NET Core's PasswordHasher (PBKDF2). The embedded default seeds the demo users.</summary>
public sealed class UserDirectory
{
    public const string DemoPassword = "Hotline@2026";

    private readonly ConcurrentDictionary<string, UserAccount> _byUsername = new(StringComparer.OrdinalIgnoreCase);
    private readonly PasswordHasher<UserAccount> _hasher = new();

    public IEnumerable<UserAccount> All => _byUsername.Values.OrderBy(u => u.Username, StringComparer.Ordinal);

    public UserAccount Add(UserAccount user, string password)
    {
        var stored = user with { PasswordHash = _hasher.HashPassword(user, password) };
        _byUsername[user.Username] = stored;
        return stored;
    }

    /// <summary>Adds an account whose password hash was made elsewhere (configuration).</summary>
    public UserAccount AddHashed(UserAccount user)
    {
        _byUsername[user.Username] = user;
        return user;
    }

    public UserAccount? Find(string? username) => username is not null && _byUsername.TryGetValue(username, out var u) ? u : null;

    public string Hash(UserAccount user, string password) => _hasher.HashPassword(user, password);

    /// <summary>True when <paramref name="password"/> is the account's current password.</summary>
    public bool Matches(UserAccount user, string password) =>
        _hasher.VerifyHashedPassword(user, user.PasswordHash, password) != PasswordVerificationResult.Failed;

    /// <summary>Sets a stored hash (a password change recorded in the event store, here or on another node).</summary>
    public void SetPasswordHash(string username, string hash, DateTimeOffset changedAt)
    {
        while (_byUsername.TryGetValue(username, out var current))
        {
            if (current.PasswordChangedAt > changedAt) return;
            if (_byUsername.TryUpdate(username, current with { PasswordHash = hash, PasswordChangedAt = changedAt }, current)) return;
        }
    }

    /// <summary>True when some account still has the published demo password (the production profile refuses to start then).</summary>
    public IEnumerable<UserAccount> WithDemoPassword() => _byUsername.Values.Where(u => Matches(u, DemoPassword));

    public UserAccount? Verify(string username, string password)
    {
        var user = Find(username);
        if (user is null)
        {
            // Same work either way, so the response time does not tell which usernames exist.
            _hasher.VerifyHashedPassword(DummyUser, DummyHash, password);
            return null;
        }
        return Matches(user, password) ? user : null;
    }

    private static readonly UserAccount DummyUser = new("x", "x", "x", [], "x");
    private static readonly string DummyHash = new PasswordHasher<UserAccount>().HashPassword(DummyUser, "not-a-password");

    public static void SeedDemo(UserDirectory users)
    {
        users.Add(new UserAccount("agent1", "agent1", "张晓燕", [Roles.Agent], "hotline") { Skills = ["普通话", "方言", "适老化"] }, DemoPassword);
        users.Add(new UserAccount("agent2", "agent2", "李明", [Roles.Agent], "hotline") { Skills = ["普通话", "English", "企业专线:3"] }, DemoPassword);
        users.Add(new UserAccount("agent3", "agent3", "孙丽", [Roles.Agent], "hotline") { Skills = ["普通话:2", "方言", "企业专线:1"] }, DemoPassword);
        users.Add(new UserAccount("super1", "super1", "王芳", [Roles.Supervisor], "hotline"), DemoPassword);
        users.Add(new UserAccount("disp1", "disp1", "赵强", [Roles.Dispatcher], "hotline"), DemoPassword);
        users.Add(new UserAccount("handler1", "handler1", "陈刚", [Roles.Handler], "zjj"), DemoPassword);
        users.Add(new UserAccount("handler2", "handler2", "吴静", [Roles.Handler], "cgj"), DemoPassword);
        users.Add(new UserAccount("handler3", "handler3", "郑伟", [Roles.Handler], "gov-01"), DemoPassword);
        users.Add(new UserAccount("cb1", "cb1", "刘洋", [Roles.Callback], "hotline"), DemoPassword);
        users.Add(new UserAccount("leader1", "leader1", "周建国", [Roles.Leader], "hotline"), DemoPassword);
        users.Add(new UserAccount("admin", "admin", "系统管理员", [Roles.Admin, Roles.Supervisor, Roles.Dispatcher, Roles.Callback, Roles.Leader], "hotline"), DemoPassword);
    }
}
