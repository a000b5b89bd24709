using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;

namespace Hotline.Server.Tickets;

/// <summary>One row of the persistent search read model: what the filters look at, not what the list shows.</summary>
public sealed record TicketSearchRow(
    Guid TicketId, long Version, string Number, string Phone, string CategoryCode, string AreaCode, IReadOnlyList<string> Units,
    string State, DateTimeOffset RegisteredAt, DateOnly RegisteredDay, bool IsRepeat, string Text);

/// <summary>
/// A search as the store runs it. <see cref="Text"/> is matched as a substring of number, content, address and merged
/// duplicates (and of the phone when <see cref="TextMatchesPhone"/>); <see cref="AnyUnit"/> and <see cref="VisibleUnits"/>
/// each match tickets with a task of one of the units.
/// </summary>
public sealed record TicketSearchQuery(
    string? Number = null, string? Phone = null, string? Text = null, bool TextMatchesPhone = false, string? CategoryPrefix = null, string? AreaPrefix = null,
    IReadOnlyList<string>? AnyUnit = null, IReadOnlyList<string>? VisibleUnits = null, IReadOnlyList<string>? States = null,
    DateOnly? From = null, DateOnly? To = null, bool? Repeat = null, string Sort = "-created", int Offset = 0, int Limit = 20);

public sealed record TicketSearchResult(IReadOnlyList<Guid> Ids, int Total);

/// <summary>
/// The persistent ticket search table with the checkpoints of the persistent read models. SQLite: an FTS5 table with the
/// <c>trigram</c> tokenizer over the text; PostgreSQL: <c>pg_trgm</c> GIN indexes. Text of 3 or more characters uses the
/// trigram index; shorter text (common in Chinese: 噪音) is a plain substring scan of the same table. Matching is
/// ordinal (case-sensitive), as before.
/// </summary>
public interface ITicketSearchStore
{
    string Engine { get; }

    Task InitializeAsync(CancellationToken ct);

    /// <summary>The stored checkpoint of a read model (0 when none).</summary>
    Task<long> GetCheckpointAsync(string readModel, CancellationToken ct);

    /// <summary>Upserts the rows (a row never goes back to an older version) and moves the checkpoint, in one transaction.</summary>
    Task SaveAsync(IReadOnlyCollection<TicketSearchRow> rows, string readModel, long position, CancellationToken ct);

    /// <summary>Empties the table and sets the checkpoint to 0, in one transaction.</summary>
    Task ResetAsync(string readModel, CancellationToken ct);

    Task<TicketSearchResult> SearchAsync(TicketSearchQuery q, CancellationToken ct);

    /// <summary>Sets every checkpoint to 0 and empties the tables (the <c>--rebuild-read-models</c> switch, before the projections start).</summary>
    Task ResetAllAsync(CancellationToken ct);
}

internal static class SearchText
{
    /// <summary>Trigram indexes need at least three characters (code points) of text.</summary>
    public static bool UsesTrigrams(string text) => text.EnumerateRunes().Take(3).Count() >= 3;

    public static string LikePattern(string text)
    {
        var sb = new StringBuilder("%");
        foreach (var c in text)
        {
            if (c is '%' or '_' or '\\') sb.Append('\\');
            sb.Append(c);
        }
        return sb.Append('%').ToString();
    }

    public static string OrderBy(string sort) => sort switch
    {
        "created" => "registered_at ASC, ticket_id ASC",
        "number" => "number ASC",
        "-number" => "number DESC",
        _ => "registered_at DESC, ticket_id DESC",
    };
}

public sealed class SqliteTicketSearchStore(string connectionString) : ITicketSearchStore
{
    private static readonly string[] UpsertParameters = ["$id", "$v", "$number", "$phone", "$cat", "$area", "$units", "$state", "$at", "$day", "$rep", "$text"];

    public string Engine => "sqlite-fts5-trigram";

    private async Task<SqliteConnection> OpenAsync(CancellationToken ct)
    {
        var c = new SqliteConnection(connectionString);
        await c.OpenAsync(ct);
        await using var pragma = c.CreateCommand();
        pragma.CommandText = "PRAGMA busy_timeout = 10000;";
        await pragma.ExecuteNonQueryAsync(ct);
        return c;
    }

