using Hotline.Server.Hosting;
using Hotline.Telephony.FreeSwitch;
using Hotline.Telephony.Kamailio;
using Hotline.Telephony.Simulator;
using Hotline.Telephony.Webhook;

namespace Hotline.Server.Hosting;

/// <summary>
/// Chooses the telephony platform from "Hotline:Telephony": Simulator (embedded default), FreeSwitch, Kamailio,
/// Webhook. The generic CTI webhook can run beside any of them when "Hotline:Webhook:Secret" is set. Settings bind
/// from "Hotline:FreeSwitch", "Hotline:Kamailio", "Hotline:Webhook", "Hotline:Simulator".
/// </summary>
public static class TelephonyModule
{
    public static IHostApplicationBuilder AddHotlineTelephony(this IHostApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(HotlineOptions.Section).Get<HotlineOptions>() ?? new HotlineOptions();
        var platform = builder.Configuration["Hotline:Telephony"] ?? "Simulator";
        switch (platform.ToLowerInvariant())
        {
            case "simulator":
                // With --demo it plays a hotline day's traffic; otherwise it only carries calls injected through /api/dev/calls.
                builder.Services.AddSimulatorTelephony(sim =>
                {
                    builder.Configuration.GetSection("Hotline:Simulator").Bind(sim);
                    if (!options.SimulateCalls) sim.Traffic.CallsPerDay = 0;
                });
                break;
            case "freeswitch":
                builder.Services.AddFreeSwitchTelephony(fs => builder.Configuration.GetSection("Hotline:FreeSwitch").Bind(fs));
                break;
            case "kamailio":
                // Kamailio holds each INVITE while the ACD queues it; "Hotline:Kamailio:AgentUris:<agent>" or
                // "Hotline:Kamailio:AgentUriTemplate" (sip:{agentId}@…) name the agents' phones.
                builder.Services.AddKamailioTelephony(k => builder.Configuration.GetSection("Hotline:Kamailio").Bind(k));
                break;
            case "webhook":
                break;
            default:
                throw new InvalidOperationException($"Hotline:Telephony must be Simulator, FreeSwitch, Kamailio or Webhook, not '{platform}'.");
        }

        if (platform.Equals("webhook", StringComparison.OrdinalIgnoreCase) || !string.IsNullOrEmpty(builder.Configuration["Hotline:Webhook:Secret"]))
            builder.Services.AddWebhookTelephony(w => builder.Configuration.GetSection("Hotline:Webhook").Bind(w));
        return builder;
    }

    public static IEndpointRouteBuilder MapHotlineTelephony(this IEndpointRouteBuilder app)
    {
        var config = app.ServiceProvider.GetRequiredService<IConfiguration>();
        if ((config["Hotline:Telephony"] ?? "").Equals("webhook", StringComparison.OrdinalIgnoreCase) || !string.IsNullOrEmpty(config["Hotline:Webhook:Secret"]))
            app.MapCtiWebhook();
        return app;
    }
}
