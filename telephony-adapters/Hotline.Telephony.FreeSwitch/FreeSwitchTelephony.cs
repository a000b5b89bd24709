using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hotline.Telephony.FreeSwitch;

/// <summary>
/// Inbound Event Socket client for FreeSWITCH: connects to mod_event_socket, authenticates, subscribes to call
/// events and turns them into <see cref="CallEvent"/>s; carries out the ACD's commands with <c>api</c>/<c>bgapi</c>.
/// <see cref="RunAsync"/> keeps the connection up, reconnecting with exponential backoff.
/// </summary>
public sealed partial class FreeSwitchTelephony : ITelephonyControl, IDisposable
{
    private sealed class Connection(TcpClient client, NetworkStream stream) : IDisposable
    {
        public TcpClient Client { get; } = client;
        public NetworkStream Stream { get; } = stream;
        public EslFrameParser Parser { get; } = new();
        public SemaphoreSlim WriteLock { get; } = new(1, 1);
        public ConcurrentQueue<TaskCompletionSource<EslFrame>> Pending { get; } = new();
        private readonly byte[] _readBuffer = new byte[16 * 1024];

        public async Task<EslFrame> ReadFrameAsync(CancellationToken ct)
        {
            while (true)
            {
                if (Parser.TryRead(out var frame))
                {
                    return frame;
                }
                var n = await Stream.ReadAsync(_readBuffer, ct);
                if (n == 0)
                {
                    throw new IOException("FreeSWITCH closed the event socket.");
                }
                Parser.Feed(_readBuffer.AsSpan(0, n));
            }
        }

        public void FailPending(Exception reason)
        {
            while (Pending.TryDequeue(out var tcs))
            {
                tcs.TrySetException(reason);
            }
        }

        public void Dispose()
        {
            Client.Dispose();
            WriteLock.Dispose();
        }
    }

    private readonly ICallEventSink _sink;
    private readonly FreeSwitchOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly FreeSwitchEventMapper _mapper;
    private volatile Connection? _connection;
    private TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _connections;

    public FreeSwitchTelephony(ICallEventSink sink, FreeSwitchOptions options, TimeProvider? time = null, ILogger<FreeSwitchTelephony>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(sink);
        ArgumentNullException.ThrowIfNull(options);
        _sink = sink;
        _options = options;
        _time = time ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _mapper = new FreeSwitchEventMapper(_time);
    }

    public FreeSwitchConnectionState State { get; private set; } = FreeSwitchConnectionState.Disconnected;

    /// <summary>How many times the socket has been connected and authenticated (1 + reconnects).</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Completes when the socket is connected, authenticated and subscribed.</summary>
    public Task WaitUntilConnectedAsync(CancellationToken ct) => Volatile.Read(ref _connected).Task.WaitAsync(ct);

