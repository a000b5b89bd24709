using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace Hotline.Testing;

/// <summary>
/// A SignalR client speaking the JSON hub protocol over a raw WebSocket (the .NET SignalR client does not restore
/// here): handshake, invocations with completions, server-to-client messages, pings. Enough to drive the hubs in tests.
/// </summary>
public sealed class HubClient : IAsyncDisposable
{
    private const char Separator = '\u001e';
    private readonly ClientWebSocket _socket = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource<JsonNode?>> _pending = new();
    private readonly Channel<(string Target, JsonArray Arguments)> _messages = Channel.CreateUnbounded<(string, JsonArray)>();
    private readonly List<(string Target, JsonArray Arguments)> _seen = [];
    private readonly List<(string Target, JsonArray Arguments)> _received = [];
    private readonly CancellationTokenSource _stop = new();
    private int _nextId;
    private Task? _reader;

    public static async Task<HubClient> ConnectAsync(Uri baseAddress, string hubPath, string accessToken)
    {
        var client = new HubClient();
        var uri = new UriBuilder(new Uri(baseAddress, hubPath)) { Scheme = baseAddress.Scheme == "https" ? "wss" : "ws", Query = "access_token=" + Uri.EscapeDataString(accessToken) }.Uri;
        await client._socket.ConnectAsync(uri, CancellationToken.None);
        await client.SendAsync("{\"protocol\":\"json\",\"version\":1}");
        var handshake = await client.ReceiveFrameAsync(CancellationToken.None);
        var first = handshake.Split(Separator, StringSplitOptions.RemoveEmptyEntries);
        if (first.Length == 0 || JsonNode.Parse(first[0])?["error"] is { } error) throw new InvalidOperationException("handshake failed: " + handshake);
        client._reader = Task.Run(client.ReadLoopAsync);
        return client;
    }

    /// <summary>Every server-to-client call received so far, in order (also those <see cref="WaitForAsync"/> took).</summary>
    public IReadOnlyList<(string Target, JsonArray Arguments)> Received
    {
        get { lock (_seen) return _received.ToList(); }
    }

    /// <summary>Invokes a hub method and returns its result (type 1 → completion type 3).</summary>
    public async Task<JsonNode?> InvokeAsync(string method, params object?[] arguments)
    {
        var id = Interlocked.Increment(ref _nextId).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var tcs = new TaskCompletionSource<JsonNode?>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = tcs;
        await SendAsync(JsonSerializer.Serialize(new { type = 1, invocationId = id, target = method, arguments }));
        return await tcs.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    /// <summary>Waits for the next server-to-client call of <paramref name="target"/> that matches (earlier ones are kept).</summary>
    public async Task<JsonArray> WaitForAsync(string target, Func<JsonArray, bool>? match = null, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        lock (_seen)
        {
            var index = _seen.FindIndex(m => m.Target == target && (match?.Invoke(m.Arguments) ?? true));
            if (index >= 0)
            {
                var found = _seen[index];
                _seen.RemoveAt(index);
                return found.Arguments;
            }
        }
        try
        {
            while (true)
            {
                var message = await _messages.Reader.ReadAsync(cts.Token);
                lock (_seen)
                {
                    var i = _seen.IndexOf(message);
                    if (message.Target == target && (match?.Invoke(message.Arguments) ?? true))
                    {
                        if (i >= 0) _seen.RemoveAt(i);
                        return message.Arguments;
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            string seen;
            lock (_seen) seen = string.Join(", ", _seen.Select(m => m.Target + m.Arguments.ToJsonString()));
            throw new TimeoutException($"No '{target}' message arrived. Seen: {seen}");
        }
    }

    private async Task ReadLoopAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested && _socket.State == WebSocketState.Open)
            {
                var frame = await ReceiveFrameAsync(_stop.Token);
                foreach (var part in frame.Split(Separator, StringSplitOptions.RemoveEmptyEntries))
                {
                    var node = JsonNode.Parse(part)!;
                    switch ((int)node["type"]!)
                    {
                        case 1:
                            var m = ((string)node["target"]!, (JsonArray)node["arguments"]!.DeepClone());
                            lock (_seen)
                            {
                                _seen.Add(m);
                                _received.Add((m.Item1, (JsonArray)m.Item2.DeepClone()));
                            }
                            await _messages.Writer.WriteAsync(m);
                            break;
                        case 3:
                            if (_pending.TryRemove((string)node["invocationId"]!, out var tcs))
                            {
                                if (node["error"] is { } err) tcs.TrySetException(new InvalidOperationException((string?)err));
                                else tcs.TrySetResult(node["result"]?.DeepClone());
                            }
                            break;
                        case 6:
                            await SendAsync("{\"type\":6}");
                            break;
                        case 7:
                            return;
                        default:
                            break;
                    }
                }
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            foreach (var p in _pending.Values) p.TrySetException(e);
        }
    }

    private async Task<string> ReceiveFrameAsync(CancellationToken ct)
    {
        var buffer = new byte[16 * 1024];
        using var ms = new MemoryStream();
        WebSocketReceiveResult result;
        do
        {
            result = await _socket.ReceiveAsync(buffer, ct);
            if (result.MessageType == WebSocketMessageType.Close) throw new WebSocketException("closed by server");
            ms.Write(buffer, 0, result.Count);
        } while (!result.EndOfMessage);
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    private readonly SemaphoreSlim _sendLock = new(1, 1);

    private async Task SendAsync(string json)
    {
        await _sendLock.WaitAsync();
        try { await _socket.SendAsync(Encoding.UTF8.GetBytes(json + Separator), WebSocketMessageType.Text, true, CancellationToken.None); }
        finally { _sendLock.Release(); }
    }

    public async ValueTask DisposeAsync()
    {
        // Send our close first (output only: the reader loop owns receiving) so the reader sees the server's close and
        // ends by itself; cancelling a pending receive aborts the socket, which would make closing fail.
        try
        {
            if (_socket.State == WebSocketState.Open)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException) { }
        if (_reader is not null) await Task.WhenAny(_reader, Task.Delay(TimeSpan.FromSeconds(5)));
        await _stop.CancelAsync();
        if (_reader is not null) await _reader.ContinueWith(_ => { }, TaskScheduler.Default);
        _socket.Dispose();
        _stop.Dispose();
        _sendLock.Dispose();
    }
}
