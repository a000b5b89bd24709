using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Hotline.Telephony.Tests.Support;
using Hotline.Telephony.Webhook;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Hotline.Telephony.Tests.Webhook;

/// <summary>An ASP.NET host on TestServer with the webhook adapter mapped, the sink recording, and commands going
/// to <see cref="FakePbx"/>.</summary>
public sealed class WebhookHost : IAsyncDisposable
{
    public const string Secret = "test-secret-0123456789-abcdefghijklmnop";

    private readonly WebApplication _app;

    private WebhookHost(WebApplication app, RecordingSink sink, FakePbx pbx)
    {
        _app = app;
        Sink = sink;
        Pbx = pbx;
        Client = app.GetTestClient();
    }

    public RecordingSink Sink { get; }

    public FakePbx Pbx { get; }

    public HttpClient Client { get; }

    public ITelephonyControl Control => _app.Services.GetRequiredService<ITelephonyControl>();

    public static async Task<WebhookHost> StartAsync()
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        var sink = new RecordingSink();
        var pbx = new FakePbx(Secret);
        builder.Services.AddSingleton<ICallEventSink>(sink);
        builder.Services.AddProblemDetails();
        builder.Services.AddWebhookTelephony(o =>
        {
            o.Secret = Secret;
            o.CommandUrl = new Uri("http://pbx.test/hotline/commands");
        });
        builder.Services.AddHttpClient(WebhookTelephonyControl.HttpClientName).ConfigurePrimaryHttpMessageHandler(() => pbx);
        var app = builder.Build();
        app.MapCtiWebhook();
        await app.StartAsync();
        var host = new WebhookHost(app, sink, pbx);
        pbx.Host = host;
        return host;
    }

    /// <summary>POSTs a body signed with <paramref name="secret"/> at <paramref name="timestamp"/> (defaults: the real secret, now).</summary>
    public async Task<HttpResponseMessage> PostAsync(string body, long? timestamp = null, string? secret = null, string? signature = null)
    {
        var ts = timestamp ?? DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var bytes = Encoding.UTF8.GetBytes(body);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/telephony/webhook") { Content = new ByteArrayContent(bytes) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add(WebhookSignature.TimestampHeader, ts.ToString(CultureInfo.InvariantCulture));
        request.Headers.Add(WebhookSignature.SignatureHeader, signature ?? WebhookSignature.Compute(secret ?? Secret, ts, bytes));
        return await Client.SendAsync(request);
    }

    public async Task<HttpResponseMessage> PostEventAsync(object evt) => await PostAsync(JsonSerializer.Serialize(evt));

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>The PBX end of the command channel: checks the signature of each command and records it; a hook lets
/// the driver react like a PBX would (ring the agent, report busy).</summary>
public sealed class FakePbx(string secret) : HttpMessageHandler
{
    public WebhookHost? Host { get; set; }

    public List<WebhookCommand> Commands { get; } = [];

    public Func<WebhookCommand, Task> OnCommand { get; set; } = _ => Task.CompletedTask;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = await request.Content!.ReadAsByteArrayAsync(cancellationToken);
        var ts = long.Parse(request.Headers.GetValues(WebhookSignature.TimestampHeader).Single(), CultureInfo.InvariantCulture);
        if (!WebhookSignature.Verify(secret, ts, body, request.Headers.GetValues(WebhookSignature.SignatureHeader).Single()))
        {
            return new HttpResponseMessage(System.Net.HttpStatusCode.Unauthorized);
        }
        var command = JsonSerializer.Deserialize<WebhookCommand>(body, JsonSerializerOptions.Web)!;
        lock (Commands)
        {
            Commands.Add(command);
        }
        await OnCommand(command);
        return new HttpResponseMessage(System.Net.HttpStatusCode.Accepted);
    }
}