    public async Task InitializeAsync(CancellationToken ct)
    {
        await using var c = await OpenAsync(ct);
        await using var cmd = c.CreateCommand();
        cmd.CommandText = """
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS read_model_checkpoints (name TEXT PRIMARY KEY, position INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS ticket_search (
                id INTEGER PRIMARY KEY, ticket_id TEXT NOT NULL UNIQUE, version INTEGER NOT NULL, number TEXT NOT NULL, phone TEXT NOT NULL,
                category_code TEXT NOT NULL, area_code TEXT NOT NULL, units TEXT NOT NULL, state TEXT NOT NULL,
                registered_at INTEGER NOT NULL, registered_day TEXT NOT NULL, is_repeat INTEGER NOT NULL, text TEXT NOT NULL);
            DROP INDEX IF EXISTS ticket_search_registered;
            CREATE INDEX IF NOT EXISTS ticket_search_registered_id ON ticket_search (registered_at, ticket_id);
            CREATE INDEX IF NOT EXISTS ticket_search_number ON ticket_search (number);
            CREATE VIRTUAL TABLE IF NOT EXISTS ticket_search_fts USING fts5 (text, content = 'ticket_search', content_rowid = 'id', tokenize = 'trigram case_sensitive 1');
            CREATE TRIGGER IF NOT EXISTS ticket_search_ai AFTER INSERT ON ticket_search BEGIN
                INSERT INTO ticket_search_fts (rowid, text) VALUES (new.id, new.text); END;
            CREATE TRIGGER IF NOT EXISTS ticket_search_ad AFTER DELETE ON ticket_search BEGIN
                INSERT INTO ticket_search_fts (ticket_search_fts, rowid, text) VALUES ('delete', old.id, old.text); END;
            DROP TRIGGER IF EXISTS ticket_search_au;
            CREATE TRIGGER IF NOT EXISTS ticket_search_au_text AFTER UPDATE ON ticket_search WHEN old.text IS NOT new.text BEGIN
                INSERT INTO ticket_search_fts (ticket_search_fts, rowid, text) VALUES ('delete', old.id, old.text);
                INSERT INTO ticket_search_fts (rowid, text) VALUES (new.id, new.text); END;
            """;
        await cmd.ExecuteNonQueryAsync(ct);
    }

    public async Task<long> GetCheckpointAsync(string readModel, CancellationToken ct)
    {
        await using var c = await OpenAsync(ct);
        await using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT position FROM read_model_checkpoints WHERE name = $n";
        cmd.Parameters.AddWithValue("$n", readModel);
        return await cmd.ExecuteScalarAsync(ct) is long p ? p : 0;
    }

    public async Task SaveAsync(IReadOnlyCollection<TicketSearchRow> rows, string readModel, long position, CancellationToken ct)
    {
        await using var c = await OpenAsync(ct);
        await using var tx = (SqliteTransaction)await c.BeginTransactionAsync(ct);
        if (rows.Count > 0)
        {
            await using var up = c.CreateCommand();
            up.Transaction = tx;
            up.CommandText = """
                INSERT INTO ticket_search (ticket_id, version, number, phone, category_code, area_code, units, state, registered_at, registered_day, is_repeat, text)
                VALUES ($id, $v, $number, $phone, $cat, $area, $units, $state, $at, $day, $rep, $text)
                ON CONFLICT (ticket_id) DO UPDATE SET version = excluded.version, number = excluded.number, phone = excluded.phone,
                    category_code = excluded.category_code, area_code = excluded.area_code, units = excluded.units, state = excluded.state,
                    registered_at = excluded.registered_at, registered_day = excluded.registered_day, is_repeat = excluded.is_repeat, text = excluded.text
                WHERE excluded.version > ticket_search.version
                """;
            var p = UpsertParameters.Select(n => up.Parameters.Add(n, SqliteType.Text)).ToArray();
            foreach (var r in rows)
            {
                p[0].Value = r.TicketId.ToString("N");
                p[1].Value = r.Version;
                p[2].Value = r.Number;
                p[3].Value = r.Phone;
                p[4].Value = r.CategoryCode;
                p[5].Value = r.AreaCode;
                p[6].Value = "|" + string.Join('|', r.Units) + "|";
                p[7].Value = r.State;
                p[8].Value = r.RegisteredAt.ToUnixTimeMilliseconds();
                p[9].Value = r.RegisteredDay.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
                p[10].Value = r.IsRepeat ? 1 : 0;
                p[11].Value = r.Text;
                await up.ExecuteNonQueryAsync(ct);
            }
        }
        await SetCheckpointAsync(c, tx, readModel, position, ct);
        await tx.CommitAsync(ct);
    }

