using System.Globalization;
using System.Security.Claims;
using Hotline.Domain.Common;
using Hotline.EventStore;
using Hotline.Server.Auth;
using Hotline.Server.Storage;

namespace Hotline.Server.Reference;

/// <summary>A new version of the three-level category tree (stream <c>reference-categories</c>).</summary>
[EventType("V1.CategoryTreePublished")]
public sealed record CategoryTreePublished(string Version, IReadOnlyList<TreeNode> Categories, string By, DateTimeOffset At);

/// <summary>A new version of the dispatch catalogue (stream <c>reference-catalogue</c>), checked against <paramref name="CategoryVersion"/>.</summary>
[EventType("V1.DispatchCataloguePublished")]
public sealed record DispatchCataloguePublished(string Version, string CategoryVersion, IReadOnlyList<CatalogueEntry> Entries, string By, DateTimeOffset At);

public sealed record CategoryNodeInput(string? Code, string? Name, IReadOnlyList<CategoryNodeInput>? Children);

public sealed record PublishCategoriesRequest(IReadOnlyList<CategoryNodeInput>? Categories);

public sealed record CatalogueEntryInput(string? CategoryCode, string? UnitId, string? AreaCode, IReadOnlyList<string>? CoUnitIds);

public sealed record PublishCatalogueRequest(IReadOnlyList<CatalogueEntryInput>? Entries);

/// <summary>A publish raced another one (the stream moved on): 409, reload and try again.</summary>
public sealed class ReferenceVersionConflictException(string what, string current) : Exception($"{what} was published meanwhile (current version {current}).")
{
    public string What { get; } = what;
    public string Current { get; } = current;
}

/// <summary>
/// Publishing new versions of the category tree and the dispatch catalogue: validation (field paths such as
/// <c>categories[0].children[1].code</c>), an event per version, loading every version at start-up.
/// </summary>
public sealed class ReferencePublishing(IEventStore store, EventSerializer serializer, CityReference city, TimeProvider time)
{
    public const string CategoriesStream = "reference-categories";
    public const string CatalogueStream = "reference-catalogue";

    public static IEnumerable<Type> EventTypes => [typeof(CategoryTreePublished), typeof(DispatchCataloguePublished)];

    /// <summary>Applies every published version (start-up; the projection runner applies the ones published later on other nodes).</summary>
    public async Task LoadAsync(CancellationToken ct)
    {
        await foreach (var e in store.ReadStreamAsync(CategoriesStream, 0, ct))
            if (serializer.Deserialize(e) is CategoryTreePublished c) city.Apply(c);
        await foreach (var e in store.ReadStreamAsync(CatalogueStream, 0, ct))
            if (serializer.Deserialize(e) is DispatchCataloguePublished d) city.Apply(d);
    }

    public async Task<CategoryTreePublished> PublishCategoriesAsync(PublishCategoriesRequest body, string by, CancellationToken ct)
    {
        var tree = ValidateCategories(body, city);
        var current = city.CategoryVersion;
        var published = new CategoryTreePublished(Next(current), tree, by, time.GetUtcNow());
        await AppendAsync(CategoriesStream, current, published, published.Version, by, "分类树", ct);
        city.Apply(published);
        return published;
    }

    public async Task<DispatchCataloguePublished> PublishCatalogueAsync(PublishCatalogueRequest body, string by, CancellationToken ct)
    {
        var entries = ValidateCatalogue(body, city);
        var current = city.CatalogueVersion;
        var published = new DispatchCataloguePublished(Next(current), city.CategoryVersion, entries, by, time.GetUtcNow());
        await AppendAsync(CatalogueStream, current, published, published.Version, by, "派单目录", ct);
        city.Apply(published);
        return published;
    }

    private static string Next(string version) => (CityReference.NumberOf(version) + 1).ToString(CultureInfo.InvariantCulture);

    /// <summary>Version "1" is built in (no event); version n is event n-2 of its stream.</summary>
    private async Task AppendAsync(string stream, string current, object published, string version, string by, string what, CancellationToken ct)
    {
        var n = CityReference.NumberOf(current);
        var expected = n <= 1 ? ExpectedRevision.NoStream : ExpectedRevision.Exact(n - 2);
        var id = DeterministicId.From(stream, version);
        try
        {
            await store.AppendAsync(stream, expected, [serializer.ToEventData(published, id, new EventMetadata(by, null, null, time.GetUtcNow()))], ct);
        }
        catch (WrongExpectedVersionException)
        {
            throw new ReferenceVersionConflictException(what, current);
        }
    }

