using System.Collections.Concurrent;
using System.Globalization;
using Hotline.Domain.Tickets;

namespace Hotline.Server.Reference;

public sealed record TreeNode(string Code, string Name, IReadOnlyList<TreeNode> Children);

public sealed record Unit(string Id, string Name, string Kind, string? ParentId, string? AreaCode);

/// <summary>One 派单目录 entry: a category (any level) – optionally only in an area (and below) – goes to a main unit and co-units.</summary>
public sealed record CatalogueEntry(string CategoryCode, string UnitId, string? AreaCode = null, IReadOnlyList<string>? CoUnitIds = null);

public static class UnitKinds
{
    public const string Office = "热线办";
    public const string Department = "市直部门";
    public const string District = "区";
    public const string Town = "街镇";
}

/// <summary>
/// The city's reference data: the three-level matter category tree (2+2+2 digit codes), the area tree
/// (区/街镇/社区), the unit tree and the dispatch catalogue. The category tree and the catalogue are versioned: the
/// built-in ones are version "1", each published one (<see cref="ReferencePublishing"/>) the next number. Registration
/// validates against and records the current category version; a ticket's labels come from the version it was
/// registered with; dispatch suggestions use the current catalogue. Versions are swapped atomically (readers see one
/// whole version, never half of one).
/// </summary>
public sealed class CityReference : ITicketReference
{
    private readonly Dictionary<string, (TreeNode Node, int Level, string? Parent)> _areas = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Unit> _units = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, CategoryTree> _categoryVersions = new(StringComparer.Ordinal);
    private volatile CategoryTree _categories;
    private volatile DispatchCatalogue _catalogue;

