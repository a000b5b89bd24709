using System.Diagnostics;

namespace Hotline.Server.Hosting;

/// <summary>Opens the console in the desktop's browser when there is one (xdg-open); on a headless machine it only logs the URL.</summary>
public static class BrowserLauncher
{
    public static void TryOpen(string url, ILogger logger)
    {
        foreach (var opener in new[] { "xdg-open", "open" })
        {
            try
            {
                using var p = Process.Start(new ProcessStartInfo(opener, url) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true });
                if (p is not null) return;
            }
            catch (System.ComponentModel.Win32Exception) { }
        }
        logger.LogInformation("Open {Url} in a browser to use the console.", url);
    }
}
