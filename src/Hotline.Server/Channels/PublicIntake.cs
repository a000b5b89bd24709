using System.Text.RegularExpressions;
using Hotline.Domain.Common;
using Hotline.Domain.Tickets;
using Hotline.EventStore;
using Hotline.Server.Outbox;
using Hotline.Server.Reference;
using Hotline.Server.Storage;
using Hotline.Server.Tickets;
using Microsoft.AspNetCore.Http.Features;
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

        // JSON (photos as data URLs) or multipart/form-data (the same fields, photos as "photos" file parts).
        group.MapPost("/appeals", async (HttpContext http, IRateCounters limits, IVerificationCodes codes, TicketService tickets, TicketIndex index,
            ChannelStore store, Appeals appeals, AppealPhotos photoStore, IOptions<ChannelsOptions> options, CancellationToken ct) =>
        {
            var (body, incoming) = await ReadAppealAsync(http, photoStore, ct);
            var phone = RequireMobile(body.Phone);
            var clientKey = http.Request.Headers["Idempotency-Key"].ToString();
            var key = clientKey.Length is > 0 and <= 100 ? $"web:{phone}:{clientKey}" : null;
            if (key is not null && index.Get(DeterministicId.From("register", key)) is { } earlier)
                return Results.Created($"/api/public/tickets/{earlier.Number}", new { number = earlier.Number });

            if (!await limits.TryTakeAsync("appeal-ip:" + Client(http), options.Value.PublicRequestsPerAddressPerMinute, TimeSpan.FromMinutes(1))) return TooMany(http);
            if (body.Type is not null && !PublicTypes.Contains(body.Type)) throw new DomainValidationException("type", "诉求类型必须是 " + string.Join("/", PublicTypes) + " 之一");
            var photos = photoStore.Validate(incoming);
            if (!await codes.VerifyAsync(phone, body.Code)) throw new DomainValidationException("code", "验证码错误或已过期，请重新获取");
            if (!await limits.TryTakeAsync("appeal-phone:" + phone, options.Value.SubmissionsPerPhonePerHour, TimeSpan.FromHours(1))) return TooMany(http);

            var result = await tickets.RegisterAsync(new RegisterTicket(Guid.Empty, "", ChannelNames.Web, body.Type, "一般", body.CategoryCode, body.AreaCode, body.Address, body.Content,
                body.Name, phone, false, null, "public-web"), key, Guid.CreateVersion7(), ct);
            var saved = await photoStore.SaveAsync(result.Ticket.Id, photos, ct);
            var submitted = new PublicAppealSubmitted(result.Ticket.Id, ChannelNames.Web, phone, saved.Select(p => p.Name).ToList(), null, null, store.Time.GetUtcNow(), saved);
            try { await store.StartAsync(Appeals.StreamOf(result.Ticket.Id), submitted, "submitted", "public-web", ct); } catch (WrongExpectedVersionException) { }
            appeals.Apply(submitted);
            return Results.Created($"/api/public/tickets/{result.Ticket.Number}", new { number = result.Ticket.Number });
        }).Accepts<AppealRequest>("application/json", "multipart/form-data");

        // A photo sent with an appeal (Open311 media_url points here). Only names the appeal recorded; never for confidential tickets.
        group.MapGet("/media/{ticketId:guid}/{name}", (Guid ticketId, string name, Appeals appeals, AppealPhotos photoStore, TicketIndex index) =>
        {
            if (index.Get(ticketId) is not { Confidential: false } || appeals.Get(ticketId) is not { } appeal || photoStore.Find(appeal, name) is not { } file)
                return Results.Problem(statusCode: 404, title: "照片不存在");
            return Results.File(file.Path, file.ContentType);
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

    /// <summary>
    /// The appeal from JSON or from multipart/form-data. A multipart body may be as large as the photos allow (the
    /// server-wide body limit is raised for this request only); JSON photos are data URLs.
    /// </summary>
    private static async Task<(AppealRequest Body, List<IncomingPhoto> Photos)> ReadAppealAsync(HttpContext http, AppealPhotos photoStore, CancellationToken ct)
    {
        if (http.Request.HasFormContentType)
        {
            if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = photoStore.MaxRequestBytes;
            IFormCollection form;
            try { form = await http.Request.ReadFormAsync(new FormOptions { MultipartBodyLengthLimit = photoStore.MaxRequestBytes }, ct); }
            catch (InvalidDataException e) { throw new DomainValidationException("photos", "上传内容过大或格式错误：" + e.Message); }
            string? F(string name) => form.TryGetValue(name, out var v) && v.ToString().Length > 0 ? v.ToString() : null;
            var files = form.Files.Where(f => f.Name is "photos" or "photos[]").ToList();
            if (files.Count > photoStore.MaxPhotos) throw new DomainValidationException("photos", $"最多上传 {photoStore.MaxPhotos} 张照片");
            var photos = new List<IncomingPhoto>();
            for (var i = 0; i < files.Count; i++)
            {
                if (files[i].Length > photoStore.MaxPhotoBytes) throw new DomainValidationException($"photos[{i}]", $"每张照片不能超过 {photoStore.MaxPhotoBytes / (1024 * 1024.0):0.#} MB");
                using var buffer = new MemoryStream();
                await files[i].CopyToAsync(buffer, ct);
                photos.Add(new IncomingPhoto($"photos[{i}]", buffer.ToArray(), files[i].ContentType));
            }
            return (new AppealRequest(F("phone"), F("code"), F("name"), F("type"), F("categoryCode"), F("areaCode"), F("address"), F("content"), null), photos);
        }

        AppealRequest? body;
        try { body = await http.Request.ReadFromJsonAsync<AppealRequest>(ct); }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException)
        {
            throw new DomainValidationException("body", "请求体必须是 JSON 或 multipart/form-data：" + e.Message);
        }
        if (body is null) throw new DomainValidationException("body", "请求体不能为空");
        var list = new List<IncomingPhoto>();
        if (body.Photos is { } dataUrls)
        {
            if (dataUrls.Count > photoStore.MaxPhotos) throw new DomainValidationException("photos", $"最多上传 {photoStore.MaxPhotos} 张照片");
            for (var i = 0; i < dataUrls.Count; i++)
            {
                var m = DataUrl().Match(dataUrls[i] ?? "");
                if (!m.Success) throw new DomainValidationException($"photos[{i}]", "照片必须是 JPEG/PNG/WebP 图片（data URL）");
                byte[] bytes;
                try { bytes = Convert.FromBase64String(m.Groups[2].Value); } catch (FormatException) { throw new DomainValidationException($"photos[{i}]", "照片数据无法解析"); }
                list.Add(new IncomingPhoto($"photos[{i}]", bytes, "image/" + m.Groups[1].Value));
            }
        }
        return (body, list);
    }

    [GeneratedRegex(@"^1[3-9]\d{9}$")]
    private static partial Regex Mobile();

    [GeneratedRegex(@"^data:image/(jpeg|png|webp);base64,([A-Za-z0-9+/=]+)$")]
    private static partial Regex DataUrl();
}
