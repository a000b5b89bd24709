using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Hotline.Testing;
using Xunit.Abstractions;

namespace Hotline.Server.Tests.Calls;

/// <summary>
/// A console that stops reading its socket must not stall the read models (TicketPushes): SignalR's group send waits
/// for a member connection whose transport buffer is full until <c>TransportSendTimeout</c> (10 s) closes it, so pushes
/// are queued and sent off the projection's path. Here one agent console connects with a 4 KB receive buffer, pipelines
/// thousands of GetState calls and never reads, so the server's buffers for it fill; then the same agent registers
/// tickets (each TicketChanged goes to that agent's group, the stalled connection included). Two nodes: the consoles are
/// on node B and the tickets are registered on node A, so node B's ticket index learns of them only through its
/// projection (ProjectionRunner), the one that pushes. Each ticket must reach node B's to-dispatch worklist well before
/// the send timeout could free a stalled projection, and the agent's healthy console still receives every
/// TicketChanged, in registration order.
/// </summary>
[Collection(ServersCollection.Name)]
public sealed class StalledConsolePushTests(ServersFixture servers, ITestOutputHelper output)
{
    private const int Tickets = 20;

    [Fact]
    public async Task A_console_that_stops_reading_does_not_stall_the_read_models_and_a_healthy_console_gets_its_pushes_in_order()
    {
        var settings = await servers.ProductionSettingsAsync();
        await using var nodeA = await ServerProcess.StartAsync(settings);
        await using var nodeB = await ServerProcess.StartAsync(settings);
        using var agent = await ApiClient.LoginAsync(nodeA, "agent1");
        using var agentOnB = await ApiClient.LoginAsync(nodeB, "agent1");
        using var dispatcher = await ApiClient.LoginAsync(nodeB, "disp1");
        await using var healthy = await HubClient.ConnectAsync(nodeB.BaseAddress, "hubs/agent", agentOnB.Token);

        using var stalled = await StalledConsole.ConnectAsync(nodeB.BaseAddress, agentOnB.Token);
        using var stop = new CancellationTokenSource();
        var flood = stalled.FloodAsync(stop.Token);
        await Task.Delay(TimeSpan.FromSeconds(3)); // the server writes GetState answers until its buffers for the console are full
        output.WriteLine($"stalled console: {stalled.Sent} GetState calls sent before registering");

        var ids = new List<string>();
        var worst = TimeSpan.Zero;
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < Tickets; i++)
        {
            var started = Stopwatch.GetTimestamp();
            var (status, t, _) = await agent.SendAsync(HttpMethod.Post, "api/tickets", new
            {
                channel = "电话", type = "咨询", urgency = "一般", categoryCode = "010201", areaCode = "010101",
                address = "梧桐巷 3 号", content = $"第 {i} 件：咨询公交线路调整。", callerName = "张三", callerPhone = "13700000000", confidential = false,
            }, idempotencyKey: Guid.NewGuid().ToString());
            Assert.True(status is HttpStatusCode.OK or HttpStatusCode.Created, $"register → {status}: {t}");
            var id = (string)t!["id"]!;
            ids.Add(id);
            // Visible in node B's read model: a stalled projection would hold it until the stalled console is closed (10 s).
            while (!(await dispatcher.GetJsonAsync("api/worklists/to-dispatch?pageSize=200")).ToJsonString().Contains(id, StringComparison.Ordinal))
            {
                Assert.True(Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(30), $"ticket {i} not in node B's to-dispatch worklist after 30 s");
                await Task.Delay(20);
            }
            var took = Stopwatch.GetElapsedTime(started);
            if (took > worst) worst = took;
        }
        output.WriteLine($"{Tickets} tickets registered and visible in {clock.Elapsed.TotalSeconds:F1} s; slowest to become visible {worst.TotalMilliseconds:F0} ms");
        // Far below the 10 s a single stalled group send costs; generous for a busy 2-core machine.
        Assert.True(worst < TimeSpan.FromSeconds(4), $"a registration took {worst.TotalMilliseconds:F0} ms to reach the read model: the projection waited for the stalled console");

