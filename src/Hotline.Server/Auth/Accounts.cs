using System.Collections.Concurrent;
using Hotline.Domain.Common;
using Hotline.EventStore;
using Hotline.Server.Storage;

namespace Hotline.Server.Auth;

/// <summary>A user changed their password (or an admin reset it). The hash is PBKDF2 (PasswordHasher v3), never the password.</summary>
[EventType("V1.PasswordChanged")]
public sealed record PasswordChanged(string Username, string PasswordHash, string By, DateTimeOffset At);

/// <summary>A user signed out: the session's token (and cookie) is void on every node until it would have expired anyway.</summary>
[EventType("V1.SignedOut")]
public sealed record SignedOut(string Username, string SessionId, DateTimeOffset SessionExpiresAt, DateTimeOffset At);

/// <summary>Sessions ended by a sign-out, kept until their tokens would have expired (so the set stays small).</summary>
public sealed class SessionRevocations(TimeProvider time)
{
    private readonly ConcurrentDictionary<string, DateTimeOffset> _revoked = new(StringComparer.Ordinal);
    private int _sincePrune;

    public void Revoke(string sessionId, DateTimeOffset until)
    {
        var now = time.GetUtcNow();
        if (until <= now) return;
        _revoked[sessionId] = until;
        if (Interlocked.Increment(ref _sincePrune) % 1024 == 0)
            foreach (var (sid, end) in _revoked)
                if (end <= now) _revoked.TryRemove(sid, out _);
    }

    public bool IsRevoked(string? sessionId) =>
        sessionId is not null && _revoked.TryGetValue(sessionId, out var until) && until > time.GetUtcNow();
}

/// <summary>
/// Password changes and sign-outs live in the event store, one short stream per account ("account-{username}"), so they survive
/// restarts and reach every node: loaded before the server takes requests, then followed live from <c>$all</c>.
/// </summary>
public sealed class AccountStore(IEventStore store, UserDirectory users, SessionRevocations revocations, ILogger<AccountStore> logger) : BackgroundService
{
    private static readonly EventSerializer Serializer = new([typeof(PasswordChanged), typeof(SignedOut)]);
    private long _head;

    public static string StreamOf(string username) => "account-" + username.ToLowerInvariant();

    public async Task ChangePasswordAsync(UserAccount user, string newPassword, string by, DateTimeOffset now, CancellationToken ct)
    {
        var hash = users.Hash(user, newPassword);
        var changed = new PasswordChanged(user.Username, hash, by, now);
        var data = Serializer.ToEventData(changed, Guid.CreateVersion7(), new EventMetadata(by, null, null, now));
        await store.AppendAsync(StreamOf(user.Username), ExpectedRevision.Any, [data], ct);
        users.SetPasswordHash(user.Username, hash, now);
    }

    public async Task SignOutAsync(string username, string sessionId, DateTimeOffset sessionExpiresAt, DateTimeOffset now, CancellationToken ct)
    {
        revocations.Revoke(sessionId, sessionExpiresAt);
        var signedOut = new SignedOut(username, sessionId, sessionExpiresAt, now);
        var data = Serializer.ToEventData(signedOut, Guid.CreateVersion7(), new EventMetadata(username, null, null, now));
        await store.AppendAsync(StreamOf(username), ExpectedRevision.Any, [data], ct);
    }

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        _head = await store.GetHeadPositionAsync(cancellationToken);
        foreach (var user in users.All.ToList())
            await foreach (var e in store.ReadStreamAsync(StreamOf(user.Username), 0, cancellationToken))
                Apply(e);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await foreach (var e in store.SubscribeToAllAsync(_head, stoppingToken))
                {
                    if (e.StreamId.StartsWith("account-", StringComparison.Ordinal)) Apply(e);
                    _head = e.Position;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
            catch (Exception e)
            {
                logger.LogWarning(e, "Account subscription dropped at {Position}; resubscribing", _head);
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    private void Apply(RecordedEvent e)
    {
        switch (Serializer.Deserialize(e))
        {
            case PasswordChanged p: users.SetPasswordHash(p.Username, p.PasswordHash, p.At); break;
            case SignedOut s: revocations.Revoke(s.SessionId, s.SessionExpiresAt); break;
        }
    }
}