    private static async Task SetCheckpointAsync(SqliteConnection c, SqliteTransaction tx, string readModel, long position, CancellationToken ct)
    {
        await using var cp = c.CreateCommand();
        cp.Transaction = tx;
        cp.CommandText = "INSERT INTO read_model_checkpoints (name, position) VALUES ($n, $p) ON CONFLICT (name) DO UPDATE SET position = excluded.position";
        cp.Parameters.AddWithValue("$n", readModel);
        cp.Parameters.AddWithValue("$p", position);
        await cp.ExecuteNonQueryAsync(ct);
    }

    public async Task ResetAsync(string readModel, CancellationToken ct)
    {
        await using var c = await OpenAsync(ct);
        await using var tx = (SqliteTransaction)await c.BeginTransactionAsync(ct);
        await using (var del = c.CreateCommand())
        {
            del.Transaction = tx;
            del.CommandText = "DELETE FROM ticket_search; INSERT INTO ticket_search_fts (ticket_search_fts) VALUES ('delete-all');";
            await del.ExecuteNonQueryAsync(ct);
        }
        await SetCheckpointAsync(c, tx, readModel, 0, ct);
        await tx.CommitAsync(ct);
    }

    public async Task ResetAllAsync(CancellationToken ct)
    {
        await ResetAsync(TicketSearchProjection.ReadModelName, ct);
        await using var c = await OpenAsync(ct);
        await using var cmd = c.CreateCommand();
        cmd.CommandText = "UPDATE read_model_checkpoints SET position = 0";
        await cmd.ExecuteNonQueryAsync(ct);
    }

