using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Hotline.Testing;

namespace Hotline.Server.Tests.Channels;

/// <summary>Every channel end to end into a ticket, on a real server process, with a fake SMS/mail gateway.</summary>
public sealed partial class ChannelsEndToEndTests
{
    private static Dictionary<string, string> Settings(FakeGateway gateway, string mailDrop) => new()
    {
        ["Hotline:Outbox:GatewayUrl"] = gateway.Url,
        ["Hotline:Channels:MailDropDirectory"] = mailDrop,
        ["Hotline:Channels:MailPollSeconds"] = "0.3",
        ["Hotline:Channels:Partners:0:Id"] = "city-app",
        ["Hotline:Channels:Partners:0:Secret"] = "app-secret-123",
        ["Hotline:Channels:Partners:0:Channel"] = "APP",
        ["Hotline:Channels:Partners:1:Id"] = "province",
        ["Hotline:Channels:Partners:1:Secret"] = "prov-secret-456",
        ["Hotline:Channels:Partners:1:Channel"] = "上级派发",
        ["Hotline:Channels:Partners:2:Id"] = "wechat",
        ["Hotline:Channels:Partners:2:Secret"] = "wx-secret-789",
        ["Hotline:Channels:Partners:2:Channel"] = "微信",
        ["Hotline:Channels:Partners:3:Id"] = "110",
        ["Hotline:Channels:Partners:3:Secret"] = "police-secret-000",
        ["Hotline:Channels:Partners:3:Channel"] = "110转入",
    };

    [Fact]
    public async Task Public_web_appeal_with_sms_code_becomes_a_ticket_the_citizen_can_track()
    {
        await using var gateway = new FakeGateway();
        var mailDrop = Directory.CreateTempSubdirectory("maildrop-").FullName;
        await using var server = await ServerProcess.StartAsync(Settings(gateway, mailDrop));
        using var http = server.CreateClient();
        using var agent = await ApiClient.LoginAsync(server, "agent1");
        const string phone = "13800001111";

        var code = await http.PostAsJsonAsync("api/public/verification-codes", new { phone });
        Assert.Equal(HttpStatusCode.Accepted, code.StatusCode);
        var sms = await gateway.WaitForAsync(m => (string?)m["to"] == phone && (string?)m["kind"] == "verification");
        var digits = SixDigits().Match((string)sms["text"]!).Value;

        var appeal = new { phone, code = "000000", name = "李女士", type = "投诉", categoryCode = "020301", areaCode = "010101", address = "湖滨路 12 号", content = "小区旁工地夜间施工噪音严重，影响休息。",
            photos = new[] { "data:image/png;base64," + Convert.ToBase64String(Png) } };
        var wrong = await http.PostAsJsonAsync("api/public/appeals", appeal);
        Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);

        using var request = new HttpRequestMessage(HttpMethod.Post, "api/public/appeals") { Content = JsonContent.Create(appeal with { code = digits }) };
        request.Headers.Add("Idempotency-Key", "form-1");
        var created = await http.SendAsync(request);
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        var number = (string)(await created.Content.ReadFromJsonAsync<JsonNode>())!["number"]!;

        // A double click (same form key) does not make a second ticket.
        using var again = new HttpRequestMessage(HttpMethod.Post, "api/public/appeals") { Content = JsonContent.Create(appeal with { code = digits }) };
        again.Headers.Add("Idempotency-Key", "form-1");
        Assert.Equal(number, (string)(await (await http.SendAsync(again)).Content.ReadFromJsonAsync<JsonNode>())!["number"]!);

        var list = await agent.GetJsonAsync($"api/tickets?q={number}");
        var row = list["items"]!.AsArray().Single()!;
        var details = await agent.GetJsonAsync($"api/tickets/{row["id"]}");
        Assert.Equal("网站", (string?)details["channel"]);
        Assert.Equal(phone, (string?)details["caller"]!["phone"]);

