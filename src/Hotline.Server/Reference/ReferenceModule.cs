namespace Hotline.Server.Reference;

public static class ReferenceModule
{
    public static IHostApplicationBuilder AddHotlineReference(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton(_ => DemoCity.Create());
        return builder;
    }

    public static IEndpointRouteBuilder MapReference(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/reference").WithTags("reference").RequireAuthorization();
        group.MapGet("/categories", (CityReference city) => city.Categories);
        group.MapGet("/areas", (CityReference city) => city.Areas);
        group.MapGet("/units", (CityReference city) => city.Units);
        group.MapGet("/suggest-unit", (string categoryCode, string areaCode, CityReference city) =>
        {
            var id = city.SuggestUnit(categoryCode, areaCode);
            return new { unitId = id, unitName = city.UnitOf(id)?.Name, catalogueVersion = city.CatalogueVersion };
        });
        // 派单目录: category prefix → main unit, versioned; the district government is the fallback owner.
        group.MapGet("/catalogue", (CityReference city) => new
        {
            version = city.CatalogueVersion,
            categoryVersion = city.CategoryVersion,
            entries = city.Catalogue.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => new { categoryPrefix = e.Key, category = city.CategoryPath(e.Key), unitId = e.Value, unitName = city.UnitOf(e.Value)?.Name }),
            fallback = "所属区人民政府（兜底）",
        });
        return app;
    }
}