    public async Task<TicketSearchResult> SearchAsync(TicketSearchQuery q, CancellationToken ct)
    {
        await using var c = await OpenAsync(ct);
        await using var cmd = c.CreateCommand();
        var where = new List<string>();
        void Units(string prefix, IReadOnlyList<string> units)
        {
            var parts = new List<string>();
            for (var i = 0; i < units.Count; i++)
            {
                parts.Add($"instr(units, ${prefix}{i}) > 0");
                cmd.Parameters.AddWithValue($"${prefix}{i}", "|" + units[i] + "|");
            }
            where.Add(parts.Count == 0 ? "0" : "(" + string.Join(" OR ", parts) + ")");
        }
        if (q.Number is { } number) { where.Add("instr(number, $number) > 0"); cmd.Parameters.AddWithValue("$number", number); }
        if (q.Phone is { } phone) { where.Add("instr(phone, $phone) > 0"); cmd.Parameters.AddWithValue("$phone", phone); }
        if (q.Text is { } text)
        {
            // ≥ 3 characters: the FTS5 trigram index (a quoted phrase is a substring match); shorter: a scan of the same table.
            var match = SearchText.UsesTrigrams(text) ? "id IN (SELECT rowid FROM ticket_search_fts WHERE ticket_search_fts MATCH $match)" : "instr(text, $q) > 0";
            where.Add(q.TextMatchesPhone ? $"({match} OR instr(phone, $q) > 0)" : match);
            cmd.Parameters.AddWithValue("$q", text);
            cmd.Parameters.AddWithValue("$match", "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"");
        }
        if (q.CategoryPrefix is { } cat) { where.Add("substr(category_code, 1, length($cat)) = $cat"); cmd.Parameters.AddWithValue("$cat", cat); }
        if (q.AreaPrefix is { } area) { where.Add("substr(area_code, 1, length($area)) = $area"); cmd.Parameters.AddWithValue("$area", area); }
        if (q.AnyUnit is { } any) Units("u", any);
        if (q.VisibleUnits is { } visible) Units("vis", visible);
        if (q.States is { } states)
        {
            where.Add("state IN (" + string.Join(", ", states.Select((_, i) => "$s" + i)) + ")");
            for (var i = 0; i < states.Count; i++) cmd.Parameters.AddWithValue("$s" + i, states[i]);
        }
        if (q.From is { } from) { where.Add("registered_day >= $from"); cmd.Parameters.AddWithValue("$from", from.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)); }
        if (q.To is { } to) { where.Add("registered_day <= $to"); cmd.Parameters.AddWithValue("$to", to.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)); }
        if (q.Repeat is { } repeat) { where.Add("is_repeat = $rep"); cmd.Parameters.AddWithValue("$rep", repeat ? 1 : 0); }
        var filter = where.Count == 0 ? "" : "WHERE " + string.Join(" AND ", where);
        // The page and the total are two statements: "count(*) OVER ()" beside ORDER BY … LIMIT makes SQLite visit and sort
        // every matching row before the first one comes back (seconds with a million tickets), while the page alone walks
        // the (registered_at, ticket_id) or number index and stops after LIMIT rows; count(*) then only counts.
        var total = await CountAsync(c, cmd, filter, ct);
        cmd.CommandText = $"SELECT ticket_id FROM ticket_search {filter} ORDER BY {SearchText.OrderBy(q.Sort)} LIMIT $limit OFFSET $offset";
        cmd.Parameters.AddWithValue("$limit", q.Limit);
        cmd.Parameters.AddWithValue("$offset", q.Offset);
        var ids = new List<Guid>();
        if (q.Offset < total)
        {
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) ids.Add(Guid.ParseExact(reader.GetString(0), "N"));
        }
        return new TicketSearchResult(ids, total);
    }

    private static async Task<int> CountAsync(SqliteConnection c, SqliteCommand source, string filter, CancellationToken ct)
    {
        await using var count = c.CreateCommand();
        count.CommandText = $"SELECT count(*) FROM ticket_search {filter}";
        foreach (SqliteParameter p in source.Parameters) count.Parameters.AddWithValue(p.ParameterName, p.Value);
        return Convert.ToInt32(await count.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture);
    }
}

public sealed class PostgresTicketSearchStore(string connectionString) : ITicketSearchStore
{
    public string Engine => "postgres-pg_trgm";

    private async Task<NpgsqlConnection> OpenAsync(CancellationToken ct)
    {
        var c = new NpgsqlConnection(connectionString);
        await c.OpenAsync(ct);
        return c;
    }

    public async Task InitializeAsync(CancellationToken ct)
    {
        await using var c = await OpenAsync(ct);
        await using var cmd = c.CreateCommand();
        // pg_trgm ships with PostgreSQL (contrib); creating it needs a role allowed to (a superuser, or the database owner on PostgreSQL 13+ since pg_trgm is a trusted extension).
        // Several nodes start together: one creates the schema at a time (concurrent CREATE … IF NOT EXISTS can collide).
        cmd.CommandText = """
            BEGIN;
            SELECT pg_advisory_xact_lock(734512345);
            CREATE EXTENSION IF NOT EXISTS pg_trgm;
            CREATE TABLE IF NOT EXISTS read_model_checkpoints (name text PRIMARY KEY, position bigint NOT NULL);
            CREATE TABLE IF NOT EXISTS ticket_search (
                ticket_id uuid PRIMARY KEY, version bigint NOT NULL, number text NOT NULL, phone text NOT NULL,
                category_code text NOT NULL, area_code text NOT NULL, units text[] NOT NULL, state text NOT NULL,
                registered_at timestamptz NOT NULL, registered_day date NOT NULL, is_repeat boolean NOT NULL, text text NOT NULL);
            CREATE INDEX IF NOT EXISTS ticket_search_text_trgm ON ticket_search USING gin (text gin_trgm_ops);
            CREATE INDEX IF NOT EXISTS ticket_search_number_trgm ON ticket_search USING gin (number gin_trgm_ops);
            CREATE INDEX IF NOT EXISTS ticket_search_phone_trgm ON ticket_search USING gin (phone gin_trgm_ops);
            CREATE INDEX IF NOT EXISTS ticket_search_units ON ticket_search USING gin (units);
            DROP INDEX IF EXISTS ticket_search_registered;
            CREATE INDEX IF NOT EXISTS ticket_search_registered_id ON ticket_search (registered_at, ticket_id);
            CREATE INDEX IF NOT EXISTS ticket_search_category ON ticket_search (category_code text_pattern_ops);
            CREATE INDEX IF NOT EXISTS ticket_search_area ON ticket_search (area_code text_pattern_ops);
            COMMIT;
            """;
        await cmd.ExecuteNonQueryAsync(ct);
    }

