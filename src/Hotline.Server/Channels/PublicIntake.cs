using System.Text.RegularExpressions;
using Hotline.Domain.Common;
using Hotline.Domain.Tickets;
using Hotline.EventStore;
using Hotline.Server.Hosting;
using Hotline.Server.Outbox;
using Hotline.Server.Reference;
using Hotline.Server.Storage;
using Hotline.Server.Tickets;
using Microsoft.Extensions.Options;

namespace Hotline.Server.Channels;

/// <summary>The citizen's web page (and anything else without an account): verification code, submit, track, rate.</summary>
public static partial class PublicIntake
{
    public sealed record CodeRequest(string? Phone);
    public sealed record AppealRequest(string? Phone, string? Code, string? Name, string? Type, string? CategoryCode, string? AreaCode, string? Address, string? Content, IReadOnlyList<string>? Photos);
    public sealed record RatingRequest(string? Phone, string? Satisfaction, string? Comment);
    public sealed record PublicStep(DateTimeOffset At, string Name);
    public sealed record PublicTicketView(string Number, string Channel, string State, string StateName, string Type, string CategoryName, string AreaName, DateTimeOffset SubmittedAt,
        IReadOnlyList<PublicStep> Steps, string? Reply, string? ReplyUnit, bool CanRate, string? Satisfaction, int Photos);

    public static readonly string[] PublicTypes = ["咨询", "求助", "投诉", "举报", "建议", "表扬"];

