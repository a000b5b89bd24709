using Hotline.Domain.Tickets;
using Hotline.Server.Reference;
using Hotline.Server.Storage;
using Hotline.Server.Tickets;
using Quartz;

namespace Hotline.Server.Jobs;

/// <summary>A ticket the dispatchers should look at, and why (from its events: a hold, or an auto-dispatch flag).</summary>
public sealed record AttentionItem(Guid TicketId, string Number, string Reason, DateTimeOffset DispatchDueAt, string Status, string ReasonCode, string Detail, DateTimeOffset Since);

/// <summary>
/// The dispatchers' worklist of what auto-dispatch left for a person: every waiting ticket whose stream holds a
/// dispatcher hold (<see cref="DispatchHeld"/>) or an auto-dispatch flag (<see cref="DispatcherAttentionFlagged"/>),
/// read from the ticket read model (folded events), so it holds no state of its own and is the same on every node.
/// The colour is the dispatch deadline's colour of the to-dispatch worklist (<see cref="TicketViews.Deadline"/>).
/// </summary>
public sealed class DispatchAttention(TicketIndex index, TicketViews views)
{
    public const string HeldCode = "held";

    public IReadOnlyList<AttentionItem> Current =>
        index.InState(TicketState.Registered).Where(t => t.Hold is not null || t.DispatcherFlag is not null)
            .OrderBy(t => t.DispatchDueAt)
            .Select(t => (Ticket: t, Colour: views.Deadline(t)?.Status ?? "normal"))
            .Select(x => x.Ticket.Hold is { } hold
                ? new AttentionItem(x.Ticket.Id, x.Ticket.Number, "派单员暂缓", x.Ticket.DispatchDueAt, x.Colour, HeldCode, hold.Reason, hold.Since)
                : new AttentionItem(x.Ticket.Id, x.Ticket.Number, DispatcherAttentionReasons.NameOf(x.Ticket.DispatcherFlag!.ReasonCode), x.Ticket.DispatchDueAt, x.Colour,
                    x.Ticket.DispatcherFlag.ReasonCode, x.Ticket.DispatcherFlag.Detail, x.Ticket.DispatcherFlag.At))
            .ToList();
}

/// <summary>
/// What the current dispatch catalogue says for one category × area: the entry to follow, none (only the district
/// fallback 兜底 would apply), or an ambiguity (entries equally specific that name different units).
/// </summary>
public sealed record CatalogueChoice(CatalogueEntry? Entry, IReadOnlyList<CatalogueEntry> Conflicting)
{
    public bool IsAmbiguous => Conflicting.Count > 1;

    /// <summary>
    /// The most specific matching entry. An entry matches when its category code is a prefix of the ticket's category
    /// (any level) and its area is a prefix of the ticket's area (community → town → district) or it has none (city-wide).
    /// One entry is more specific than another when it is at least as deep in both the area and the category tree and
    /// deeper in one. The entries no other entry beats are the candidates: one (or several naming the same main unit and
    /// co-units) → that entry; several that disagree (e.g. a town entry for 城市管理 and a city-wide one for 噪音: each is
    /// more specific on one axis) → ambiguous, left to a dispatcher.
    /// </summary>
    public static CatalogueChoice For(IReadOnlyList<CatalogueEntry> entries, string categoryCode, string areaCode)
    {
        var matching = entries.Where(e => categoryCode.StartsWith(e.CategoryCode, StringComparison.Ordinal)
            && (e.AreaCode is null || areaCode.StartsWith(e.AreaCode, StringComparison.Ordinal))).ToList();
        var top = matching.Where(e => !matching.Any(f => Beats(f, e))).ToList();
        if (top.Count == 0) return new CatalogueChoice(null, []);
        // The same pick as CityReference.CatalogueEntryFor (longest category, then longest area): when the candidates
        // agree, the dispatch goes to the unit the catalogue suggests.
        var first = top.OrderByDescending(e => e.CategoryCode.Length).ThenByDescending(e => e.AreaCode?.Length ?? 0).First();
        return top.All(e => SameUnits(e, first)) ? new CatalogueChoice(first, []) : new CatalogueChoice(null, top);
    }

    private static bool Beats(CatalogueEntry f, CatalogueEntry e)
    {
        int fa = f.AreaCode?.Length ?? 0, ea = e.AreaCode?.Length ?? 0;
        return fa >= ea && f.CategoryCode.Length >= e.CategoryCode.Length && (fa > ea || f.CategoryCode.Length > e.CategoryCode.Length);
    }

    private static bool SameUnits(CatalogueEntry a, CatalogueEntry b) =>
        a.UnitId == b.UnitId && (a.CoUnitIds ?? []).Order(StringComparer.Ordinal).SequenceEqual((b.CoUnitIds ?? []).Order(StringComparer.Ordinal), StringComparer.Ordinal);

    /// <summary>"0203 @ 010101 → cgj + town-0101" for a flag's detail.</summary>
    public static string Describe(CatalogueEntry e) =>
        $"{e.CategoryCode}@{e.AreaCode ?? "全市"}→{e.UnitId}" + (e.CoUnitIds is { Count: > 0 } co ? "+" + string.Join("+", co) : "");
}

