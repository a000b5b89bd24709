using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Hotline.Telephony.Tests.FreeSwitch;

/// <summary>How the fake writes frames to the socket.</summary>
public enum Delivery
{
    /// <summary>Each frame in one write.</summary>
    Whole,
    /// <summary>All frames concatenated into a single write (several events in one read).</summary>
    Burst,
    /// <summary>Frames cut into 7-byte pieces with pauses (a header line or a body split across reads).</summary>
    Split,
}

/// <summary>
/// A protocol-faithful stand-in for FreeSWITCH's mod_event_socket (inbound mode): greets with
/// <c>Content-Type: auth/request</c>, answers <c>auth</c> with <c>+OK accepted</c> or <c>-ERR invalid</c> (then
/// disconnects), acknowledges <c>event plain</c>, answers <c>api</c> with <c>api/response</c> and <c>bgapi</c> with
/// <c>command/reply</c> + Job-UUID, and sends events as <c>text/event-plain</c> with URL-encoded header values.
/// </summary>
public sealed class FakeEslServer : IAsyncDisposable
{
    public const string CoreUuid = "6f4d4b7e-1c2a-4a39-9d0b-2a5b0c1f0e11";

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<int, Session> _sessions = new();
    private readonly Task _acceptLoop;
    private int _sessionIds;
    private long _sequence = 1000;

    public FakeEslServer(string password = "ClueCon")
    {
        Password = password;
        _listener.Start();
        _acceptLoop = AcceptLoopAsync();
    }

    public string Password { get; }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Every command line received (first line of each command), in order.</summary>
    public ConcurrentQueue<string> Commands { get; } = new();

    public int AuthenticatedSessions => _sessions.Values.Count(s => s.Subscribed);

    /// <summary>Decides the answer to an <c>api</c> command (default "+OK"). May also send events.</summary>
    public Func<string, Task<string>> OnApi { get; set; } = _ => Task.FromResult("+OK\n");

    /// <summary>Runs after a <c>bgapi</c> command was acknowledged; gets the command and its Job-UUID.</summary>
    public Func<string, string, Task> OnBgApi { get; set; } = (_, _) => Task.CompletedTask;