        // Tracking needs the phone; a wrong phone is indistinguishable from an unknown number.
        var tracked = await http.GetFromJsonAsync<JsonNode>($"api/public/tickets/{number}?phone={phone}");
        Assert.Equal("Registered", (string?)tracked!["state"]);
        Assert.Equal(1, (int)tracked["photos"]!);
        Assert.False((bool)tracked["canRate"]!);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"api/public/tickets/{number}?phone=13900000000")).StatusCode);
        var early = await http.PostAsJsonAsync($"api/public/tickets/{number}/rating", new { phone, satisfaction = "满意" });
        Assert.Equal(HttpStatusCode.Conflict, early.StatusCode);

        // The acknowledgement with the ticket number goes out through the outbox.
        await gateway.WaitForAsync(m => (string?)m["to"] == phone && (string?)m["kind"] == "registered" && ((string)m["text"]!).Contains(number, StringComparison.Ordinal));

        // Anti-abuse: a phone cannot ask for unlimited codes.
        HttpStatusCode last = HttpStatusCode.Accepted;
        for (var i = 0; i < 6; i++) last = (await http.PostAsJsonAsync("api/public/verification-codes", new { phone = "13800002222" })).StatusCode;
        Assert.Equal(HttpStatusCode.TooManyRequests, last);
    }

    [Fact]
    public async Task Partner_api_sms_webhook_and_mail_drop_each_become_tickets()
    {
        await using var gateway = new FakeGateway();
        var mailDrop = Directory.CreateTempSubdirectory("maildrop-").FullName;
        await using var server = await ServerProcess.StartAsync(Settings(gateway, mailDrop));
        using var http = server.CreateClient();
        using var agent = await ApiClient.LoginAsync(server, "agent1");

        // Partner API: client credentials, idempotent by the partner's id.
        var body = new { externalId = "APP-2026-0001", type = "求助", categoryCode = "090101", areaCode = "020101", address = "西山路 5 号", content = "家里停水一天了，没有通知。", callerName = "赵先生", callerPhone = "13700003333" };
        using var bad = new HttpRequestMessage(HttpMethod.Post, "api/partner/tickets") { Content = JsonContent.Create(body) };
        bad.Headers.Authorization = Basic("city-app", "wrong");
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(bad)).StatusCode);
        var first = await PartnerPost(http, body);
        Assert.Equal(HttpStatusCode.Created, first.Status);
        var retry = await PartnerPost(http, body);
        Assert.Equal(HttpStatusCode.OK, retry.Status);
        Assert.Equal((string?)first.Body["id"], (string?)retry.Body["id"]);
        Assert.Equal("APP", (string?)first.Body["channel"]);
        using var status = new HttpRequestMessage(HttpMethod.Get, "api/partner/tickets/APP-2026-0001");
        status.Headers.Authorization = Basic("city-app", "app-secret-123");
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(status)).StatusCode);

        // The same API carries the WeChat mini-program, the upper platform (上级派发) and 110 (110转入): each partner's
        // channel is recorded on its ticket, and a partner's id is its own (the same externalId is another ticket).
        foreach (var (partner, secret, channel) in new[] { ("wechat", "wx-secret-789", "微信"), ("province", "prov-secret-456", "上级派发"), ("110", "police-secret-000", "110转入") })
        {
            var (created, answer) = await PartnerPost(http, body, partner, secret);
            Assert.Equal(HttpStatusCode.Created, created);
            Assert.NotEqual((string?)first.Body["id"], (string?)answer["id"]);
            var registered = await agent.GetJsonAsync($"api/tickets/{answer["id"]}");
            Assert.Equal(channel, (string?)registered["channel"]);
            Assert.Equal("家里停水一天了，没有通知。", (string?)registered["content"]);
        }

        // SMS: the operator's webhook makes a draft (once per message id) and an acknowledgement goes back within the limit.
        using var sms = new HttpRequestMessage(HttpMethod.Post, "api/channels/sms/inbound") { Content = JsonContent.Create(new { messageId = "op-777", from = "13600004444", text = "南江区滨江路路灯坏了一排，晚上很黑" }) };
        sms.Headers.Add("X-Sms-Secret", "dev-sms-secret");
        var draft = (await (await http.SendAsync(sms)).Content.ReadFromJsonAsync<JsonNode>())!;
        using var smsAgain = new HttpRequestMessage(HttpMethod.Post, "api/channels/sms/inbound") { Content = JsonContent.Create(new { messageId = "op-777", from = "13600004444", text = "南江区滨江路路灯坏了一排，晚上很黑" }) };
        smsAgain.Headers.Add("X-Sms-Secret", "dev-sms-secret");
        Assert.Equal((string?)draft["id"], (string?)(await (await http.SendAsync(smsAgain)).Content.ReadFromJsonAsync<JsonNode>())!["id"]);
        await gateway.WaitForAsync(m => (string?)m["to"] == "13600004444" && (string?)m["kind"] == "ack");
        var smsDraft = await WaitAsync(async () => (await agent.GetJsonAsync($"api/drafts/{draft["id"]}")) is var d && (string?)d["responseStatus"] == "met" ? d : null);
        Assert.Equal("短信", (string?)smsDraft["channel"]);
        var smsTicket = await Complete(agent, (string)draft["id"]!, new { type = "求助", categoryCode = "010402", areaCode = "030201", address = "滨江路" });
        Assert.Equal("短信", (string?)smsTicket["channel"]);
        Assert.Equal("13600004444", (string?)smsTicket["caller"]!["phone"]);

        // Mail: an .eml dropped into the inbox folder becomes a draft; the agent completes it.
        var eml = "From: =?UTF-8?B?" + Convert.ToBase64String(Encoding.UTF8.GetBytes("王先生")) + "?= <wang@example.cn>\r\nTo: 12345@haichuan.gov.cn\r\nMessage-ID: <m-1@example.cn>\r\n" +
            "Subject: =?UTF-8?B?" + Convert.ToBase64String(Encoding.UTF8.GetBytes("关于小区停车收费的投诉")) + "?=\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
            Convert.ToBase64String(Encoding.UTF8.GetBytes("物业擅自上调停车费，从每月 200 元涨到 400 元。")) + "\r\n";
        await File.WriteAllTextAsync(Path.Combine(mailDrop, "0001.eml"), eml);
        var mailDraft = await WaitAsync(async () => (await agent.GetJsonAsync("api/drafts")).AsArray().FirstOrDefault(d => (string?)d!["channel"] == "邮件"));
        Assert.Equal("关于小区停车收费的投诉", (string?)mailDraft["subject"]);
        Assert.Contains("400 元", (string)mailDraft["text"]!, StringComparison.Ordinal);
        Assert.Equal("pending", (string?)mailDraft["responseStatus"]);
        var mailTicket = await Complete(agent, (string)mailDraft["id"]!, new { type = "投诉", categoryCode = "070301", areaCode = "010201", callerName = "王先生", callerPhone = "13500005555" });
        Assert.Equal("邮件", (string?)mailTicket["channel"]);
        Assert.True(File.Exists(Path.Combine(mailDrop, "processed", "0001.eml")));
        Assert.DoesNotContain((await agent.GetJsonAsync("api/drafts")).AsArray(), d => (string?)d!["id"] == (string?)mailDraft["id"]);
    }

    /// <summary>
    /// Citizen SMS acknowledgements and the 催办 the sign-for chase job writes for a unit go through the same outbox and
    /// gateway adapter; across a kill -9 each reaches the gateway exactly once.
    /// </summary>
    [Fact]
    public async Task Outbox_delivers_each_message_once_across_a_kill_9()
    {
        await using var gateway = new FakeGateway();
        var mailDrop = Directory.CreateTempSubdirectory("maildrop-").FullName;
        var settings = Settings(gateway, mailDrop);
        // The sign-for chase job runs every second and urges every task not yet signed for (the limit is "near" at once).
        settings["Hotline:Jobs:SignForChaseSeconds"] = "1";
        settings["Hotline:Jobs:SignForUrgeMinutesBefore"] = "100000";
        var first = await ServerProcess.StartAsync(settings);
        using var http = first.CreateClient();

        await SmsAsync(http, "c-1", "13600000001");
        await SmsAsync(http, "c-2", "13600000002");
        await DispatchedTicketAsync(first, "zjj");
        await gateway.WaitForAsync(m => (string?)m["to"] == "13600000002");
        await gateway.WaitForAsync(m => (string?)m["to"] == "zjj" && (string?)m["kind"] == "urge" && (string?)m["channel"] == "单位通知");
        using (var super = await ApiClient.LoginAsync(first, "super1"))
            await WaitAsync(async () => (await super.GetJsonAsync("api/outbox?pending=true")).AsArray().Count == 0 ? new JsonObject() : null);

        // The gateway takes the next message but the server dies before it hears back.
        gateway.Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await SmsAsync(http, "c-3", "13600000003");
        await SmsAsync(http, "c-4", "13600000004");
        await SmsAsync(http, "c-5", "13600000005");
        await DispatchedTicketAsync(first, "cgj");
        await gateway.FirstHeld.Task.WaitAsync(TimeSpan.FromSeconds(20));
        // The job's 催办 for the second unit is written (and its message queued) before the crash.
        using (var super = await ApiClient.LoginAsync(first, "super1"))
            await WaitAsync(async () => (await super.GetJsonAsync("api/outbox?channel=单位通知")).AsArray().Count == 2 ? new JsonObject() : null);
        await first.KillAsync();
        gateway.Hold.TrySetResult();
        gateway.Hold = null;

        await using var second = await ServerProcess.StartAsync(settings, first.DataDirectory, first.Port);
        using var supervisor = await ApiClient.LoginAsync(second, "super1");
        var all = await WaitAsync(async () => (await supervisor.GetJsonAsync("api/outbox")) is var rows && rows.AsArray().All(r => r!["deliveredAt"] is not null) && rows.AsArray().Count == 7 ? rows : null, 40);

        Assert.Equal(7, gateway.Delivered.Count);
        foreach (var m in all.AsArray())
            Assert.True(gateway.Delivered.ContainsKey((string)m!["messageId"]!), $"{m["messageId"]} not delivered");
        // Messages recorded as delivered before the crash were not offered again; the one in flight was retried once and deduplicated by its key.
        Assert.Equal(1, gateway.Hits[(string)all.AsArray().Single(m => (string?)m!["to"] == "13600000001")!["messageId"]!]);
        Assert.Equal(1, gateway.Hits[(string)all.AsArray().Single(m => (string?)m!["to"] == "13600000002")!["messageId"]!]);
        Assert.Equal(1, gateway.Hits[(string)all.AsArray().Single(m => (string?)m!["to"] == "zjj")!["messageId"]!]);
        // The job's message for the second unit was delivered once (however the crash cut it) and the job did not urge twice.
        Assert.Equal("urge", (string?)all.AsArray().Single(m => (string?)m!["to"] == "cgj")!["kind"]);
        Assert.Equal(2, gateway.Delivered.Values.Count(m => (string?)m["kind"] == "urge"));
        Assert.Contains(gateway.Hits.Values, n => n == 2);
    }

    private static readonly byte[] Png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, 0x49, 0x48, 0x44, 0x52];
    private static readonly byte[] Jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 0x4A, 0x46, 0x49, 0x46, 0, 1];

    [Fact]
    public async Task Appeal_photos_upload_as_multipart_with_type_and_size_limits_and_appear_as_open311_media_url()
    {
        await using var gateway = new FakeGateway();
        var mailDrop = Directory.CreateTempSubdirectory("maildrop-").FullName;
        await using var server = await ServerProcess.StartAsync(Settings(gateway, mailDrop));
        using var http = server.CreateClient();
        const string phone = "13800003333";
        Assert.Equal(HttpStatusCode.Accepted, (await http.PostAsJsonAsync("api/public/verification-codes", new { phone })).StatusCode);
        var code = SixDigits().Match((string)(await gateway.WaitForAsync(m => (string?)m["to"] == phone && (string?)m["kind"] == "verification"))["text"]!).Value;

        MultipartFormDataContent Form(params (byte[] Bytes, string Type, string Name)[] photos)
        {
            var form = new MultipartFormDataContent();
            foreach (var (k, v) in new Dictionary<string, string> { ["phone"] = phone, ["code"] = code, ["name"] = "周先生", ["type"] = "投诉", ["categoryCode"] = "020301",
                ["areaCode"] = "010101", ["address"] = "湖滨路 20 号", ["content"] = "路边占道经营，垃圾遍地。" })
                form.Add(new StringContent(v), k);
            foreach (var (bytes, type, name) in photos)
            {
                var part = new ByteArrayContent(bytes);
                part.Headers.ContentType = new MediaTypeHeaderValue(type);
                form.Add(part, "photos", name);
            }
            return form;
        }
        async Task<(HttpStatusCode Status, JsonNode Body)> Post(MultipartFormDataContent form)
        {
            using (form)
            {
                var r = await http.PostAsync("api/public/appeals", form);
                return (r.StatusCode, JsonNode.Parse(await r.Content.ReadAsStringAsync())!);
            }
        }

        // A text file called a PNG, and a JPEG over the 2 MB limit: problem documents naming the photo; the code is not used up.
        var (status, problem) = await Post(Form((Encoding.UTF8.GetBytes("not an image at all"), "image/png", "fake.png")));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("JPEG/PNG/WebP", (string)problem["errors"]!["photos[0]"]![0]!, StringComparison.Ordinal);
        var big = new byte[2 * 1024 * 1024 + 1];
        Jpeg.CopyTo(big, 0);
        (status, problem) = await Post(Form((Png, "image/png", "ok.png"), (big, "image/jpeg", "big.jpg")));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("2 MB", (string)problem["errors"]!["photos[1]"]![0]!, StringComparison.Ordinal);
        (status, problem) = await Post(Form((Jpeg, "image/png", "lies.png")));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.NotNull(problem["errors"]!["photos[0]"]);

        (status, var created) = await Post(Form((Jpeg, "image/jpeg", "site.jpg"), (Png, "image/png", "map.png")));
        Assert.True(status == HttpStatusCode.Created, created.ToJsonString());
        var number = (string)created["number"]!;
        Assert.Equal(2, (int)(await http.GetFromJsonAsync<JsonNode>($"api/public/tickets/{number}?phone={phone}"))!["photos"]!);

        // Open311 shows the first photo as media_url (JSON and XML), and the address serves the stored bytes.
        var request = (await http.GetFromJsonAsync<JsonArray>($"open311/v2/requests/{number}.json"))!.Single()!;
        var mediaUrl = (string)request["media_url"]!;
        Assert.Matches(@"/api/public/media/[0-9a-f]{32}/1\.jpg$", mediaUrl);
        Assert.Contains($"<media_url>{mediaUrl}</media_url>", await http.GetStringAsync($"open311/v2/requests/{number}.xml"), StringComparison.Ordinal);
        using var photo = await http.GetAsync(mediaUrl);
        Assert.Equal("image/jpeg", photo.Content.Headers.ContentType?.MediaType);
        Assert.Equal(Jpeg, await photo.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(mediaUrl.Replace("1.jpg", "..%2F..%2Fevents.db", StringComparison.Ordinal))).StatusCode);
    }

    private static async Task SmsAsync(HttpClient http, string id, string from)
    {
        using var sms = new HttpRequestMessage(HttpMethod.Post, "api/channels/sms/inbound") { Content = JsonContent.Create(new { messageId = id, from, text = "咨询社保转移手续" }) };
        sms.Headers.Add("X-Sms-Secret", "dev-sms-secret");
        var r = await http.SendAsync(sms);
        Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
    }

    /// <summary>A phone ticket registered and dispatched to <paramref name="unitId"/> (not signed for, so the sign-for chase job urges it).</summary>
    private static async Task DispatchedTicketAsync(ServerProcess server, string unitId)
    {
        using var agent = await ApiClient.LoginAsync(server, "agent1");
        using var dispatcher = await ApiClient.LoginAsync(server, "disp1");
        var (status, ticket, _) = await agent.SendAsync(HttpMethod.Post, "api/tickets", new
        {
            channel = "电话", type = "投诉", urgency = "一般", categoryCode = "010201", areaCode = "010101",
            address = "湖滨路 88 号", content = "楼道垃圾长期无人清理", callerName = "王先生", callerPhone = "13912345678",
        }, idempotencyKey: Guid.NewGuid().ToString());
        Assert.True(status == HttpStatusCode.Created, $"register → {status}: {ticket}");
        await dispatcher.ActAsync((string)ticket!["id"]!, "dispatch", new { unitId, overrideReason = "测试：指定承办单位" }, 1);
    }

    private static async Task<JsonNode> Complete(ApiClient agent, string draftId, object body)
    {
        var (status, result, _) = await agent.SendAsync(HttpMethod.Post, $"api/drafts/{draftId}/complete", body);
        Assert.True(status == HttpStatusCode.OK, $"complete → {status}: {result}");
        Assert.False((bool)result!["draft"]!["open"]!);
        return result["ticket"]!;
    }

    private static async Task<(HttpStatusCode Status, JsonNode Body)> PartnerPost(HttpClient http, object body, string partner = "city-app", string secret = "app-secret-123")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/partner/tickets") { Content = JsonContent.Create(body) };
        request.Headers.Authorization = Basic(partner, secret);
        var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return (response.StatusCode, JsonNode.Parse(text)!);
    }

    private static AuthenticationHeaderValue Basic(string id, string secret) => new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{id}:{secret}")));

    private static async Task<JsonNode> WaitAsync(Func<Task<JsonNode?>> probe, int seconds = 20)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            if (await probe() is { } found) return found;
            if (DateTime.UtcNow > deadline) throw new TimeoutException("condition not met in time");
            await Task.Delay(200);
        }
    }

    [GeneratedRegex(@"\d{6}")]
    private static partial Regex SixDigits();
}
