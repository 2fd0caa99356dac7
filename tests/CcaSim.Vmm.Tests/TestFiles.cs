namespace CcaSim.Vmm.Tests;

/// <summary>The guest payloads (built by this project's BeforeBuild make) and scratch files for the loader tests.</summary>
internal static class TestFiles
{
    public static string RepositoryRoot { get; } = FindRoot();

    public static string GuestDirectory => Environment.GetEnvironmentVariable("CCASIM_GUESTS") is { Length: > 0 } d ? d : Path.Combine(RepositoryRoot, ".build", "guests");

    public static string Bin(string payload) => RequireFile(Path.Combine(GuestDirectory, payload + ".bin"));

    public static string Elf(string payload) => RequireFile(Path.Combine(GuestDirectory, payload + ".elf"));

    /// <summary>A fresh file under a per-test temporary directory holding <paramref name="bytes"/>.</summary>
    public static string Write(string name, byte[] bytes)
    {
        string dir = Path.Combine(Path.GetTempPath(), "ccasim-vmm-tests", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static string RequireFile(string path) =>
        File.Exists(path) ? path : throw new InvalidOperationException($"{path} is missing: build the payloads with `make -C guests O=$PWD/.build/guests` (this project's build runs it)");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "CcaSim.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("the tests run outside a CcaSim checkout (no CcaSim.sln above " + AppContext.BaseDirectory + ")");
    }
}