    private sealed class Session(TcpClient client)
    {
        public TcpClient Client { get; } = client;
        public SemaphoreSlim WriteLock { get; } = new(1, 1);
        public bool Subscribed { get; set; }
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            var session = new Session(client);
            _sessions[Interlocked.Increment(ref _sessionIds)] = session;
            _ = ServeAsync(session);
        }
    }

    private async Task ServeAsync(Session session)
    {
        var stream = session.Client.GetStream();
        try
        {
            await WriteAsync(session, "Content-Type: auth/request\n\n");
            var buffer = new StringBuilder();
            var chunk = new byte[4096];
            while (!_stop.IsCancellationRequested)
            {
                var n = await stream.ReadAsync(chunk, _stop.Token);
                if (n == 0)
                {
                    return;
                }
                buffer.Append(Encoding.UTF8.GetString(chunk, 0, n));
                int end;
                while ((end = buffer.ToString().IndexOf("\n\n", StringComparison.Ordinal)) >= 0)
                {
                    var command = buffer.ToString(0, end);
                    buffer.Remove(0, end + 2);
                    if (!await HandleCommandAsync(session, command))
                    {
                        session.Client.Close();
                        return;
                    }
                }
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException or SocketException)
        {
        }
    }

    private async Task<bool> HandleCommandAsync(Session session, string command)
    {
        var lines = command.Split('\n');
        var first = lines[0];
        Commands.Enqueue(first);
        if (first.StartsWith("auth ", StringComparison.Ordinal))
        {
            if (first["auth ".Length..] == Password)
            {
                await WriteAsync(session, "Content-Type: command/reply\nReply-Text: +OK accepted\n\n");
                return true;
            }
            await WriteAsync(session, "Content-Type: command/reply\nReply-Text: -ERR invalid\n\n");
            const string Bye = "Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n";
            await WriteAsync(session, $"Content-Type: text/disconnect-notice\nContent-Length: {Bye.Length}\n\n{Bye}");
            return false;
        }
        if (first.StartsWith("event plain", StringComparison.Ordinal))
        {
            session.Subscribed = true; // like FreeSWITCH: the listener is on before the reply is written
            await WriteAsync(session, "Content-Type: command/reply\nReply-Text: +OK event listener enabled plain\n\n");
            return true;
        }
        if (first.StartsWith("api ", StringComparison.Ordinal))
        {
            var body = await OnApi(first["api ".Length..]);
            await WriteAsync(session, $"Content-Type: api/response\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\n\n{body}");
            return true;
        }
        if (first.StartsWith("bgapi ", StringComparison.Ordinal))
        {
            var job = lines.Skip(1).Select(l => l.Split(": ", 2)).FirstOrDefault(p => p[0] == "Job-UUID")?[1] ?? Guid.NewGuid().ToString();
            await WriteAsync(session, $"Content-Type: command/reply\nReply-Text: +OK Job-UUID: {job}\nJob-UUID: {job}\n\n");
            await OnBgApi(first["bgapi ".Length..], job);
            return true;
        }
        await WriteAsync(session, "Content-Type: command/reply\nReply-Text: -ERR command not found\n\n");
        return true;
    }

    private static async Task WriteAsync(Session session, string text)
    {
        await session.WriteLock.WaitAsync();
        try
        {
            await session.Client.GetStream().WriteAsync(Encoding.UTF8.GetBytes(text));
        }
        finally
        {
            session.WriteLock.Release();
        }
    }

    /// <summary>Builds a FreeSWITCH event with the standard headers and the next Event-Sequence.</summary>
    public Dictionary<string, string> NewEvent(string name, string? uniqueId = null)
    {
        var now = DateTimeOffset.UtcNow;
        var e = new Dictionary<string, string>
        {
            ["Event-Name"] = name,
            ["Core-UUID"] = CoreUuid,
            ["FreeSWITCH-Hostname"] = "fs-hotline-01",
            ["FreeSWITCH-Switchname"] = "fs-hotline-01",
            ["FreeSWITCH-IPv4"] = "10.0.0.5",
            ["Event-Date-Local"] = now.ToOffset(TimeSpan.FromHours(8)).ToString("yyyy-MM-dd HH:mm:ss"),
            ["Event-Date-GMT"] = now.ToString("R"),
            ["Event-Date-Timestamp"] = ((now - DateTimeOffset.UnixEpoch).Ticks / 10).ToString(),
            ["Event-Calling-File"] = "switch_channel.c",
            ["Event-Calling-Function"] = "switch_channel_perform_answer",
            ["Event-Calling-Line-Number"] = "3990",
            ["Event-Sequence"] = Interlocked.Increment(ref _sequence).ToString(),
        };
        if (uniqueId is not null)
        {
            e["Unique-ID"] = uniqueId;
            e["Channel-Call-UUID"] = uniqueId;
        }
        return e;
    }

    /// <summary>Serialises an event exactly as mod_event_socket does in plain mode.</summary>
    public static byte[] Frame(IReadOnlyDictionary<string, string> headers, string? body = null)
    {
        var inner = new StringBuilder();
        var bodyBytes = body is null ? 0 : Encoding.UTF8.GetByteCount(body);
        foreach (var (name, value) in headers)
        {
            inner.Append(name).Append(": ").Append(Uri.EscapeDataString(value)).Append('\n');
        }
        if (body is not null)
        {
            inner.Append("Content-Length: ").Append(bodyBytes).Append('\n');
        }
        inner.Append('\n');
        if (body is not null)
        {
            inner.Append(body);
        }
        var innerBytes = Encoding.UTF8.GetBytes(inner.ToString());
        var outer = Encoding.UTF8.GetBytes($"Content-Length: {innerBytes.Length}\nContent-Type: text/event-plain\n\n");
        return [.. outer, .. innerBytes];
    }

    public Task SendAsync(IReadOnlyDictionary<string, string> headers, string? body = null, Delivery delivery = Delivery.Whole) =>
        SendFramesAsync([Frame(headers, body)], delivery);

    /// <summary>Sends raw frames to every subscribed connection.</summary>
    public async Task SendFramesAsync(IReadOnlyList<byte[]> frames, Delivery delivery)
    {
        foreach (var session in _sessions.Values.Where(s => s.Subscribed && s.Client.Connected))
        {
            await session.WriteLock.WaitAsync();
            try
            {
                var stream = session.Client.GetStream();
                switch (delivery)
                {
                    case Delivery.Burst:
                        await stream.WriteAsync(frames.SelectMany(f => f).ToArray());
                        break;
                    case Delivery.Split:
                        foreach (var frame in frames)
                        {
                            for (var i = 0; i < frame.Length; i += 7)
                            {
                                await stream.WriteAsync(frame.AsMemory(i, Math.Min(7, frame.Length - i)));
                                await stream.FlushAsync();
                                await Task.Delay(1);
                            }
                        }
                        break;
                    default:
                        foreach (var frame in frames)
                        {
                            await stream.WriteAsync(frame);
                        }
                        break;
                }
            }
            finally
            {
                session.WriteLock.Release();
            }
        }
    }

    /// <summary>Closes every connection abruptly (FreeSWITCH restarted, network cut).</summary>
    public void DropConnections()
    {
        foreach (var (id, session) in _sessions)
        {
            session.Client.Client?.Close(0); // null once the session closed itself (after -ERR invalid)
            session.Client.Dispose();
            _sessions.TryRemove(id, out _);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        DropConnections();
        try
        {
            await _acceptLoop;
        }
        catch (OperationCanceledException)
        {
        }
        _stop.Dispose();
    }
}
