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
        s.AddSingleton(_ => new EventSerializer(TicketEventTypes.All.Concat(CallRecordTypes.All).Append(typeof(TicketNumberAssigned)).Append(typeof(HolidayYearImported))));
        s.AddSingleton(_ => new CalendarDeadlines(TimeLimitRules.Default, HolidaySchedule.Official));
        s.AddSingleton(sp => new TicketContext(sp.GetRequiredService<CalendarDeadlines>(), sp.GetRequiredService<CityReference>()));
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
