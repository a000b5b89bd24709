namespace Hotline.Testing;

/// <summary>Finds the repository root (the folder holding Hotline.sln) from a test's output folder.</summary>
public static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    /// <summary>Debug or Release, as the running test was built.</summary>
    public static string Configuration { get; } =
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";

    public static string ServerProject => Path.Combine(Root, "src", "Hotline.Server");

    public static string ServerDll => Path.Combine(ServerProject, "bin", Configuration, "net10.0", "Hotline.Server.dll");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Hotline.sln"))) return dir.FullName;
        throw new InvalidOperationException("Hotline.sln not found above " + AppContext.BaseDirectory);
    }
}
