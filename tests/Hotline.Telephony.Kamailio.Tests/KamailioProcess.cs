using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Hotline.Telephony.Kamailio;

namespace Hotline.Telephony.Kamailio.Tests;

/// <summary>
/// A real Kamailio running the shipped kamailio.cfg on 127.0.0.1 with random ports, in the foreground (-DD -E),
/// wrapped in `timeout` so a hung test never leaves it behind.
/// </summary>
public sealed class KamailioProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(5) };

    private KamailioProcess(Process process, int sipPort, int httpPort, int evapiPort, string directory)
    {
        _process = process;
        SipPort = sipPort;
        HttpPort = httpPort;
        EvapiPort = evapiPort;
        Directory = directory;
        Rpc = new KamailioJsonRpc(_http, JsonRpcUrl);
    }

    public int SipPort { get; }
    public int HttpPort { get; }
    public int EvapiPort { get; }
    public string Directory { get; }
    public Uri JsonRpcUrl => new($"http://127.0.0.1:{HttpPort}/RPC");
    public KamailioJsonRpc Rpc { get; }

    public string Log { get { lock (_log) return _log.ToString(); } }

    /// <summary>The shipped file itself, not a copy.</summary>
    public static string ConfigPath => Path.Combine(Hotline.Testing.RepoPaths.Root, "telephony-adapters", "Hotline.Telephony.Kamailio", "kamailio.cfg");

    public static bool IsInstalled => File.Exists("/usr/sbin/kamailio") && File.Exists("/usr/bin/sipp");

    /// <summary>Starts Kamailio; <paramref name="defines"/> are extra <c>-A NAME=value</c> (string values with their quotes).</summary>
    public static async Task<KamailioProcess> StartAsync(int lifetimeSeconds = 240, int ringMs = 8000, IReadOnlyDictionary<string, string>? defines = null)
    {
        var dir = System.IO.Directory.CreateTempSubdirectory("hotline-kamailio-").FullName;
        var sip = FreeUdpPort();
        var http = FreeTcpPort();
        var evapi = FreeTcpPort();
        var psi = new ProcessStartInfo("timeout") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[]
        {
            "-s", "TERM", lifetimeSeconds.ToString(CultureInfo.InvariantCulture), "/usr/sbin/kamailio", "-DD", "-E", "-f", ConfigPath,
            "-A", $"SIP_PORT={sip}", "-A", $"HTTP_PORT={http}", "-A", $"EVAPI_BIND=\"127.0.0.1:{evapi}\"",
            "-A", "CHILDREN=4", "-A", $"RING_MS={ringMs}", "-A", $"HOTLINE_URI=\"sip:hotline@127.0.0.1:{sip}\"", "-m", "64", "-M", "8",
        })
        {
            psi.ArgumentList.Add(a);
        }
        foreach (var (name, value) in defines ?? new Dictionary<string, string>())
        {
            psi.ArgumentList.Add("-A");
            psi.ArgumentList.Add($"{name}={value}");
        }
        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start kamailio");
        var k = new KamailioProcess(process, sip, http, evapi, dir);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (k._log) k._log.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (k._log) k._log.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited) throw new InvalidOperationException($"kamailio exited with {process.ExitCode}:\n{k.Log}");
            try
            {
                await k.Rpc.ListDialogsAsync(CancellationToken.None);
                return k;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or TelephonyCommandException)
            {
                await Task.Delay(100);
            }
        }
        await k.DisposeAsync();
        throw new TimeoutException("kamailio did not answer JSON-RPC within 20 s:\n" + k.Log);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        _http.Dispose();
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }

    public static int FreeTcpPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static int FreeUdpPort()
    {
        using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)udp.Client.LocalEndPoint!).Port;
    }
}