    public static IReadOnlyList<TreeNode> ValidateCategories(PublishCategoriesRequest body, CityReference city)
    {
        var errors = new FieldErrors();
        if (body.Categories is not { Count: > 0 } roots)
        {
            errors.Add("categories", "分类树不能为空").ThrowIfAny();
            return [];
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        List<TreeNode> Walk(IReadOnlyList<CategoryNodeInput?> nodes, string path, string parentCode, int level)
        {
            var result = new List<TreeNode>();
            for (var i = 0; i < nodes.Count; i++)
            {
                var at = $"{path}[{i}]";
                var node = nodes[i];
                if (node is null) { errors.Add(at, "分类节点不能为空"); continue; }
                var code = node.Code?.Trim() ?? "";
                if (code.Length != parentCode.Length + 2 || !code.StartsWith(parentCode, StringComparison.Ordinal) || !code.All(char.IsAsciiDigit))
                    errors.Add(at + ".code", level == 1 ? "第一级分类编码必须是 2 位数字" : $"第{level}级分类编码必须是上级编码 {parentCode} 加 2 位数字");
                else if (!seen.Add(code)) errors.Add(at + ".code", $"分类编码 {code} 重复");
                errors.Require(at + ".name", node.Name, 50, "分类名称");
                var children = node.Children ?? [];
                if (level < 3 && children.Count == 0) errors.Add(at + ".children", $"第{level}级分类必须有下级分类（分类树固定三级）");
                if (level == 3 && children.Count > 0) errors.Add(at + ".children", "第三级分类不能再有下级（分类树固定三级）");
                var kids = level < 3 ? Walk(children, at + ".children", code, level + 1) : [];
                result.Add(new TreeNode(code, node.Name?.Trim() ?? "", kids));
            }
            return result;
        }
        var tree = Walk(roots, "categories", "", 1);
        // The current catalogue must still point at categories of the new tree.
        foreach (var entry in city.CatalogueEntries.Where(e => !seen.Contains(e.CategoryCode)))
            errors.Add("categories", $"当前派单目录条目 {entry.CategoryCode} 指向的分类在新版本中不存在，请先发布不含该条目的派单目录");
        errors.ThrowIfAny();
        return tree;
    }

    public static IReadOnlyList<CatalogueEntry> ValidateCatalogue(PublishCatalogueRequest body, CityReference city)
    {
        var errors = new FieldErrors();
        if (body.Entries is not { Count: > 0 } entries)
        {
            errors.Add("entries", "派单目录不能为空").ThrowIfAny();
            return [];
        }
        var keys = new HashSet<(string, string?)>();
        var result = new List<CatalogueEntry>();
        for (var i = 0; i < entries.Count; i++)
        {
            var at = $"entries[{i}]";
            var e = entries[i];
            if (e is null) { errors.Add(at, "目录条目不能为空"); continue; }
            var category = e.CategoryCode?.Trim() ?? "";
            var area = string.IsNullOrWhiteSpace(e.AreaCode) ? null : e.AreaCode.Trim();
            var unit = e.UnitId?.Trim() ?? "";
            if (category.Length == 0) errors.Add(at + ".categoryCode", "事项分类不能为空");
            else if (!city.IsCategory(category)) errors.Add(at + ".categoryCode", $"事项分类 {Short(category)} 在当前分类树（版本 {city.CategoryVersion}）中不存在");
            if (area is not null && !city.IsArea(area)) errors.Add(at + ".areaCode", $"区域 {Short(area)} 不存在");
            if (unit.Length == 0) errors.Add(at + ".unitId", "主办单位不能为空");
            else if (!city.IsHandlingUnit(unit)) errors.Add(at + ".unitId", $"主办单位 {Short(unit)} 不存在或不能承办工单");
            var co = (e.CoUnitIds ?? []).Select(c => c?.Trim() ?? "").ToList();
            for (var j = 0; j < co.Count; j++)
            {
                if (!city.IsHandlingUnit(co[j])) errors.Add($"{at}.coUnitIds[{j}]", $"协办单位 {Short(co[j])} 不存在或不能承办工单");
                else if (co[j] == unit || co.IndexOf(co[j]) != j) errors.Add($"{at}.coUnitIds[{j}]", "协办单位不能与主办单位或其他协办单位重复");
            }
            if (category.Length > 0 && !keys.Add((category, area))) errors.Add(at + ".categoryCode", $"分类 {category}{(area is null ? "" : " + 区域 " + area)} 的条目重复");
            result.Add(new CatalogueEntry(category, unit, area, co.Count == 0 ? null : co));
        }
        errors.ThrowIfAny();
        return result;
    }

    private static string Short(string s) => s.Length > 40 ? s[..40] + "…" : s;
}

/// <summary>Loads the published category and catalogue versions before the server answers requests.</summary>
public sealed class ReferenceLoader(ReferencePublishing publishing) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => publishing.LoadAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

public static class ReferenceAdminEndpoints
{
    public static IEndpointRouteBuilder MapReferenceAdmin(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/api/admin/reference").WithTags("admin").RequireAuthorization("admin");
        admin.MapPost("/categories", async (PublishCategoriesRequest body, ClaimsPrincipal user, ReferencePublishing publishing, CancellationToken ct) =>
        {
            try
            {
                var p = await publishing.PublishCategoriesAsync(body, user.UserId(), ct);
                return Results.Created($"/api/reference/categories?version={p.Version}", new { version = p.Version, publishedAt = p.At, categories = p.Categories });
            }
            catch (ReferenceVersionConflictException c) { return Conflict(c); }
        });
        admin.MapPost("/catalogue", async (PublishCatalogueRequest body, ClaimsPrincipal user, ReferencePublishing publishing, CancellationToken ct) =>
        {
            try
            {
                var p = await publishing.PublishCatalogueAsync(body, user.UserId(), ct);
                return Results.Created("/api/reference/catalogue", new { version = p.Version, categoryVersion = p.CategoryVersion, publishedAt = p.At, entries = p.Entries });
            }
            catch (ReferenceVersionConflictException c) { return Conflict(c); }
        });
        return app;
    }

    private static IResult Conflict(ReferenceVersionConflictException c) =>
        Results.Problem(statusCode: 409, title: $"{c.What}已被他人发布新版本", detail: $"当前版本 {c.Current} 已不是最新，请刷新后重试。");
}
