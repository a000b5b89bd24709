using System.Security.Claims;
using Hotline.Server.Auth;
using Hotline.Server.Reference;
using Hotline.Server.Storage;

namespace Hotline.Server.Knowledge;

/// <summary>The knowledge base: units propose, the office approves, agents search during the call.</summary>
public static class KnowledgeModule
{
    public sealed record DecisionRequest(int? Revision, string? Reason);
    public sealed record SynonymsRequest(IReadOnlyList<IReadOnlyList<string>>? Groups);

    public sealed record KnowledgeHit(Guid Id, string Kind, string Title, string Snippet, string OwnerUnitId, string OwnerUnitName, DateOnly? ValidTo, double Score, int Uses);

    public sealed record KnowledgeView(Guid Id, string Status, long Version, KnowledgeText? Published, KnowledgeText? Pending, string? LastRejection, string OwnerUnitId, string OwnerUnitName,
        DateTimeOffset? PublishedAt, int Uses, IReadOnlyList<string> Reminders);

    /// <summary>The hotline office approves: dispatchers (审核员), supervisors, admins.</summary>
    private static void ApproverPolicy(Microsoft.AspNetCore.Authorization.AuthorizationPolicyBuilder p) => p.RequireRole(Roles.Dispatcher, Roles.Supervisor, Roles.Admin);

