namespace CcaSim.Guests.Tests;

/// <summary>
/// Where the guest payloads built from <c>guests/</c> live and how they are laid out in guest memory
/// (realm-platform.md §2.3: RAM at 0x8000_0000, flat image at RAM + 0x80000, DTB near the top of RAM).
/// Boot tests load <see cref="BinPath"/> at <see cref="LoadAddress"/> and start vCPU 0 there.
/// </summary>
public static class GuestImages
{
    public const ulong RamBase = 0x8000_0000;

    /// <summary>kvmtool's TEXT_OFFSET: the image starts this far into RAM, and so does execution.</summary>
    public const ulong EntryOffset = 0x8_0000;

    public const ulong LoadAddress = RamBase + EntryOffset;

    /// <summary>The smallest RAM shape the realm tests use (<c>-m 16</c>); every payload must fit it.</summary>
    public const ulong MinimumRamSize = 16UL << 20;

    /// <summary>The payloads the Makefile builds, in its order.</summary>
    public static IReadOnlyList<string> Names { get; } =
        ["hello", "rsi-selftest", "ripas", "smp", "irq-timer", "exceptions", "bench"];

    /// <summary>
    /// The build output directory: <c>CCASIM_GUESTS</c> when set, else <c>.build/guests</c> under the repository
    /// root (the first ancestor of the test assembly holding CcaSim.sln).
    /// </summary>
    public static string Directory { get; } = FindDirectory();

    public static string BinPath(string name) => Path.Combine(Directory, CheckedName(name) + ".bin");

    public static string ElfPath(string name) => Path.Combine(Directory, CheckedName(name) + ".elf");

    /// <summary>
    /// Where kvmtool places the DTB for a RAM size: the top of min(RAM, 256 MiB) less FDT_MAX_SIZE (64 KiB),
    /// aligned down to 2 MiB. An image must end below it.
    /// </summary>
    public static ulong DtbAddress(ulong ramSize)
    {
        const ulong fdtMaxSize = 0x1_0000;
        const ulong alignment = 2UL << 20;
        ulong top = RamBase + Math.Min(ramSize, 256UL << 20);
        return (top - fdtMaxSize) & ~(alignment - 1);
    }

    /// <summary>The repository root, or null when the tests run outside a checkout.</summary>
    public static string? RepositoryRoot { get; } = FindRepositoryRoot();

    private static string CheckedName(string name) =>
        Names.Contains(name) ? name : throw new ArgumentException($"'{name}' is not a guest payload", nameof(name));

    private static string? FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "CcaSim.sln")))
                return dir.FullName;
        }
        return null;
    }

    private static string FindDirectory()
    {
        string? fromEnvironment = Environment.GetEnvironmentVariable("CCASIM_GUESTS");
        if (!string.IsNullOrEmpty(fromEnvironment))
            return fromEnvironment;
        string root = FindRepositoryRoot() ?? AppContext.BaseDirectory;
        return Path.Combine(root, ".build", "guests");
    }
}
