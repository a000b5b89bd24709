using System.Security.Claims;
using Hotline.Domain.Common;
using Hotline.Domain.Tickets;
using Hotline.EventStore;
using Hotline.Server.Auth;
using Hotline.Server.Reference;
using Hotline.Server.Storage;

namespace Hotline.Server.Tickets;

/// <summary>
/// Feeds the persistent search table from the global log, resuming from its stored checkpoint. A ticket event upserts
/// the ticket's row from its latest known state (the in-memory index when it is at least as new as the event, else the
/// stream); rows and checkpoint are written in one transaction, in batches while catching up and at once when live.
/// A replay is harmless: a row never goes back to an older version.
/// </summary>
public sealed class TicketSearchProjection(
    IEventStore store,
    ITicketSearchStore search,
    TicketStore tickets,
    TicketIndex index,
    EventSerializer serializer,
    ILogger<TicketSearchProjection> logger) : CatchUpProjection(store, logger)
{
    public const string ReadModelName = "ticket-search";
    private const int BatchRows = 500;
    private const int CheckpointEvery = 1000;

    private readonly Dictionary<Guid, TicketSearchRow> _pending = [];
    private long _saved;

    /// <summary>Waited for before the first subscription (the in-memory index catching up, so rows come from it instead of stream reads).</summary>
    public Func<CancellationToken, Task> WaitBeforeStart { get; init; } = _ => Task.CompletedTask;

    /// <summary>Reset the table and checkpoint at start (the <c>--rebuild-read-models</c> switch).</summary>
    public bool RebuildAtStart { get; init; }

    public ITicketSearchStore Store => search;

    /// <summary>The stored checkpoint as last written by this process.</summary>
    public long Checkpoint => Interlocked.Read(ref _saved);

    protected override async Task InitializeAsync(CancellationToken ct)
    {
        await search.InitializeAsync(ct);
        await WaitBeforeStart(ct);
        if (RebuildAtStart)
        {
            logger.LogInformation("{ReadModel}: rebuilding from position 0 (--rebuild-read-models)", ReadModelName);
            _ = RebuildAsync();
        }
        else
        {
            Position = _saved = await search.GetCheckpointAsync(ReadModelName, ct);
            logger.LogInformation("{ReadModel}: resuming after position {Position}", ReadModelName, Position);
        }
    }

    protected override async Task ResetAsync(CancellationToken ct)
    {
        _pending.Clear();
        await search.ResetAsync(ReadModelName, ct);
        Interlocked.Exchange(ref _saved, 0);
    }

    protected override async Task ApplyAsync(RecordedEvent e, bool live, CancellationToken ct)
    {
        if (TicketStore.IsTicketStream(e.StreamId) && !(_pending.TryGetValue(IdOf(e.StreamId), out var known) && known.Version > e.StreamRevision)
            && serializer.Deserialize(e) is ITicketEvent te)
        {
            var state = index.Get(te.TicketId);
            if (state is null || state.Version <= e.StreamRevision) state = (await tickets.LoadAsync(te.TicketId, ct)).State;
            if (state.Version > 0) _pending[state.Id] = RowOf(state);
        }
        if (live || e.Position >= HeadAtStart || _pending.Count >= BatchRows || e.Position - _saved >= CheckpointEvery)
        {
            await search.SaveAsync(_pending.Values.ToList(), ReadModelName, e.Position, ct);
            _pending.Clear();
            Interlocked.Exchange(ref _saved, e.Position);
        }
    }

    private static Guid IdOf(string streamId) => Guid.TryParseExact(streamId.AsSpan(7), "N", out var id) ? id : Guid.Empty;

    public static TicketSearchRow RowOf(Ticket t) => new(
        t.Id, t.Version, t.Number, t.CallerPhone, t.CategoryCode, t.AreaCode, t.Tasks.Select(x => x.UnitId).Distinct(StringComparer.Ordinal).ToList(),
        t.State.ToString(), t.RegisteredAt, DateOnly.FromDateTime(TimeZones.ToLocal(t.RegisteredAt).DateTime), t.RepeatOf.Count > 0,
        string.Join('\n', new[] { t.Number, t.Content, t.Address }.Concat(t.Duplicates.Select(d => d.Content))));
}

