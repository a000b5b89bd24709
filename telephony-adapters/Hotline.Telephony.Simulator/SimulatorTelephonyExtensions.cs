using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Hotline.Telephony.Simulator;

public static class SimulatorTelephonyExtensions
{
    /// <summary>
    /// Registers the simulator as the <see cref="ITelephonyControl"/> and (unless <see cref="SimulatorOptions.AutoStart"/>
    /// is off) a hosted runner that plays traffic into the server's <see cref="ICallEventSink"/> through a
    /// <see cref="CallEventNormalizer"/>.
    /// </summary>
    public static IServiceCollection AddSimulatorTelephony(this IServiceCollection services, Action<SimulatorOptions>? configure = null)
    {
        var builder = services.AddOptions<SimulatorOptions>();
        if (configure is not null)
        {
            builder.Configure(configure);
        }
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<SimulatedTelephony>();
        services.TryAddSingleton<ITelephonyControl>(sp => sp.GetRequiredService<SimulatedTelephony>());
        services.AddHostedService<SimulatorRunner>();
        return services;
    }

    private sealed class SimulatorRunner(
        SimulatedTelephony simulator,
        ICallEventSink sink,
        TimeProvider time,
        IOptions<SimulatorOptions> options,
        ILogger<SimulatedTelephony> logger) : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            if (!options.Value.AutoStart)
            {
                return;
            }
            using var normalizer = new CallEventNormalizer(sink);
            logger.LogInformation("Telephony simulator started: {CallsPerDay} calls/day x{Surge}, speed x{Speed}",
                options.Value.Traffic.CallsPerDay, options.Value.Traffic.SurgeFactor, options.Value.SpeedFactor);
            try
            {
                await simulator.RunAsync(normalizer, time, options.Value, stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogError(ex, "Telephony simulator stopped");
            }
        }
    }
}
