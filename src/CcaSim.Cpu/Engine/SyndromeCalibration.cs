using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using CcaSim.Cpu.Unicorn;

namespace CcaSim.Cpu.Engine;

/// <summary>
/// Where the CPU's last exception syndrome sits in a uc_context blob (§5, G12): Unicorn exposes no ESR/FAR, but
/// <c>env-&gt;exception {u32 syndrome; u32 fsr; u64 vaddress; ...}</c> is inside the blob at a build-dependent
/// offset (3040 in 2.0.1, 3064 in 2.1.4). Found once per process by raising <c>svc #0x77</c> on a scratch engine and
/// scanning the blob for its syndrome 0x56000077; -1 when not found (delivery then falls back to decoding).
/// </summary>
internal static unsafe class SyndromeCalibration
{
    private const uint Probe = 0x56000077;
    private static int _offset = int.MinValue;

    public static int Offset
    {
        get
        {
            if (_offset == int.MinValue)
            {
                _offset = Calibrate();
            }

            return _offset;
        }
    }

    private static int Calibrate()
    {
        UnicornLibrary.Load();
        nint uc;
        if (Native.uc_open(Uc.ArchArm64, Uc.ModeArm, &uc) != UcErr.Ok)
        {
            return -1;
        }

        nint context = 0;
        try
        {
            _ = Native.uc_ctl(uc, Uc.CtlCpuModelWrite, Uc.CpuModelMax);
            const ulong code = 0x10000;
            uint svc = 0xD4000EE1; // svc #0x77
            if (Native.uc_mem_map(uc, code, 0x1000, Uc.ProtAll) != UcErr.Ok
                || Native.uc_mem_write(uc, code, &svc, 4) != UcErr.Ok
                || Native.uc_context_alloc(uc, &context) != UcErr.Ok)
            {
                return -1;
            }

            nuint hook;
            if (Native.uc_hook_add(uc, &hook, Uc.HookIntr, (delegate* unmanaged[Cdecl]<nint, uint, nint, void>)&SaveAndStop, context, 1, 0) != UcErr.Ok)
            {
                return -1;
            }

            _ = Native.uc_emu_start(uc, code, 0, 0, 0);
            int size = (int)Native.uc_context_size(uc);
            byte* blob = (byte*)context;
            for (int offset = 0; offset + 16 <= size; offset += 4)
            {
                if (*(uint*)(blob + offset) == Probe)
                {
                    return offset;
                }
            }

            return -1;
        }
        finally
        {
            if (context != 0)
            {
                _ = Native.uc_context_free(context);
            }

            _ = Native.uc_close(uc);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void SaveAndStop(nint uc, uint intno, nint context)
    {
        _ = Native.uc_context_save(uc, context);
        _ = Native.uc_emu_stop(uc);
    }
}
