using System.Collections.Immutable;
using Hotline.Domain.Tickets;
using Hotline.Server.Reference;
using Hotline.Server.Storage;
using Hotline.Server.Tickets;
using Quartz;

namespace Hotline.Server.Jobs;

/// <summary>A ticket the dispatchers should look at, and why.</summary>
public sealed record AttentionItem(Guid TicketId, string Number, string Reason, DateTimeOffset DispatchDueAt, string Status);

/// <summary>What the auto-dispatch job left for a person (rebuilt on every run from the tickets, so it holds no state of its own).</summary>
public sealed class DispatchAttention
{
    private ImmutableList<AttentionItem> _items = [];

    public IReadOnlyList<AttentionItem> Current => _items;

    public void Replace(IEnumerable<AttentionItem> items) => _items = items.ToImmutableList();
}

/// <summary>
/// 自动派单: a ticket waiting for dispatch longer than the configured delay, whose category × area has an unambiguous
/// catalogue entry (a category entry, not the district fallback) and which no dispatcher holds, is dispatched to that
/// unit; the rest are flagged for the dispatchers. The dispatch deadline is watched: yellow at 80 %, and once it has
/// passed the dispatchers are urged (an event, once per deadline).
/// </summary>
[DisallowConcurrentExecution]
public sealed class AutoDispatchJob(TicketIndex index, TicketWriter writer, CityReference city, DispatchAttention attention, JobsOptions options, TimeProvider time) : OfficeJob
{
    public static readonly JobKey Key = new("auto-dispatch", "tickets");

    /// <summary>The catalogue unit for a category, or null when only the district fallback (兜底) would apply.</summary>
    public static string? CatalogueUnit(CityReference city, string categoryCode)
    {
        if (categoryCode.Length >= 4 && city.Catalogue.TryGetValue(categoryCode[..4], out var unit)) return unit;
        if (categoryCode.Length >= 2 && city.Catalogue.TryGetValue(categoryCode[..2], out unit)) return unit;
        return null;
    }

    public override async Task<string> RunAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var waiting = index.InState(TicketState.Registered).OrderBy(t => t.DispatchDueAt).ToList();
        var dispatched = 0;
        var urged = 0;
        var flagged = new List<AttentionItem>();
        foreach (var candidate in waiting)
        {
            if (await writer.LoadAsync(candidate.Id, ct) is not { } loaded || loaded.Ticket.State != TicketState.Registered) continue;
            var (t, history) = loaded;
            var unit = CatalogueUnit(city, t.CategoryCode);
            var due = now - t.RegisteredAt >= TimeSpan.FromMinutes(options.AutoDispatchDelayMinutes);
            var held = Held(t, history);
            if (options.AutoDispatchEnabled && due && unit is not null && !held && !options.AutoDispatchExcludedUrgencies.Contains(t.Urgency) && city.IsHandlingUnit(unit))
            {
                var taskId = DeterministicId.From("auto-dispatch", t.Id.ToString("N"), t.Version.ToString(System.Globalization.CultureInfo.InvariantCulture));
                if (await writer.TryExecuteAsync(t, new DispatchTicket(taskId, unit, "自动派单（派单目录）", SystemActor.Id), $"auto-dispatch:{t.Id:N}:{t.Version}", ct))
                {
                    dispatched++;
                    continue;
                }
            }

            foreach (var step in Chasing.Dispatch(t, history, now))
                if (await writer.TryExecuteAsync(t, step.Command, step.Key, ct)) urged++;

            var reason = unit is null ? "派单目录无唯一承办单位" : held ? "派单员暂缓" : !due ? "等待派单员处理" : "不自动派单";
            var status = now > t.DispatchDueAt ? "red" : (now - t.RegisteredAt).Ticks >= (t.DispatchDueAt - t.RegisteredAt).Ticks * 4 / 5 ? "yellow" : "normal";
            flagged.Add(new AttentionItem(t.Id, t.Number, reason, t.DispatchDueAt, status));
        }
        attention.Replace(flagged);
        return $"{dispatched} dispatched, {flagged.Count} flagged, {urged} dispatch urge(s)";
    }

    /// <summary>
    /// A dispatcher hold: a progress note by the office on the waiting ticket starting with "暂缓" after its latest
    /// registration or return. (The ticket domain has no hold command yet; this reads the hold from the events.)
    /// </summary>
    public static bool Held(Ticket t, IReadOnlyList<ITicketEvent> history)
    {
        var since = history.LastOrDefault(e => e is TicketRegistered or ReturnApproved or TicketReopened)?.At ?? t.RegisteredAt;
        return history.OfType<ProgressNoted>().Any(n => n.TaskId is null && n.At >= since && n.Text.StartsWith("暂缓", StringComparison.Ordinal));
    }
}
