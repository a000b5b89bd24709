using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Xml.Linq;

namespace Hotline.Server.Open311;

/// <summary>One answer, written as GeoReport v2 JSON or XML: lists of flat records, with the spec's element names.</summary>
public static class Open311Format
{
    public sealed record Node(string Name, IReadOnlyList<KeyValuePair<string, object?>> Fields);

    public static bool IsKnown(string format) => format is "json" or "xml";

    /// <summary>Writes a list: JSON array of objects, or &lt;root&gt;&lt;item&gt;…&lt;/item&gt;&lt;/root&gt;.</summary>
    public static IResult List(string format, string root, IEnumerable<Node> items, int status = 200)
    {
        var list = items.ToList();
        if (format == "xml")
            return Xml(new XElement(root, list.Select(ToXml)), status);
        return Results.Text(JsonSerializer.Serialize(list.Select(ToJson).ToList()), "application/json; charset=utf-8", Encoding.UTF8, status);
    }

    /// <summary>A single object (service definition): JSON object, or the element itself.</summary>
    public static IResult One(string format, Node item) =>
        format == "xml" ? Xml(ToXml(item), 200) : Results.Text(JsonSerializer.Serialize(ToJson(item)), "application/json; charset=utf-8", Encoding.UTF8);

    /// <summary>Errors as the spec's error list: [{code, description}] / &lt;errors&gt;&lt;error&gt;….</summary>
    public static IResult Errors(string format, int status, params string[] descriptions) =>
        List(format is "xml" ? "xml" : "json", "errors", descriptions.Select(d => new Node("error", [new("code", status), new("description", d)])), status);

    private static IResult Xml(XElement element, int status) =>
        Results.Text(new XDocument(new XDeclaration("1.0", "utf-8", null), element).Declaration + "\n" + element.ToString(SaveOptions.DisableFormatting), "text/xml; charset=utf-8", Encoding.UTF8, status);

    private static Dictionary<string, object?> ToJson(Node node)
    {
        var o = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (k, v) in node.Fields)
            o[k] = v switch
            {
                IEnumerable<Node> children => children.Select(ToJson).ToList(),
                DateTimeOffset d => Iso(d),
                _ => v,
            };
        return o;
    }

    private static XElement ToXml(Node node) =>
        new(node.Name, node.Fields.Select(f => f.Value switch
        {
            IEnumerable<Node> children => new XElement(f.Key, children.Select(ToXml)),
            null => new XElement(f.Key),
            bool b => new XElement(f.Key, b ? "true" : "false"),
            DateTimeOffset d => new XElement(f.Key, Iso(d)),
            IFormattable x => new XElement(f.Key, x.ToString(null, CultureInfo.InvariantCulture)),
            var v => new XElement(f.Key, v.ToString()),
        }));

    public static string Iso(DateTimeOffset d) => Tickets.TimeZones.ToLocal(d).ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);
}
