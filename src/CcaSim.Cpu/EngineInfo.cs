namespace CcaSim.Cpu;

/// <summary>Facts about the CPU engine assembly.</summary>
public static class EngineInfo
{
    /// <summary>The Unicorn version the engine is built and tested against (Debian 13's libunicorn2t64).</summary>
    public const string PreferredUnicornVersion = "2.1.1";
}