    public CityReference(string cityName, IReadOnlyList<TreeNode> categories, IReadOnlyList<TreeNode> areas, IReadOnlyList<Unit> units, IReadOnlyDictionary<string, string> catalogue)
    {
        CityName = cityName;
        Areas = areas;
        Units = units;
        Index(areas, _areas, 1, null);
        foreach (var u in units) _units.Add(u.Id, u);
        _categories = new CategoryTree("1", categories);
        _categoryVersions["1"] = _categories;
        _catalogue = new DispatchCatalogue("1", "1", catalogue.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => new CatalogueEntry(e.Key, e.Value)).ToList(), null);
    }

    public string CityName { get; }

    /// <summary>The current category tree.</summary>
    public IReadOnlyList<TreeNode> Categories => _categories.Roots;

    public IReadOnlyList<TreeNode> Areas { get; }
    public IReadOnlyList<Unit> Units { get; }

    /// <summary>派单目录 entries without an area: category prefix → main unit (the current version). Districts are the fallback owners.</summary>
    public IReadOnlyDictionary<string, string> Catalogue => _catalogue.ByCategory;

    /// <summary>Every entry of the current catalogue (with areas and co-units).</summary>
    public IReadOnlyList<CatalogueEntry> CatalogueEntries => _catalogue.Entries;

    /// <summary>The version of the current dispatch catalogue (recorded with every dispatch).</summary>
    public string CatalogueVersion => _catalogue.Version;

    /// <summary>The category version the current catalogue was published against.</summary>
    public string CatalogueCategoryVersion => _catalogue.CategoryVersion;

    public DateTimeOffset? CataloguePublishedAt => _catalogue.PublishedAt;

    /// <summary>The version of the current category tree (recorded with every registration).</summary>
    public string CategoryVersion => _categories.Version;

    /// <summary>Every known category version, oldest first.</summary>
    public IReadOnlyList<string> CategoryVersions => _categoryVersions.Keys.OrderBy(NumberOf).ToList();

    /// <summary>The category tree of one version, or null when unknown.</summary>
    public IReadOnlyList<TreeNode>? CategoriesOf(string version) => _categoryVersions.TryGetValue(version, out var t) ? t.Roots : null;

    public bool IsLeafCategory(string code) => _categories.Index.TryGetValue(code, out var c) && c.Level == 3;

    /// <summary>True when the code is a category (any level) of the current tree.</summary>
    public bool IsCategory(string code) => _categories.Index.ContainsKey(code);

    public bool IsArea(string code) => _areas.ContainsKey(code);

    public bool IsHandlingUnit(string unitId) => _units.TryGetValue(unitId, out var u) && u.Kind != UnitKinds.Office;

    public bool IsBelow(string unitId, string ancestorId) => unitId != ancestorId && IsWithin(unitId, ancestorId);

    public Unit? UnitOf(string? id) => id is not null && _units.TryGetValue(id, out var u) ? u : null;

    /// <summary>"城乡建设 / 物业 / 物业服务" in the current tree.</summary>
    public string CategoryPath(string code) => Path(_categories.Index, code);

    /// <summary>The label of a code in the version a ticket was registered with (the current tree when the version is unknown or null).</summary>
    public string CategoryPath(string code, string? version)
    {
        if (version is not null && _categoryVersions.TryGetValue(version, out var tree) && tree.Index.ContainsKey(code)) return Path(tree.Index, code);
        return Path(_categories.Index, code);
    }

    public string AreaPath(string code) => Path(_areas, code);

    /// <summary>The district (first level) of an area code.</summary>
    public string? DistrictOf(string areaCode) => Top(_areas, areaCode);

    public string? CategoryRoot(string code) => Top(_categories.Index, code);

    /// <summary>The most specific current catalogue entry: the longest category prefix, then the longest area prefix (an entry without area matches every area).</summary>
    public CatalogueEntry? CatalogueEntryFor(string categoryCode, string areaCode) =>
        _catalogue.Entries
            .Where(e => categoryCode.StartsWith(e.CategoryCode, StringComparison.Ordinal) && (e.AreaCode is null || areaCode.StartsWith(e.AreaCode, StringComparison.Ordinal)))
            .OrderByDescending(e => e.CategoryCode.Length).ThenByDescending(e => e.AreaCode?.Length ?? 0)
            .FirstOrDefault();

    /// <summary>Suggests the main unit from the current catalogue, else the district government (兜底).</summary>
    public string SuggestUnit(string categoryCode, string areaCode)
    {
        if (CatalogueEntryFor(categoryCode, areaCode) is { } entry) return entry.UnitId;
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

    /// <summary>The unit and every unit below it.</summary>
    public IReadOnlyList<string> Subtree(string unitId) => Units.Where(u => IsWithin(u.Id, unitId)).Select(u => u.Id).ToList();

    /// <summary>Adds a published category version; it becomes current when it is newer than the current one. Idempotent.</summary>
    public void Apply(CategoryTreePublished published)
    {
        var tree = _categoryVersions.GetOrAdd(published.Version, _ => new CategoryTree(published.Version, published.Categories));
        lock (_categoryVersions)
            if (NumberOf(tree.Version) > NumberOf(_categories.Version)) _categories = tree;
    }

    /// <summary>Makes a published catalogue current when it is newer than the current one. Idempotent.</summary>
    public void Apply(DispatchCataloguePublished published)
    {
        lock (_categoryVersions)
            if (NumberOf(published.Version) > NumberOf(_catalogue.Version))
                _catalogue = new DispatchCatalogue(published.Version, published.CategoryVersion, published.Entries, published.At);
    }

    internal static long NumberOf(string version) => long.TryParse(version, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;

    private sealed class CategoryTree
    {
        public CategoryTree(string version, IReadOnlyList<TreeNode> roots)
        {
            Version = version;
            Roots = roots;
            CityReference.Index(roots, Index, 1, null);
        }

        public string Version { get; }
        public IReadOnlyList<TreeNode> Roots { get; }
        public Dictionary<string, (TreeNode Node, int Level, string? Parent)> Index { get; } = new(StringComparer.Ordinal);
    }

    private sealed class DispatchCatalogue(string version, string categoryVersion, IReadOnlyList<CatalogueEntry> entries, DateTimeOffset? publishedAt)
    {
        public string Version { get; } = version;
        public string CategoryVersion { get; } = categoryVersion;
        public IReadOnlyList<CatalogueEntry> Entries { get; } = entries;
        public DateTimeOffset? PublishedAt { get; } = publishedAt;
        public IReadOnlyDictionary<string, string> ByCategory { get; } = entries.Where(e => e.AreaCode is null)
            .GroupBy(e => e.CategoryCode, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().UnitId, StringComparer.Ordinal);
    }

    private static void Index(IReadOnlyList<TreeNode> nodes, Dictionary<string, (TreeNode, int, string?)> index, int level, string? parent)
    {
        foreach (var n in nodes)
        {
            index.TryAdd(n.Code, (n, level, parent));
            Index(n.Children ?? [], index, level + 1, n.Code);
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
