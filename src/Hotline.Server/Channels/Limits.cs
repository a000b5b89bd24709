using System.Collections.Concurrent;

namespace Hotline.Server.Channels;

/// <summary>Fixed-window counters for the public endpoints (per phone, per client address). In memory: a restart forgives.</summary>
public sealed class ChannelLimits(TimeProvider time)
{
    private readonly ConcurrentDictionary<string, (long Window, int Count)> _counters = new(StringComparer.Ordinal);

    /// <summary>Counts one use of <paramref name="key"/>; false when the limit for the current window is spent.</summary>
    public bool TryTake(string key, int limit, TimeSpan window)
    {
        var slot = time.GetUtcNow().Ticks / window.Ticks;
        var entry = _counters.AddOrUpdate(key, _ => (slot, 1), (_, c) => c.Window == slot ? (slot, c.Count + 1) : (slot, 1));
        if (_counters.Count > 100_000) Sweep(slot, window);
        return entry.Count <= limit;
    }

    private void Sweep(long slot, TimeSpan window)
    {
        foreach (var (k, v) in _counters)
            if (v.Window < slot - (TimeSpan.FromHours(1).Ticks / window.Ticks) - 1) _counters.TryRemove(k, out _);
    }
}

/// <summary>Verification codes sent by SMS before a public submission: 6 digits, 10 minutes, 5 tries.</summary>
public sealed class VerificationCodes(TimeProvider time)
{
    private readonly ConcurrentDictionary<string, (string Code, DateTimeOffset Expires, int Tries)> _codes = new(StringComparer.Ordinal);

    public string Issue(string phone)
    {
        var code = System.Security.Cryptography.RandomNumberGenerator.GetInt32(0, 1_000_000).ToString("D6", System.Globalization.CultureInfo.InvariantCulture);
        _codes[phone] = (code, time.GetUtcNow().AddMinutes(10), 0);
        return code;
    }

    /// <summary>True once for the right code; a wrong code counts a try, five wrong tries burn the code.</summary>
    public bool Verify(string phone, string? code)
    {
        if (code is null || !_codes.TryGetValue(phone, out var entry)) return false;
        if (entry.Expires < time.GetUtcNow() || entry.Tries >= 5) { _codes.TryRemove(phone, out _); return false; }
        if (!System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(System.Text.Encoding.ASCII.GetBytes(entry.Code), System.Text.Encoding.ASCII.GetBytes(code.Trim())))
        {
            _codes[phone] = entry with { Tries = entry.Tries + 1 };
            return false;
        }
        _codes.TryRemove(phone, out _);
        return true;
    }
}
