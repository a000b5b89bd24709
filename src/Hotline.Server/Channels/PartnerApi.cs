using System.Security.Cryptography;
using System.Text;
using Hotline.Domain.Common;
using Hotline.Domain.Tickets;
using Hotline.EventStore;
using Hotline.Server.Reference;
using Hotline.Server.Storage;
using Hotline.Server.Tickets;
using Microsoft.Extensions.Options;

namespace Hotline.Server.Channels;

/// <summary>
/// The city app, the WeChat mini-program and other platforms (上级派发, 110 转入): client credentials per partner
/// (HTTP Basic id:secret), one ticket per partner id — a retry returns the ticket the first call made.
/// </summary>
public static class PartnerApi
{
    public sealed record PartnerTicketRequest(string? ExternalId, string? Type, string? Urgency, string? CategoryCode, string? AreaCode, string? Address, string? Content, string? CallerName, string? CallerPhone);

    public static RouteGroupBuilder MapPartnerApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/partner").WithTags("partner").AllowAnonymous();

        group.MapPost("/tickets", async (PartnerTicketRequest body, HttpContext http, TicketService tickets, TicketIndex index, ChannelStore store, Appeals appeals, CityReference city, IOptions<ChannelsOptions> options, CancellationToken ct) =>
        {
            if (Authenticate(http, options.Value) is not { } partner) return Unauthorized(http);
            new FieldErrors().Require("externalId", body.ExternalId, 100, "对方编号").ThrowIfAny();
            var key = $"partner:{partner.Id}:{body.ExternalId!.Trim()}";
            var ticketId = DeterministicId.From("register", key);
            var existed = index.Get(ticketId) is not null;
            var result = await tickets.RegisterAsync(new RegisterTicket(Guid.Empty, "", partner.Channel, body.Type, body.Urgency ?? "一般", body.CategoryCode, body.AreaCode, body.Address, body.Content,
                body.CallerName, body.CallerPhone, false, null, "partner:" + partner.Id), key, Guid.CreateVersion7(), ct);
            var submitted = new PublicAppealSubmitted(result.Ticket.Id, partner.Channel, result.Ticket.CallerPhone, [], partner.Id, body.ExternalId.Trim(), store.Time.GetUtcNow());
            try { await store.StartAsync(Appeals.StreamOf(result.Ticket.Id), submitted, "submitted", "partner:" + partner.Id, ct); } catch (WrongExpectedVersionException) { }
            appeals.Apply(submitted);
            var view = new { id = result.Ticket.Id, number = result.Ticket.Number, externalId = body.ExternalId.Trim(), channel = result.Ticket.Channel, state = result.Ticket.State.ToString(), stateName = TicketStateNames.Of(result.Ticket.State) };
            return existed ? Results.Ok(view) : Results.Created($"/api/partner/tickets/{Uri.EscapeDataString(body.ExternalId.Trim())}", view);
        });

        group.MapGet("/tickets/{externalId}", async (string externalId, HttpContext http, TicketService tickets, TicketIndex index, CityReference city, Appeals appeals, IOptions<ChannelsOptions> options, CancellationToken ct) =>
        {
            if (Authenticate(http, options.Value) is not { } partner) return Unauthorized(http);
            var ticketId = DeterministicId.From("register", $"partner:{partner.Id}:{externalId}");
            if (index.Get(ticketId) is null) return Results.Problem(statusCode: 404, title: "未找到该编号的工单");
            var loaded = await tickets.LoadAsync(ticketId, ct);
            return Results.Ok(PublicIntake.View(loaded.Ticket, loaded.History, city, appeals));
        });
        return group;
    }

    public static PartnerOptions? Authenticate(HttpContext http, ChannelsOptions options)
    {
        var header = http.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase)) return null;
        string decoded;
        try { decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim())); } catch (FormatException) { return null; }
        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0) return null;
        var (id, secret) = (decoded[..colon], decoded[(colon + 1)..]);
        var partner = options.Partners.FirstOrDefault(p => p.Id == id && p.Secret.Length > 0);
        return partner is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(partner.Secret), Encoding.UTF8.GetBytes(secret)) ? partner : null;
    }

    private static IResult Unauthorized(HttpContext http)
    {
        http.Response.Headers.WWWAuthenticate = "Basic realm=\"12345 partner\"";
        return Results.Problem(statusCode: 401, title: "合作方身份验证失败", detail: "使用 HTTP Basic：合作方编号:密钥。");
    }
}
