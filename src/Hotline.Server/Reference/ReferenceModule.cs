namespace Hotline.Server.Reference;

public static class ReferenceModule
{
    public static IHostApplicationBuilder AddHotlineReference(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton(_ => DemoCity.Create());
        builder.Services.AddSingleton<ReferencePublishing>();
        builder.Services.AddHostedService<ReferenceLoader>();
        return builder;
    }

    public static IEndpointRouteBuilder MapReference(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/reference").WithTags("reference").RequireAuthorization();
        // The current tree, or ?version=N for an older one (404 when unknown).
        group.MapGet("/categories", (string? version, CityReference city) =>
            version is null ? Results.Ok(city.Categories)
            : city.CategoriesOf(version) is { } tree ? Results.Ok(tree)
            : Results.Problem(statusCode: 404, title: $"分类树版本 {(version.Length > 20 ? version[..20] : version)} 不存在"));
        group.MapGet("/category-versions", (CityReference city) => new { current = city.CategoryVersion, versions = city.CategoryVersions });
        group.MapGet("/areas", (CityReference city) => city.Areas);
        group.MapGet("/units", (CityReference city) => city.Units);
        group.MapGet("/suggest-unit", (string categoryCode, string areaCode, CityReference city) =>
        {
            var entry = city.CatalogueEntryFor(categoryCode, areaCode);
            var id = city.SuggestUnit(categoryCode, areaCode);
            return new
            {
                unitId = id, unitName = city.UnitOf(id)?.Name, coUnitIds = entry?.CoUnitIds ?? [], fallback = entry is null,
                catalogueVersion = city.CatalogueVersion,
            };
        });
        // 派单目录: category (+ area) → main unit (+ co-units), versioned; the district government is the fallback owner.
        group.MapGet("/catalogue", (CityReference city) => new
        {
            version = city.CatalogueVersion,
            categoryVersion = city.CatalogueCategoryVersion,
            publishedAt = city.CataloguePublishedAt,
            entries = city.CatalogueEntries.OrderBy(e => e.CategoryCode, StringComparer.Ordinal).ThenBy(e => e.AreaCode, StringComparer.Ordinal).Select(e => new
            {
                categoryPrefix = e.CategoryCode, category = city.CategoryPath(e.CategoryCode), areaCode = e.AreaCode, area = e.AreaCode is null ? null : city.AreaPath(e.AreaCode),
                unitId = e.UnitId, unitName = city.UnitOf(e.UnitId)?.Name, coUnitIds = e.CoUnitIds ?? [],
            }),
            fallback = "所属区人民政府（兜底）",
        });
        app.MapReferenceAdmin();
        return app;
    }
}
