using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Hotline.Testing;

/// <summary>
/// The real Hotline server as a separate process (the built Hotline.Server.dll), on a random loopback port with its
/// own temp data folder: what a user runs, so tests can also kill -9 it and start it again on the same data.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly Dictionary<string, string> _environment;
    private readonly StringBuilder _log = new();
    private Process? _process;

    private ServerProcess(int port, string dataDirectory, Dictionary<string, string> environment)
    {
        Port = port;
        DataDirectory = dataDirectory;
        _environment = environment;
    }

    public int Port { get; }
    public string DataDirectory { get; }
    public Uri BaseAddress => new($"http://127.0.0.1:{Port}/");

    /// <summary>Everything the server printed so far (for failure messages).</summary>
    public string Log { get { lock (_log) return _log.ToString(); } }

    /// <summary>Starts a server. <paramref name="settings"/> are configuration keys ("Hotline:EventStore" = "Postgres").</summary>
    public static async Task<ServerProcess> StartAsync(IReadOnlyDictionary<string, string>? settings = null, string? dataDirectory = null, int? port = null)
    {
        var env = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["Hotline__Jobs__CallbackSchedulingSeconds"] = "1",
        };
        foreach (var (k, v) in settings ?? new Dictionary<string, string>()) env[k.Replace(":", "__", StringComparison.Ordinal)] = v;
        var dir = dataDirectory ?? Directory.CreateTempSubdirectory("hotline-server-").FullName;
        var server = new ServerProcess(port ?? FreePort(), dir, env);
        await server.StartAsync();
        return server;
    }

    public async Task StartAsync()
    {
        if (!File.Exists(RepoPaths.ServerDll)) throw new InvalidOperationException($"{RepoPaths.ServerDll} is missing: build the solution first.");
        var psi = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = DataDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(RepoPaths.ServerDll);
        psi.ArgumentList.Add("--contentRoot");
        psi.ArgumentList.Add(RepoPaths.ServerProject);
        psi.Environment["Urls"] = $"http://127.0.0.1:{Port}";
        psi.Environment["Hotline__DataDirectory"] = DataDirectory;
        foreach (var (k, v) in _environment) psi.Environment[k] = v;

        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start the server");
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_log) _log.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_log) _log.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(180);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited) throw new InvalidOperationException($"The server exited with {process.ExitCode}:\n{Log}");
            try
            {
                if ((await http.GetAsync("readyz")).StatusCode == HttpStatusCode.OK) return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(200);
        }
        throw new TimeoutException($"The server did not get ready within 180 s:\n{Log}");
    }

    /// <summary>kill -9: no shutdown, no flush.</summary>
    public async Task KillAsync()
    {
        if (_process is null || _process.HasExited) return;
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    public HttpClient CreateClient() => new() { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process?.Dispose();
        try { Directory.Delete(DataDirectory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
