using Hotline.Server.Hosting;
using Hotline.Telephony;
using Hotline.Telephony.Simulator;

namespace Hotline.Server.Calls;

public static class CallsModule
{
    public sealed record SimulatedCallRequest(string? Caller, string? Skill, bool Elderly, int? TalkSeconds, int? PatienceSeconds);

    public static IHostApplicationBuilder AddHotlineCalls(this IHostApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(HotlineOptions.Section).Get<HotlineOptions>() ?? new HotlineOptions();
        builder.Services.AddSignalR().AddJsonProtocol();
        builder.Services.Configure<CallsOptions>(builder.Configuration.GetSection(CallsOptions.Section));
        builder.Services.AddSingleton(sp => new ConsolePushes(
            sp.GetRequiredService<Microsoft.AspNetCore.SignalR.IHubContext<AgentHub>>(),
            sp.GetService<StackExchange.Redis.IConnectionMultiplexer>(),
            (sp.GetRequiredService<Hotline.Calls.ICallQueue>() as Hotline.Calls.Redis.RedisCallQueue)?.Keys,
            sp.GetRequiredService<ILogger<ConsolePushes>>()));
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ConsolePushes>());
        builder.Services.AddSingleton<CallCenter>();
        builder.Services.AddSingleton<ICallEventSink>(sp => sp.GetRequiredService<CallCenter>());
        builder.Services.AddHostedService<AcdLoop>();
        builder.Services.AddHostedService<WallboardPublisher>();

        return builder;
    }

    public static IEndpointRouteBuilder MapHotlineCalls(this IEndpointRouteBuilder app)
    {
        // A connection whose session expires (the ticket's ExpiresUtc, from the token's exp) is closed by SignalR.
        app.MapHub<AgentHub>("/hubs/agent", o => o.CloseOnAuthenticationExpiration = true);
        app.MapHub<SupervisorHub>("/hubs/supervisor", o => o.CloseOnAuthenticationExpiration = true);

        app.MapGet("/api/calls/wallboard", (CallCenter center, CancellationToken ct) => center.WallboardAsync(ct)).RequireAuthorization("supervisor").WithTags("calls");

        // Demo and test door: a simulated caller dials 12345.
        app.MapPost("/api/dev/calls", (SimulatedCallRequest body, IServiceProvider services, Microsoft.Extensions.Options.IOptions<HotlineOptions> options) =>
        {
            if (!options.Value.Demo || services.GetService<SimulatedTelephony>() is not { } simulator) return Results.Problem(statusCode: 404, title: "仅演示模式（模拟话务）可用");
            var caller = body.Caller ?? "13800000000";
            if (!System.Text.RegularExpressions.Regex.IsMatch(caller, @"^\d{7,12}$"))
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["caller"] = ["主叫号码必须是 7–12 位数字"] });
            var call = simulator.NewCall(caller, body.Skill ?? CallCenter.DefaultSkill,
                patience: TimeSpan.FromSeconds(Math.Clamp(body.PatienceSeconds ?? 600, 1, 3600)),
                talkTime: TimeSpan.FromSeconds(Math.Clamp(body.TalkSeconds ?? 3600, 1, 7200)), elderly: body.Elderly);
            simulator.Inject(call);
            return Results.Ok(new { callId = call.CallId });
        }).RequireAuthorization("agent").WithTags("calls");

        // Demo and test door: the simulated caller presses the callback-accept digit (a real platform sends DtmfReceived).
        app.MapPost("/api/dev/calls/{callId}/callback", async (string callId, CallCenter center, Microsoft.Extensions.Options.IOptions<HotlineOptions> options, CancellationToken ct) =>
        {
            if (!options.Value.Demo) return Results.Problem(statusCode: 404, title: "仅演示模式可用");
            if (callId.Length > 200 || callId.Any(char.IsControl))
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["callId"] = ["通话编号不能超过 200 个字符、不能含控制字符"] });
            return await center.AcceptCallbackAsync(callId, ct)
                ? Results.Ok(new { callId, callback = true })
                : Results.Problem(statusCode: 409, title: "该来电已不在排队中，不能转为回拨", detail: $"callId {callId}: not waiting");
        }).RequireAuthorization("agent").WithTags("calls");
        return app;
    }
}
