using System.Collections.Concurrent;
using Hotline.Domain.Common;
using Hotline.Domain.Tickets;
using Hotline.EventStore;
using Hotline.Server.Outbox;
using Hotline.Server.Reference;
using Hotline.Server.Storage;
using Hotline.Server.Tickets;

namespace Hotline.Server.Knowledge;

public sealed record ProposeRequest(string? Kind, string? Title, string? Body, IReadOnlyList<string>? Keywords, string? OwnerUnitId, DateOnly? ValidFrom, DateOnly? ValidTo, DateOnly? ReviewBy);

public sealed class KnowledgeVersionException(long expected, long actual) : Exception($"expected {expected}, actual {actual}")
{
    public long Expected { get; } = expected;
    public long Actual { get; } = actual;
}

public sealed class KnowledgeNotFoundException(Guid id) : Exception($"Knowledge item {id} not found.");

/// <summary>
/// KnowledgeItems: every item folded from its "kb-{id}" stream (inline after a write here, and from the global log
/// for every node), the synonym table, and how often each item answered a 咨询 (TicketAnsweredDirectly.KnowledgeItemId).
/// </summary>
public sealed class KnowledgeBase(IEventStore store, TimeProvider time, CityReference city)
{
    public EventSerializer Serializer { get; } = new(KnowledgeEventTypes.All);

    private readonly ConcurrentDictionary<Guid, KnowledgeItem> _items = new();
    private readonly ConcurrentDictionary<string, int> _usage = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private KnowledgeSearch? _search;
    private DateOnly _searchDay;

    public const string SynonymStream = "kb-synonyms";

    public static string StreamOf(Guid id) => $"kb-{id:N}";

    public IReadOnlyList<IReadOnlyList<string>> Synonyms { get; private set; } = DefaultSynonyms;

    public long SynonymsVersion { get; private set; }

    public static IReadOnlyList<IReadOnlyList<string>> DefaultSynonyms { get; } =
    [
        ["医保", "医疗保险"], ["社保", "社会保险"], ["公积金", "住房公积金"], ["欠薪", "拖欠工资", "工资不发"], ["停水", "没水", "断水"],
        ["停电", "没电", "断电"], ["暖气", "供暖", "采暖"], ["户口", "户籍"], ["身份证", "居民身份证"], ["低保", "最低生活保障"],
        ["噪音", "噪声", "扰民"], ["驾照", "驾驶证"], ["幼儿园", "托幼"], ["退休金", "养老金"],
    ];

    public DateOnly Today => DateOnly.FromDateTime(TimeZones.ToLocal(time.GetUtcNow()).DateTime);

    public TimeProvider Time => time;

    public IEnumerable<KnowledgeItem> All => _items.Values;

    public KnowledgeItem? Get(Guid id) => _items.GetValueOrDefault(id);

    public int UsageOf(Guid id) => _usage.GetValueOrDefault(id.ToString());

    public IReadOnlyDictionary<string, int> Usage => _usage;

    public void Apply(RecordedEvent e, object data)
    {
        switch (data)
        {
            case KnowledgeSynonymsSet s:
                Synonyms = s.Groups;
                SynonymsVersion = e.StreamRevision + 1;
                break;
            case KnowledgeProposed or KnowledgeApproved or KnowledgeRejected or KnowledgeRetired or KnowledgeReminderSent:
                var id = data switch { KnowledgeProposed p => p.ItemId, KnowledgeApproved a => a.ItemId, KnowledgeRejected r => r.ItemId, KnowledgeRetired x => x.ItemId, KnowledgeReminderSent m => m.ItemId, _ => Guid.Empty };
                var current = _items.GetValueOrDefault(id) ?? KnowledgeItem.Initial;
                if (current.Version != e.StreamRevision) return;
                _items[id] = KnowledgeItem.Evolve(current, data);
                break;
        }
        lock (_lock) _search = null;
    }

    public void CountUse(TicketAnsweredDirectly a)
    {
        if (a.KnowledgeItemId is { Length: > 0 } k) _usage.AddOrUpdate(k, 1, (_, n) => n + 1);
    }

    public IReadOnlyList<(KnowledgeItem Item, double Score)> Search(string query, int top)
    {
        KnowledgeSearch search;
        lock (_lock)
        {
            var today = Today;
            if (_search is null || _searchDay != today)
            {
                _search = new KnowledgeSearch(_items.Values.Where(i => i.Searchable(today)).Select(i => (i.Id, i.Published!.Title, i.Published.Keywords, i.Published.Body)));
                _searchDay = today;
            }
            search = _search;
        }
        return search.Search(query, Synonyms, top).Select(h => (_items[h.ItemId], h.Score)).ToList();
    }

    public async Task<KnowledgeItem> LoadAsync(Guid id, CancellationToken ct)
    {
        var item = KnowledgeItem.Initial;
        await foreach (var e in store.ReadStreamAsync(StreamOf(id), 0, ct))
            if (Serializer.Deserialize(e) is { } data) item = KnowledgeItem.Evolve(item, data);
        return item.Version == 0 ? throw new KnowledgeNotFoundException(id) : item;
    }

