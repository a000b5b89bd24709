namespace Hotline.Server.Tickets;

/// <summary>Personal data masking as the domain requires it: phones 138****5678, names 张*.</summary>
public static class Masking
{
    public static string Phone(string phone)
    {
        if (string.IsNullOrEmpty(phone)) return phone;
        if (phone.Length >= 11) return phone[..3] + "****" + phone[^4..];
        if (phone.Length > 4) return new string('*', phone.Length - 4) + phone[^4..];
        return new string('*', phone.Length);
    }

    public static string Name(string name) => string.IsNullOrEmpty(name) ? name : name[..1] + new string('*', Math.Max(1, name.Length - 1));

    public const string Hidden = "（保密）";
}
