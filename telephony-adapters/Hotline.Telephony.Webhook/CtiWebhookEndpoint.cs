using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Hotline.Telephony.Webhook;

/// <summary>The answer to an accepted webhook: <c>duplicate</c> is true for an event id seen before (not re-published);
/// <c>verdict</c> says what the normalizer did (Published, AfterEnd, OutOfOrder, Duplicate).</summary>
public sealed record WebhookAck(bool Duplicate, string Verdict);

/// <summary>Receives the events; one per process, wraps the server's sink in a <see cref="CallEventNormalizer"/>.</summary>
public sealed class WebhookIngress(ICallEventSink sink) : IDisposable
{
    public CallEventNormalizer Normalizer { get; } = new(sink);

    public void Dispose() => Normalizer.Dispose();
}

public static class CtiWebhookEndpoint
{
    /// <summary>Maps <c>POST /api/telephony/webhook</c> (path from <see cref="WebhookOptions.Path"/>). The HMAC signature is
    /// the authentication, so the endpoint allows anonymous callers; add rate limiting or IP allow-lists on the result.</summary>
    public static RouteHandlerBuilder MapCtiWebhook(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var options = endpoints.ServiceProvider.GetRequiredService<IOptions<WebhookOptions>>().Value;
        return endpoints.MapPost(options.Path, HandleAsync)
            .AllowAnonymous()
            .WithName("CtiWebhook")
            .WithSummary("Call events from a PBX or cloud contact center (signed JSON).");
    }

    private static async Task<Results<Ok<WebhookAck>, ProblemHttpResult>> HandleAsync(
        HttpRequest request,
        WebhookIngress ingress,
        IWebhookReplayStore replays,
        IOptions<WebhookOptions> optionsAccessor,
        TimeProvider time,
        ILoggerFactory loggers,
        CancellationToken ct)
    {
        var options = optionsAccessor.Value;
        var body = await ReadBodyAsync(request, options.MaxBodyBytes, ct);
        if (body is null)
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, "Event too large", $"The body exceeds {options.MaxBodyBytes} bytes.");
        }

        if (!long.TryParse(request.Headers[WebhookSignature.TimestampHeader], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var ts))
        {
            return Problem(StatusCodes.Status401Unauthorized, "Missing timestamp", $"{WebhookSignature.TimestampHeader} (unix seconds) is required.");
        }
        if (!WebhookSignature.Verify(options.Secret, ts, body, request.Headers[WebhookSignature.SignatureHeader]))
        {
            return Problem(StatusCodes.Status401Unauthorized, "Bad signature",
                $"{WebhookSignature.SignatureHeader} must be sha256=<hex HMAC-SHA256 of \"{{timestamp}}.{{body}}\"> with the shared secret.");
        }
        var skew = TimeSpan.FromSeconds(Math.Abs(time.GetUtcNow().ToUnixTimeSeconds() - ts));
        if (skew > options.AllowedClockSkew)
        {
            return Problem(StatusCodes.Status401Unauthorized, "Stale timestamp",
                $"The timestamp is {skew.TotalSeconds:0}s away from the server clock (allowed {options.AllowedClockSkew.TotalSeconds:0}s): possible replay.");
        }

        CallEvent e;
        try
        {
            e = WebhookEventParser.Parse(body, options.Source);
        }
        catch (WebhookFormatException ex)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Malformed telephony event",
                detail: ex.Message, extensions: new Dictionary<string, object?> { ["field"] = ex.Field });
        }

        if (!await replays.TryRememberAsync(e.EventId, ct))
        {
            return TypedResults.Ok(new WebhookAck(true, nameof(NormalizerVerdict.Duplicate)));
        }
        try
        {
            var verdict = await ingress.Normalizer.PublishWithVerdictAsync(e, ct);
            if (verdict != NormalizerVerdict.Published)
            {
                loggers.CreateLogger(typeof(CtiWebhookEndpoint)).LogInformation(
                    "Webhook event {EventId} ({Type}) for call {CallId} not published: {Verdict}", e.EventId, e.GetType().Name, e.CallId, verdict);
            }
            return TypedResults.Ok(new WebhookAck(verdict == NormalizerVerdict.Duplicate, verdict.ToString()));
        }
        catch
        {
            // Not published: let the platform's retry through (it will get a 5xx and try again).
            await replays.ForgetAsync(e.EventId, CancellationToken.None);
            throw;
        }
    }

    private static ProblemHttpResult Problem(int status, string title, string detail) =>
        TypedResults.Problem(statusCode: status, title: title, detail: detail);

    private static async Task<byte[]?> ReadBodyAsync(HttpRequest request, int limit, CancellationToken ct)
    {
        if (request.ContentLength > limit)
        {
            return null;
        }
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int n;
        while ((n = await request.Body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + n > limit)
            {
                return null;
            }
            buffer.Write(chunk, 0, n);
        }
        return buffer.ToArray();
    }
}
