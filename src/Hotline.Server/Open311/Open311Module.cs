using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Hotline.Domain.Common;
using Hotline.Domain.Tickets;
using Hotline.EventStore;
using Hotline.Server.Channels;
using Hotline.Server.Reference;
using Hotline.Server.Storage;
using Hotline.Server.Tickets;
using Node = Hotline.Server.Open311.Open311Format.Node;

namespace Hotline.Server.Open311;

/// <summary>
/// Open311 GeoReport v2 over our tickets: services = third-level categories, service_request_id = ticket number,
/// status open/closed, status_notes and agency_responsible from the process. JSON and XML; API keys for posting.
/// </summary>
public static class Open311Module
{
    private const string Base = "/open311/v2";

    public static IHostApplicationBuilder AddHotlineOpen311(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<Open311Store>();
        return builder;
    }

    public static IEndpointRouteBuilder MapHotlineOpen311(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup(Base).WithTags("open311").AllowAnonymous();

        group.MapGet("/discovery.{format}", (string format, HttpContext http) => !Open311Format.IsKnown(format) ? BadFormat(format)
            : Open311Format.One(format, new Node("discovery", [new("changeset", new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero)), new("contact", "12345 热线办"), new("key_service", "向热线办申请 api_key"),
                new("endpoints", new[] { new Node("endpoint", [new("specification", "http://wiki.open311.org/GeoReport_v2"), new("url", $"{http.Request.Scheme}://{http.Request.Host}{Base}"), new("type", "production"), new("formats", new[] { new Node("format", [new("format", "application/json")]), new Node("format", [new("format", "text/xml")]) })]) })])));

        group.MapGet("/services.{format}", (string format, CityReference city) =>
            !Open311Format.IsKnown(format) ? BadFormat(format) : Open311Format.List(format, "services", Services(city)));

        group.MapGet("/services/{code}.{format}", (string code, string format, CityReference city) =>
        {
            if (!Open311Format.IsKnown(format)) return BadFormat(format);
            if (!city.IsLeafCategory(code)) return Open311Format.Errors(format, 404, $"service_code {code} not found");
            return Open311Format.One(format, Definition(code, city));
        });

