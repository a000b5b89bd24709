using System.Net;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using Hotline.Testing;

namespace Hotline.Server.Tests.Open311;

/// <summary>Open311 GeoReport v2 against the public field list, in JSON and XML, including the error list.</summary>
public sealed class GeoReportTests
{
    private static readonly string[] RequestFields =
        ["service_request_id", "status", "status_notes", "service_name", "service_code", "description", "agency_responsible", "service_notice",
         "requested_datetime", "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"];

    [Fact]
    public async Task Services_definitions_requests_and_tokens_in_json_and_xml_with_errors()
    {
        await using var server = await ServerProcess.StartAsync(new Dictionary<string, string> { ["Hotline:Open311:ApiKeys:0"] = "test-key-1" });
        using var http = server.CreateClient();

        // services
        var services = JsonNode.Parse(await http.GetStringAsync("open311/v2/services.json"))!.AsArray();
        var noise = services.Single(s => (string?)s!["service_code"] == "020301")!;
        Assert.Equal("施工噪音", (string?)noise["service_name"]);
        Assert.Equal("城市管理", (string?)noise["group"]);
        Assert.True((bool)noise["metadata"]!);
        Assert.Equal("realtime", (string?)noise["type"]);
        var servicesXml = await Xml(http, "open311/v2/services.xml", HttpStatusCode.OK);
        Assert.Equal("services", servicesXml.Root!.Name.LocalName);
        Assert.Equal(services.Count, servicesXml.Root.Elements("service").Count());

        // service definition
        var definition = JsonNode.Parse(await http.GetStringAsync("open311/v2/services/020301.json"))!;
        Assert.Equal("020301", (string?)definition["service_code"]);
        var attributes = definition["attributes"]!.AsArray();
        Assert.Contains(attributes, a => (string?)a!["code"] == "area" && (string?)a["datatype"] == "singlevaluelist" && a["values"]!.AsArray().Any(v => (string?)v!["key"] == "010101"));
        var definitionXml = await Xml(http, "open311/v2/services/020301.xml", HttpStatusCode.OK);
        Assert.Equal("service_definition", definitionXml.Root!.Name.LocalName);
        Assert.NotEmpty(definitionXml.Root.Element("attributes")!.Elements("attribute").Single(a => (string?)a.Element("code") == "type").Element("values")!.Elements("value"));

        // errors as the spec's list, both formats
        await ErrorJson(http.GetAsync("open311/v2/services/999999.json"), HttpStatusCode.NotFound);
        var missingXml = await Xml(http, "open311/v2/services/999999.xml", HttpStatusCode.NotFound);
        Assert.Equal("errors", missingXml.Root!.Name.LocalName);
        Assert.Equal("404", (string?)missingXml.Root.Element("error")!.Element("code"));
        await ErrorJson(http.GetAsync("open311/v2/services.csv"), HttpStatusCode.BadRequest);

        // POST needs an API key
        var report = new Dictionary<string, string>
        {
            ["service_code"] = "020301", ["lat"] = "30.2741", ["long"] = "120.1551", ["attribute[area]"] = "010101", ["attribute[type]"] = "投诉",
            ["description"] = "工地凌晨两点还在施工，噪音很大。", ["first_name"] = "敏", ["last_name"] = "周", ["phone"] = "13811112222", ["media_url"] = "https://example.cn/p/1.jpg", ["device_id"] = "fms-1",
        };
        var denied = await ErrorJson(http.PostAsync("open311/v2/requests.json", new FormUrlEncodedContent(report)), HttpStatusCode.Forbidden);
        Assert.Contains("api_key", (string)denied[0]!["description"]!, StringComparison.Ordinal);

        var created = await http.PostAsync("open311/v2/requests.json", new FormUrlEncodedContent(new Dictionary<string, string>(report) { ["api_key"] = "test-key-1" }));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var receipt = JsonNode.Parse(await created.Content.ReadAsStringAsync())!.AsArray().Single()!;
        var number = (string)receipt["service_request_id"]!;
        var token = (string)receipt["token"]!;
        Assert.Matches(@"^\d{8}-\d{6}$", number);

        // address only, answered in XML; the area comes from the address
        var byAddress = new Dictionary<string, string> { ["api_key"] = "test-key-1", ["service_code"] = "090101", ["address_string"] = "西山区枫林镇石桥村 3 组", ["description"] = "村里停水两天了", ["phone"] = "13811113333" };
        var createdXml = await Xml(http, "open311/v2/requests.xml", HttpStatusCode.Created, new FormUrlEncodedContent(byAddress));
        Assert.Equal("service_requests", createdXml.Root!.Name.LocalName);
        var number2 = (string)createdXml.Root.Element("request")!.Element("service_request_id")!;

        // validation errors: every problem listed
        var bad = await Xml(http, "open311/v2/requests.xml", HttpStatusCode.BadRequest,
            new FormUrlEncodedContent(new Dictionary<string, string> { ["api_key"] = "test-key-1", ["service_code"] = "nope", ["description"] = "x" }));
        var messages = bad.Root!.Elements("error").Select(e => (string)e.Element("description")!).ToList();
        Assert.Contains(messages, m => m.Contains("service_code", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.Contains("location", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.Contains("phone", StringComparison.Ordinal));
        Assert.All(bad.Root.Elements("error"), e => Assert.Equal("400", (string?)e.Element("code")));

        // request by id, both formats, with every field of the spec
        var one = JsonNode.Parse(await http.GetStringAsync($"open311/v2/requests/{number}.json"))!.AsArray().Single()!.AsObject();
        foreach (var field in RequestFields) Assert.True(one.ContainsKey(field), $"missing {field}");
        Assert.Equal("open", (string?)one["status"]);
        Assert.Equal(30.2741, (double)one["lat"]!, 4);
        Assert.Equal("https://example.cn/p/1.jpg", (string?)one["media_url"]);
        Assert.Equal("海川市12345热线办公室", (string?)one["agency_responsible"]);
        var oneXml = await Xml(http, $"open311/v2/requests/{number2}.xml", HttpStatusCode.OK);
        var request = oneXml.Root!.Element("request")!;
        foreach (var field in RequestFields) Assert.NotNull(request.Element(field));
        Assert.Equal("西山区枫林镇石桥村 3 组", (string?)request.Element("address"));
        await ErrorJson(http.GetAsync("open311/v2/requests/20000101-999999.json"), HttpStatusCode.NotFound);

        // query: by ids, by service code and status
        var byIds = JsonNode.Parse(await http.GetStringAsync($"open311/v2/requests.json?service_request_id={number},{number2}"))!.AsArray();
        Assert.Equal(2, byIds.Count);
        var noiseOpen = JsonNode.Parse(await http.GetStringAsync("open311/v2/requests.json?service_code=020301&status=open"))!.AsArray();
        Assert.Contains(noiseOpen, r => (string?)r!["service_request_id"] == number);
        Assert.DoesNotContain(noiseOpen, r => (string?)r!["service_request_id"] == number2);
        Assert.Empty(JsonNode.Parse(await http.GetStringAsync("open311/v2/requests.json?status=closed"))!.AsArray());
        await ErrorJson(http.GetAsync("open311/v2/requests.json?status=pending"), HttpStatusCode.BadRequest);
        var listXml = await Xml(http, "open311/v2/requests.xml?service_code=090101", HttpStatusCode.OK);
        Assert.Single(listXml.Root!.Elements("request"));

        // tokens
        var tokenJson = JsonNode.Parse(await http.GetStringAsync($"open311/v2/tokens/{token}.json"))!.AsArray().Single()!;
        Assert.Equal(number, (string?)tokenJson["service_request_id"]);
        await Xml(http, $"open311/v2/tokens/{Guid.NewGuid()}.xml", HttpStatusCode.NotFound);

        // the ticket is an ordinary ticket for the office
        using var agent = await ApiClient.LoginAsync(server, "agent1");
        var tickets = await agent.GetJsonAsync($"api/tickets?q={number}");
        var ticketId = (string)tickets["items"]![0]!["id"]!;
        Assert.Equal("网站", (string?)(await agent.GetJsonAsync($"api/tickets/{ticketId}"))["channel"]);
    }

    private static async Task<XDocument> Xml(HttpClient http, string url, HttpStatusCode expected, HttpContent? post = null)
    {
        var response = post is null ? await http.GetAsync(url) : await http.PostAsync(url, post);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{url} → {response.StatusCode}: {text}");
        Assert.StartsWith("text/xml", response.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        return XDocument.Parse(text);
    }

    private static async Task<JsonArray> ErrorJson(Task<HttpResponseMessage> call, HttpStatusCode expected)
    {
        var response = await call;
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{response.StatusCode}: {text}");
        var errors = JsonNode.Parse(text)!.AsArray();
        Assert.NotEmpty(errors);
        Assert.All(errors, e => { Assert.Equal((int)expected, (int)e!["code"]!); Assert.False(string.IsNullOrEmpty((string?)e["description"])); });
        return errors;
    }
}
