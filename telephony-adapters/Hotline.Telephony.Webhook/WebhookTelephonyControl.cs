using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace Hotline.Telephony.Webhook;

/// <summary>A command to the PBX, POSTed as JSON to <see cref="WebhookOptions.CommandUrl"/> and signed like the events.</summary>
public sealed record WebhookCommand(
    string CommandId,
    string Command,
    string CallId,
    string? AgentId = null,
    string? AgentEndpoint = null,
    string? Target = null,
    string? Reason = null);

/// <summary>
/// Sends the ACD's commands to the platform: <c>route</c>, <c>accept</c>, <c>transfer</c>, <c>release</c>. The platform
/// answers 2xx when it has taken the command; the results come back as webhook events (ringing/answered/failed,
/// transferred, ended). Any other status throws <see cref="TelephonyCommandException"/>.
/// </summary>
public sealed class WebhookTelephonyControl(IHttpClientFactory httpClients, IOptions<WebhookOptions> options, TimeProvider time) : ITelephonyControl
{
    public const string HttpClientName = "Hotline.Telephony.Webhook";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    public Task RouteToAgentAsync(string callId, string agentId, string agentEndpoint, CancellationToken ct) =>
        SendAsync(new WebhookCommand(NewId(), "route", callId, agentId, agentEndpoint), ct);

    public Task AgentAcceptedAsync(string callId, string agentId, CancellationToken ct) =>
        SendAsync(new WebhookCommand(NewId(), "accept", callId, agentId), ct);

    public Task TransferAsync(string callId, string target, string reason, CancellationToken ct) =>
        SendAsync(new WebhookCommand(NewId(), "transfer", callId, Target: target, Reason: reason), ct);

    public Task ReleaseAsync(string callId, string reason, CancellationToken ct) =>
        SendAsync(new WebhookCommand(NewId(), "release", callId, Reason: reason), ct);

    private static string NewId() => Guid.NewGuid().ToString("N");

    private async Task SendAsync(WebhookCommand command, CancellationToken ct)
    {
        var o = options.Value;
        var url = o.CommandUrl ?? throw new TelephonyCommandException(
            $"The webhook platform takes no commands (WebhookOptions.CommandUrl is not set); cannot {command.Command} call {command.CallId}.");
        var body = JsonSerializer.SerializeToUtf8Bytes(command, Json);
        var ts = time.GetUtcNow().ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add(WebhookSignature.TimestampHeader, ts.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add(WebhookSignature.SignatureHeader, WebhookSignature.Compute(o.Secret, ts, body));
        HttpResponseMessage response;
        try
        {
            using var http = httpClients.CreateClient(HttpClientName);
            response = await http.SendAsync(request, ct);
        }
        catch (HttpRequestException ex)
        {
            throw new TelephonyCommandException($"The platform at {url} is unreachable: {ex.Message}", ex);
        }
        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                var text = await response.Content.ReadAsStringAsync(ct);
                throw new TelephonyCommandException($"The platform refused {command.Command} for call {command.CallId}: {(int)response.StatusCode} {text}");
            }
        }
    }
}
