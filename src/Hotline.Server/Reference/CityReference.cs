using Hotline.Domain.Tickets;

namespace Hotline.Server.Reference;

public sealed record TreeNode(string Code, string Name, IReadOnlyList<TreeNode> Children);

public sealed record Unit(string Id, string Name, string Kind, string? ParentId, string? AreaCode);

public static class UnitKinds
{
    public const string Office = "热线办";
    public const string Department = "市直部门";
    public const string District = "区";
    public const string Town = "街镇";
}

/// <summary>
/// The city's reference data: the three-level matter category tree (2+2+2 digit codes), the area tree
/// (区/街镇/社区) and the unit tree. The embedded default seeds a demo city (海川市); a city loads its own.
/// </summary>
public sealed class CityReference : ITicketReference
{
    private readonly Dictionary<string, (TreeNode Node, int Level, string? Parent)> _categories = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (TreeNode Node, int Level, string? Parent)> _areas = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Unit> _units = new(StringComparer.Ordinal);

    public CityReference(string cityName, IReadOnlyList<TreeNode> categories, IReadOnlyList<TreeNode> areas, IReadOnlyList<Unit> units, IReadOnlyDictionary<string, string> catalogue)
    {
        CityName = cityName;
        Categories = categories;
        Areas = areas;
        Units = units;
        Catalogue = catalogue;
        Index(categories, _categories, 1, null);
        Index(areas, _areas, 1, null);
        foreach (var u in units) _units.Add(u.Id, u);
    }

    public string CityName { get; }
    public IReadOnlyList<TreeNode> Categories { get; }
    public IReadOnlyList<TreeNode> Areas { get; }
    public IReadOnlyList<Unit> Units { get; }

    /// <summary>派单目录: first-level or second-level category code → responsible city department. Districts are the fallback owners.</summary>
    public IReadOnlyDictionary<string, string> Catalogue { get; }

    public bool IsLeafCategory(string code) => _categories.TryGetValue(code, out var c) && c.Level == 3;

    public bool IsArea(string code) => _areas.ContainsKey(code);

    public bool IsHandlingUnit(string unitId) => _units.TryGetValue(unitId, out var u) && u.Kind != UnitKinds.Office;

    public bool IsBelow(string unitId, string ancestorId) => unitId != ancestorId && IsWithin(unitId, ancestorId);

    /// <summary>The version of the dispatch catalogue (recorded with every dispatch).</summary>
    public string CatalogueVersion { get; init; } = "1";

    /// <summary>The version of the category tree (recorded with every registration).</summary>
    public string CategoryVersion { get; init; } = "1";

    public Unit? UnitOf(string? id) => id is not null && _units.TryGetValue(id, out var u) ? u : null;

    /// <summary>"城乡建设 / 物业 / 物业服务".</summary>
    public string CategoryPath(string code) => Path(_categories, code);

    public string AreaPath(string code) => Path(_areas, code);

    /// <summary>The district (first level) of an area code.</summary>
    public string? DistrictOf(string areaCode) => Top(_areas, areaCode);

    public string? CategoryRoot(string code) => Top(_categories, code);

    /// <summary>Suggests the main unit from the catalogue: second-level entry, else first-level entry, else the district government (兜底).</summary>
    public string SuggestUnit(string categoryCode, string areaCode)
    {
        if (categoryCode.Length >= 4 && Catalogue.TryGetValue(categoryCode[..4], out var unit)) return unit;
        if (categoryCode.Length >= 2 && Catalogue.TryGetValue(categoryCode[..2], out unit)) return unit;
        var district = DistrictOf(areaCode);
        return Units.FirstOrDefault(u => u.Kind == UnitKinds.District && u.AreaCode == district)?.Id ?? Units.First(u => u.Kind != UnitKinds.Office).Id;
    }

    /// <summary>True when <paramref name="unitId"/> is <paramref name="ancestorId"/> or below it in the unit tree.</summary>
    public bool IsWithin(string unitId, string ancestorId)
    {
        for (var u = UnitOf(unitId); u is not null; u = UnitOf(u.ParentId))
            if (u.Id == ancestorId) return true;
        return false;
    }

    private static void Index(IReadOnlyList<TreeNode> nodes, Dictionary<string, (TreeNode, int, string?)> index, int level, string? parent)
    {
        foreach (var n in nodes)
        {
            index.Add(n.Code, (n, level, parent));
            Index(n.Children, index, level + 1, n.Code);
        }
    }

    private static string Path(Dictionary<string, (TreeNode Node, int Level, string? Parent)> index, string code)
    {
        var names = new List<string>();
        for (var c = code; c is not null && index.TryGetValue(c, out var e); c = e.Parent) names.Insert(0, e.Node.Name);
        return string.Join(" / ", names);
    }

    private static string? Top(Dictionary<string, (TreeNode Node, int Level, string? Parent)> index, string code)
    {
        string? top = null;
        for (var c = code; c is not null && index.TryGetValue(c, out var e); c = e.Parent) top = c;
        return top;
    }
}
