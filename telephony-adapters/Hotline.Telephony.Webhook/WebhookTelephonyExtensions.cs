using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Hotline.Telephony.Webhook;

public static class WebhookTelephonyExtensions
{
    /// <summary>
    /// Registers the generic CTI webhook: the ingress (map it with <see cref="CtiWebhookEndpoint.MapCtiWebhook"/>),
    /// an in-memory <see cref="IWebhookReplayStore"/> unless one is registered, and <see cref="ITelephonyControl"/>
    /// that POSTs commands to <see cref="WebhookOptions.CommandUrl"/>.
    /// </summary>
    public static IServiceCollection AddWebhookTelephony(this IServiceCollection services, Action<WebhookOptions> configure)
    {
        services.AddOptions<WebhookOptions>()
            .Configure(configure)
            .Validate(o => o.Secret.Length >= 32, "WebhookOptions.Secret must be at least 32 characters.")
            .Validate(o => o.AllowedClockSkew > TimeSpan.Zero, "WebhookOptions.AllowedClockSkew must be positive.")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IWebhookReplayStore>(_ => new InMemoryWebhookReplayStore());
        services.TryAddSingleton<WebhookIngress>();
        services.AddHttpClient(WebhookTelephonyControl.HttpClientName);
        services.TryAddSingleton<WebhookTelephonyControl>();
        services.TryAddSingleton<ITelephonyControl>(sp => sp.GetRequiredService<WebhookTelephonyControl>());
        return services;
    }
}