    public static RouteGroupBuilder MapPublicIntake(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/public").WithTags("public").AllowAnonymous();

        group.MapGet("/options", (CityReference city) => new { city = city.CityName, types = PublicTypes, categories = city.Categories, areas = city.Areas, satisfactions = TicketVocabulary.Satisfactions });

        group.MapPost("/verification-codes", async (CodeRequest body, HttpContext http, IRateCounters limits, IVerificationCodes codes, OutboxWriter outbox, IOptions<ChannelsOptions> options, CancellationToken ct) =>
        {
            var phone = RequireMobile(body.Phone);
            if (!await limits.TryTakeAsync("code-ip:" + Client(http), options.Value.PublicRequestsPerAddressPerMinute, TimeSpan.FromMinutes(1))
                || !await limits.TryTakeAsync("code-phone:" + phone, options.Value.CodesPerPhonePerHour, TimeSpan.FromHours(1)))
                return TooMany(http);
            var code = await codes.IssueAsync(phone);
            await outbox.QueueAsync("短信", phone, "verification", $"【12345】您的验证码是 {code}，10 分钟内有效。如非本人操作请忽略。", null, "code:" + Guid.CreateVersion7(), ct);
            return Results.Accepted(value: new { phone, expiresInSeconds = 600 });
        });

        group.MapPost("/appeals", async (AppealRequest body, HttpContext http, IRateCounters limits, IVerificationCodes codes, TicketService tickets, TicketIndex index,
            ChannelStore store, Appeals appeals, IOptions<ChannelsOptions> options, IOptions<HotlineOptions> hotline, CancellationToken ct) =>
        {
            var phone = RequireMobile(body.Phone);
            var clientKey = http.Request.Headers["Idempotency-Key"].ToString();
            var key = clientKey.Length is > 0 and <= 100 ? $"web:{phone}:{clientKey}" : null;
            if (key is not null && index.Get(DeterministicId.From("register", key)) is { } earlier)
                return Results.Created($"/api/public/tickets/{earlier.Number}", new { number = earlier.Number });

            if (!await limits.TryTakeAsync("appeal-ip:" + Client(http), options.Value.PublicRequestsPerAddressPerMinute, TimeSpan.FromMinutes(1))) return TooMany(http);
            if (body.Type is not null && !PublicTypes.Contains(body.Type)) throw new DomainValidationException("type", "诉求类型必须是 " + string.Join("/", PublicTypes) + " 之一");
            var photos = DecodePhotos(body.Photos);
            if (!await codes.VerifyAsync(phone, body.Code)) throw new DomainValidationException("code", "验证码错误或已过期，请重新获取");
            if (!await limits.TryTakeAsync("appeal-phone:" + phone, options.Value.SubmissionsPerPhonePerHour, TimeSpan.FromHours(1))) return TooMany(http);

            var result = await tickets.RegisterAsync(new RegisterTicket(Guid.Empty, "", ChannelNames.Web, body.Type, "一般", body.CategoryCode, body.AreaCode, body.Address, body.Content,
                body.Name, phone, false, null, "public-web"), key, Guid.CreateVersion7(), ct);
            var saved = SavePhotos(hotline.Value.DataDirectory, result.Ticket.Id, photos);
            var submitted = new PublicAppealSubmitted(result.Ticket.Id, ChannelNames.Web, phone, saved, null, null, store.Time.GetUtcNow());
            try { await store.StartAsync(Appeals.StreamOf(result.Ticket.Id), submitted, "submitted", "public-web", ct); } catch (WrongExpectedVersionException) { }
            appeals.Apply(submitted);
            return Results.Created($"/api/public/tickets/{result.Ticket.Number}", new { number = result.Ticket.Number });
        });

        group.MapGet("/tickets/{number}", async (string number, string? phone, HttpContext http, IRateCounters limits, TicketIndex index, TicketService tickets, CityReference city, Appeals appeals, IOptions<ChannelsOptions> options, CancellationToken ct) =>
        {
            if (!await limits.TryTakeAsync("track-ip:" + Client(http), options.Value.PublicRequestsPerAddressPerMinute, TimeSpan.FromMinutes(1))) return TooMany(http);
            var ticket = Find(number, phone, index);
            if (ticket is null) return NotFound();
            var loaded = await tickets.LoadAsync(ticket.Id, ct);
            return Results.Ok(View(loaded.Ticket, loaded.History, city, appeals));
        });

        group.MapPost("/tickets/{number}/rating", async (string number, RatingRequest body, HttpContext http, IRateCounters limits, TicketIndex index, TicketService tickets, CityReference city,
            Appeals appeals, ChannelStore store, IOptions<ChannelsOptions> options, CancellationToken ct) =>
        {
            if (!await limits.TryTakeAsync("track-ip:" + Client(http), options.Value.PublicRequestsPerAddressPerMinute, TimeSpan.FromMinutes(1))) return TooMany(http);
            var ticket = Find(number, body.Phone, index);
            if (ticket is null) return NotFound();
            var errors = new FieldErrors().OneOf("satisfaction", body.Satisfaction, TicketVocabulary.Satisfactions, "满意度").Optional("comment", body.Comment, 500, "评价内容");
            errors.ThrowIfAny();
            if (!CanRate(ticket)) return Results.Problem(statusCode: 409, title: "工单尚未答复，暂不能评价");
            var rated = new OutcomeRated(ticket.Id, body.Satisfaction!, string.IsNullOrWhiteSpace(body.Comment) ? null : body.Comment.Trim(), store.Time.GetUtcNow());
            var stream = Appeals.StreamOf(ticket.Id);
            var existing = await store.ReadAsync(stream, ct);
            if (existing.OfType<OutcomeRated>().Any()) return Results.Problem(statusCode: 409, title: "该工单已评价");
            try { await store.AppendAsync(stream, existing.Count, rated, "rated", "public-web", ct); }
            catch (WrongExpectedVersionException) { return Results.Problem(statusCode: 409, title: "该工单已评价"); }
            appeals.Apply(rated);
            var loaded = await tickets.LoadAsync(ticket.Id, ct);
            return Results.Ok(View(loaded.Ticket, loaded.History, city, appeals));
        });
        return group;
    }

    private static Ticket? Find(string number, string? phone, TicketIndex index)
    {
        if (string.IsNullOrWhiteSpace(phone)) throw new DomainValidationException("phone", "请填写提交时的手机号");
        var t = index.All.FirstOrDefault(x => x.Number == number.Trim());
        // A wrong phone looks exactly like an unknown number: no way to probe numbers.
        return t is not null && t.CallerPhone == phone.Trim() && !t.Confidential ? t : null;
    }

