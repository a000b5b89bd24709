using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;
using Xunit;

namespace Hotline.Testing;

/// <summary>
/// A real <c>redis-server</c> for integration tests, started on 127.0.0.1 on a free port in a temp dir
/// (no persistence unless asked), stopped and deleted on dispose. When <c>HOTLINE_TEST_REDIS</c> is set
/// (a StackExchange.Redis connection string) that server is used instead and nothing is started.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    public const string ExternalServerVariable = "HOTLINE_TEST_REDIS";

    private readonly string? _external;
    private readonly string _executable;
    private readonly IReadOnlyList<string> _extraArguments;
    private Process? _process;
    private ConnectionMultiplexer? _admin;

    private RedisServer(string? external, string executable, IReadOnlyList<string> extraArguments)
    {
        _external = external;
        _executable = executable;
        _extraArguments = extraArguments;
        if (external is null)
        {
            Port = FreePort();
            Directory = Path.Combine(Path.GetTempPath(), "hotline-redis-" + Guid.NewGuid().ToString("N"));
            System.IO.Directory.CreateDirectory(Directory);
        }
    }

    /// <summary>Port of the started server (0 for an external one).</summary>
    public int Port { get; }

    /// <summary>Working directory of the started server (null for an external one).</summary>
    public string? Directory { get; }

    /// <summary>True when the server is the one named by <c>HOTLINE_TEST_REDIS</c>.</summary>
    public bool IsExternal => _external is not null;

    /// <summary>StackExchange.Redis connection string, e.g. <c>127.0.0.1:PORT,abortConnect=false</c>.</summary>
    public string ConnectionString => _external ?? $"127.0.0.1:{Port},abortConnect=false";

    /// <summary>
    /// Starts a server. <paramref name="persistence"/> false (default) runs with <c>--save "" --appendonly no</c>;
    /// <paramref name="extraArguments"/> are appended to the command line (e.g. <c>--maxmemory 10mb</c>).
    /// </summary>
    public static async Task<RedisServer> StartAsync(bool persistence = false, IReadOnlyList<string>? extraArguments = null, string executable = "/usr/bin/redis-server")
    {
        var external = Environment.GetEnvironmentVariable(ExternalServerVariable);
        var args = new List<string>();
        if (!persistence)
        {
            args.AddRange(["--save", "", "--appendonly", "no"]);
        }

        args.AddRange(extraArguments ?? []);
        var server = new RedisServer(string.IsNullOrWhiteSpace(external) ? null : external, executable, args);
        try
        {
            if (!server.IsExternal)
            {
                await server.LaunchAsync();
            }

            await server.AdminAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Opens a new multiplexer on the server (the caller disposes it).</summary>
    public async Task<ConnectionMultiplexer> ConnectAsync() => await ConnectionMultiplexer.ConnectAsync(ConnectionString);

    /// <summary>Deletes every key (FLUSHALL); the script cache is kept.</summary>
    public async Task FlushAsync()
    {
        var admin = await AdminAsync();
        foreach (var endpoint in admin.GetEndPoints())
        {
            var server = admin.GetServer(endpoint);
            if (!server.IsSlave)
            {
                await server.FlushAllDatabasesAsync();
            }
        }
    }

    /// <summary>
    /// Stops the server the hard way (SIGKILL, nothing saved) and starts it again on the same port and directory, for
    /// fault tests: clients see a dropped connection, an empty dataset (unless persistence is on) and an empty script cache.
    /// </summary>
    public async Task RestartAsync()
    {
        if (IsExternal)
        {
            throw new NotSupportedException($"Cannot restart the external server named by {ExternalServerVariable}.");
        }

        await StopAsync();
        await LaunchAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_admin is not null)
        {
            await _admin.CloseAsync(allowCommandsToComplete: false);
            _admin.Dispose();
            _admin = null;
        }

        if (!IsExternal)
        {
            await StopAsync();
            if (Directory is not null && System.IO.Directory.Exists(Directory))
            {
                try
                {
                    System.IO.Directory.Delete(Directory, recursive: true);
                }
                catch (IOException)
                {
                    // Best effort: a temp dir left behind is harmless.
                }
            }
        }
    }

    private async Task<ConnectionMultiplexer> AdminAsync()
    {
        if (_admin is null || !_admin.IsConnected)
        {
            _admin?.Dispose();
            _admin = await ConnectionMultiplexer.ConnectAsync(ConnectionString + ",allowAdmin=true");
        }

        return _admin;
    }

    private async Task LaunchAsync()
    {
        var info = new ProcessStartInfo(_executable)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Directory!,
        };
        foreach (var a in new[] { "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", Directory!, "--daemonize", "no", "--protected-mode", "no" })
        {
            info.ArgumentList.Add(a);
        }

        foreach (var a in _extraArguments)
        {
            info.ArgumentList.Add(a);
        }

        var output = new System.Text.StringBuilder();
        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        if (!process.Start())
        {
            throw new InvalidOperationException($"Could not start {_executable}.");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            if (process.HasExited)
            {
                lock (output)
                {
                    throw new InvalidOperationException($"redis-server exited with {process.ExitCode}:\n{output}");
                }
            }

            if (await RespondsToPingAsync())
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"redis-server did not answer on port {Port}:\n{output}");
            }

            await Task.Delay(25);
        }
    }

    private async Task<bool> RespondsToPingAsync()
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, Port);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray());
            var buffer = new byte[64];
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            var read = await stream.ReadAsync(buffer, timeout.Token);
            return read >= 5 && System.Text.Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException)
        {
            return false;
        }
    }

    private async Task StopAsync()
    {
        var process = _process;
        _process = null;
        if (process is null)
        {
            return;
        }

        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        finally
        {
            process.Dispose();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}

/// <summary>xunit fixture (class or collection): one <see cref="RedisServer"/> for the tests that share it.</summary>
public sealed class RedisFixture : IAsyncLifetime
{
    private RedisServer? _server;

    public RedisServer Server => _server ?? throw new InvalidOperationException("The Redis fixture is not initialized.");

    public string ConnectionString => Server.ConnectionString;

    public async Task InitializeAsync() => _server = await RedisServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
