using System.Security.Cryptography;
using Hotline.Domain.Common;
using Hotline.Server.Hosting;
using Microsoft.Extensions.Options;

namespace Hotline.Server.Channels;

/// <summary>One photo a citizen sent with an appeal: the file name under the ticket's folder, its type, size and SHA-256.</summary>
public sealed record AppealPhoto(string Name, string ContentType, long Size, string Sha256);

/// <summary>A photo as received (multipart part or data URL), before it is checked.</summary>
public sealed record IncomingPhoto(string Field, byte[] Bytes, string? DeclaredType);

/// <summary>
/// The photos of public appeals: checked by their first bytes (JPEG, PNG, WebP; the declared type must agree), at most
/// <see cref="ChannelsOptions.MaxPhotos"/> of at most <see cref="ChannelsOptions.MaxPhotoBytes"/> each, stored on disk
/// under <c>{DataDirectory}/appeals/{ticketId}/</c> and referenced by the appeal's event (name, type, size, hash).
/// </summary>
public sealed class AppealPhotos(IOptions<ChannelsOptions> options, IOptions<HotlineOptions> hotline)
{
    public static readonly IReadOnlyDictionary<string, string> Extensions = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["image/jpeg"] = "jpg", ["image/png"] = "png", ["image/webp"] = "webp",
    };

    public int MaxPhotos => options.Value.MaxPhotos;

    public long MaxPhotoBytes => options.Value.MaxPhotoBytes;

    /// <summary>The largest request body a multipart appeal may have (every photo at its limit, plus the form fields).</summary>
    public long MaxRequestBytes => MaxPhotos * MaxPhotoBytes + 256 * 1024;

    /// <summary>Checks count, size and type; the problem names the field (photos[i]) and the reason.</summary>
    public IReadOnlyList<(IncomingPhoto Photo, string ContentType)> Validate(IReadOnlyList<IncomingPhoto> photos)
    {
        if (photos.Count > MaxPhotos) throw new DomainValidationException("photos", $"最多上传 {MaxPhotos} 张照片");
        var checkedPhotos = new List<(IncomingPhoto, string)>();
        foreach (var p in photos)
        {
            if (p.Bytes.Length == 0) throw new DomainValidationException(p.Field, "照片是空文件");
            if (p.Bytes.Length > MaxPhotoBytes) throw new DomainValidationException(p.Field, $"每张照片不能超过 {MaxPhotoBytes / (1024 * 1024.0):0.#} MB");
            var sniffed = Sniff(p.Bytes) ?? throw new DomainValidationException(p.Field, "照片必须是 JPEG/PNG/WebP 图片");
            if (p.DeclaredType is { Length: > 0 } declared && !declared.Equals(sniffed, StringComparison.OrdinalIgnoreCase) && !(declared == "image/jpg" && sniffed == "image/jpeg"))
                throw new DomainValidationException(p.Field, $"照片内容（{sniffed}）与声明的类型（{declared}）不符");
            checkedPhotos.Add((p, sniffed));
        }
        return checkedPhotos;
    }

    /// <summary>Writes the photos (again after a retry: same names, same bytes) and describes them.</summary>
    public async Task<IReadOnlyList<AppealPhoto>> SaveAsync(Guid ticketId, IReadOnlyList<(IncomingPhoto Photo, string ContentType)> photos, CancellationToken ct)
    {
        var saved = new List<AppealPhoto>();
        if (photos.Count == 0) return saved;
        var dir = FolderOf(ticketId);
        Directory.CreateDirectory(dir);
        for (var i = 0; i < photos.Count; i++)
        {
            var (photo, type) = photos[i];
            var name = $"{i + 1}.{Extensions[type]}";
            await File.WriteAllBytesAsync(Path.Combine(dir, name), photo.Bytes, ct);
            saved.Add(new AppealPhoto(name, type, photo.Bytes.Length, Convert.ToHexStringLower(SHA256.HashData(photo.Bytes))));
        }
        return saved;
    }

    /// <summary>The file of a stored photo, or null (unknown name: never a path from the request).</summary>
    public (string Path, string ContentType)? Find(Appeal appeal, string name)
    {
        if (!appeal.Photos.Contains(name, StringComparer.Ordinal)) return null;
        var path = Path.Combine(FolderOf(appeal.TicketId), name);
        var type = appeal.Attachments?.FirstOrDefault(a => a.Name == name)?.ContentType
            ?? Extensions.FirstOrDefault(e => name.EndsWith("." + e.Value, StringComparison.Ordinal)).Key ?? "application/octet-stream";
        return File.Exists(path) ? (path, type) : null;
    }

    /// <summary>The public address of a photo (Open311 media_url, the tracking page).</summary>
    public static string UrlOf(Guid ticketId, string name) => $"/api/public/media/{ticketId:N}/{name}";

    private string FolderOf(Guid ticketId) => Path.Combine(Path.GetFullPath(hotline.Value.DataDirectory), "appeals", ticketId.ToString("N"));

    /// <summary>The type by magic number: JPEG FF D8 FF, PNG 89 50 4E 47 0D 0A 1A 0A, WebP "RIFF" …. "WEBP".</summary>
    public static string? Sniff(ReadOnlySpan<byte> b)
    {
        if (b.Length >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) return "image/jpeg";
        if (b.Length >= 8 && b[..8].SequenceEqual(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A })) return "image/png";
        if (b.Length >= 12 && b[..4].SequenceEqual("RIFF"u8) && b[8..12].SequenceEqual("WEBP"u8)) return "image/webp";
        return null;
    }
}
