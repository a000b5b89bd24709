using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Hotline.Telephony.Kamailio;

public static class KamailioTelephonyExtensions
{
    /// <summary>
    /// Registers the Kamailio adapter as <see cref="ITelephonyControl"/> and a hosted service that keeps the evapi
    /// connection up. Events go to the server's <see cref="ICallEventSink"/> through a <see cref="CallEventNormalizer"/>.
    /// </summary>
    public static IServiceCollection AddKamailioTelephony(this IServiceCollection services, Action<KamailioOptions>? configure = null)
    {
        var builder = services.AddOptions<KamailioOptions>();
        if (configure is not null)
        {
            builder.Configure(configure);
        }
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new KamailioTelephony(
            new CallEventNormalizer(new DeferredSink(sp)),
            sp.GetRequiredService<IOptions<KamailioOptions>>().Value,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<KamailioTelephony>>()));
        services.TryAddSingleton<ITelephonyControl>(sp => sp.GetRequiredService<KamailioTelephony>());
        services.AddHostedService<KamailioConnectionService>();
        return services;
    }

    /// <summary>
    /// The server's sink (its call center) itself needs <see cref="ITelephonyControl"/>: resolving it when the first
    /// event arrives, not while the adapter is constructed, breaks the cycle.
    /// </summary>
    private sealed class DeferredSink(IServiceProvider services) : ICallEventSink
    {
        private ICallEventSink? _sink;

        public Task PublishAsync(CallEvent e, CancellationToken ct) =>
            (_sink ??= services.GetRequiredService<ICallEventSink>()).PublishAsync(e, ct);
    }

    private sealed class KamailioConnectionService(KamailioTelephony telephony) : BackgroundService
    {
        protected override Task ExecuteAsync(CancellationToken stoppingToken) => telephony.RunAsync(stoppingToken);
    }
}