        group.MapGet("/requests.{format}", async (string format, HttpContext http, TicketIndex index, CityReference city, Open311Store store, Appeals appeals, CancellationToken ct) =>
        {
            if (!Open311Format.IsKnown(format)) return BadFormat(format);
            var q = http.Request.Query;
            IEnumerable<Ticket> rows = index.All.Where(Public);
            if (q.TryGetValue("service_request_id", out var ids) && ids.ToString().Length > 0)
            {
                var wanted = ids.ToString().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
                rows = rows.Where(t => wanted.Contains(t.Number));
            }
            else
            {
                if (!TryDate(q["start_date"], out var start) || !TryDate(q["end_date"], out var end)) return Open311Format.Errors(format, 400, "start_date and end_date must be W3C date-times (ISO 8601)");
                var to = end ?? DateTimeOffset.UtcNow;
                var from = start ?? to.AddDays(-90);
                rows = rows.Where(t => t.RegisteredAt >= from && t.RegisteredAt <= to);
                if (q.TryGetValue("service_code", out var codes) && codes.ToString().Length > 0)
                {
                    var set = codes.ToString().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
                    rows = rows.Where(t => set.Contains(t.CategoryCode));
                }
                if (q.TryGetValue("status", out var status) && status.ToString().Length > 0)
                {
                    var set = status.ToString().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.OrdinalIgnoreCase);
                    if (set.Any(s => s is not ("open" or "closed"))) return Open311Format.Errors(format, 400, "status must be open or closed");
                    rows = rows.Where(t => set.Contains(StatusOf(t)));
                }
            }
            var list = rows.OrderByDescending(t => t.RegisteredAt).Take(1000).ToList();
            var nodes = new List<Node>();
            foreach (var t in list) nodes.Add(Request(t, await store.GetAsync(t.Id, ct), city, PhotoUrl(http, appeals, t)));
            return Open311Format.List(format, "service_requests", nodes);
        });

        group.MapGet("/requests/{id}.{format}", async (string id, string format, HttpContext http, TicketIndex index, CityReference city, Open311Store store, Appeals appeals, CancellationToken ct) =>
        {
            if (!Open311Format.IsKnown(format)) return BadFormat(format);
            var t = index.All.FirstOrDefault(x => x.Number == id && Public(x));
            return t is null
                ? Open311Format.Errors(format, 404, $"service_request_id {id} not found")
                : Open311Format.List(format, "service_requests", [Request(t, await store.GetAsync(t.Id, ct), city, PhotoUrl(http, appeals, t))]);
        });

        group.MapGet("/tokens/{token}.{format}", (string token, string format, TicketIndex index) =>
        {
            if (!Open311Format.IsKnown(format)) return BadFormat(format);
            var t = Guid.TryParse(token, out var g) ? index.Get(g) : null;
            return t is null || !Public(t)
                ? Open311Format.Errors(format, 404, $"token {token} not found")
                : Open311Format.List(format, "service_requests", [new Node("request", [new("service_request_id", t.Number), new("token", token)])]);
        });

        group.MapPost("/requests.{format}", async (string format, HttpContext http, TicketService tickets, CityReference city, Open311Store store, IConfiguration configuration, CancellationToken ct) =>
        {
            if (!Open311Format.IsKnown(format)) return BadFormat(format);
            if (!http.Request.HasFormContentType) return Open311Format.Errors(format, 400, "the body must be application/x-www-form-urlencoded or multipart/form-data");
            var form = await http.Request.ReadFormAsync(ct);
            string? F(string name) => form.TryGetValue(name, out var v) && v.ToString().Trim().Length > 0 ? v.ToString().Trim() : null;

            var keyId = ApiKeyId(F("api_key"), configuration);
            if (keyId is null) return Open311Format.Errors(format, 403, "api_key is missing or not valid");

            var errors = new List<string>();
            var code = F("service_code");
            if (code is null) errors.Add("service_code is required");
            else if (!city.IsLeafCategory(code)) errors.Add($"service_code {code} not found");
            double? lat = null, lon = null;
            if (F("lat") is { } la || F("long") is not null)
            {
                if (double.TryParse(F("lat"), NumberStyles.Float, CultureInfo.InvariantCulture, out var a) && a is >= -90 and <= 90 &&
                    double.TryParse(F("long"), NumberStyles.Float, CultureInfo.InvariantCulture, out var o) && o is >= -180 and <= 180) (lat, lon) = (a, o);
                else errors.Add("lat and long must be given together as WGS84 decimal degrees");
            }
            var address = F("address_string");
            if (lat is null && address is null && F("address_id") is null) errors.Add("a location is required: lat & long, address_string or address_id");
            var attributes = form.Keys.Where(k => k.StartsWith("attribute[", StringComparison.Ordinal) && k.EndsWith(']'))
                .ToDictionary(k => k[10..^1], k => form[k].ToString(), StringComparer.Ordinal);
            var area = attributes.GetValueOrDefault("area") is { Length: > 0 } ac ? ac : AreaFrom(address, city);
            if (area is null || !city.IsArea(area)) errors.Add("the area could not be determined: name a district or street in address_string, or send attribute[area]");
            var type = attributes.GetValueOrDefault("type") is { Length: > 0 } ty ? ty : "求助";
            if (!TicketVocabulary.Types.Contains(type)) errors.Add("attribute[type] must be one of " + string.Join("/", TicketVocabulary.Types));
            var urgency = attributes.GetValueOrDefault("urgency") is { Length: > 0 } ur ? ur : "一般";
            if (!TicketVocabulary.Urgencies.Contains(urgency)) errors.Add("attribute[urgency] must be one of " + string.Join("/", TicketVocabulary.Urgencies));
            if (F("phone") is null) errors.Add("phone is required (the hotline calls the citizen back)");
            if (F("description") is null) errors.Add("description is required");
            if (errors.Count > 0) return Open311Format.Errors(format, 400, [.. errors]);

            TicketService.Result result;
            try
            {
                var name = string.Concat(F("last_name"), F("first_name"));
                result = await tickets.RegisterAsync(new RegisterTicket(Guid.Empty, "", "网站", type, urgency, code, area, address ?? F("address_id"), F("description"),
                    name.Length > 0 ? name : null, F("phone"), false, null, "open311:" + keyId), null, Guid.CreateVersion7(), ct);
            }
            catch (DomainValidationException v)
            {
                return Open311Format.Errors(format, 400, [.. v.Errors.SelectMany(e => e.Value.Select(m => $"{e.Key}: {m}"))]);
            }
            var received = new Open311RequestReceived(result.Ticket.Id, keyId, lat, lon, address, F("address_id"), F("email"), F("device_id"), F("account_id"), F("media_url"), attributes, DateTimeOffset.UtcNow);
            await store.SaveAsync(received, ct);
            return Open311Format.List(format, "service_requests",
                [new Node("request", [new("service_request_id", result.Ticket.Number), new("token", result.Ticket.Id.ToString()), new("service_notice", "已受理，工单编号 " + result.Ticket.Number), new("account_id", F("account_id"))])], 201);
        });
        return app;
    }

    private static IResult BadFormat(string format) => Open311Format.Errors("json", 400, $"format {format} is not supported: use json or xml");

    /// <summary>Open311 is public: confidential tickets and reports (举报) are not listed.</summary>
    private static bool Public(Ticket t) => !t.Confidential && t.Type != "举报";

    private static string StatusOf(Ticket t) => t.State == TicketState.Closed ? "closed" : "open";

    private static IEnumerable<Node> Services(CityReference city) =>
        from root in city.Categories
        from mid in root.Children
        from leaf in mid.Children
        select new Node("service", [new("service_code", leaf.Code), new("service_name", leaf.Name), new("description", city.CategoryPath(leaf.Code)), new("metadata", true),
            new("type", "realtime"), new("keywords", $"{root.Name},{mid.Name},{leaf.Name}"), new("group", root.Name)]);

    private static Node Definition(string code, CityReference city)
    {
        static Node Value(string key, string name) => new("value", [new("key", key), new("name", name)]);
        static Node Attribute(string attrCode, int order, string description, bool required, IEnumerable<Node> values) =>
            new("attribute", [new("variable", true), new("code", attrCode), new("datatype", "singlevaluelist"), new("required", required), new("datatype_description", null), new("order", order),
                new("description", description), new("values", values.ToList())]);
        var areas = city.Areas.SelectMany(d => d.Children.SelectMany(t => t.Children.Select(c => (c.Code, Name: city.AreaPath(c.Code)))).Prepend((d.Code, Name: d.Name)));
        return new Node("service_definition", [new("service_code", code), new("attributes", new[]
        {
            Attribute("type", 1, "诉求类型", false, TicketVocabulary.Types.Select(t => Value(t, t))),
            Attribute("urgency", 2, "紧急程度", false, TicketVocabulary.Urgencies.Select(u => Value(u, u))),
            Attribute("area", 3, "所属区域（不填时按 address_string 中的区、街镇名称确定）", false, areas.Select(a => Value(a.Code, a.Name))),
        })]);
    }

    /// <summary>The absolute address of the first photo a citizen sent with the ticket (public web appeal), if any.</summary>
    private static string? PhotoUrl(HttpContext http, Appeals appeals, Ticket t) =>
        appeals.Get(t.Id) is { Photos: [var first, ..] } ? $"{http.Request.Scheme}://{http.Request.Host}{AppealPhotos.UrlOf(t.Id, first)}" : null;

    private static Node Request(Ticket t, Open311RequestReceived? extra, CityReference city, string? photoUrl)
    {
        var main = t.MainTask;
        var notes = t.State switch
        {
            TicketState.Closed when t.DirectAnswer is not null => "已直接答复：" + t.DirectAnswer,
            TicketState.Closed or TicketState.ReplyAccepted or TicketState.AwaitingCallback when main?.ReplyText is not null => TicketStateNames.Of(t.State) + "：" + main.ReplyText,
            _ => TicketStateNames.Of(t.State),
        };
        var updated = new[] { t.RegisteredAt, main?.DispatchedAt ?? default, main?.SignedForAt ?? default, main?.RepliedAt ?? default, t.ReplyAcceptedAt ?? default, t.ClosedAt ?? default }.Max();
        return new Node("request",
        [
            new("service_request_id", t.Number), new("status", StatusOf(t)), new("status_notes", notes), new("service_name", city.CategoryPath(t.CategoryCode).Split(" / ").Last()),
            new("service_code", t.CategoryCode), new("description", t.Content), new("agency_responsible", main is null ? city.UnitOf("hotline")?.Name : city.UnitOf(main.UnitId)?.Name ?? main.UnitId),
            new("service_notice", null), new("requested_datetime", t.RegisteredAt), new("updated_datetime", updated),
            new("expected_datetime", t.State == TicketState.Registered ? t.DispatchDueAt : main?.ReplyDueAt), new("address", t.Address.Length > 0 ? t.Address : city.AreaPath(t.AreaCode)),
            new("address_id", extra?.AddressId), new("zipcode", null), new("lat", extra?.Latitude), new("long", extra?.Longitude), new("media_url", extra?.MediaUrl ?? photoUrl),
        ]);
    }

    private static string? AreaFrom(string? address, CityReference city)
    {
        if (address is null) return null;
        // The most specific area whose name appears in the address (community, then street/town, then district).
        var all = city.Areas.SelectMany(d => d.Children.SelectMany(t => t.Children.Select(c => (c.Code, c.Name))).Concat(d.Children.Select(t => (t.Code, t.Name))).Append((d.Code, d.Name)));
        return all.Where(a => address.Contains(a.Name, StringComparison.Ordinal)).OrderByDescending(a => a.Code.Length).Select(a => a.Code).FirstOrDefault();
    }

    private static bool TryDate(string? raw, out DateTimeOffset? value)
    {
        value = null;
        if (string.IsNullOrWhiteSpace(raw)) return true;
        if (!DateTimeOffset.TryParse(raw, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var d)) return false;
        value = d;
        return true;
    }

    /// <summary>API keys from Hotline:Open311:ApiKeys:{i} (key) — with Hotline:Demo, the key "open311-demo-key" works too. Returns a short id of the key (for the record), not the key.</summary>
    private static string? ApiKeyId(string? key, IConfiguration configuration)
    {
        if (key is null) return null;
        var keys = configuration.GetSection("Hotline:Open311:ApiKeys").Get<string[]>() ?? [];
        if (configuration.GetValue("Hotline:Demo", true)) keys = [.. keys, "open311-demo-key"];
        var given = Encoding.UTF8.GetBytes(key);
        return keys.Any(k => k.Length > 0 && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(k), given))
            ? Convert.ToHexString(SHA256.HashData(given))[..12]
            : null;
    }
}

