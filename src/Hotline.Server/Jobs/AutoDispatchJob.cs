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
/// </summary>
public sealed class DispatchAttention(TicketIndex index, TimeProvider time)
{
    public const string HeldCode = "held";

    public IReadOnlyList<AttentionItem> Current => Of(index.InState(TicketState.Registered), time.GetUtcNow());

    public static IReadOnlyList<AttentionItem> Of(IEnumerable<Ticket> waiting, DateTimeOffset now) =>
        waiting.Where(t => t.State == TicketState.Registered && (t.Hold is not null || t.DispatcherFlag is not null))
            .OrderBy(t => t.DispatchDueAt)
            .Select(t => t.Hold is { } hold
                ? new AttentionItem(t.Id, t.Number, "派单员暂缓", t.DispatchDueAt, Colour(t, now), HeldCode, hold.Reason, hold.Since)
                : new AttentionItem(t.Id, t.Number, DispatcherAttentionReasons.NameOf(t.DispatcherFlag!.ReasonCode), t.DispatchDueAt, Colour(t, now), t.DispatcherFlag.ReasonCode, t.DispatcherFlag.Detail, t.DispatcherFlag.At))
            .ToList();

    /// <summary>The dispatch deadline's colour: red past it, yellow after 80 % of the time since the ticket began waiting.</summary>
    public static string Colour(Ticket t, DateTimeOffset now)
    {
        var since = t.DispatchBasis?.Start ?? t.RegisteredAt;
        return now > t.DispatchDueAt ? "red" : (now - since).Ticks >= (t.DispatchDueAt - since).Ticks * 4 / 5 ? "yellow" : "normal";
    }
}

/// <summary>
/// 自动派单: a ticket waiting for dispatch longer than the configured delay, whose category × area has an unambiguous
/// catalogue entry (a category entry, not the district fallback) and which no dispatcher holds, is dispatched to that
/// unit; the rest get a <see cref="DispatcherAttentionFlagged"/> event (once per reason). The dispatch deadline is
/// watched from the folded stream (so a recomputed deadline counts): once it has passed, the dispatchers are urged
/// (an event, once per deadline).
/// </summary>
[DisallowConcurrentExecution]
public sealed class AutoDispatchJob(TicketIndex index, TicketWriter writer, CityReference city, JobsOptions options, TimeProvider time) : OfficeJob
{
    public static readonly JobKey Key = new("auto-dispatch", "tickets");

    /// <summary>The catalogue unit for a category, or null when only the district fallback (兜底) would apply.</summary>
    public static string? CatalogueUnit(CityReference city, string categoryCode)
    {
        if (categoryCode.Length >= 4 && city.Catalogue.TryGetValue(categoryCode[..4], out var unit)) return unit;
        if (categoryCode.Length >= 2 && city.Catalogue.TryGetValue(categoryCode[..2], out unit)) return unit;
        return null;
    }

    /// <summary>Why auto-dispatch cannot take this ticket (a <see cref="DispatcherAttentionReasons"/> code and a detail), or null when it can.</summary>
    public static (string Code, string Detail)? Blocker(CityReference city, JobsOptions options, Ticket t)
    {
        var unit = CatalogueUnit(city, t.CategoryCode);
        if (unit is null) return (DispatcherAttentionReasons.NoCatalogueEntry, $"事项分类 {t.CategoryCode} 在派单目录中没有承办单位，只能由区政府兜底，需派单员判断");
        if (!city.IsHandlingUnit(unit)) return (DispatcherAttentionReasons.Ambiguous, $"派单目录给出的单位 {unit} 不能承办工单");
        if (t.Tasks.Any(x => x.UnitId == unit && x.ParentTaskId is null && x.State == TaskState.Returned))
            return (DispatcherAttentionReasons.Ambiguous, $"派单目录给出的单位 {unit} 已退回本工单，需派单员改派");
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
                    if (await writer.TryExecuteAsync(t, new DispatchTicket(taskId, CatalogueUnit(city, t.CategoryCode), "自动派单（派单目录）", SystemActor.Id), $"auto-dispatch:{t.Id:N}:{t.Version}", ct))
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
