using System.Security.Claims;
using Hotline.Server.Tickets;
using StackExchange.Redis;

namespace Hotline.Server.Channels;

/// <summary>一号受理: public web intake and tracking, partner API, SMS and mail drafts (outbound messages go through Outbox/).</summary>
public static class ChannelsModule
{
    public sealed record DiscardRequest(string? Reason);

    public static IHostApplicationBuilder AddHotlineChannels(this IHostApplicationBuilder builder)
    {
        System.Text.Encoding.RegisterProvider(System.Text.CodePagesEncodingProvider.Instance);
        var s = builder.Services;
        s.Configure<ChannelsOptions>(builder.Configuration.GetSection(ChannelsOptions.Section));
        s.AddSingleton<ChannelStore>();
        s.AddSingleton<DraftInbox>();
        s.AddSingleton<DraftIntake>();
        s.AddSingleton<Appeals>();
        s.AddSingleton<AppealPhotos>();
        // Codes and counters are shared by every node when Redis is configured, in process otherwise.
        s.AddSingleton(_ => new ChannelRedisKeys(builder.Configuration["Hotline:RedisPrefix"] ?? "hotline"));
        s.AddSingleton<IRateCounters>(sp => sp.GetService<IConnectionMultiplexer>() is { } redis
            ? new RedisRateCounters(redis, sp.GetRequiredService<ChannelRedisKeys>(), sp.GetRequiredService<TimeProvider>())
            : new InProcessRateCounters(sp.GetRequiredService<TimeProvider>()));
        s.AddSingleton<IVerificationCodes>(sp => sp.GetService<IConnectionMultiplexer>() is { } redis
            ? new RedisVerificationCodes(redis, sp.GetRequiredService<ChannelRedisKeys>())
            : new InProcessVerificationCodes(sp.GetRequiredService<TimeProvider>()));
        s.AddSingleton<ChannelsProjection>();
        s.AddHostedService(sp => sp.GetRequiredService<ChannelsProjection>());
        s.AddSingleton<MailDropWatcher>();
        s.AddHostedService(sp => sp.GetRequiredService<MailDropWatcher>());
        return builder;
    }

    public static IEndpointRouteBuilder MapHotlineChannels(this IEndpointRouteBuilder app)
    {
        app.MapPublicIntake();
        app.MapPartnerApi();
        app.MapSmsInbound();

        var drafts = app.MapGroup("/api/drafts").WithTags("channels").RequireAuthorization("office");
        drafts.MapGet("/", (DraftInbox inbox, DraftIntake intake, bool? open, bool? overdue) =>
        {
            var rows = inbox.All.AsEnumerable();
            if (open ?? true) rows = rows.Where(d => d.Open);
            var views = rows.OrderBy(d => d.RespondBy).Select(intake.View);
            if (overdue == true) views = views.Where(v => v.ResponseStatus is "overdue" or "late");
            return views.ToList();
        });
        drafts.MapGet("/{id:guid}", async (Guid id, DraftIntake intake, CancellationToken ct) =>
            await intake.LoadAsync(id, ct) is { } d ? Results.Ok(intake.View(d)) : Results.Problem(statusCode: 404, title: "草稿不存在"));
        drafts.MapPost("/{id:guid}/complete", async (Guid id, TicketModule.RegisterRequest body, ClaimsPrincipal user, DraftIntake intake, TicketViews views, CancellationToken ct) =>
        {
            try
            {
                var (draft, ticket) = await intake.CompleteAsync(id, body, user, ct);
                return Results.Ok(new { draft = intake.View(draft), ticket = views.Details(ticket.Ticket, ticket.History, user) });
            }
            catch (DraftNotFoundException) { return Results.Problem(statusCode: 404, title: "草稿不存在"); }
            catch (DraftClosedException e) { return Results.Problem(statusCode: 409, title: e.Message); }
        });
        drafts.MapPost("/{id:guid}/discard", async (Guid id, DiscardRequest body, ClaimsPrincipal user, DraftIntake intake, CancellationToken ct) =>
        {
            try { return Results.Ok(intake.View(await intake.DiscardAsync(id, body.Reason, user, ct))); }
            catch (DraftNotFoundException) { return Results.Problem(statusCode: 404, title: "草稿不存在"); }
            catch (DraftClosedException e) { return Results.Problem(statusCode: 409, title: e.Message); }
        });
        return app;
    }
}
