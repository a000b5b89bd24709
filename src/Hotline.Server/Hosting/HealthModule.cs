using Hotline.EventStore;
using StackExchange.Redis;

namespace Hotline.Server.Hosting;

public static class HealthModule
{
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => Results.Ok(new { status = "ok" })).AllowAnonymous().WithTags("health");
        app.MapGet("/readyz", async (IEventStore store, IServiceProvider services, Storage.ProjectionRunner projections, CancellationToken ct) =>
        {
            var checks = new Dictionary<string, string>();
            try { checks["eventStore"] = await store.PingAsync(ct) ? "ok" : "unreachable"; }
            catch (Exception e) when (e is not OperationCanceledException) { checks["eventStore"] = "error: " + e.GetType().Name; }
            if (services.GetService<IConnectionMultiplexer>() is { } redis)
            {
                try { await redis.GetDatabase().PingAsync(); checks["redis"] = "ok"; }
                catch (Exception e) when (e is RedisException or TimeoutException) { checks["redis"] = "unreachable: " + e.Message; }
            }
            checks["readModels"] = projections.CaughtUp.IsCompleted ? "ok" : "catching up";
            var ready = checks.Values.All(v => v == "ok");
            return ready ? Results.Ok(new { status = "ready", checks }) : Results.Json(new { status = "not ready", checks }, statusCode: 503);
        }).AllowAnonymous().WithTags("health");
        return app;
    }
}
