using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Hotline.Testing;

namespace Hotline.Server.Tests;

/// <summary>An HTTP client signed in as one demo user.</summary>
public sealed class ApiClient : IDisposable
{
    public const string Password = "Hotline@2026";

    private ApiClient(HttpClient http, string token, JsonNode user)
    {
        Http = http;
        Token = token;
        User = user;
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    public HttpClient Http { get; }
    public string Token { get; }
    public JsonNode User { get; }

    public static async Task<ApiClient> LoginAsync(ServerProcess server, string username)
    {
        var http = server.CreateClient();
        var response = await http.PostAsJsonAsync("api/auth/login", new { username, password = Password });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = (await response.Content.ReadFromJsonAsync<JsonNode>())!;
        return new ApiClient(http, (string)body["token"]!, body["user"]!);
    }

    public async Task<(HttpStatusCode Status, JsonNode? Body, string? ETag)> SendAsync(HttpMethod method, string url, object? body = null, long? ifMatch = null, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(method, url);
        if (body is not null) request.Content = JsonContent.Create(body);
        if (ifMatch is { } v) request.Headers.TryAddWithoutValidation("If-Match", $"\"{v}\"");
        if (idempotencyKey is not null) request.Headers.Add("Idempotency-Key", idempotencyKey);
        using var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text), response.Headers.ETag?.Tag);
    }

    public async Task<JsonNode> GetJsonAsync(string url)
    {
        var (status, body, _) = await SendAsync(HttpMethod.Get, url);
        Assert.True(status == HttpStatusCode.OK, $"GET {url} → {status}: {body}");
        return body!;
    }

    /// <summary>Runs a ticket action with the current version and asserts it succeeded.</summary>
    public async Task<JsonNode> ActAsync(string ticketId, string action, object body, long version)
    {
        var (status, result, _) = await SendAsync(HttpMethod.Post, $"api/tickets/{ticketId}/{action}", body, version);
        Assert.True(status == HttpStatusCode.OK, $"{action} → {status}: {result}");
        return result!;
    }

    public void Dispose() => Http.Dispose();
}