    public static IHostApplicationBuilder AddHotlineKnowledge(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<KnowledgeBase>();
        builder.Services.AddSingleton<KnowledgeProjection>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<KnowledgeProjection>());
        builder.Services.AddSingleton<KnowledgeReminders>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<KnowledgeReminders>());
        builder.Services.AddHostedService<KnowledgeDemoSeed>();
        return builder;
    }

    public static IEndpointRouteBuilder MapHotlineKnowledge(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/knowledge").WithTags("knowledge").RequireAuthorization();
        group.AddEndpointFilter(async (context, next) =>
        {
            try { return await next(context); }
            catch (KnowledgeNotFoundException) { return Results.Problem(statusCode: 404, title: "知识条目不存在"); }
            catch (KnowledgeVersionException v)
            {
                return Results.Problem(statusCode: 412, title: "知识条目已被他人更新", detail: $"请求基于版本 {v.Expected}，当前版本为 {v.Actual}。", extensions: new Dictionary<string, object?> { ["currentVersion"] = v.Actual });
            }
        });

        group.MapGet("/search", (string? q, int? top, KnowledgeBase kb, CityReference city) =>
        {
            if (string.IsNullOrWhiteSpace(q)) return Results.Ok(Array.Empty<KnowledgeHit>());
            var hits = kb.Search(q.Length > 200 ? q[..200] : q, Math.Clamp(top ?? 10, 1, 50));
            return Results.Ok(hits.Select(h => new KnowledgeHit(h.Item.Id, h.Item.Published!.Kind, h.Item.Published.Title, Snippet(h.Item.Published.Body, q), h.Item.OwnerUnitId,
                city.UnitOf(h.Item.OwnerUnitId)?.Name ?? h.Item.OwnerUnitId, h.Item.Published.ValidTo, Math.Round(h.Score, 3), kb.UsageOf(h.Item.Id))).ToList());
        }).RequireAuthorization("office");

        group.MapGet("/items", (ClaimsPrincipal user, KnowledgeBase kb, CityReference city, string? status, string? unitId) =>
        {
            var today = kb.Today;
            var rows = kb.All.Where(i => CanSee(i, user, city));
            if (!string.IsNullOrEmpty(status)) rows = rows.Where(i => i.Status(today) == status || (status == "待审核" && i.Pending is not null));
            if (!string.IsNullOrEmpty(unitId)) rows = rows.Where(i => i.OwnerUnitId == unitId);
            return rows.OrderByDescending(i => i.Pending?.ProposedAt ?? i.PublishedAt).Select(i => View(i, kb, city)).ToList();
        });

        group.MapGet("/items/{id:guid}", async (Guid id, ClaimsPrincipal user, HttpContext http, KnowledgeBase kb, CityReference city, CancellationToken ct) =>
        {
            var item = await kb.LoadAsync(id, ct);
            if (!CanSee(item, user, city)) throw new KnowledgeNotFoundException(id);
            http.Response.Headers.ETag = $"\"{item.Version}\"";
            return Results.Ok(View(item, kb, city));
        });

        group.MapPost("/items", async (ProposeRequest body, ClaimsPrincipal user, HttpContext http, KnowledgeBase kb, CityReference city, CancellationToken ct) =>
        {
            var key = http.Request.Headers["Idempotency-Key"].ToString();
            var id = key.Length is > 0 and <= 200 ? DeterministicId.From("kb", user.UserId(), key) : Guid.CreateVersion7();
            var owner = OwnerFor(user, body.OwnerUnitId);
            var proposed = kb.Validate(id, 1, body, owner, user.UserId());
            await kb.AppendAsync(KnowledgeBase.StreamOf(id), 0, proposed, "proposed:1", user.UserId(), ct);
            var item = await kb.LoadAsync(id, ct);
            http.Response.Headers.ETag = $"\"{item.Version}\"";
            return Results.Created($"/api/knowledge/items/{id}", View(item, kb, city));
        }).RequireAuthorization(policy => policy.RequireRole(Roles.Handler, Roles.Supervisor, Roles.Dispatcher, Roles.Admin));

        group.MapPost("/items/{id:guid}/proposals", async (Guid id, ProposeRequest body, ClaimsPrincipal user, HttpContext http, KnowledgeBase kb, CityReference city, CancellationToken ct) =>
        {
            var item = await kb.LoadAsync(id, ct);
            if (!CanEdit(item, user, city)) return Results.Problem(statusCode: 403, title: "只能修订本单位的知识条目");
            var expected = IfMatch(http, item.Version);
            var proposed = kb.Validate(id, item.Revisions + 1, body, user.IsInRole(Roles.Handler) ? item.OwnerUnitId : body.OwnerUnitId ?? item.OwnerUnitId, user.UserId());
            await kb.AppendAsync(KnowledgeBase.StreamOf(id), expected, proposed, $"proposed:{item.Revisions + 1}", user.UserId(), ct);
            item = await kb.LoadAsync(id, ct);
            http.Response.Headers.ETag = $"\"{item.Version}\"";
            return Results.Ok(View(item, kb, city));
        }).RequireAuthorization(policy => policy.RequireRole(Roles.Handler, Roles.Supervisor, Roles.Dispatcher, Roles.Admin));

        group.MapPost("/items/{id:guid}/approve", (Guid id, DecisionRequest body, ClaimsPrincipal user, HttpContext http, KnowledgeBase kb, CityReference city, CancellationToken ct) =>
            Decide(id, body, user, http, kb, city, (item, by, at) => new KnowledgeApproved(id, item.Pending!.Revision, by, at), "approved", ct)).RequireAuthorization(ApproverPolicy);
        group.MapPost("/items/{id:guid}/reject", (Guid id, DecisionRequest body, ClaimsPrincipal user, HttpContext http, KnowledgeBase kb, CityReference city, CancellationToken ct) =>
        {
            if (string.IsNullOrWhiteSpace(body.Reason)) throw new Domain.Common.DomainValidationException("reason", "驳回原因不能为空");
            return Decide(id, body, user, http, kb, city, (item, by, at) => new KnowledgeRejected(id, item.Pending!.Revision, body.Reason.Trim(), by, at), "rejected", ct);
        }).RequireAuthorization(ApproverPolicy);
        group.MapPost("/items/{id:guid}/retire", async (Guid id, DecisionRequest body, ClaimsPrincipal user, HttpContext http, KnowledgeBase kb, CityReference city, CancellationToken ct) =>
        {
            var item = await kb.LoadAsync(id, ct);
            if (item.Retired) return Results.Problem(statusCode: 409, title: "知识条目已下线");
            await kb.AppendAsync(KnowledgeBase.StreamOf(id), item.Version, new KnowledgeRetired(id, body.Reason ?? "下线", user.UserId(), kb.Time.GetUtcNow()), $"retired:{item.Version}", user.UserId(), ct);
            return Results.Ok(View(await kb.LoadAsync(id, ct), kb, city));
        }).RequireAuthorization(ApproverPolicy);

        group.MapGet("/synonyms", (KnowledgeBase kb) => new { version = kb.SynonymsVersion, groups = kb.Synonyms });
        group.MapPut("/synonyms", async (SynonymsRequest body, ClaimsPrincipal user, KnowledgeBase kb, CancellationToken ct) =>
        {
            var groups = (body.Groups ?? []).Select(g => (IReadOnlyList<string>)g.Where(t => !string.IsNullOrWhiteSpace(t)).Select(t => t.Trim()).Distinct().ToList()).Where(g => g.Count >= 2).ToList();
            if (groups.Count > 2000) throw new Domain.Common.DomainValidationException("groups", "同义词组过多");
            var version = kb.SynonymsVersion;
            await kb.AppendAsync(KnowledgeBase.SynonymStream, version, new KnowledgeSynonymsSet(groups, user.UserId(), kb.Time.GetUtcNow()), $"set:{version}", user.UserId(), ct);
            return Results.Ok(new { version = kb.SynonymsVersion, groups = kb.Synonyms });
        }).RequireAuthorization(ApproverPolicy);

        group.MapGet("/reminders", (ClaimsPrincipal user, KnowledgeBase kb, CityReference city) =>
        {
            var today = kb.Today;
            return kb.All.Where(i => i.Published is not null && !i.Retired && CanSee(i, user, city)
                    && ((i.Published.ValidTo is { } to && to < today) || (i.Published.ReviewBy is { } r && r <= today)))
                .Select(i => new { i.Id, i.Published!.Title, i.OwnerUnitId, reason = i.Published.ValidTo < today ? "已过期" : "待复核", i.Published.ValidTo, i.Published.ReviewBy, reminded = i.Reminders.Count > 0 })
                .ToList();
        });

        group.MapGet("/usage", (KnowledgeBase kb) => kb.Usage).RequireAuthorization("office");
        return app;
    }

    private static async Task<IResult> Decide(Guid id, DecisionRequest body, ClaimsPrincipal user, HttpContext http, KnowledgeBase kb, CityReference city,
        Func<KnowledgeItem, string, DateTimeOffset, object> decision, string key, CancellationToken ct)
    {
        var item = await kb.LoadAsync(id, ct);
        if (item.Pending is null) return Results.Problem(statusCode: 409, title: "没有待审核的修订");
        if (body.Revision is { } r && r != item.Pending.Revision) return Results.Problem(statusCode: 412, title: "待审核的修订已变化", detail: $"当前待审核修订为第 {item.Pending.Revision} 版。");
        await kb.AppendAsync(KnowledgeBase.StreamOf(id), item.Version, decision(item, user.UserId(), kb.Time.GetUtcNow()), $"{key}:{item.Pending.Revision}", user.UserId(), ct);
        item = await kb.LoadAsync(id, ct);
        http.Response.Headers.ETag = $"\"{item.Version}\"";
        return Results.Ok(View(item, kb, city));
    }

    private static KnowledgeView View(KnowledgeItem i, KnowledgeBase kb, CityReference city) =>
        new(i.Id, i.Status(kb.Today), i.Version, i.Published, i.Pending, i.LastRejection, i.OwnerUnitId, city.UnitOf(i.OwnerUnitId)?.Name ?? i.OwnerUnitId, i.PublishedAt, kb.UsageOf(i.Id), i.Reminders);

    /// <summary>The office sees everything; a unit sees its own items and the published ones.</summary>
    private static bool CanSee(KnowledgeItem i, ClaimsPrincipal user, CityReference city) =>
        user.IsOffice() || user.IsInRole(Roles.Leader) || (i.Published is not null && !i.Retired) || city.IsWithin(i.OwnerUnitId, user.UnitId());

    private static bool CanEdit(KnowledgeItem i, ClaimsPrincipal user, CityReference city) =>
        !user.IsInRole(Roles.Handler) || city.IsWithin(i.OwnerUnitId, user.UnitId());

    private static string OwnerFor(ClaimsPrincipal user, string? requested) =>
        user.IsInRole(Roles.Handler) && !user.IsOffice() ? user.UnitId() : string.IsNullOrWhiteSpace(requested) ? "hotline" : requested.Trim();

    private static long IfMatch(HttpContext http, long current)
    {
        var raw = http.Request.Headers.IfMatch.ToString().Trim();
        if (raw.Length == 0) return current;
        if (raw.StartsWith("W/", StringComparison.Ordinal)) raw = raw[2..];
        return long.TryParse(raw.Trim('"'), out var v) ? v : throw new Domain.Common.DomainValidationException("If-Match", "If-Match 必须是版本号");
    }

    private static string Snippet(string body, string q)
    {
        var at = -1;
        foreach (var t in KnowledgeSearch.Tokens(q).Where(t => t.Length >= 2)) { at = body.IndexOf(t, StringComparison.OrdinalIgnoreCase); if (at >= 0) break; }
        var start = Math.Max(0, at - 20);
        var s = body.Substring(start, Math.Min(120, body.Length - start));
        return (start > 0 ? "…" : "") + s + (start + s.Length < body.Length ? "…" : "");
    }
}
