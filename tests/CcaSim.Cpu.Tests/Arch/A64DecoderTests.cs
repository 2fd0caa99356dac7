using CcaSim.Cpu.Arch;

namespace CcaSim.Cpu.Tests.Arch;

/// <summary>
/// Every word below was assembled with aarch64-linux-gnu-as (-march=armv8.4-a+lse+rcpc+pauth) and read back with
/// objdump; the assembly is in the comment next to it.
/// </summary>
public class A64DecoderTests
{
    private const ulong Sp = 0x8000_0000;
    private const ulong Pc = 0x4000_0000;

    // x<i> = 0x10000 + i * 0x1000, so every base and index register is recognisable in an address.
    private static ulong[] Registers()
    {
        var x = new ulong[31];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = 0x10000 + ((ulong)i * 0x1000);
        }

        return x;
    }

    // Flags: SE sign-extend, SF 64-bit register, AR acquire/release, P pair, WB writeback, V SIMD&FP,
    // A atomic, X exclusive, U unprivileged, S structure.
    public static TheoryData<uint, int, int, bool, int, int, int, string, ulong> LoadsAndStores => new()
    {
        // f9400020  ldr x0, [x1]
        { 0xF9400020u, 8, 8, false, 0, -1, 1, "SF", 0x11000UL },
        // b9400862  ldr w2, [x3, #8]
        { 0xB9400862u, 4, 4, false, 2, -1, 3, "", 0x13008UL },
        // f97fffe4  ldr x4, [sp, #32760]
        { 0xF97FFFE4u, 8, 8, false, 4, -1, 31, "SF", 0x80007FF8UL },
        // 397ffcc5  ldrb w5, [x6, #4095]
        { 0x397FFCC5u, 1, 1, false, 5, -1, 6, "", 0x16FFFUL },
        // 79400507  ldrh w7, [x8, #2]
        { 0x79400507u, 2, 2, false, 7, -1, 8, "", 0x18002UL },
        // 39800549  ldrsb x9, [x10, #1]
        { 0x39800549u, 1, 1, false, 9, -1, 10, "SE SF", 0x1A001UL },
        // 39c00149  ldrsb w9, [x10]
        { 0x39C00149u, 1, 1, false, 9, -1, 10, "SE", 0x1A000UL },
        // 79800d8b  ldrsh x11, [x12, #6]
        { 0x79800D8Bu, 2, 2, false, 11, -1, 12, "SE SF", 0x1C006UL },
        // 79c0018b  ldrsh w11, [x12]
        { 0x79C0018Bu, 2, 2, false, 11, -1, 12, "SE", 0x1C000UL },
        // b9800dcd  ldrsw x13, [x14, #12]
        { 0xB9800DCDu, 4, 4, false, 13, -1, 14, "SE SF", 0x1E00CUL },
        // f9000a0f  str x15, [x16, #16]
        { 0xF9000A0Fu, 8, 8, true, 15, -1, 16, "SF", 0x20010UL },
        // b9000251  str w17, [x18]
        { 0xB9000251u, 4, 4, true, 17, -1, 18, "", 0x22000UL },
        // 39000e93  strb w19, [x20, #3]
        { 0x39000E93u, 1, 1, true, 19, -1, 20, "", 0x24003UL },
        // 79000abf  strh wzr, [x21, #4]
        { 0x79000ABFu, 2, 2, true, 31, -1, 21, "", 0x25004UL },
        // f90002df  str xzr, [x22]
        { 0xF90002DFu, 8, 8, true, 31, -1, 22, "SF", 0x26000UL },
        // f8410c20  ldr x0, [x1, #16]!
        { 0xF8410C20u, 8, 8, false, 0, -1, 1, "SF WB", 0x11010UL },
        // f85f0420  ldr x0, [x1], #-16
        { 0xF85F0420u, 8, 8, false, 0, -1, 1, "SF WB", 0x11000UL },
        // b81fcc62  str w2, [x3, #-4]!
        { 0xB81FCC62u, 4, 4, true, 2, -1, 3, "WB", 0x12FFCUL },
        // 38001462  strb w2, [x3], #1
        { 0x38001462u, 1, 1, true, 2, -1, 3, "WB", 0x13000UL },
        // f85f8020  ldur x0, [x1, #-8]
        { 0xF85F8020u, 8, 8, false, 0, -1, 1, "SF", 0x10FF8UL },
        // b8003062  stur w2, [x3, #3]
        { 0xB8003062u, 4, 4, true, 2, -1, 3, "", 0x13003UL },
        // b89ff0a4  ldursw x4, [x5, #-1]
        { 0xB89FF0A4u, 4, 4, false, 4, -1, 5, "SE SF", 0x14FFFUL },
        // f84088e6  ldtr x6, [x7, #8]
        { 0xF84088E6u, 8, 8, false, 6, -1, 7, "SF U", 0x17008UL },
        // 38000928  sttrb w8, [x9]
        { 0x38000928u, 1, 1, true, 8, -1, 9, "U", 0x19000UL },
        // f8626820  ldr x0, [x1, x2]
        { 0xF8626820u, 8, 8, false, 0, -1, 1, "SF", 0x23000UL },
        // f8627820  ldr x0, [x1, x2, lsl #3]
        { 0xF8627820u, 8, 8, false, 0, -1, 1, "SF", 0xA1000UL },
        // b8655883  ldr w3, [x4, w5, uxtw #2]
        { 0xB8655883u, 4, 4, false, 3, -1, 4, "", 0x68000UL },
        // 3868c8e6  ldrb w6, [x7, w8, sxtw]
        { 0x3868C8E6u, 1, 1, false, 6, -1, 7, "", 0x2F000UL },
        // 78abf949  ldrsh x9, [x10, x11, sxtx #1]
        { 0x78ABF949u, 2, 2, false, 9, -1, 10, "SE SF", 0x50000UL },
        // f83f69ac  str x12, [x13, xzr]
        { 0xF83F69ACu, 8, 8, true, 12, -1, 13, "SF", 0x1D000UL },
        // 58000040  ldr x0, .+8
        { 0x58000040u, 8, 8, false, 0, -1, 0, "SF", 0x40000008UL },
        // 18ffffe1  ldr w1, .-4
        { 0x18FFFFE1u, 4, 4, false, 1, -1, 0, "", 0x3FFFFFFCUL },
        // 98000802  ldrsw x2, .+0x100
        { 0x98000802u, 4, 4, false, 2, -1, 0, "SE SF", 0x40000100UL },
        // 9c000080  ldr q0, .+16
        { 0x9C000080u, 16, 16, false, 0, -1, 0, "V", 0x40000010UL },
        // a9400440  ldp x0, x1, [x2]
        { 0xA9400440u, 8, 16, false, 0, 1, 2, "SF P", 0x12000UL },
        // 297f10a3  ldp w3, w4, [x5, #-8]
        { 0x297F10A3u, 4, 8, false, 3, 4, 5, "P", 0x14FF8UL },
        // a9ff1fe6  ldp x6, x7, [sp, #-16]!
        { 0xA9FF1FE6u, 8, 16, false, 6, 7, 31, "SF P WB", 0x7FFFFFF0UL },
        // a9be7bfd  stp x29, x30, [sp, #-32]!
        { 0xA9BE7BFDu, 8, 16, true, 29, 30, 31, "SF P WB", 0x7FFFFFE0UL },
        // a8c27bfd  ldp x29, x30, [sp], #32
        { 0xA8C27BFDu, 8, 16, false, 29, 30, 31, "SF P WB", 0x80000000UL },
        // 69412548  ldpsw x8, x9, [x10, #8]
        { 0x69412548u, 4, 8, false, 8, 9, 10, "SE SF P", 0x1A008UL },
        // a80131ab  stnp x11, x12, [x13, #16]
        { 0xA80131ABu, 8, 16, true, 11, 12, 13, "SF P", 0x1D010UL },
        // ad410440  ldp q0, q1, [x2, #32]
        { 0xAD410440u, 16, 32, false, 0, 1, 2, "P V", 0x12020UL },
        // 6c8110a3  stp d3, d4, [x5], #16
        { 0x6C8110A3u, 8, 16, true, 3, 4, 5, "P WB V", 0x15000UL },
        // c85f7c20  ldxr x0, [x1]
        { 0xC85F7C20u, 8, 8, false, 0, -1, 1, "SF X", 0x11000UL },
        // 085f7c62  ldxrb w2, [x3]
        { 0x085F7C62u, 1, 1, false, 2, -1, 3, "X", 0x13000UL },
        // c8047cc5  stxr w4, x5, [x6]
        { 0xC8047CC5u, 8, 8, true, 5, -1, 6, "SF X", 0x16000UL },
        // 885ffd07  ldaxr w7, [x8]
        { 0x885FFD07u, 4, 4, false, 7, -1, 8, "AR X", 0x18000UL },
        // 8809fd6a  stlxr w9, w10, [x11]
        { 0x8809FD6Au, 4, 4, true, 10, -1, 11, "AR X", 0x1B000UL },
        // c87f35cc  ldxp x12, x13, [x14]
        { 0xC87F35CCu, 8, 16, false, 12, 13, 14, "SF P X", 0x1E000UL },
        // 882fc650  stlxp w15, w16, w17, [x18]
        { 0x882FC650u, 4, 8, true, 16, 17, 18, "AR P X", 0x22000UL },
        // c8dffc20  ldar x0, [x1]
        { 0xC8DFFC20u, 8, 8, false, 0, -1, 1, "SF AR", 0x11000UL },
        // 08dffc62  ldarb w2, [x3]
        { 0x08DFFC62u, 1, 1, false, 2, -1, 3, "AR", 0x13000UL },
        // 889ffca4  stlr w4, [x5]
        { 0x889FFCA4u, 4, 4, true, 4, -1, 5, "AR", 0x15000UL },
        // 489fffe6  stlrh w6, [sp]
        { 0x489FFFE6u, 2, 2, true, 6, -1, 31, "AR", 0x80000000UL },
        // f8bfc107  ldapr x7, [x8]
        { 0xF8BFC107u, 8, 8, false, 7, -1, 8, "SF AR", 0x18000UL },
        // 38bfc149  ldaprb w9, [x10]
        { 0x38BFC149u, 1, 1, false, 9, -1, 10, "AR", 0x1A000UL },
        // f8200041  ldadd x0, x1, [x2]
        { 0xF8200041u, 8, 8, false, 1, -1, 2, "SF A", 0x12000UL },
        // b8e300a4  ldaddal w3, w4, [x5]
        { 0xB8E300A4u, 4, 4, false, 4, -1, 5, "AR A", 0x15000UL },
        // b82600ff  stadd w6, [x7]
        { 0xB82600FFu, 4, 4, false, 31, -1, 7, "A", 0x17000UL },
        // f8288149  swp x8, x9, [x10]
        { 0xF8288149u, 8, 8, false, 9, -1, 10, "SF A", 0x1A000UL },
        // 38eb81ac  swpalb w11, w12, [x13]
        { 0x38EB81ACu, 1, 1, false, 12, -1, 13, "AR A", 0x1D000UL },
        // f82e420f  ldsmax x14, x15, [x16]
        { 0xF82E420Fu, 8, 8, false, 15, -1, 16, "SF A", 0x20000UL },
        // c8a07c41  cas x0, x1, [x2]
        { 0xC8A07C41u, 8, 8, false, 1, -1, 2, "SF A", 0x12000UL },
        // 88e3fca4  casal w3, w4, [x5]
        { 0x88E3FCA4u, 4, 4, false, 4, -1, 5, "AR A", 0x15000UL },
        // 08a67d07  casb w6, w7, [x8]
        { 0x08A67D07u, 1, 1, false, 7, -1, 8, "A", 0x18000UL },
        // 48207c82  casp x0, x1, x2, x3, [x4]
        { 0x48207C82u, 8, 16, false, 2, 3, 4, "SF P A", 0x14000UL },
        // 3dc00020  ldr q0, [x1]
        { 0x3DC00020u, 16, 16, false, 0, -1, 1, "V", 0x11000UL },
        // fd000462  str d2, [x3, #8]
        { 0xFD000462u, 8, 8, true, 2, -1, 3, "V", 0x13008UL },
        // bc4044a4  ldr s4, [x5], #4
        { 0xBC4044A4u, 4, 4, false, 4, -1, 5, "V WB", 0x15000UL },
        // 3c1ffce6  str b6, [x7, #-1]!
        { 0x3C1FFCE6u, 1, 1, true, 6, -1, 7, "V WB", 0x16FFFUL },
        // 7c6a7928  ldr h8, [x9, x10, lsl #1]
        { 0x7C6A7928u, 2, 2, false, 8, -1, 9, "V", 0x4D000UL },
        // 4c407000  ld1 {v0.16b}, [x0]
        { 0x4C407000u, 1, 16, false, 0, -1, 0, "V S", 0x10000UL },
        // 4cdfa820  ld1 {v0.4s, v1.4s}, [x1], #32
        { 0x4CDFA820u, 4, 32, false, 0, -1, 1, "V S WB", 0x11000UL },
        // 0c836042  st1 {v2.8b-v4.8b}, [x2], x3
        { 0x0C836042u, 1, 24, true, 2, -1, 2, "V S WB", 0x12000UL },
        // 4c400880  ld4 {v0.4s-v3.4s}, [x4]
        { 0x4C400880u, 4, 64, false, 0, -1, 4, "V S", 0x14000UL },
        // 0d4090a0  ld1 {v0.s}[1], [x5]
        { 0x0D4090A0u, 4, 4, false, 0, -1, 5, "V S", 0x15000UL },
        // 0d9f84c1  st1 {v1.d}[0], [x6], #8
        { 0x0D9F84C1u, 8, 8, true, 1, -1, 6, "V S WB", 0x16000UL },
        // 4d40c8e2  ld1r {v2.4s}, [x7]
        { 0x4D40C8E2u, 4, 4, false, 2, -1, 7, "V S", 0x17000UL },
        // 4dc9e500  ld3r {v0.8h-v2.8h}, [x8], x9
        { 0x4DC9E500u, 2, 6, false, 0, -1, 8, "V S WB", 0x18000UL },
        // 0d600d40  ld2 {v0.b, v1.b}[3], [x10]
        { 0x0D600D40u, 1, 2, false, 0, -1, 10, "V S", 0x1A000UL },
        // d95f8020  ldapur x0, [x1, #-8]
        { 0xD95F8020u, 8, 8, false, 0, -1, 1, "SF AR", 0x10FF8UL },
        // 99004062  stlur w2, [x3, #4]
        { 0x99004062u, 4, 4, true, 2, -1, 3, "AR", 0x13004UL },
        // 998010a4  ldapursw x4, [x5, #1]
        { 0x998010A4u, 4, 4, false, 4, -1, 5, "SE SF AR", 0x15001UL },
        // 19c000e6  ldapursb w6, [x7]
        { 0x19C000E6u, 1, 1, false, 6, -1, 7, "SE AR", 0x17000UL },
        // f8201420  ldraa x0, [x1, #8]
        { 0xF8201420u, 8, 8, false, 0, -1, 1, "SF", 0x11008UL },
        // f8ffec62  ldrab x2, [x3, #-16]!
        { 0xF8FFEC62u, 8, 8, false, 2, -1, 3, "SF WB", 0x12FF0UL },
    };

    [Theory]
    [MemberData(nameof(LoadsAndStores))]
    public void TryDecodeLoadStore_DecodesEveryLoadStoreClass(uint insn, int size, int total, bool isWrite, int rt, int rt2, int rn, string flags, ulong address)
    {
        Assert.True(A64Decoder.TryDecodeLoadStore(insn, out LoadStore ls));

        string[] f = flags.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(size, ls.Size);
        Assert.Equal(total, ls.TotalSize);
        Assert.Equal(isWrite, ls.IsWrite);
        Assert.Equal(rt, ls.Rt);
        Assert.Equal(rt2, ls.Rt2);
        Assert.Equal(rn, ls.Rn);
        Assert.Equal(f.Contains("SE"), ls.SignExtend);
        Assert.Equal(f.Contains("SF"), ls.SixtyFourBitDest);
        Assert.Equal(f.Contains("AR"), ls.AcquireRelease);
        Assert.Equal(f.Contains("P"), ls.Pair);
        Assert.Equal(f.Contains("WB"), ls.Writeback);
        Assert.Equal(f.Contains("V"), ls.IsSimdFp);
        Assert.Equal(f.Contains("A"), ls.IsAtomic);
        Assert.Equal(f.Contains("X"), ls.IsExclusive);
        Assert.Equal(f.Contains("U"), ls.IsUnprivileged);
        Assert.Equal(f.Contains("S"), ls.IsStructure);
        bool isv = !f.Intersect(["P", "WB", "V", "A", "X", "S"]).Any();
        Assert.Equal(isv, ls.IsValidSyndrome);
        Assert.Equal(address, ls.EffectiveAddress(Registers(), Sp, Pc));
    }

    // f9800000 prfm pldl1keep, [x0]; f8801000 prfum pldl1keep, [x0, #1]; 8b020020 add x0, x1, x2; d4000001 svc #0;
    // d503207f wfi; d538cc03 mrs x3, icc_iar1_el1. Unallocated: b9c00000 (LDRSW into W), f9c00000, 7dc00000 (128-bit
    // with size 01), 68400000 (LDNP with opc 01), 69000000 (STGP, MTE), 38200800 (register offset with
    // option 000), 4827fdc2 (CASPL with an odd Rs), 0c8d4c5a (ST3 with the reserved .1d arrangement).
    [Theory]
    [InlineData(0xF9800000u)]
    [InlineData(0xF8801000u)]
    [InlineData(0x8B020020u)]
    [InlineData(0xD4000001u)]
    [InlineData(0xD503207Fu)]
    [InlineData(0xD538CC03u)]
    [InlineData(0xB9C00000u)]
    [InlineData(0xF9C00000u)]
    [InlineData(0x7DC00000u)]
    [InlineData(0x68400000u)]
    [InlineData(0x69000000u)]
    [InlineData(0x38200800u)]
    [InlineData(0x4827FDC2u)]
    [InlineData(0x0C8D4C5Au)]
    public void TryDecodeLoadStore_RejectsPrefetchesUnallocatedAndOtherInstructions(uint insn) =>
        Assert.False(A64Decoder.TryDecodeLoadStore(insn, out _));

    [Theory]
    [InlineData(0xF9400020u, 0x01C0_8000UL)] // ldr x0, [x1]: ISV, SAS 3, SRT 0, SF
    [InlineData(0x39C00149u, 0x0129_0000UL)] // ldrsb w9, [x10]: ISV, SAS 0, SSE, SRT 9
    [InlineData(0x79000ABFu, 0x015F_0040UL)] // strh wzr, [x21, #4]: ISV, SAS 1, SRT 31, WnR
    [InlineData(0x889FFCA4u, 0x0184_4040UL)] // stlr w4, [x5]: ISV, SAS 2, SRT 4, AR, WnR
    [InlineData(0xB9800DCDu, 0x01AD_8000UL)] // ldrsw x13, [x14, #12]: ISV, SAS 2, SSE, SRT 13, SF
    [InlineData(0xC8DFFC20u, 0x01C0_C000UL)] // ldar x0, [x1]: ISV, SAS 3, SF, AR
    [InlineData(0x998010A4u, 0x01A4_C000UL)] // ldapursw x4, [x5, #1]: ISV, SAS 2, SSE, SRT 4, SF, AR
    [InlineData(0xF8626820u, 0x01C0_8000UL)] // ldr x0, [x1, x2]: register offset keeps ISV
    [InlineData(0x58000040u, 0x01C0_8000UL)] // ldr x0, .+8: a literal load keeps ISV
    [InlineData(0xA9400440u, 0x0000_0000UL)] // ldp x0, x1, [x2]: no ISV
    [InlineData(0xA9BE7BFDu, 0x0000_0040UL)] // stp x29, x30, [sp, #-32]!: no ISV, WnR
    [InlineData(0xF8410C20u, 0x0000_0000UL)] // ldr x0, [x1, #16]!: writeback, no ISV
    [InlineData(0xC8047CC5u, 0x0000_0040UL)] // stxr w4, x5, [x6]: exclusive, no ISV
    [InlineData(0xF8200041u, 0x0000_0000UL)] // ldadd x0, x1, [x2]: atomic, no ISV
    [InlineData(0xFD000462u, 0x0000_0040UL)] // str d2, [x3, #8]: SIMD&FP, no ISV
    public void DataAbortIss_CarriesTheSyndromeOnlyForSingleRegisterAccessesWithoutWriteback(uint insn, ulong iss)
    {
        Assert.True(A64Decoder.TryDecodeLoadStore(insn, out LoadStore ls));

        Assert.Equal(iss, A64Decoder.DataAbortIss(ls));
    }

    [Theory]
    [InlineData(0xC8047CC5u, 4)]  // stxr w4, x5, [x6]
    [InlineData(0xC85F7C20u, -1)] // ldxr x0, [x1]
    [InlineData(0xF8200041u, 0)]  // ldadd x0, x1, [x2]
    [InlineData(0xC8A07C41u, 0)]  // cas x0, x1, [x2]
    [InlineData(0x48207C82u, 0)]  // casp x0, x1, x2, x3, [x4]
    [InlineData(0xF9400020u, -1)] // ldr x0, [x1]
    public void TryDecodeLoadStore_ReportsTheStatusOrCompareRegister(uint insn, int rs)
    {
        Assert.True(A64Decoder.TryDecodeLoadStore(insn, out LoadStore ls));

        Assert.Equal(rs, ls.Rs);
    }

    [Theory]
    [InlineData(0xF8410C20u, AddressingMode.PreIndex, 16L)]   // ldr x0, [x1, #16]!
    [InlineData(0xF85F0420u, AddressingMode.PostIndex, -16L)] // ldr x0, [x1], #-16
    [InlineData(0xA9BE7BFDu, AddressingMode.PreIndex, -32L)]  // stp x29, x30, [sp, #-32]!
    [InlineData(0x4CDFA820u, AddressingMode.PostIndex, 32L)]  // ld1 {v0.4s, v1.4s}, [x1], #32
    [InlineData(0x0C836042u, AddressingMode.PostIndexRegister, 0L)] // st1 {v2.8b-v4.8b}, [x2], x3
    [InlineData(0xF8627820u, AddressingMode.RegisterOffset, 0L)]    // ldr x0, [x1, x2, lsl #3]
    [InlineData(0x58000040u, AddressingMode.Literal, 8L)]     // ldr x0, .+8
    [InlineData(0xF97FFFE4u, AddressingMode.Offset, 32760L)]  // ldr x4, [sp, #32760]
    public void TryDecodeLoadStore_ReportsTheAddressingModeAndImmediate(uint insn, AddressingMode mode, long offset)
    {
        Assert.True(A64Decoder.TryDecodeLoadStore(insn, out LoadStore ls));

        Assert.Equal(mode, ls.Addressing);
        Assert.Equal(offset, ls.Offset);
    }

    [Fact]
    public void EffectiveAddress_SignExtendsSxtwAndZeroExtendsUxtwIndexes()
    {
        ulong[] x = Registers();
        x[8] = 0xFFFF_FFFF_FFFF_FFF0; // w8 = -16
        x[5] = 0xFFFF_FFFF_0000_0010; // w5 = 0x10

        // 3868c8e6  ldrb w6, [x7, w8, sxtw]
        Assert.True(A64Decoder.TryDecodeLoadStore(0x3868C8E6u, out LoadStore sxtw));
        // b8655883  ldr w3, [x4, w5, uxtw #2]
        Assert.True(A64Decoder.TryDecodeLoadStore(0xB8655883u, out LoadStore uxtw));

        Assert.Equal(0x17000UL - 16, sxtw.EffectiveAddress(x, Sp, Pc));
        Assert.Equal(0x14000UL + 0x40, uxtw.EffectiveAddress(x, Sp, Pc));
    }

    [Theory]
    [InlineData(0xD4000001u, ExceptionInstructionKind.Svc, 0, 0x15u)]      // svc #0
    [InlineData(0xD41FFFE1u, ExceptionInstructionKind.Svc, 0xFFFF, 0x15u)] // svc #0xffff
    [InlineData(0xD4024682u, ExceptionInstructionKind.Hvc, 0x1234, 0x16u)] // hvc #0x1234
    [InlineData(0xD4000002u, ExceptionInstructionKind.Hvc, 0, 0x16u)]      // hvc #0
    [InlineData(0xD4000003u, ExceptionInstructionKind.Smc, 0, 0x17u)]      // smc #0
    [InlineData(0xD4000023u, ExceptionInstructionKind.Smc, 1, 0x17u)]      // smc #1
    [InlineData(0xD43E0000u, ExceptionInstructionKind.Brk, 0xF000, 0x3Cu)] // brk #0xf000
    public void TryDecodeException_DecodesKindImmediateAndSyndrome(uint insn, ExceptionInstructionKind kind, int imm16, uint ec)
    {
        Assert.True(A64Decoder.TryDecodeException(insn, out ExceptionInstruction e));

        Assert.Equal(kind, e.Kind);
        Assert.Equal((ushort)imm16, e.Immediate);
        Assert.Equal((uint)imm16, e.Iss);
        Assert.Equal(ec, e.ExceptionClass);
    }

    // d4400000 hlt #0; d4a00001 dcps1; d503207f wfi; f9400020 ldr x0, [x1]; d4000000 (SVC class with LL 00)
    [Theory]
    [InlineData(0xD4400000u)]
    [InlineData(0xD4A00001u)]
    [InlineData(0xD503207Fu)]
    [InlineData(0xF9400020u)]
    [InlineData(0xD4000000u)]
    public void TryDecodeException_RejectsOtherInstructions(uint insn) =>
        Assert.False(A64Decoder.TryDecodeException(insn, out _));
}
