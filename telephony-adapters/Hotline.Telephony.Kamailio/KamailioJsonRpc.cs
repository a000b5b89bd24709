using System.Text.Json;
using System.Text.Json.Nodes;

namespace Hotline.Telephony.Kamailio;

/// <summary>One dialog as <c>dlg.list</c> reports it (the fields the adapter needs).</summary>
public sealed record KamailioDialog(string CallId, int State, string CallerTag, string CalleeTag, string? Agent);

/// <summary>Kamailio's JSON-RPC over HTTP (<c>xhttp</c> + <c>jsonrpcs</c>): <c>dlg.list</c> and <c>dlg.terminate_dlg</c>.</summary>
public sealed class KamailioJsonRpc(HttpClient http, Uri url)
{
    private long _id;

    public async Task<JsonNode?> CallAsync(string method, JsonArray? parameters, CancellationToken ct)
    {
        var request = new JsonObject { ["jsonrpc"] = "2.0", ["method"] = method, ["id"] = Interlocked.Increment(ref _id) };
        if (parameters is not null) request["params"] = parameters;
        // A buffered body with Content-Length: Kamailio's xhttp does not take chunked requests.
        using var content = new StringContent(request.ToJsonString(), System.Text.Encoding.UTF8, "application/json");
        using var response = await http.PostAsync(url, content, ct);
        var body = await response.Content.ReadAsStringAsync(ct);
        if (!response.IsSuccessStatusCode) throw new TelephonyCommandException($"Kamailio {method}: HTTP {(int)response.StatusCode} {body}");
        JsonNode? node;
        try { node = JsonNode.Parse(body); }
        catch (JsonException e) { throw new TelephonyCommandException($"Kamailio {method}: not JSON: {body}", e); }
        if (node?["error"] is { } error)
        {
            throw new KamailioRpcException(method, (int?)error["code"] ?? 0, (string?)error["message"] ?? error.ToJsonString());
        }
        return node?["result"];
    }

    /// <summary>Kamailio's dialog state 5: over, kept in memory only until its last reference goes.</summary>
    public const int Deleted = 5;

    /// <summary>Every dialog that is up in Kamailio (unconfirmed, early, confirmed); finished ones (state 5) are left out.</summary>
    public async Task<IReadOnlyList<KamailioDialog>> ListDialogsAsync(CancellationToken ct)
    {
        var result = await CallAsync("dlg.list", null, ct);
        if (result is not JsonArray items) return [];
        var list = new List<KamailioDialog>(items.Count);
        foreach (var d in items.OfType<JsonObject>())
        {
            if ((int?)d["state"] >= Deleted) continue;
            string? agent = null;
            if (d["variables"] is JsonArray vars)
            {
                agent = vars.OfType<JsonObject>().Select(v => (string?)v["agent"]).FirstOrDefault(a => a is not null);
            }
            list.Add(new KamailioDialog(
                (string?)d["call-id"] ?? "",
                (int?)d["state"] ?? 0,
                (string?)d["caller"]?["tag"] ?? "",
                (string?)d["callee"]?["tag"] ?? "",
                agent));
        }
        return list;
    }

    /// <summary>Sends BYE to both sides of a confirmed dialog.</summary>
    public Task TerminateAsync(KamailioDialog dialog, CancellationToken ct) =>
        CallAsync("dlg.terminate_dlg", [dialog.CallId, dialog.CallerTag, dialog.CalleeTag], ct);
}

/// <summary>Kamailio answered a JSON-RPC call with an error object.</summary>
public sealed class KamailioRpcException(string method, int code, string message)
    : TelephonyCommandException($"Kamailio {method} failed: {code} {message}")
{
    public int Code { get; } = code;
}