/// <summary>
/// 自动派单: a ticket waiting for dispatch longer than the configured delay, whose category × area has an unambiguous
/// catalogue entry (the most specific one, see <see cref="CatalogueChoice.For"/>; not the district fallback) and which
/// no dispatcher holds, is dispatched to that entry's main unit with its co-units; the rest get a
/// <see cref="DispatcherAttentionFlagged"/> event (once per reason). The dispatch deadline is watched from the folded
/// stream (so a recomputed deadline counts): once it has passed, the dispatchers are urged (an event, once per deadline).
/// </summary>
[DisallowConcurrentExecution]
public sealed class AutoDispatchJob(TicketIndex index, TicketWriter writer, CityReference city, JobsOptions options, TimeProvider time) : OfficeJob
{
    public static readonly JobKey Key = new("auto-dispatch", "tickets");

    /// <summary>The catalogue entry auto-dispatch follows for a ticket's category × area, or null (none, or ambiguous).</summary>
    public static CatalogueEntry? CatalogueEntry(CityReference city, string categoryCode, string areaCode) =>
        CatalogueChoice.For(city.CatalogueEntries, categoryCode, areaCode).Entry;

    /// <summary>Why auto-dispatch cannot take this ticket (a <see cref="DispatcherAttentionReasons"/> code and a detail), or null when it can.</summary>
    public static (string Code, string Detail)? Blocker(CityReference city, JobsOptions options, Ticket t)
    {
        var choice = CatalogueChoice.For(city.CatalogueEntries, t.CategoryCode, t.AreaCode);
        if (choice.IsAmbiguous)
            return (DispatcherAttentionReasons.Ambiguous, $"派单目录对事项分类 {t.CategoryCode}、区域 {t.AreaCode} 有同样具体但承办单位不同的条目（{string.Join("；", choice.Conflicting.Select(CatalogueChoice.Describe))}），需派单员判断");
        if (choice.Entry is not { } entry) return (DispatcherAttentionReasons.NoCatalogueEntry, $"事项分类 {t.CategoryCode} 在派单目录中没有承办单位，只能由区政府兜底，需派单员判断");
        foreach (var unit in (IEnumerable<string>)[entry.UnitId, .. entry.CoUnitIds ?? []])
            if (!city.IsHandlingUnit(unit)) return (DispatcherAttentionReasons.Ambiguous, $"派单目录给出的单位 {unit} 不能承办工单");
        if (t.Tasks.Any(x => x.UnitId == entry.UnitId && x.ParentTaskId is null && x.State == TaskState.Returned))
            return (DispatcherAttentionReasons.Ambiguous, $"派单目录给出的单位 {entry.UnitId} 已退回本工单，需派单员改派");
        if (options.AutoDispatchExcludedUrgencies.Contains(t.Urgency)) return (DispatcherAttentionReasons.ExcludedUrgency, $"{t.Urgency}工单不自动派单");
        return null;
    }

    public override async Task<string> RunAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var waiting = index.InState(TicketState.Registered).OrderBy(t => t.DispatchDueAt).Select(t => t.Id).ToList();
        var dispatched = 0;
        var flagged = 0;
        var urged = 0;
        foreach (var id in waiting)
        {
            ct.ThrowIfCancellationRequested();
            if (await writer.LoadAsync(id, ct) is not { } loaded || loaded.Ticket.State != TicketState.Registered) continue;
            var t = loaded.Ticket;
            var blocker = Blocker(city, options, t);
            var waitedEnough = now - (t.DispatchBasis?.Start ?? t.RegisteredAt) >= TimeSpan.FromMinutes(options.AutoDispatchDelayMinutes);
            if (options.AutoDispatchEnabled && t.Hold is null)
            {
                if (blocker is null && waitedEnough)
                {
                    var taskId = DeterministicId.From("auto-dispatch", t.Id.ToString("N"), t.Version.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    var entry = CatalogueEntry(city, t.CategoryCode, t.AreaCode)!;
                    var command = new DispatchTicket(taskId, entry.UnitId, $"自动派单（派单目录 {city.CatalogueVersion} 版：{CatalogueChoice.Describe(entry)}）", SystemActor.Id)
                    {
                        CoUnitIds = entry.CoUnitIds ?? [],
                    };
                    if (await writer.TryExecuteAsync(t, command, $"auto-dispatch:{t.Id:N}:{t.Version}", ct))
                        dispatched++;
                    continue;
                }
                if (blocker is { } b && t.DispatcherFlag?.ReasonCode != b.Code)
                {
                    if (!await writer.TryExecuteAsync(t, new FlagForDispatcher(b.Code, b.Detail, SystemActor.Id), $"flag:{t.Id:N}:{t.Version}:{b.Code}", ct)) continue;
                    flagged++;
                    if (await writer.LoadAsync(id, ct) is not { } reloaded || reloaded.Ticket.State != TicketState.Registered) continue;
                    loaded = reloaded;
                    t = loaded.Ticket;
                }
            }

            foreach (var step in Chasing.Dispatch(t, loaded.History, now))
                if (await writer.TryExecuteAsync(t, step.Command, step.Key, ct)) urged++;
        }
        return $"{dispatched} dispatched, {flagged} flagged, {urged} dispatch urge(s)";
    }
}