    private static bool CanRate(Ticket t) => t.State is TicketState.ReplyAccepted or TicketState.AwaitingCallback or TicketState.Closed;

    public static PublicTicketView View(Ticket t, IReadOnlyList<RecordedEvent> history, CityReference city, Appeals appeals)
    {
        var steps = history.Select(h => new PublicStep(h.Metadata.Timestamp, TicketViews.TypeName(h.Type.StartsWith("V1.", StringComparison.Ordinal) ? h.Type[3..] : h.Type)))
            .Where(s => s.Name != "转回访").ToList();
        var main = t.MainTask;
        var replyVisible = t.State is TicketState.ReplyAccepted or TicketState.AwaitingCallback or TicketState.Closed;
        var reply = t.DirectAnswer ?? (replyVisible ? main?.ReplyText : null);
        var appeal = appeals.Get(t.Id);
        return new PublicTicketView(t.Number, t.Channel, t.State.ToString(), TicketStateNames.Of(t.State), t.Type, city.CategoryPath(t.CategoryCode), city.AreaPath(t.AreaCode), t.RegisteredAt,
            steps, reply, reply is not null && main is not null && t.DirectAnswer is null ? city.UnitOf(main.UnitId)?.Name : null,
            CanRate(t) && appeal?.Rating is null, appeal?.Rating?.Satisfaction, appeal?.Photos.Count ?? 0);
    }

    public static string RequireMobile(string? phone)
    {
        var p = phone?.Trim() ?? "";
        return Mobile().IsMatch(p) ? p : throw new DomainValidationException("phone", "请填写 11 位手机号");
    }

    private static IResult TooMany(HttpContext http)
    {
        http.Response.Headers.RetryAfter = "60";
        return Results.Problem(statusCode: 429, title: "操作过于频繁，请稍后再试");
    }

    private static IResult NotFound() => Results.Problem(statusCode: 404, title: "未找到工单", detail: "请核对工单编号和提交时的手机号。");

    private static string Client(HttpContext http) => http.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    private static List<(byte[] Bytes, string Ext)> DecodePhotos(IReadOnlyList<string>? photos)
    {
        var list = new List<(byte[], string)>();
        if (photos is null) return list;
        if (photos.Count > 3) throw new DomainValidationException("photos", "最多上传 3 张照片");
        foreach (var (p, i) in photos.Select((p, i) => (p, i)))
        {
            var m = DataUrl().Match(p ?? "");
            if (!m.Success) throw new DomainValidationException($"photos[{i}]", "照片必须是 JPEG/PNG/WebP 图片");
            byte[] bytes;
            try { bytes = Convert.FromBase64String(m.Groups[2].Value); } catch (FormatException) { throw new DomainValidationException($"photos[{i}]", "照片数据无法解析"); }
            if (bytes.Length > 2 * 1024 * 1024) throw new DomainValidationException($"photos[{i}]", "每张照片不能超过 2 MB");
            list.Add((bytes, m.Groups[1].Value == "jpeg" ? "jpg" : m.Groups[1].Value));
        }
        return list;
    }

    private static List<string> SavePhotos(string dataDirectory, Guid ticketId, List<(byte[] Bytes, string Ext)> photos)
    {
        var names = new List<string>();
        if (photos.Count == 0) return names;
        var dir = Path.Combine(Path.GetFullPath(dataDirectory), "appeals", ticketId.ToString("N"));
        Directory.CreateDirectory(dir);
        for (var i = 0; i < photos.Count; i++)
        {
            var name = $"{i + 1}.{photos[i].Ext}";
            File.WriteAllBytes(Path.Combine(dir, name), photos[i].Bytes);
            names.Add(name);
        }
        return names;
    }

    [GeneratedRegex(@"^1[3-9]\d{9}$")]
    private static partial Regex Mobile();

    [GeneratedRegex(@"^data:image/(jpeg|png|webp);base64,([A-Za-z0-9+/=]+)$")]
    private static partial Regex DataUrl();
}