    /// <summary>Appends at <paramref name="expected"/>; the event id comes from the stream and the key, so a retried write is a no-op.</summary>
    public async Task AppendAsync(string stream, long expected, object @event, string key, string actor, CancellationToken ct)
    {
        try
        {
            var result = await store.AppendAsync(stream, ExpectedRevision.FromVersion(expected),
                [Serializer.ToEventData(@event, DeterministicId.From("kb-event", stream, key), new EventMetadata(actor, null, null, time.GetUtcNow()))], ct);
            var recorded = new RecordedEvent(stream, result.NextExpectedRevision, result.Position, Guid.Empty, Serializer.NameOf(@event.GetType()), default, new EventMetadata(actor, null, null, time.GetUtcNow()));
            if (result.NextExpectedRevision == expected) Apply(recorded, @event);
        }
        catch (WrongExpectedVersionException w)
        {
            throw new KnowledgeVersionException(expected, w.ActualRevision + 1);
        }
    }

    public KnowledgeProposed Validate(Guid id, int revision, ProposeRequest body, string ownerUnitId, string by)
    {
        var errors = new FieldErrors()
            .OneOf("kind", body.Kind, KnowledgeKinds.All.ToList(), "知识类型")
            .Require("title", body.Title, 200, "标题")
            .Require("body", body.Body, 20000, "正文");
        if (city.UnitOf(ownerUnitId) is null) errors.Add("ownerUnitId", "责任单位不存在");
        if (body.ValidFrom is { } f && body.ValidTo is { } t && t < f) errors.Add("validTo", "失效日期不能早于生效日期");
        if (body.Keywords is { Count: > 20 }) errors.Add("keywords", "关键词最多 20 个");
        errors.ThrowIfAny();
        var keywords = (body.Keywords ?? []).Where(k => !string.IsNullOrWhiteSpace(k)).Select(k => k.Trim()).Distinct().ToList();
        return new KnowledgeProposed(id, revision, body.Kind!, body.Title!.Trim(), body.Body!.Trim(), keywords, ownerUnitId, body.ValidFrom, body.ValidTo,
            body.ReviewBy ?? body.ValidTo?.AddDays(-30) ?? Today.AddYears(1), by, time.GetUtcNow());
    }
}

/// <summary>Feeds <see cref="KnowledgeBase"/> from the global log (from 0 at start) and counts the items used to answer tickets.</summary>
public sealed class KnowledgeProjection(IEventStore store, KnowledgeBase kb, EventSerializer ticketEvents, ILogger<KnowledgeProjection> logger)
    : CatchUpProjection(store, logger)
{
    protected override Task ApplyAsync(RecordedEvent e, bool live, CancellationToken ct)
    {
        if (kb.Serializer.IsKnown(e.Type)) kb.Apply(e, kb.Serializer.Deserialize(e)!);
        else if (e.Type == "V1.TicketAnsweredDirectly" && ticketEvents.Deserialize(e) is TicketAnsweredDirectly a) kb.CountUse(a);
        return Task.CompletedTask;
    }
}

/// <summary>Reminds owner units of expired items and items due for review: once per item, revision, reason and day (the event id says so), through the outbox.</summary>
public sealed class KnowledgeReminders(KnowledgeBase kb, KnowledgeProjection projection, OutboxWriter outbox, IConfiguration configuration, ILogger<KnowledgeReminders> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var every = TimeSpan.FromSeconds(configuration.GetValue("Hotline:Knowledge:ReminderIntervalSeconds", 3600.0));
        try
        {
            await projection.CaughtUp.WaitAsync(stoppingToken);
            while (!stoppingToken.IsCancellationRequested)
            {
                await RunOnceAsync(stoppingToken);
                await Task.Delay(every, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
    }

    public async Task RunOnceAsync(CancellationToken ct)
    {
        var today = kb.Today;
        foreach (var item in kb.All.Where(i => i.Published is not null && !i.Retired).ToList())
        {
            var p = item.Published!;
            var reason = p.ValidTo is { } to && to < today ? "expired" : p.ReviewBy is { } r && r <= today ? "review" : null;
            if (reason is null || item.Reminders.Any(x => x.StartsWith($"{reason}:{p.Revision}:", StringComparison.Ordinal))) continue;
            try
            {
                var sent = new KnowledgeReminderSent(item.Id, p.Revision, reason, today, kb.Time.GetUtcNow());
                await kb.AppendAsync(KnowledgeBase.StreamOf(item.Id), item.Version, sent, $"reminder:{reason}:{p.Revision}", "system", ct);
                var text = reason == "expired" ? $"知识条目《{p.Title}》已于 {p.ValidTo:yyyy-MM-dd} 失效，已对坐席隐藏，请尽快更新或下线。" : $"知识条目《{p.Title}》已到复核日期 {p.ReviewBy:yyyy-MM-dd}，请复核并提交更新。";
                await outbox.QueueAsync(OutboxChannels.Unit, p.OwnerUnitId, "kb-" + reason, text, item.Id, $"kb:{item.Id}:{reason}:{p.Revision}", ct);
            }
            catch (KnowledgeVersionException) { /* changed meanwhile; next round */ }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Reminder for {Item} failed", item.Id);
            }
        }
    }
}
