using Hotline.Calls;
using Hotline.Calls.InMemory;
using Hotline.Calls.Redis;
using Hotline.EventStore;
using Hotline.EventStore.Postgres;
using Hotline.EventStore.Sqlite;
using StackExchange.Redis;

namespace Hotline.Server.Hosting;

/// <summary>Chooses the event store (Sqlite | Postgres) and the call queue (InMemory | Redis) from configuration.</summary>
public static class InfrastructureModule
{
    public static IHostApplicationBuilder AddHotlineInfrastructure(this IHostApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(HotlineOptions.Section).Get<HotlineOptions>() ?? new HotlineOptions();
        // A relative data folder lives under the server's content root (src/Hotline.Server/data with `dotnet run`).
        var contentRoot = builder.Environment.ContentRootPath;
        options.DataDirectory = Path.GetFullPath(options.DataDirectory, contentRoot);
        builder.Services.Configure<HotlineOptions>(builder.Configuration.GetSection(HotlineOptions.Section));
        builder.Services.PostConfigure<HotlineOptions>(o => o.DataDirectory = Path.GetFullPath(o.DataDirectory, contentRoot));
        builder.Services.AddSingleton(TimeProvider.System);

        switch (options.EventStore.ToLowerInvariant())
        {
            case "sqlite":
                var dir = options.DataDirectory;
                Directory.CreateDirectory(dir);
                var sqlite = builder.Configuration.GetConnectionString("Sqlite") ?? $"Data Source={Path.Combine(dir, "hotline-events.db")}";
                builder.Services.AddSingleton<IEventStore>(sp => new SqliteEventStore(sqlite, sp.GetRequiredService<TimeProvider>()));
                break;
            case "postgres":
                var pg = builder.Configuration.GetConnectionString("Postgres")
                    ?? throw new InvalidOperationException("Hotline:EventStore=Postgres needs ConnectionStrings:Postgres (or the environment variable ConnectionStrings__Postgres).");
                builder.Services.AddSingleton<IEventStore>(sp => new PostgresEventStore(pg, sp.GetRequiredService<TimeProvider>()));
                break;
            default:
                throw new InvalidOperationException($"Hotline:EventStore must be Sqlite or Postgres, not '{options.EventStore}'.");
        }

        switch (options.Queue.ToLowerInvariant())
        {
            case "inmemory":
                builder.Services.AddSingleton<ICallQueue, InMemoryCallQueue>();
                break;
            case "redis":
                var redis = builder.Configuration.GetConnectionString("Redis")
                    ?? throw new InvalidOperationException("Hotline:Queue=Redis needs ConnectionStrings:Redis (or ConnectionStrings__Redis).");
                builder.Services.AddSingleton<IConnectionMultiplexer>(_ =>
                {
                    var config = ConfigurationOptions.Parse(redis);
                    config.AbortOnConnectFail = false;
                    return ConnectionMultiplexer.Connect(config);
                });
                builder.Services.AddSingleton<ICallQueue>(sp => new RedisCallQueue(sp.GetRequiredService<IConnectionMultiplexer>(), builder.Configuration["Hotline:RedisPrefix"] ?? "hotline"));
                break;
            default:
                throw new InvalidOperationException($"Hotline:Queue must be InMemory or Redis, not '{options.Queue}'.");
        }
        return builder;
    }
}
