using Hotline.Domain.Common;
using Hotline.EventStore;
using Hotline.Server.Storage;

namespace Hotline.Server.Auth;

/// <summary>A user changed their password (or an admin reset it). The hash is PBKDF2 (PasswordHasher v3), never the password.</summary>
[EventType("V1.PasswordChanged")]
public sealed record PasswordChanged(string Username, string PasswordHash, string By, DateTimeOffset At);

/// <summary>
/// Password changes live in the event store, one short stream per account ("account-{username}"), so they survive
/// restarts and reach every node: loaded before the server takes requests, then followed live from <c>$all</c>.
/// </summary>
public sealed class AccountStore(IEventStore store, UserDirectory users, ILogger<AccountStore> logger) : BackgroundService
{
    private static readonly EventSerializer Serializer = new([typeof(PasswordChanged)]);
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
        if (Serializer.Deserialize(e) is PasswordChanged p) users.SetPasswordHash(p.Username, p.PasswordHash, p.At);
    }
}
