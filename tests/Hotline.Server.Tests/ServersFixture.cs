using Hotline.Testing;

namespace Hotline.Server.Tests;

/// <summary>One real Redis and one real PostgreSQL for the whole test assembly; each test gets its own database and key prefix.</summary>
public sealed class ServersFixture : IAsyncLifetime
{
    private RedisServer? _redis;
    private PostgresServer? _postgres;

    public RedisServer Redis => _redis!;
    public PostgresServer Postgres => _postgres!;

    public async Task InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        _postgres = await PostgresServer.StartNewAsync();
    }

    public async Task DisposeAsync()
    {
        if (_redis is not null) await _redis.DisposeAsync();
        if (_postgres is not null) await _postgres.DisposeAsync();
    }

    /// <summary>Configuration for a server on Redis + PostgreSQL with a fresh database and key prefix.</summary>
    public async Task<Dictionary<string, string>> ProductionSettingsAsync() => new()
    {
        ["Hotline:EventStore"] = "Postgres",
        ["Hotline:Queue"] = "Redis",
        ["Hotline:RedisPrefix"] = "t" + Guid.NewGuid().ToString("N")[..8],
        ["ConnectionStrings:Postgres"] = await Postgres.CreateDatabaseAsync("hotline"),
        ["ConnectionStrings:Redis"] = Redis.ConnectionString,
    };
}

[CollectionDefinition(Name)]
public sealed class ServersCollection : ICollectionFixture<ServersFixture>
{
    public const string Name = "servers";
}