    /// <summary>
    /// Connects and keeps the connection up until cancelled. Network failures are retried with exponential
    /// backoff; a refused password throws <see cref="FreeSwitchAuthenticationException"/> (configuration error).
    /// </summary>
    public async Task RunAsync(CancellationToken ct)
    {
        var attempt = 0;
        while (!ct.IsCancellationRequested)
        {
            Connection? connection = null;
            try
            {
                State = FreeSwitchConnectionState.Connecting;
                connection = await ConnectAsync(ct);
                attempt = 0;
                _connection = connection;
                State = FreeSwitchConnectionState.Connected;
                Interlocked.Increment(ref _connections);
                _logger.LogInformation("Connected to FreeSWITCH event socket {Host}:{Port}", _options.Host, _options.Port);
                Volatile.Read(ref _connected).TrySetResult();
                await ReadLoopAsync(connection, ct);
            }
            catch (FreeSwitchAuthenticationException)
            {
                State = FreeSwitchConnectionState.AuthenticationFailed;
                throw;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is IOException or SocketException or TimeoutException or InvalidDataException or OperationCanceledException)
            {
                _logger.LogWarning(ex, "FreeSWITCH event socket {Host}:{Port} lost", _options.Host, _options.Port);
            }
            finally
            {
                if (connection is not null)
                {
                    _connection = null;
                    Interlocked.Exchange(ref _connected, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
                    connection.FailPending(new IOException("FreeSWITCH event socket disconnected."));
                    connection.Dispose();
                }
                if (State != FreeSwitchConnectionState.AuthenticationFailed)
                {
                    State = FreeSwitchConnectionState.Disconnected;
                }
            }

            var delay = Backoff(attempt++);
            _logger.LogInformation("Reconnecting to FreeSWITCH in {Delay}", delay);
            try
            {
                await Task.Delay(delay, _time, ct);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    private TimeSpan Backoff(int attempt)
    {
        var baseDelay = _options.ReconnectInitialDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 20));
        var capped = Math.Min(baseDelay, _options.ReconnectMaxDelay.TotalMilliseconds);
        var jitter = 0.8 + (Random.Shared.NextDouble() * 0.4);
        return TimeSpan.FromMilliseconds(capped * jitter);
    }

    private async Task<Connection> ConnectAsync(CancellationToken ct)
    {
        var client = new TcpClient { NoDelay = true };
        try
        {
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                timeout.CancelAfter(_options.ConnectTimeout);
                await client.ConnectAsync(_options.Host, _options.Port, timeout.Token);
            }
            var connection = new Connection(client, client.GetStream());

            // FreeSWITCH speaks first.
            var greeting = await ReadWithTimeoutAsync(connection, ct);
            if (greeting.ContentType != "auth/request")
            {
                throw new InvalidDataException($"Expected auth/request, got '{greeting.ContentType}'.");
            }
            await WriteAsync(connection, $"auth {_options.Password}\n\n", ct);
            var auth = await ReadWithTimeoutAsync(connection, ct);
            if (auth.ContentType != "command/reply" || auth.ReplyText?.StartsWith("+OK", StringComparison.Ordinal) != true)
            {
                throw new FreeSwitchAuthenticationException(
                    $"FreeSWITCH at {_options.Host}:{_options.Port} refused the event socket password: {auth.ReplyText ?? auth.ContentType}");
            }
            await WriteAsync(connection, $"event plain {_options.Events}\n\n", ct);
            var subscribed = await ReadWithTimeoutAsync(connection, ct);
            if (subscribed.ReplyText?.StartsWith("+OK", StringComparison.Ordinal) != true)
            {
                throw new InvalidDataException($"FreeSWITCH refused the event subscription: {subscribed.ReplyText}");
            }
            return connection;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    private async Task<EslFrame> ReadWithTimeoutAsync(Connection connection, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_options.CommandTimeout);
        try
        {
            return await connection.ReadFrameAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new TimeoutException("FreeSWITCH did not answer during the event socket handshake.");
        }
    }

    private static async Task WriteAsync(Connection connection, string text, CancellationToken ct) =>
        await connection.Stream.WriteAsync(Encoding.UTF8.GetBytes(text), ct);

    private async Task ReadLoopAsync(Connection connection, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            var frame = await connection.ReadFrameAsync(ct);
            switch (frame.ContentType)
            {
                case "text/event-plain":
                    await HandleEventAsync(EslEvent.ParsePlain(frame.Body), ct);
                    break;
                case "command/reply" or "api/response":
                    // Replies come back in the order the commands were written.
                    if (connection.Pending.TryDequeue(out var waiting))
                    {
                        waiting.TrySetResult(frame);
                    }
                    break;
                case "text/disconnect-notice":
                    throw new IOException("FreeSWITCH sent a disconnect notice.");
                default:
                    break;
            }
        }
    }

    private async Task HandleEventAsync(EslEvent e, CancellationToken ct)
    {
        var (callEvent, followUp) = _mapper.Map(e);
        if (callEvent is not null)
        {
            try
            {
                await _sink.PublishAsync(callEvent, ct);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                _logger.LogError(ex, "Publishing {Event} for call {CallId} failed", callEvent.GetType().Name, callEvent.CallId);
            }
        }
        if (followUp is not null)
        {
            // Never awaited here: its reply is read by this very loop.
            _ = FollowUpAsync(followUp, ct);
        }
    }

    private async Task FollowUpAsync(FreeSwitchFollowUp followUp, CancellationToken ct)
    {
        try
        {
            await ApiAsync(followUp.ApiCommand, ct);
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "FreeSWITCH follow-up '{Command}' failed", followUp.ApiCommand);
        }
    }

    /// <summary>Runs <c>api &lt;command&gt;</c> and returns the <c>api/response</c> body; <c>-ERR</c> throws.</summary>
    public async Task<string> ApiAsync(string command, CancellationToken ct)
    {
        var reply = await SendAsync($"api {command}\n\n", ct);
        var body = reply.Body.Trim();
        if (body.StartsWith("-ERR", StringComparison.Ordinal))
        {
            throw new TelephonyCommandException($"FreeSWITCH refused '{command}': {body}");
        }
        return body;
    }