    public async Task<long> GetCheckpointAsync(string readModel, CancellationToken ct)
    {
        await using var c = await OpenAsync(ct);
        await using var cmd = new NpgsqlCommand("SELECT position FROM read_model_checkpoints WHERE name = @n", c);
        cmd.Parameters.AddWithValue("n", readModel);
        return await cmd.ExecuteScalarAsync(ct) is long p ? p : 0;
    }

    public async Task SaveAsync(IReadOnlyCollection<TicketSearchRow> rows, string readModel, long position, CancellationToken ct)
    {
        await using var c = await OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        if (rows.Count > 0)
        {
            var batch = new NpgsqlBatch(c, tx);
            foreach (var r in rows)
            {
                var cmd = new NpgsqlBatchCommand("""
                    INSERT INTO ticket_search (ticket_id, version, number, phone, category_code, area_code, units, state, registered_at, registered_day, is_repeat, text)
                    VALUES (@id, @v, @number, @phone, @cat, @area, @units, @state, @at, @day, @rep, @text)
                    ON CONFLICT (ticket_id) DO UPDATE SET version = excluded.version, number = excluded.number, phone = excluded.phone,
                        category_code = excluded.category_code, area_code = excluded.area_code, units = excluded.units, state = excluded.state,
                        registered_at = excluded.registered_at, registered_day = excluded.registered_day, is_repeat = excluded.is_repeat, text = excluded.text
                    WHERE excluded.version > ticket_search.version
                    """);
                cmd.Parameters.AddWithValue("id", r.TicketId);
                cmd.Parameters.AddWithValue("v", r.Version);
                cmd.Parameters.AddWithValue("number", r.Number);
                cmd.Parameters.AddWithValue("phone", r.Phone);
                cmd.Parameters.AddWithValue("cat", r.CategoryCode);
                cmd.Parameters.AddWithValue("area", r.AreaCode);
                cmd.Parameters.AddWithValue("units", r.Units.ToArray());
                cmd.Parameters.AddWithValue("state", r.State);
                cmd.Parameters.AddWithValue("at", r.RegisteredAt.ToUniversalTime());
                cmd.Parameters.AddWithValue("day", r.RegisteredDay);
                cmd.Parameters.AddWithValue("rep", r.IsRepeat);
                cmd.Parameters.AddWithValue("text", r.Text);
                batch.BatchCommands.Add(cmd);
            }
            await using (batch) await batch.ExecuteNonQueryAsync(ct);
        }
        await SetCheckpointAsync(c, tx, readModel, position, ct);
        await tx.CommitAsync(ct);
    }

    private static async Task SetCheckpointAsync(NpgsqlConnection c, NpgsqlTransaction tx, string readModel, long position, CancellationToken ct)
    {
        await using var cp = new NpgsqlCommand("INSERT INTO read_model_checkpoints (name, position) VALUES (@n, @p) ON CONFLICT (name) DO UPDATE SET position = excluded.position", c, tx);
        cp.Parameters.AddWithValue("n", readModel);
        cp.Parameters.AddWithValue("p", position);
        await cp.ExecuteNonQueryAsync(ct);
    }

