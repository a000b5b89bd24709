namespace Hotline.Server.Storage;

/// <summary>
/// The persistent read models that can be rebuilt from position 0 by command, by name. The in-memory read models
/// (ticket index, call stats, channels, knowledge) are not listed: they are rebuilt from position 0 at every start.
/// </summary>
public sealed class ReadModels(IReadOnlyDictionary<string, CatchUpProjection> byName)
{
    public IReadOnlyCollection<string> Names => byName.Keys.Order(StringComparer.Ordinal).ToList();

    public CatchUpProjection? Get(string name) => byName.GetValueOrDefault(name);
}

public static class ReadModelsEndpoints
{
    /// <summary>
    /// <c>GET /api/admin/read-models</c> and <c>POST /api/admin/read-models/{name}/rebuild[?wait=true]</c> (admin): resets the
    /// read model and its checkpoint and replays the log from position 0. 202 at once, or 200 once caught up with
    /// <c>wait=true</c>; 404 for an unknown name. Queries keep answering meanwhile (see the read model's docs).
    /// </summary>
    public static IEndpointRouteBuilder MapReadModelAdmin(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/admin/read-models").WithTags("admin").RequireAuthorization("admin");
        group.MapGet("/", (ReadModels models) => models.Names.Select(n => new { name = n, rebuilding = models.Get(n)!.Rebuilding, caughtUp = models.Get(n)!.CaughtUp.IsCompleted }));
        group.MapPost("/{name}/rebuild", async (string name, bool? wait, ReadModels models, CancellationToken ct) =>
        {
            if (models.Get(name) is not { } model)
                return Results.Problem(statusCode: 404, title: "读模型不存在", detail: "可重建的读模型：" + string.Join("、", models.Names),
                    extensions: new Dictionary<string, object?> { ["name"] = name.Length > 60 ? name[..60] : name, ["readModels"] = models.Names });
            var done = model.RebuildAsync();
            if (wait != true) return Results.Accepted($"/api/admin/read-models", new { name, rebuilding = true });
            try
            {
                await done.WaitAsync(TimeSpan.FromMinutes(10), ct);
            }
            catch (TimeoutException)
            {
                return Results.Accepted($"/api/admin/read-models", new { name, rebuilding = true });
            }
            return Results.Ok(new { name, rebuilding = false, rebuiltAt = DateTimeOffset.UtcNow });
        });
        return app;
    }
}
