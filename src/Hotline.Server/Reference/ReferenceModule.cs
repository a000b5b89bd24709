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
            return new { unitId = id, unitName = city.UnitOf(id)?.Name };
        });
        return app;
    }
}