    public async Task ResetAsync(string readModel, CancellationToken ct)
    {
        await using var c = await OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        await using (var del = new NpgsqlCommand("DELETE FROM ticket_search", c, tx)) await del.ExecuteNonQueryAsync(ct);
        await SetCheckpointAsync(c, tx, readModel, 0, ct);
        await tx.CommitAsync(ct);
    }

    public async Task ResetAllAsync(CancellationToken ct)
    {
        await ResetAsync(TicketSearchProjection.ReadModelName, ct);
        await using var c = await OpenAsync(ct);
        await using var cmd = new NpgsqlCommand("UPDATE read_model_checkpoints SET position = 0", c);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    public async Task<TicketSearchResult> SearchAsync(TicketSearchQuery q, CancellationToken ct)
    {
        await using var c = await OpenAsync(ct);
        await using var cmd = c.CreateCommand();
        var where = new List<string>();
        if (q.Number is { } number) { where.Add("number LIKE @number"); cmd.Parameters.AddWithValue("number", SearchText.LikePattern(number)); }
        if (q.Phone is { } phone) { where.Add("phone LIKE @phone"); cmd.Parameters.AddWithValue("phone", SearchText.LikePattern(phone)); }
        if (q.Text is { } text)
        {
            // ≥ 3 characters: LIKE, which the pg_trgm GIN index answers; shorter: strpos, a scan of the same table.
            var match = SearchText.UsesTrigrams(text) ? "text LIKE @pattern" : "strpos(text, @q) > 0";
            where.Add(q.TextMatchesPhone ? $"({match} OR strpos(phone, @q) > 0)" : match);
            cmd.Parameters.AddWithValue("q", text);
            cmd.Parameters.AddWithValue("pattern", SearchText.LikePattern(text));
        }
        if (q.CategoryPrefix is { } cat) { where.Add("category_code LIKE @cat"); cmd.Parameters.AddWithValue("cat", SearchText.LikePattern(cat)[1..]); }
        if (q.AreaPrefix is { } area) { where.Add("area_code LIKE @area"); cmd.Parameters.AddWithValue("area", SearchText.LikePattern(area)[1..]); }
        if (q.AnyUnit is { } any) { where.Add("units && @any"); cmd.Parameters.AddWithValue("any", NpgsqlDbType.Array | NpgsqlDbType.Text, any.ToArray()); }
        if (q.VisibleUnits is { } visible) { where.Add("units && @visible"); cmd.Parameters.AddWithValue("visible", NpgsqlDbType.Array | NpgsqlDbType.Text, visible.ToArray()); }
        if (q.States is { } states) { where.Add("state = ANY(@states)"); cmd.Parameters.AddWithValue("states", NpgsqlDbType.Array | NpgsqlDbType.Text, states.ToArray()); }
        if (q.From is { } from) { where.Add("registered_day >= @from"); cmd.Parameters.AddWithValue("from", from); }
        if (q.To is { } to) { where.Add("registered_day <= @to"); cmd.Parameters.AddWithValue("to", to); }
        if (q.Repeat is { } repeat) { where.Add("is_repeat = @rep"); cmd.Parameters.AddWithValue("rep", repeat); }
        var filter = where.Count == 0 ? "" : "WHERE " + string.Join(" AND ", where);
        // Page and total as two statements (see the SQLite store): the page walks the registered_at index and stops at LIMIT.
        cmd.CommandText = $"SELECT count(*) FROM ticket_search {filter}";
        var total = Convert.ToInt64(await cmd.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture);
        cmd.CommandText = $"SELECT ticket_id FROM ticket_search {filter} ORDER BY {SearchText.OrderBy(q.Sort)} LIMIT @limit OFFSET @offset";
        cmd.Parameters.AddWithValue("limit", q.Limit);
        cmd.Parameters.AddWithValue("offset", q.Offset);
        var ids = new List<Guid>();
        if (q.Offset < total)
        {
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) ids.Add(reader.GetGuid(0));
        }
        return new TicketSearchResult(ids, (int)total);
    }
}