    /// <summary>Runs <c>bgapi &lt;command&gt;</c> with the given Job-UUID; the result arrives as BACKGROUND_JOB.</summary>
    public async Task BgApiAsync(string command, string jobUuid, CancellationToken ct)
    {
        var reply = await SendAsync($"bgapi {command}\nJob-UUID: {jobUuid}\n\n", ct);
        if (reply.ReplyText?.StartsWith("+OK", StringComparison.Ordinal) != true)
        {
            throw new TelephonyCommandException($"FreeSWITCH refused 'bgapi {command}': {reply.ReplyText}");
        }
    }

    private async Task<EslFrame> SendAsync(string text, CancellationToken ct)
    {
        var connection = _connection ?? throw new TelephonyCommandException("Not connected to FreeSWITCH.");
        var reply = new TaskCompletionSource<EslFrame>(TaskCreationOptions.RunContinuationsAsynchronously);
        await connection.WriteLock.WaitAsync(ct);
        try
        {
            connection.Pending.Enqueue(reply);
            await WriteAsync(connection, text, ct);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            reply.TrySetException(ex);
        }
        finally
        {
            connection.WriteLock.Release();
        }
        try
        {
            return await reply.Task.WaitAsync(_options.CommandTimeout, _time, ct);
        }
        catch (Exception ex) when (ex is IOException or TimeoutException)
        {
            throw new TelephonyCommandException($"FreeSWITCH did not answer '{text.Split('\n')[0]}'.", ex);
        }
    }

    public async Task RouteToAgentAsync(string callId, string agentId, string agentEndpoint, CancellationToken ct)
    {
        Check(callId, nameof(callId));
        Check(agentId, nameof(agentId));
        Check(agentEndpoint, nameof(agentEndpoint));
        var job = Guid.NewGuid().ToString();
        _mapper.ExpectJob(job, callId, agentId);
        var vars = $"hotline_call_id={callId},hotline_agent_id={agentId},hotline_agent_endpoint={agentEndpoint}," +
                   $"originate_timeout={_options.OriginateTimeoutSeconds},ignore_early_media=true";
        try
        {
            await BgApiAsync($"originate {{{vars}}}{agentEndpoint} &park()", job, ct);
        }
        catch
        {
            _mapper.ForgetJob(job);
            throw;
        }
    }

    /// <summary>On FreeSWITCH the agent's phone answering is the accept; nothing to do.</summary>
    public Task AgentAcceptedAsync(string callId, string agentId, CancellationToken ct) => Task.CompletedTask;

    public async Task TransferAsync(string callId, string target, string reason, CancellationToken ct)
    {
        Check(callId, nameof(callId));
        Check(target, nameof(target));
        _mapper.ReleasedBySystem(callId);
        await ApiAsync($"uuid_transfer {callId} {target} {_options.TransferDialplan} {_options.TransferContext}", ct);
        var at = _time.GetUtcNow();
        // FreeSWITCH reports no "transferred" fact of its own: the successful command is the record. The hotline's
        // part of the call ends here; the leg's later hang-up is dropped by the normalizer.
        await _sink.PublishAsync(new CallTransferred($"{callId}:transfer:{target}", callId, at, FreeSwitchEventMapper.SourceName, target, reason), ct);
        await _sink.PublishAsync(new CallEnded($"{callId}:transfer-end:{target}", callId, at, FreeSwitchEventMapper.SourceName,
            CallEndedBy.System, $"transferred to {target}"), ct);
    }

    public async Task ReleaseAsync(string callId, string reason, CancellationToken ct)
    {
        Check(callId, nameof(callId));
        _mapper.ReleasedBySystem(callId);
        try
        {
            await ApiAsync($"uuid_kill {callId} NORMAL_CLEARING", ct);
        }
        catch (TelephonyCommandException ex) when (ex.Message.Contains("No such channel", StringComparison.OrdinalIgnoreCase))
        {
            // Already gone: releasing is idempotent.
        }
    }

    // Arguments go into a line-oriented protocol and a dial string: no whitespace, no dial-string syntax.
    [GeneratedRegex(@"^[A-Za-z0-9_.@:/+\-=#*]+$")]
    private static partial Regex SafeArgument();

    private static void Check(string value, string name)
    {
        if (string.IsNullOrEmpty(value) || !SafeArgument().IsMatch(value))
        {
            throw new ArgumentException($"'{value}' is not allowed in a FreeSWITCH command.", name);
        }
    }

    public void Dispose() => _connection?.Dispose();
}
