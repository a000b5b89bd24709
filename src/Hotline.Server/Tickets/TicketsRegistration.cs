using Hotline.Domain.Calendar;
using Hotline.Domain.Tickets;
using Hotline.Server.Calendar;
using Hotline.Server.Calls;
using Hotline.Server.Reference;
using Hotline.Server.Storage;

namespace Hotline.Server.Tickets;

public static class TicketsRegistration
{
    public static IHostApplicationBuilder AddHotlineTickets(this IHostApplicationBuilder builder)
    {
        var s = builder.Services;
        s.AddSingleton(_ => new EventSerializer(TicketEventTypes.All.Concat(CallRecordTypes.All).Append(typeof(TicketNumberAssigned)).Append(typeof(HolidayYearImported)).Append(typeof(PersonalDataRead))));
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
        s.AddSingleton<TicketNumbers>();
        s.AddSingleton<TicketIndex>();
        s.AddSingleton<TicketService>();
        s.AddSingleton<TicketViews>();
        s.AddSingleton<CallStats>();
        s.AddSingleton<ProjectionRunner>();
        s.AddHostedService(sp => sp.GetRequiredService<ProjectionRunner>());
        return builder;
    }
}
