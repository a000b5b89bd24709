using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Npgsql;
using Xunit;

namespace Hotline.Testing;

/// <summary>
/// A real PostgreSQL for integration tests, started from the Debian binaries
/// (<c>/usr/lib/postgresql/&lt;newest&gt;/bin</c>) on 127.0.0.1 at a random free port, with its data
/// directory and unix socket in a fresh temp dir, trust auth on loopback and the default
/// <c>fsync=on</c>. Disposing stops it and deletes the dir. As root, the dir is owned by the
/// <c>postgres</c> system user and the binaries run through <c>runuser -u postgres --</c>.
/// When the environment variable <c>HOTLINE_TEST_POSTGRES</c> holds a connection string, that
/// server is used instead and nothing is started (then <see cref="StopAsync"/>/<see cref="StartAsync"/> are not supported).
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    public const string EnvironmentVariable = "HOTLINE_TEST_POSTGRES";
    private const string SystemUser = "postgres";

    private readonly string? binDirectory;
    private readonly string? rootDirectory;
    private int disposed;

    private PostgresServer(string connectionString, string? binDirectory, string? rootDirectory, int port)
    {
        ConnectionString = connectionString;
        this.binDirectory = binDirectory;
        this.rootDirectory = rootDirectory;
        Port = port;
    }

    /// <summary>Connection string of the <c>postgres</c> maintenance database as superuser.</summary>
    public string ConnectionString { get; }

    public int Port { get; }

    /// <summary>True when the server came from <see cref="EnvironmentVariable"/> (not ours to stop).</summary>
    public bool IsExternal => rootDirectory is null;

    public bool IsRunning { get; private set; }

    private string DataDirectory => Path.Combine(rootDirectory!, "data");

    private string LogFile => Path.Combine(rootDirectory!, "postgres.log");

    /// <summary>Initializes and starts a new server (or wraps the external one).</summary>
    public static async Task<PostgresServer> StartNewAsync(CancellationToken cancellationToken = default)
    {
        var external = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(external))
        {
            var builder = new NpgsqlConnectionStringBuilder(external);
            return new PostgresServer(external, null, null, builder.Port) { IsRunning = true };
        }

        var bin = FindBinDirectory();
        var root = Path.Combine(Path.GetTempPath(), "hotline-pg-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(root);
        PostgresServer? server = null;
        try
        {
            if (Environment.IsPrivilegedProcess)
            {
                await ProcessRunner.RunCheckedAsync("chown", [$"{SystemUser}:{SystemUser}", root], cancellationToken: cancellationToken);
            }

            await ProcessRunner.RunCheckedAsync(
                Path.Combine(bin, "initdb"),
                ["-D", Path.Combine(root, "data"), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
                SystemUser, TimeSpan.FromMinutes(2), cancellationToken);

            for (var attempt = 1; ; attempt++)
            {
                var port = FreePort();
                server = new PostgresServer(AdminConnectionString(port), bin, root, port);
                try
                {
                    await server.StartAsync(cancellationToken);
                    return server;
                }
                catch (InvalidOperationException) when (attempt < 5)
                {
                    // Most likely the port was taken between probing and binding: try another.
                }
            }
        }
        catch
        {
            TryDelete(root);
            throw;
        }
    }

    /// <summary>Creates a fresh, empty database and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string? prefix = null, CancellationToken cancellationToken = default)
    {
        var clean = new string((prefix ?? "test").ToLowerInvariant().Where(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_').ToArray());
        if (clean.Length == 0 || !char.IsLetter(clean[0]))
        {
            clean = "t" + clean;
        }

        var name = $"{clean[..Math.Min(clean.Length, 30)]}_{Guid.NewGuid():N}"; // at most 63 characters
        var admin = new NpgsqlConnectionStringBuilder(ConnectionString) { Pooling = false };
        await using (var connection = new NpgsqlConnection(admin.ConnectionString))
        {
            await connection.OpenAsync(cancellationToken);
            await using var cmd = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await cmd.ExecuteNonQueryAsync(cancellationToken);
        }

        return new NpgsqlConnectionStringBuilder(ConnectionString) { Database = name }.ConnectionString;
    }

    /// <summary>Starts the (stopped) server again on the same port and data dir.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfExternal();
        var options = string.Join(' ',
            $"-p {Port.ToString(CultureInfo.InvariantCulture)}",
            $"-k {rootDirectory}",
            "-c listen_addresses=127.0.0.1",
            "-c max_connections=300",
            "-c shared_buffers=32MB",
            "-c fsync=on");
        var result = await ProcessRunner.RunAsync(
            Path.Combine(binDirectory!, "pg_ctl"),
            ["-D", DataDirectory, "-l", LogFile, "-w", "-t", "60", "-o", options, "start"],
            SystemUser, TimeSpan.FromSeconds(90), cancellationToken);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"PostgreSQL did not start on port {Port}:{Environment.NewLine}{result.Output}{Environment.NewLine}{ReadLog()}");
        }

        IsRunning = true;
    }

    /// <summary>Stops the server (fast shutdown: connections are cut, committed data stays), to simulate an outage.</summary>
    public Task StopAsync(CancellationToken cancellationToken = default) => StopAsync("fast", cancellationToken);

    /// <summary>Stops the server like a crash (immediate shutdown, recovery from WAL on the next start).</summary>
    public Task KillAsync(CancellationToken cancellationToken = default) => StopAsync("immediate", cancellationToken);

    private async Task StopAsync(string mode, CancellationToken cancellationToken)
    {
        ThrowIfExternal();
        await ProcessRunner.RunCheckedAsync(
            Path.Combine(binDirectory!, "pg_ctl"),
            ["-D", DataDirectory, "-m", mode, "-w", "-t", "60", "stop"],
            SystemUser, TimeSpan.FromSeconds(90), cancellationToken);
        IsRunning = false;
        NpgsqlConnection.ClearAllPools();
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0 || IsExternal)
        {
            return;
        }

        NpgsqlConnection.ClearAllPools();
        if (IsRunning)
        {
            await ProcessRunner.RunAsync(
                Path.Combine(binDirectory!, "pg_ctl"),
                ["-D", DataDirectory, "-m", "immediate", "-w", "-t", "60", "stop"],
                SystemUser, TimeSpan.FromSeconds(90));
            IsRunning = false;
        }

        TryDelete(rootDirectory!);
    }

    private void ThrowIfExternal()
    {
        if (IsExternal)
        {
            throw new NotSupportedException($"The PostgreSQL server from {EnvironmentVariable} is not managed by the tests.");
        }
    }

    private string ReadLog()
    {
        try
        {
            return File.Exists(LogFile) ? File.ReadAllText(LogFile) : "(no log)";
        }
        catch (IOException e)
        {
            return $"(log unreadable: {e.Message})";
        }
    }

    private static string AdminConnectionString(int port) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = port,
        Username = "postgres",
        Database = "postgres",
        Timeout = 10,
    }.ConnectionString;

    private static string FindBinDirectory()
    {
        const string root = "/usr/lib/postgresql";
        var bin = Directory.Exists(root)
            ? Directory.GetDirectories(root)
                .Select(d => (Dir: d, Version: decimal.TryParse(Path.GetFileName(d), NumberStyles.Number, CultureInfo.InvariantCulture, out var v) ? v : -1))
                .Where(x => x.Version >= 0 && File.Exists(Path.Combine(x.Dir, "bin", "initdb")))
                .OrderByDescending(x => x.Version)
                .Select(x => Path.Combine(x.Dir, "bin"))
                .FirstOrDefault()
            : null;
        return bin ?? throw new InvalidOperationException(
            $"No PostgreSQL server binaries under {root}/<version>/bin (install the Debian 'postgresql' package) and {EnvironmentVariable} is not set.");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>
/// xunit fixture around one <see cref="PostgresServer"/>. Share one server per test assembly with a
/// collection (xunit wants the definition in the test assembly itself):
/// <code>
/// [CollectionDefinition("postgres")]
/// public sealed class PostgresCollection : ICollectionFixture&lt;PostgresFixture&gt;;
///
/// [Collection("postgres")]
/// public sealed class MyTests(PostgresFixture postgres)
/// {
///     // var connectionString = await postgres.CreateDatabaseAsync("my_tests");
/// }
/// </code>
/// or one server per class with <c>IClassFixture&lt;PostgresFixture&gt;</c>.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private PostgresServer? server;

    public PostgresServer Server => server ?? throw new InvalidOperationException("The PostgreSQL fixture is not initialized.");

    public string ConnectionString => Server.ConnectionString;

    public Task<string> CreateDatabaseAsync(string? prefix = null) => Server.CreateDatabaseAsync(prefix);

    public async Task InitializeAsync() => server = await PostgresServer.StartNewAsync();

    public async Task DisposeAsync()
    {
        if (server is not null)
        {
            await server.DisposeAsync();
        }
    }
}
