namespace CcaSim.Cli.Tests.Run;

/// <summary>The guest payloads (built into .build/guests by the guest test project, which this project depends on) and scratch images.</summary>
internal static class GuestFiles
{
    /// <summary>A flat binary whose only instruction is <c>b .</c> (0x14000000): a guest that never ends.</summary>
    public static readonly byte[] Spin = [0x00, 0x00, 0x00, 0x14];

    public static string RepositoryRoot { get; } = FindRoot();

    public static string Bin(string payload) => Require(Path.Combine(RepositoryRoot, ".build", "guests", payload + ".bin"));

    public static string Elf(string payload) => Require(Path.Combine(RepositoryRoot, ".build", "guests", payload + ".elf"));

    /// <summary>A fresh file in a per-process scratch directory.</summary>
    public static string Write(string name, byte[] bytes)
    {
        string dir = Path.Combine(Path.GetTempPath(), "ccasim-run-tests", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static string Require(string path) =>
        File.Exists(path) ? path : throw new InvalidOperationException($"{path} is missing: build the payloads with `make -C guests O=$PWD/.build/guests`");

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