/// <summary>The Open311 extras of each ticket, from "open311-{ticketId}" (written once; cached once read).</summary>
public sealed class Open311Store(IEventStore store)
{
    private readonly EventSerializer _serializer = new([typeof(Open311RequestReceived)]);
    private readonly ConcurrentDictionary<Guid, Open311RequestReceived> _cache = new();

    public static string StreamOf(Guid ticketId) => $"open311-{ticketId:N}";

    public async Task SaveAsync(Open311RequestReceived e, CancellationToken ct)
    {
        try
        {
            await store.AppendAsync(StreamOf(e.TicketId), ExpectedRevision.NoStream,
                [_serializer.ToEventData(e, DeterministicId.From("open311", e.TicketId.ToString()), new EventMetadata("open311:" + e.ApiKeyId, null, null, e.At))], ct);
        }
        catch (WrongExpectedVersionException) { }
        _cache[e.TicketId] = e;
    }

    public async Task<Open311RequestReceived?> GetAsync(Guid ticketId, CancellationToken ct)
    {
        if (_cache.TryGetValue(ticketId, out var hit)) return hit;
        await foreach (var e in store.ReadStreamAsync(StreamOf(ticketId), 0, ct))
            if (_serializer.Deserialize(e) is Open311RequestReceived r) return _cache[ticketId] = r;
        return null;
    }
}
