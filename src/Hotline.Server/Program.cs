using System.Diagnostics;
using Hotline.Server.Auth;
using Hotline.Server.Calendar;
using Hotline.Server.Calls;
using Hotline.Server.Channels;
using Hotline.Server.Hosting;
using Hotline.Server.Jobs;
using Hotline.Server.Knowledge;
using Hotline.Server.Open311;
using Hotline.Server.Reference;
using Hotline.Server.Reports;
using Hotline.Server.Tickets;

// --demo: simulated call traffic on top of the demo city. The console opens in the desktop's browser when there is
// a display (or with --open); --no-browser never opens one.
var demo = args.Contains("--demo");
var open = !args.Contains("--no-browser") && (args.Contains("--open") || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DISPLAY")) || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("WAYLAND_DISPLAY")));
var builder = WebApplication.CreateBuilder(args.Where(a => a is not "--demo" and not "--open" and not "--no-browser" and not "--rebuild-read-models").ToArray());
if (demo) builder.Configuration["Hotline:SimulateCalls"] = "true";
// --rebuild-read-models: reset the persistent read models' checkpoints and replay the log from position 0 at start.
if (args.Contains("--rebuild-read-models")) builder.Configuration["Hotline:RebuildReadModels"] = "true";

builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
builder.Services.AddProblemDetails(o => o.CustomizeProblemDetails = c => c.ProblemDetails.Extensions["traceId"] = Activity.Current?.Id ?? c.HttpContext.TraceIdentifier);
builder.Services.AddExceptionHandler<ProblemMapping>();
builder.Services.AddOpenApi();
builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter()));

builder.AddHotlineInfrastructure();
builder.AddHotlineSecurity();
builder.AddHotlineReference();
builder.AddHotlineAuth();
builder.AddHotlineTickets();
builder.AddHotlineCalls();
builder.AddHotlineTelephony();
builder.AddHotlineReports();
builder.AddHotlineJobs();
builder.AddHotlineChannels();
builder.AddHotlineKnowledge();
builder.AddHotlineOpen311();

var app = builder.Build();

app.UseSecurityHeaders();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseDefaultFiles();
app.UseStaticFiles();
app.UseAuthentication();
app.UseHotlineSecurity();
app.UseAuthorization();

app.MapOpenApi();
app.MapHealth();
app.MapGet("/api/meta", (Microsoft.Extensions.Options.IOptions<HotlineOptions> o, CityReference city) => new { demo = o.Value.Demo, city = city.CityName, eventStore = o.Value.EventStore, queue = o.Value.Queue }).AllowAnonymous();
app.MapHotlineAuth();
app.MapReference();
app.MapTickets();
app.MapHotlineCalls();
app.MapHotlineTelephony();
app.MapReports();
app.MapJobs();
app.MapCalendar();
app.MapHotlineChannels();
app.MapHotlineKnowledge();
app.MapHotlineOpen311();
app.MapFallbackToFile("index.html");

await app.Services.GetRequiredService<CalendarDeadlines>().LoadAsync(
    app.Services.GetRequiredService<Hotline.EventStore.IEventStore>(), app.Services.GetRequiredService<Hotline.Server.Storage.EventSerializer>(), CancellationToken.None);

var options = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<HotlineOptions>>().Value;
app.Lifetime.ApplicationStarted.Register(() =>
{
    var url = app.Urls.FirstOrDefault() ?? "http://127.0.0.1:8345";
    app.Logger.LogInformation("Hotline console: {Url}  (event store: {Store}, queue: {Queue})", url, options.EventStore, options.Queue);
    if (options.Demo)
    {
        app.Logger.LogInformation("Demo users (password {Password}): {Users}", UserDirectory.DemoPassword,
            string.Join(", ", app.Services.GetRequiredService<UserDirectory>().All.Select(u => $"{u.Username}={string.Join('/', u.Roles)}")));
        var reports = app.Services.GetRequiredService<ReportService>();
        if (!reports.List().Any(r => r.Demo))
        {
            var today = DateOnly.FromDateTime(TimeZones.ToLocal(DateTimeOffset.UtcNow).DateTime);
            var monday = today.AddDays(-(((int)today.DayOfWeek + 6) % 7) - 7);
            reports.Request(monday, monday.AddDays(6), "demo", demo: true);
        }
    }
    if (open) BrowserLauncher.TryOpen(url, app.Logger);
});

app.Run();

public partial class Program;
