using System.IO;
using System.Net.Sockets;
using Npgsql;

namespace Hotline.EventStore.Postgres;

/// <summary>
/// Turns "the database cannot be reached" into <see cref="EventStoreUnavailableException"/> (the API
/// answers 503); every other failure (constraint, syntax, bad JSON…) passes through unchanged.
/// </summary>
internal static class Unavailable
{
    public static async Task<T> MapAsync<T>(Func<Task<T>> operation)
    {
        try
        {
            return await operation();
        }
        catch (Exception e) when (IsUnavailable(e))
        {
            throw new EventStoreUnavailableException($"The PostgreSQL event store is unavailable: {e.Message}", e);
        }
    }

    public static bool IsUnavailable(Exception e) => e switch
    {
        PostgresException pg => IsUnavailableState(pg.SqlState),
        // Npgsql raises a bare NpgsqlException for socket errors, a broken stream, a connect or
        // pool timeout: all are "cannot talk to the server".
        NpgsqlException => true,
        SocketException or IOException or TimeoutException => true,
        _ => false,
    };

    private static bool IsUnavailableState(string sqlState) =>
        sqlState.StartsWith("08", StringComparison.Ordinal) // connection exception
        || sqlState is "57P01" // admin_shutdown
            or "57P02"         // crash_shutdown
            or "57P03"         // cannot_connect_now (starting up, recovering)
            or "53300";        // too_many_connections
}
