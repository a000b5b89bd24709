using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Hotline.Server.Tests.Faults;

/// <summary>
/// A client that behaves as the console should when the server may die under it: every write carries an
/// idempotency key (and If-Match), and a write that got no answer (connection refused or reset, timeout, 502/503)
/// is sent again, unchanged, until the server answers.
/// </summary>
public sealed class Resilient(Uri baseAddress, string token) : IDisposable
{
    private readonly HttpClient _http = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromSeconds(30), ConnectTimeout = TimeSpan.FromSeconds(2) })
    {
        BaseAddress = baseAddress,
        Timeout = TimeSpan.FromSeconds(15),
    };

    private int _retries;

    public int Retries => _retries;

    public async Task<(HttpStatusCode Status, JsonNode? Body)> SendAsync(HttpMethod method, string url, object? body, long? ifMatch, string? key, TimeSpan? giveUpAfter = null)
    {
        var deadline = DateTime.UtcNow + (giveUpAfter ?? TimeSpan.FromSeconds(120));
        while (true)
        {
            using var request = new HttpRequestMessage(method, url);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            if (body is not null) request.Content = JsonContent.Create(body);
            if (ifMatch is { } v) request.Headers.TryAddWithoutValidation("If-Match", $"\"{v}\"");
            if (key is not null) request.Headers.Add("Idempotency-Key", key);
            try
            {
                using var response = await _http.SendAsync(request);
                var text = await response.Content.ReadAsStringAsync();
                if (response.StatusCode is not (HttpStatusCode.ServiceUnavailable or HttpStatusCode.BadGateway))
                    return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            catch (IOException) { }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{method} {url} got no answer for {giveUpAfter ?? TimeSpan.FromSeconds(120)}");
            Interlocked.Increment(ref _retries);
            await Task.Delay(100);
        }
    }

    public void Dispose() => _http.Dispose();
}

public static class ServerProcessExtensions
{
    /// <summary>
    /// Starts a killed server again on the same data. On a loaded machine start-up can take longer than the harness's
    /// 60 s readiness deadline: then keep waiting for /readyz (the process is still starting) up to three minutes.
    /// </summary>
    public static async Task RestartAsync(this Hotline.Testing.ServerProcess server)
    {
        try
        {
            await server.StartAsync();
            return;
        }
        catch (TimeoutException) { }
        using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if ((await http.GetAsync("readyz")).IsSuccessStatusCode) return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(500);
        }
        throw new TimeoutException("The restarted server did not get ready within 4 minutes:\n" + server.Log[^Math.Min(4000, server.Log.Length)..]);
    }
}
