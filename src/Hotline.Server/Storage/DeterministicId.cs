using System.Security.Cryptography;
using System.Text;

namespace Hotline.Server.Storage;

/// <summary>Name-based ids (SHA-256, truncated, version 8 layout): the same request always gets the same ids, so a retried write is an idempotent re-append.</summary>
public static class DeterministicId
{
    public static Guid From(params string[] parts)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\u001f', parts)));
        var bytes = hash.AsSpan(0, 16).ToArray();
        bytes[7] = (byte)((bytes[7] & 0x0F) | 0x80);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes);
    }
}