/// <summary>
/// Ticket search for the API: the persistent read model (<see cref="TicketSearchProjection"/>) normally; while it is
/// being rebuilt, the same filters over the in-memory <see cref="TicketIndex"/> (so searches keep answering, with the
/// same results; the response says which one answered in <c>X-Read-Model</c>).
/// </summary>
public sealed class TicketSearchService(TicketSearchProjection projection, TicketIndex index, CityReference city, ILogger<TicketSearchService> logger)
{
    public const string MemorySource = "memory";

    public bool Persistent => !projection.Rebuilding && projection.CaughtUp.IsCompleted;

    public string Source => Persistent ? projection.Store.Engine : MemorySource + " (read model rebuilding)";

    /// <summary>Runs a search; the third value names who answered (the store, or the in-memory index while rebuilding or when the store does not answer).</summary>
    public async Task<(IReadOnlyList<Ticket> Rows, int Total, string Source)> SearchAsync(TicketSearch s, ClaimsPrincipal user, CancellationToken ct)
    {
        var size = Math.Clamp(s.PageSize ?? 20, 1, 200);
        var page = Math.Max(1, s.Page ?? 1);
        var query = QueryOf(s, user);
        if (Persistent)
        {
            try
            {
                var result = await projection.Store.SearchAsync(query with { Offset = (page - 1) * size, Limit = size }, ct);
                return (result.Ids.Select(index.Get).OfType<Ticket>().ToList(), result.Total, projection.Store.Engine);
            }
            catch (Exception e) when (e is System.Data.Common.DbException or TimeoutException)
            {
                logger.LogWarning(e, "The search read model did not answer; searching the in-memory index");
                return Memory(s, user, page, size, MemorySource + " (search store unavailable)");
            }
        }
        return Memory(s, user, page, size, Source);
    }

    private (IReadOnlyList<Ticket> Rows, int Total, string Source) Memory(TicketSearch s, ClaimsPrincipal user, int page, int size, string source)
    {
        var rows = s.Ordered(s.Apply(index.All.Where(t => TicketModule.CanSee(t, user, city)), user, city)).ToList();
        return (rows.Skip((page - 1) * size).Take(size).ToList(), rows.Count, source);
    }

    private static bool HasLoneSurrogate(string v)
    {
        for (var i = 0; i < v.Length; i++)
        {
            if (char.IsHighSurrogate(v[i]) && i + 1 < v.Length && char.IsLowSurrogate(v[i + 1])) i++;
            else if (char.IsSurrogate(v[i])) return true;
        }
        return false;
    }

    /// <summary>Validates the parameters (the same field errors as before) and turns them into a store query, visibility included.</summary>
    public TicketSearchQuery QueryOf(TicketSearch s, ClaimsPrincipal user)
    {
        foreach (var (field, value) in new[] { ("number", s.Number), ("phone", s.Phone), ("q", s.Q), ("category", s.Category), ("area", s.Area), ("unit", s.Unit) })
        {
            if (value is null) continue;
            if (value.Length > 200) throw new DomainValidationException(field, "检索条件不能超过 200 个字符");
            if (value.Any(char.IsControl) || HasLoneSurrogate(value))
                throw new DomainValidationException(field, "检索条件含有控制字符或无效字符");
        }
        static string? Clean(string? v) => string.IsNullOrWhiteSpace(v) ? null : v.Trim();
        var phone = Clean(s.Phone);
        if (phone is not null && !user.IsOffice()) throw new DomainValidationException("phone", "只有热线办人员可以按电话号码检索");
        IReadOnlyList<string>? states = null;
        if (!string.IsNullOrWhiteSpace(s.State))
        {
            states = s.State.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(x => Enum.TryParse<TicketState>(x, true, out var v) && v != TicketState.None && !int.TryParse(x, out _) ? v.ToString() : throw new DomainValidationException("state", $"未知状态 {x}"))
                .Distinct().ToList();
        }
        var sort = s.Sort is null or "" ? "-created" : s.Sort is "created" or "-created" or "number" or "-number" ? s.Sort : throw new DomainValidationException("sort", "排序必须是 created / -created / number / -number");
        var unit = Clean(s.Unit);
        var visible = user.IsOffice() || user.IsInRole(Roles.Leader) ? null : user.IsInRole(Roles.Handler) ? city.Subtree(user.UnitId()) : (IReadOnlyList<string>)[];
        return new TicketSearchQuery(
            Clean(s.Number), phone, Clean(s.Q), user.IsOffice(), Clean(s.Category), Clean(s.Area),
            unit is null ? null : city.UnitOf(unit) is null ? [unit] : city.Subtree(unit), visible, states, s.From, s.To, s.Repeat, sort);
    }
}
