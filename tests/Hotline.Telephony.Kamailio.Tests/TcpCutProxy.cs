using System.Net;
using System.Net.Sockets;

namespace Hotline.Telephony.Kamailio.Tests;

/// <summary>
/// A loopback TCP relay the test can cut: <see cref="Cut"/> closes every relayed connection (both ends see it closed)
/// and refuses new ones until <see cref="Restore"/> listens again on the same port. Plays a network outage between
/// Hotline and Kamailio's evapi without touching either process.
/// </summary>
public sealed class TcpCutProxy : IAsyncDisposable
{
    private readonly int _target;
    private readonly List<TcpClient> _open = [];
    private readonly Lock _gate = new();
    private TcpListener? _listener;
    private CancellationTokenSource _cts = new();

    private TcpCutProxy(int target, int port)
    {
        _target = target;
        Port = port;
    }

    public int Port { get; }

    public static TcpCutProxy Start(int targetPort)
    {
        var proxy = new TcpCutProxy(targetPort, KamailioProcess.FreeTcpPort());
        proxy.Restore();
        return proxy;
    }

    public void Restore()
    {
        lock (_gate)
        {
            _cts = new CancellationTokenSource();
            _listener = new TcpListener(IPAddress.Loopback, Port);
            _listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            _listener.Start();
            _ = AcceptAsync(_listener, _cts.Token);
        }
    }

    public void Cut()
    {
        lock (_gate)
        {
            _cts.Cancel();
            _listener?.Stop();
            _listener = null;
            foreach (var c in _open) c.Dispose();
            _open.Clear();
        }
    }

    private async Task AcceptAsync(TcpListener listener, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(ct);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            var upstream = new TcpClient { NoDelay = true };
            try
            {
                await upstream.ConnectAsync(IPAddress.Loopback, _target, ct);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException)
            {
                client.Dispose();
                upstream.Dispose();
                continue;
            }
            lock (_gate)
            {
                _open.Add(client);
                _open.Add(upstream);
            }
            _ = PumpAsync(client, upstream, ct);
            _ = PumpAsync(upstream, client, ct);
        }
    }

    private static async Task PumpAsync(TcpClient from, TcpClient to, CancellationToken ct)
    {
        try
        {
            await from.GetStream().CopyToAsync(to.GetStream(), ct);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException or InvalidOperationException or SocketException)
        {
        }
        finally
        {
            from.Dispose();
            to.Dispose();
        }
    }

    public ValueTask DisposeAsync()
    {
        Cut();
        _cts.Dispose();
        return ValueTask.CompletedTask;
    }
}
