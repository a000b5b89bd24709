using System.Text;
using System.Text.Json;
using Hotline.Domain.Tickets;
using Hotline.EventStore;
using Hotline.Server.Tickets;

namespace Hotline.Server.Storage;

/// <summary>
/// A checkpoint of the in-memory <see cref="TicketIndex"/>: the folded state of every ticket plus the global position up
/// to which every ticket event is in it, in one file of the node's data directory (<c>ticket-index.snapshot</c>: a JSON
/// header line, then one ticket per line). At start the index loads it and the projection runner applies only the
/// ticket events after that position, instead of folding every ticket event of the log again (10 M events: minutes).
/// A snapshot is used only when it was written by the same build of the domain (<c>Ticket.Evolve</c> may fold
/// differently in another build), when the event at its position is still the same event (another or a reset store
/// is never mixed with it), and when it reads back completely; otherwise the index is replayed from position 0 as before.
/// Written atomically (temp file, then rename).
/// </summary>
public sealed class TicketIndexSnapshot(string path)
{
    public const string FileName = "ticket-index.snapshot";
    private const int Format = 1;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { IgnoreReadOnlyProperties = true };

    /// <summary>Identifies the build of the domain model that folded the states (a new build replays instead of trusting old folds).</summary>
    public static string Build { get; } = typeof(Ticket).Assembly.ManifestModule.ModuleVersionId.ToString("N");

    public string Path => path;

    private sealed record Header(int Format, string Build, long Position, Guid EventId, int Count, DateTimeOffset WrittenAt);

    /// <summary>Writes every ticket of <paramref name="index"/>; <paramref name="position"/> must be a position all of whose ticket events are applied.</summary>
    /// <returns>The number of tickets written.</returns>
    public async Task<int> WriteAsync(TicketIndex index, long position, Guid eventIdAtPosition, DateTimeOffset now, CancellationToken ct)
    {
        var tickets = index.All.ToList();
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        var temp = path + ".tmp";
        await using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
        {
            var newline = "\n"u8.ToArray();
            await JsonSerializer.SerializeAsync(file, new Header(Format, Build, position, eventIdAtPosition, tickets.Count, now), Json, ct);
            await file.WriteAsync(newline, ct);
            foreach (var t in tickets)
            {
                ct.ThrowIfCancellationRequested();
                await JsonSerializer.SerializeAsync(file, t, Json, ct);
                await file.WriteAsync(newline, ct);
            }
            await file.FlushAsync(ct);
            file.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
        return tickets.Count;
    }

    /// <summary>
    /// Loads the snapshot into <paramref name="index"/> if it is usable for <paramref name="store"/>; returns its position
    /// (every ticket event up to it is in the index), or 0 when there is no usable snapshot (nothing is loaded then).
    /// </summary>
    public async Task<long> TryLoadAsync(TicketIndex index, IEventStore store, ILogger logger, CancellationToken ct)
    {
        if (!File.Exists(path)) return 0;
        try
        {
            using var reader = new StreamReader(path, Encoding.UTF8, false, new FileStreamOptions { BufferSize = 1 << 16, Options = FileOptions.SequentialScan });
            var header = JsonSerializer.Deserialize<Header>(await reader.ReadLineAsync(ct) ?? "", Json);
            if (header is null || header.Format != Format || header.Build != Build)
            {
                logger.LogInformation("Ticket index snapshot {Path} is from another build; replaying the log instead", path);
                return 0;
            }
            var atPosition = await store.ReadAllAsync(header.Position - 1, 1, ct).FirstOrDefaultAsync(ct);
            if (atPosition is null || atPosition.Position != header.Position || atPosition.EventId != header.EventId)
            {
                logger.LogWarning("Ticket index snapshot {Path} does not match the event store (no event {EventId} at position {Position}); replaying the log instead", path, header.EventId, header.Position);
                return 0;
            }
            var tickets = new List<Ticket>(header.Count);
            while (await reader.ReadLineAsync(ct) is { Length: > 0 } line)
                tickets.Add(JsonSerializer.Deserialize<Ticket>(line, Json) ?? throw new JsonException("null ticket"));
            if (tickets.Count != header.Count) throw new JsonException($"{tickets.Count} of {header.Count} tickets");
            foreach (var t in tickets) index.Put(t);
            logger.LogInformation("Ticket index loaded from {Path}: {Count} tickets up to position {Position} (written {WrittenAt:u})", path, tickets.Count, header.Position, header.WrittenAt);
            return header.Position;
        }
        catch (Exception e) when (e is JsonException or IOException or InvalidOperationException or NotSupportedException)
        {
            logger.LogWarning(e, "Ticket index snapshot {Path} could not be read; replaying the log instead", path);
            return 0;
        }
    }
}
