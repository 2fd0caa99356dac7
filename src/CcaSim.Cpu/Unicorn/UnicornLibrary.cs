using System.Reflection;
using System.Runtime.InteropServices;

namespace CcaSim.Cpu.Unicorn;

/// <summary>libunicorn.so.2 could not be loaded: the CLI reports <see cref="Exception.Message"/> as one line.</summary>
public sealed class UnicornNotFoundException : Exception
{
    public UnicornNotFoundException()
        : base("libunicorn.so.2 not found: run scripts/setup.sh")
    {
    }

    public UnicornNotFoundException(string message)
        : base(message)
    {
    }

    public UnicornNotFoundException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Finds and loads Unicorn once per process: the path in CCASIM_UNICORN, then libunicorn.so.2 next to the
/// assembly (the build copies Unicorn 2.1.1 from .build/unicorn there), then the system's libunicorn.so.2
/// (Debian 12's 2.0.1). Every import of <see cref="Native"/> resolves to the handle loaded here.
/// </summary>
public static class UnicornLibrary
{
    public const string EnvironmentVariable = "CCASIM_UNICORN";

    private static readonly Lock Gate = new();
    private static nint _handle;
    private static string? _path;
    private static string? _version;

    /// <summary>The file that was loaded (after <see cref="Load"/>).</summary>
    public static string Path
    {
        get
        {
            Load();
            return _path!;
        }
    }

    /// <summary>uc_version of the loaded library, as "major.minor.patch".</summary>
    public static string Version
    {
        get
        {
            Load();
            return _version!;
        }
    }

    /// <summary>Loads the library if not done yet; throws <see cref="UnicornNotFoundException"/> when none loads.</summary>
    public static void Load()
    {
        if (_handle != 0)
        {
            return;
        }

        lock (Gate)
        {
            if (_handle != 0)
            {
                return;
            }

            (nint handle, string path) = Resolve();
            _path = path;
            _handle = handle;
            NativeLibrary.SetDllImportResolver(typeof(UnicornLibrary).Assembly, ResolveImport);
            _version = QueryVersion();
        }
    }

    private static (nint Handle, string Path) Resolve()
    {
        string? fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrEmpty(fromEnvironment))
        {
            // An explicit choice that fails is reported as such, not silently replaced by another library.
            if (NativeLibrary.TryLoad(fromEnvironment, out nint chosen))
            {
                return (chosen, fromEnvironment);
            }

            throw new UnicornNotFoundException($"{EnvironmentVariable}={fromEnvironment}: cannot load it as libunicorn.so.2");
        }

        string beside = System.IO.Path.Combine(AppContext.BaseDirectory, Native.LibraryName);
        if (File.Exists(beside) && NativeLibrary.TryLoad(beside, out nint local))
        {
            return (local, beside);
        }

        if (NativeLibrary.TryLoad(Native.LibraryName, out nint system))
        {
            return (system, Native.LibraryName + " (system)");
        }

        throw new UnicornNotFoundException();
    }

    private static nint ResolveImport(string libraryName, Assembly assembly, DllImportSearchPath? searchPath) =>
        libraryName == Native.LibraryName ? _handle : 0;

    private static unsafe string QueryVersion()
    {
        uint major;
        uint minor;
        // uc_version returns major << 24 | minor << 16 | patch << 8 | extra in 2.x.
        uint combined = Native.uc_version(&major, &minor);
        return $"{major}.{minor}.{(combined >> 8) & 0xFF}";
    }
}
