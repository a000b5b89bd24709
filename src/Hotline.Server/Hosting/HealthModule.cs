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
            // A probe answers within seconds even when a dependency hangs.
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(3));
            try { checks["eventStore"] = await store.PingAsync(timeout.Token) ? "ok" : "unreachable: the event store does not answer; writes answer 503 with Retry-After until it is back"; }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested) { checks["eventStore"] = "unreachable: no answer within 3 s; writes answer 503 with Retry-After until it is back"; }
            catch (EventStoreUnavailableException e) { checks["eventStore"] = "unreachable: " + e.Message; }
            catch (Exception e) when (e is not OperationCanceledException) { checks["eventStore"] = "error: " + e.GetType().Name; }
            if (services.GetService<IConnectionMultiplexer>() is { } redis)
            {
                try { await redis.GetDatabase().PingAsync().WaitAsync(TimeSpan.FromSeconds(3), ct); checks["redis"] = "ok"; }
                catch (Exception e) when (e is RedisException or TimeoutException) { checks["redis"] = "unreachable: " + e.Message + " (live queue state is rebuilt when it is back)"; }
            }
            checks["readModels"] = projections.CaughtUp.IsCompleted ? "ok" : "catching up";
            var ready = checks.Values.All(v => v == "ok");
            return ready ? Results.Ok(new { status = "ready", checks }) : Results.Json(new { status = "not ready", checks }, statusCode: 503);
        }).AllowAnonymous().WithTags("health");
        return app;
    }
}
