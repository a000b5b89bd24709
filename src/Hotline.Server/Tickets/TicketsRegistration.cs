using Hotline.Domain.Calendar;
using Hotline.Domain.Tickets;
using Hotline.Server.Calendar;
using Hotline.Server.Calls;
using Hotline.Server.Hosting;
using Hotline.Server.Reference;
using Hotline.Server.Storage;

namespace Hotline.Server.Tickets;

public static class TicketsRegistration
{
    public static IHostApplicationBuilder AddHotlineTickets(this IHostApplicationBuilder builder)
    {
        var s = builder.Services;
        s.AddSingleton(_ => new EventSerializer(TicketEventTypes.All.Concat(CallRecordTypes.All).Append(typeof(TicketNumberAssigned)).Append(typeof(NumberBlockReserved)).Append(typeof(HolidayYearImported)).Append(typeof(PersonalDataRead)).Concat(ReferencePublishing.EventTypes)));
        // The time-limit table: defaults, then "Hotline:TimeLimits:Rules", then "Hotline:TimeLimits:Cities:<Hotline:City>".
        var limits = builder.Configuration.GetSection(TimeLimitOptions.SectionName).Get<TimeLimitOptions>() ?? new TimeLimitOptions();
        var limitRules = limits.ForCity(builder.Configuration["Hotline:City"]);
        s.AddSingleton(_ => new CalendarDeadlines(limitRules, HolidaySchedule.Official));
        // "Hotline:Warnings" (yellow rule), "Hotline:TicketRules" (callback scale, attempts, extensions), "Hotline:Repeats" (window).
        var warnings = builder.Configuration.GetSection(WarningRule.SectionName).Get<WarningRule>() ?? WarningRule.Default;
        var rules = TicketRules.Default;
        var rulesSection = builder.Configuration.GetSection("Hotline:TicketRules");
        if (rulesSection.Exists())
        {
            rules = rules with
            {
                CallbackMaxAttempts = rulesSection.GetValue("CallbackMaxAttempts", rules.CallbackMaxAttempts),
                MaxExtensionDays = rulesSection.GetValue("MaxExtensionDays", rules.MaxExtensionDays),
                MaxExtensions = rulesSection.GetValue("MaxExtensions", rules.MaxExtensions),
                ReworkOnUnsatisfied = rulesSection.GetValue("ReworkOnUnsatisfied", rules.ReworkOnUnsatisfied),
                Satisfactions = rulesSection.GetSection("Satisfactions").Get<string[]>() ?? rules.Satisfactions,
                Unsatisfied = rulesSection.GetSection("Unsatisfied").Get<string[]>() ?? rules.Unsatisfied,
            };
        }
        var repeats = new RepeatRules
        {
            Window = TimeSpan.FromDays(builder.Configuration.GetValue("Hotline:Repeats:WindowDays", 7)),
            SameArea = builder.Configuration.GetValue("Hotline:Repeats:SameArea", true),
        };
        s.AddSingleton(warnings);
        s.AddSingleton(repeats);
        s.AddSingleton(sp => new TicketContext(sp.GetRequiredService<CalendarDeadlines>(), sp.GetRequiredService<CityReference>()) { Rules = rules });
        s.AddSingleton<AuditLog>();
        s.AddSingleton<TicketStore>();
        s.AddSingleton(builder.Configuration.GetSection(TicketNumberOptions.SectionName).Get<TicketNumberOptions>() ?? new TicketNumberOptions());
        s.AddSingleton<TicketNumbers>();
        s.AddSingleton<TicketIndex>();
        s.AddSingleton<TicketService>();
        s.AddSingleton<TicketViews>();
        s.AddSingleton<CallStats>();
        s.AddSingleton<Hotline.Server.Calls.TicketPushes>(); // before the runner: started first, stopped after it
        s.AddHostedService(sp => sp.GetRequiredService<Hotline.Server.Calls.TicketPushes>());
        s.AddSingleton<ProjectionRunner>();
        s.AddHostedService(sp => sp.GetRequiredService<ProjectionRunner>());
        s.AddHostedService<PerformanceTimings>(); // logs write-path timings only with Hotline:Diagnostics:TimingsSeconds > 0

        // The persistent search read model: SQLite FTS5 (its own file beside the event store) or PostgreSQL pg_trgm (the event store's database).
        var hotline = builder.Configuration.GetSection(HotlineOptions.Section).Get<HotlineOptions>() ?? new HotlineOptions();
        var rebuildAtStart = builder.Configuration.GetValue("Hotline:RebuildReadModels", false);
        if (string.Equals(hotline.EventStore, "postgres", StringComparison.OrdinalIgnoreCase))
        {
            var pg = builder.Configuration.GetConnectionString("Postgres") ?? "";
            s.AddSingleton<ITicketSearchStore>(_ => new PostgresTicketSearchStore(pg));
        }
        else
        {
            var dir = Path.GetFullPath(hotline.DataDirectory, builder.Environment.ContentRootPath);
            var sqlite = builder.Configuration.GetConnectionString("ReadModels") ?? $"Data Source={Path.Combine(dir, "hotline-readmodels.db")}";
            s.AddSingleton<ITicketSearchStore>(_ => new SqliteTicketSearchStore(sqlite));
        }
        s.AddSingleton(sp => new TicketSearchProjection(sp.GetRequiredService<Hotline.EventStore.IEventStore>(), sp.GetRequiredService<ITicketSearchStore>(),
            sp.GetRequiredService<TicketStore>(), sp.GetRequiredService<TicketIndex>(), sp.GetRequiredService<EventSerializer>(), sp.GetRequiredService<ILogger<TicketSearchProjection>>())
        {
            WaitBeforeStart = ct => sp.GetRequiredService<ProjectionRunner>().CaughtUp.WaitAsync(ct),
            RebuildAtStart = rebuildAtStart,
        });
        s.AddHostedService(sp => sp.GetRequiredService<TicketSearchProjection>());
        s.AddSingleton<TicketSearchService>();
        s.AddSingleton(sp => new ReadModels(new Dictionary<string, CatchUpProjection>(StringComparer.Ordinal)
        {
            [TicketSearchProjection.ReadModelName] = sp.GetRequiredService<TicketSearchProjection>(),
        }));
        return builder;
    }
}