        // The healthy console of the same agent receives every ticket's TicketChanged, in registration order.
        var order = new List<string>();
        foreach (var id in ids)
        {
            await healthy.WaitForAsync("TicketChanged", a => (string?)a[0]?["ticketId"] == id, TimeSpan.FromSeconds(60));
        }
        order.AddRange(healthy.Received.Where(m => m.Target == "TicketChanged").Select(m => (string)m.Arguments[0]!["ticketId"]!).Distinct());
        Assert.Equal(ids, order);

        await stop.CancelAsync();
        await flood;
    }

    /// <summary>
    /// An agent console over a raw TCP socket with a small receive buffer: WebSocket upgrade and SignalR handshake, then it
    /// only writes (GetState invocations) and never reads, like a browser tab whose page froze.
    /// </summary>
    private sealed class StalledConsole : IDisposable
    {
        private readonly Socket _socket;
        private readonly NetworkStream _stream;
        private int _sent;

        private StalledConsole(Socket socket)
        {
            _socket = socket;
            _stream = new NetworkStream(socket, ownsSocket: false);
        }

        public int Sent => Volatile.Read(ref _sent);

        public static async Task<StalledConsole> ConnectAsync(Uri baseAddress, string token)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
            await socket.ConnectAsync(baseAddress.Host, baseAddress.Port);
            var console = new StalledConsole(socket);
            var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
            var request = $"GET /hubs/agent?access_token={Uri.EscapeDataString(token)} HTTP/1.1\r\nHost: {baseAddress.Authority}\r\n" +
                          $"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n";
            await console._stream.WriteAsync(Encoding.ASCII.GetBytes(request));
            // Read the upgrade answer's headers only (one byte at a time, so nothing after them is consumed).
            var head = new StringBuilder();
            var one = new byte[1];
            while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
            {
                if (await console._stream.ReadAsync(one) == 0) throw new InvalidOperationException("closed during upgrade: " + head);
                head.Append((char)one[0]);
            }
            if (!head.ToString().StartsWith("HTTP/1.1 101", StringComparison.Ordinal)) throw new InvalidOperationException("upgrade refused: " + head);
            await console.SendTextAsync("{\"protocol\":\"json\",\"version\":1}\u001e", CancellationToken.None);
            return console;
        }

        /// <summary>Pipelines up to 60,000 GetState calls (100 per frame; their answers are ~10 MB, far more than the kernel and
        /// SignalR buffers hold) until cancelled or the server stops reading.</summary>
        public async Task FloodAsync(CancellationToken ct)
        {
            try
            {
                var id = 0;
                while (!ct.IsCancellationRequested && id < 60_000)
                {
                    var frame = new StringBuilder();
                    for (var i = 0; i < 100; i++) frame.Append("{\"type\":1,\"invocationId\":\"").Append(++id).Append("\",\"target\":\"GetState\",\"arguments\":[]}\u001e");
                    await SendTextAsync(frame.ToString(), ct);
                    Interlocked.Add(ref _sent, 100);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException) { }
        }

        private async Task SendTextAsync(string text, CancellationToken ct)
        {
            var payload = Encoding.UTF8.GetBytes(text);
            var mask = RandomNumberGenerator.GetBytes(4);
            using var frame = new MemoryStream();
            frame.WriteByte(0x81); // FIN + text
            if (payload.Length < 126) frame.WriteByte((byte)(0x80 | payload.Length));
            else if (payload.Length <= ushort.MaxValue)
            {
                frame.WriteByte(0x80 | 126);
                frame.WriteByte((byte)(payload.Length >> 8));
                frame.WriteByte((byte)payload.Length);
            }
            else throw new ArgumentOutOfRangeException(nameof(text), "frame too long for this client");
            frame.Write(mask);
            for (var i = 0; i < payload.Length; i++) payload[i] ^= mask[i % 4];
            frame.Write(payload);
            await _stream.WriteAsync(frame.ToArray(), ct);
        }

        public void Dispose()
        {
            _stream.Dispose();
            _socket.Dispose();
        }
    }
}
