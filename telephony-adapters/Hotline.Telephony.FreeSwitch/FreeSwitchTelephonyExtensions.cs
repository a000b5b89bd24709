using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Hotline.Telephony.FreeSwitch;

public static class FreeSwitchTelephonyExtensions
{
    /// <summary>
    /// Registers the FreeSWITCH Event Socket adapter as <see cref="ITelephonyControl"/> and a hosted service that keeps
    /// the socket connected. Events go to the server's <see cref="ICallEventSink"/> through a <see cref="CallEventNormalizer"/>.
    /// </summary>
    public static IServiceCollection AddFreeSwitchTelephony(this IServiceCollection services, Action<FreeSwitchOptions>? configure = null)
    {
        var builder = services.AddOptions<FreeSwitchOptions>();
        if (configure is not null)
        {
            builder.Configure(configure);
        }
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new FreeSwitchTelephony(
            new CallEventNormalizer(new DeferredSink(sp)),
            sp.GetRequiredService<IOptions<FreeSwitchOptions>>().Value,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<FreeSwitchTelephony>>()));
        services.TryAddSingleton<ITelephonyControl>(sp => sp.GetRequiredService<FreeSwitchTelephony>());
        services.AddHostedService<FreeSwitchConnectionService>();
        return services;
    }

    /// <summary>
    /// The server's sink depends on <see cref="ITelephonyControl"/> (this adapter), so it is looked up on the first
    /// event instead of in the constructor: resolving it eagerly would be a dependency cycle that hangs start-up.
    /// </summary>
    private sealed class DeferredSink(IServiceProvider services) : ICallEventSink
    {
        public Task PublishAsync(CallEvent e, CancellationToken ct) => services.GetRequiredService<ICallEventSink>().PublishAsync(e, ct);
    }

    private sealed class FreeSwitchConnectionService(FreeSwitchTelephony telephony, ILogger<FreeSwitchTelephony> logger) : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            try
            {
                await telephony.RunAsync(stoppingToken);
            }
            catch (FreeSwitchAuthenticationException ex)
            {
                // Do not take the whole hotline server down: tickets, the console and other channels keep working.
                logger.LogCritical(ex, "FreeSWITCH telephony is OFF: fix the event socket password and restart");
            }
        }
    }
}
