using Hotline.Domain.Calendar;
using Hotline.Domain.Tickets;
using Hotline.EventStore;
using Hotline.EventStore.Sqlite;
using Hotline.Server.Calendar;
using Hotline.Server.Jobs;
using Hotline.Server.Outbox;
using Hotline.Server.Reference;
using Hotline.Server.Storage;
using Hotline.Server.Tickets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Hotline.Server.Tests.Jobs;

/// <summary>A clock the test moves by hand (no FakeTimeProvider package in this repo).</summary>
public sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public override TimeZoneInfo LocalTimeZone => TimeZones.China;

    public void Set(DateTimeOffset at) => _now = at;

    public void Advance(TimeSpan by) => _now += by;
}

/// <summary>
/// The ticket write path and the job classes wired as the server wires them, on a SQLite event store in a temp folder
/// and a <see cref="ManualClock"/>: jobs are created from the container and their RunAsync called directly.
/// </summary>
public sealed class JobHarness : IAsyncDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("hotline-jobs-").FullName;
    private readonly ServiceProvider _services;

    /// <param name="decorateStore">Wraps the event store every service uses (a test hook, e.g. to inject a concurrent write); a wrapper that
    /// is <see cref="IAsyncDisposable"/> disposes the store it wraps.</param>
    public JobHarness(DateTimeOffset start, JobsOptions? options = null, Func<IEventStore, IEventStore>? decorateStore = null)
    {
        Clock = new ManualClock(start);
        var s = new ServiceCollection();
        s.AddLogging(b => b.SetMinimumLevel(LogLevel.Warning));
        s.AddSingleton<TimeProvider>(Clock);
        s.AddSingleton<IEventStore>(_ =>
        {
            IEventStore sqlite = new SqliteEventStore($"Data Source={Path.Combine(_dir, "events.db")}", Clock);
            return decorateStore is null ? sqlite : decorateStore(sqlite);
        });
        s.AddSingleton(_ => new EventSerializer(TicketEventTypes.All.Append(typeof(TicketNumberAssigned)).Append(typeof(HolidayYearImported))));
        s.AddSingleton(_ => new CalendarDeadlines(TimeLimitRules.Default, HolidaySchedule.Official));
        s.AddSingleton(_ => DemoCity.Create());
        s.AddSingleton(sp => new TicketContext(sp.GetRequiredService<CalendarDeadlines>(), sp.GetRequiredService<CityReference>()));
        s.AddSingleton<TicketStore>();
        s.AddSingleton<TicketNumbers>();
        s.AddSingleton<TicketIndex>();
        s.AddSingleton(new RepeatRules());
        s.AddSingleton<TicketService>();
        s.AddSingleton<TicketWriter>();
        s.AddSingleton<NoticeStore>();
        s.AddSingleton<TicketViews>();
        s.AddSingleton<DispatchAttention>();
        s.AddSingleton(options ?? new JobsOptions());
        s.AddSingleton(WarningRule.Default);
        _services = s.BuildServiceProvider();
    }

    public ManualClock Clock { get; }

    public IServiceProvider Services => _services;

    public TicketService Tickets => _services.GetRequiredService<TicketService>();

    public T Job<T>() where T : OfficeJob => ActivatorUtilities.CreateInstance<T>(_services);

    public async Task<Guid> RegisterAsync(string type = "咨询", string urgency = "一般", string category = "010201", string area = "010101")
    {
        var r = await Tickets.RegisterAsync(new RegisterTicket(Guid.Empty, "", "电话", type, urgency, category, area, "湖滨路 1 号", "楼道垃圾无人清理",
            "王先生", "13912345678", false, null, "agent1"), Guid.NewGuid().ToString(), Guid.NewGuid(), CancellationToken.None);
        return r.Ticket.Id;
    }

    public async Task<Ticket> ActAsync(Guid id, TicketCommand command)
    {
        var current = (await Tickets.LoadAsync(id, CancellationToken.None)).Ticket;
        return (await Tickets.ExecuteAsync(id, current.Version, command, null, Guid.NewGuid(), CancellationToken.None)).Ticket;
    }

    public async Task<IReadOnlyList<(ITicketEvent Event, DateTimeOffset At)>> HistoryAsync(Guid id)
    {
        var serializer = _services.GetRequiredService<EventSerializer>();
        var result = await Tickets.LoadAsync(id, CancellationToken.None);
        return result.History.Select(e => (Event: (ITicketEvent)serializer.Deserialize(e)!, e.Metadata.Timestamp)).ToList();
    }

    public async ValueTask DisposeAsync()
    {
        if (_services.GetService<IEventStore>() is IAsyncDisposable store) await store.DisposeAsync();
        await _services.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
