using System.Buffers.Binary;
using CcaSim.Rmm.Rmi;
using CcaSim.Rmm.Rsi;
using CcaSim.Rmm.Tests.Infrastructure;

namespace CcaSim.Rmm.Tests.Rsi;

/// <summary>
/// RSI_HOST_CALL (addr) (rmm-1.0.md §6, §5.6, §4.6, §11 item 11): ACS addr_align (256 bytes, not 4 KiB), addr_bound
/// → ERROR_INPUT; RIPAS EMPTY → ERROR_INPUT; unmapped → SYNC exit emulating a stage-2 data abort. Otherwise a
/// HOST_CALL exit with imm and gprs[0..30] from RsiHostCall; the next entry copies entry.gprs back into the
/// structure and returns SUCCESS (entry step 6, §3.10).
/// </summary>
public sealed class RsiHostCallTests
{
    private const ulong Page = RealmSide.Ram + 0x2000;
    private const ushort Imm = 0xABCD;

    /// <summary>One row per failure condition, in order, that returns ERROR_INPUT to the realm.</summary>
    public static TheoryData<string, ulong> Failures => new()
    {
        { "addr_align_8", Page + 8 },
        { "addr_align_128", Page + 0x80 },
        { "addr_align_0x1f8", Page + 0x1F8 },
        { "addr_bound_unprotected", RealmSide.Unprotected },
        { "addr_bound_unprotected_alias", RealmSide.Unprotected + Page },
        { "addr_bound_outside_ipa_space", RealmSide.IpaEnd },
        { "addr_bound_max", ulong.MaxValue & ~0xFFUL },
        { "ripas_empty", RealmSide.EmptyPage + 0x100 },
        { "ripas_empty_level2", 0x40_0000 },
        { "addr_align_and_addr_bound", RealmSide.Unprotected + 0x10 },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void HostCall_WhenConditionFails_ReturnsErrorInputWithoutExit(string condition, ulong addr)
    {
        var realm = new RealmSide();

        ulong[] x = realm.CallInside(RsiFunctionId.RsiHostCall, RealmSide.Args(addr));

        Assert.True((ulong)RsiStatus.ErrorInput == x[0], condition);
    }

    /// <summary>Unmapped structures: page-aligned ones (the other offsets are the Skip test below).</summary>
    public static TheoryData<string, ulong, int> Unmapped => new()
    {
        { "unassigned_ram_level3", RealmSide.UnmappedRam, 3 },
        { "unassigned_ram_level2_block", RealmSide.BlockRam + 0x7000, 2 },
    };

    [Theory]
    [MemberData(nameof(Unmapped))]
    public void HostCall_WhenStructureUnmapped_ExitsWithStage2FaultAndRunsAgainOnceMapped(string condition, ulong addr, int level)
    {
        var realm = new RealmSide();
        realm.Call(RsiFunctionId.RsiHostCall, addr);

        RealmSide.AssertStage2Fault(realm.EnterOk(), addr, level);
        Assert.True(realm.Completed.Count == 0, condition);

        realm.Host.CreateRtts(realm.Realm, addr, 3);
        realm.Map(addr & ~0xFFFUL);
        RecExitView exit = realm.EnterOk();
        Assert.Equal(RecExitReason.HostCall, exit.Reason);
        Assert.Equal(0UL, exit.Imm);
    }

    /// <summary>
    /// §5.6 gives the emulated abort's HPFAR as addr &gt;&gt; 8. CcaSim writes it in the architectural HPFAR_EL2
    /// format (FIPA = IPA[51:12] at bit 4, bits [3:0] RES0), as a real stage-2 abort reports it, so a structure at
    /// page offset 0x100 reports its page: 0x8100 gives 0x80, not 0x81 (docs/FIDELITY.md).
    /// </summary>
    [Fact]
    public void HostCall_WhenUnmappedStructureIsNotPageAligned_ReportsHpfarInRegisterFormat()
    {
        var realm = new RealmSide();
        realm.Call(RsiFunctionId.RsiHostCall, RealmSide.UnmappedRam + 0x100);

        RecExitView exit = realm.EnterOk();

        RealmSide.AssertStage2Fault(exit, RealmSide.UnmappedRam + 0x100, 3);
        Assert.Equal(RealmSide.UnmappedRam >> 8, exit.Hpfar);
    }

    [Theory]
    [InlineData(0x000UL)]
    [InlineData(0x100UL)]
    [InlineData(0xF00UL)]
    public void HostCall_RoundTrip_ExitCarriesStructureAndEntryGprsComeBack(ulong offset)
    {
        var realm = new RealmSide();
        ulong addr = Page + offset;
        byte[] call = new byte[0x100];
        BinaryPrimitives.WriteUInt64LittleEndian(call, Imm);
        for (int i = 0; i < 31; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(call.AsSpan(8 + (8 * i)), 0x1000_0000UL + (ulong)i);
        }

        realm.WriteRealm(addr, call);
        realm.Call(RsiFunctionId.RsiHostCall, RealmSide.Args(addr));

        RecExitView exit = realm.EnterOk();

        Assert.Equal(RecExitReason.HostCall, exit.Reason);
        Assert.Equal((ulong)Imm, exit.Imm);
        Assert.Equal([.. Enumerable.Range(0, 31).Select(i => 0x1000_0000UL + (ulong)i)], exit.Gprs);
        Assert.Equal((0UL, 0UL, 0UL), (exit.Esr, exit.Far, exit.Hpfar));
        Assert.Empty(realm.Completed);

        ulong[] answer = [.. Enumerable.Range(0, 31).Select(i => 0xA000_0000UL + (ulong)i)];
        Assert.Equal(RecExitReason.Fiq, realm.EnterOk(gprs: answer).Reason);

        CompletedCall done = Assert.Single(realm.Completed);
        Assert.Equal(RsiStatus.Success, done.Status);
        Assert.Equal(RealmSide.Args(addr)[3..8], done.X[4..9]);
        byte[] after = realm.ReadRealm(addr, 0x100);
        Assert.Equal((ulong)Imm, BinaryPrimitives.ReadUInt64LittleEndian(after));
        for (int i = 0; i < 31; i++)
        {
            Assert.Equal(answer[i], BinaryPrimitives.ReadUInt64LittleEndian(after.AsSpan(8 + (8 * i))));
        }

        // Neighbouring bytes of the page are untouched.
        if (offset > 0)
        {
            Assert.Equal(new byte[0x100], realm.ReadRealm(addr - 0x100, 0x100));
        }
    }

    [Fact]
    public void HostCall_WhenStructureUnmappedBeforeReentry_ExitsWithStage2FaultWithoutRunning()
    {
        var realm = new RealmSide();
        realm.Call(RsiFunctionId.RsiHostCall, Page);
        realm.Call(RsiFunctionId.RsiVersion, 0x1_0000);
        Assert.Equal(RecExitReason.HostCall, realm.EnterOk().Reason);
        int runs = realm.Engine.Runs.Count;
        realm.Unmap(Page);

        RecExitView exit = realm.EnterOk(gprs: [0x77]);

        RealmSide.AssertStage2Fault(exit, Page, 3);
        Assert.Equal(runs, realm.Engine.Runs.Count);
        Assert.Empty(realm.Completed);

        // Still pending: again on the next entry.
        RealmSide.AssertStage2Fault(realm.EnterOk(gprs: [0x77]), Page, 3);
        Assert.Equal(runs, realm.Engine.Runs.Count);
    }

    [Fact]
    public void HostCall_TwiceInARow_EachExitsAndCompletes()
    {
        var realm = new RealmSide();
        realm.WriteRealm(Page, [0x01, 0x00]);
        realm.WriteRealm(Page + 0x100, [0x02, 0x00]);
        realm.Call(RsiFunctionId.RsiHostCall, Page);
        realm.Call(RsiFunctionId.RsiHostCall, Page + 0x100);

        Assert.Equal(1UL, realm.EnterOk().Imm);
        Assert.Equal(2UL, realm.EnterOk(gprs: [0x11]).Imm);
        Assert.Equal(RecExitReason.Fiq, realm.EnterOk(gprs: [0x22]).Reason);

        Assert.Equal(2, realm.Completed.Count);
        Assert.Equal(0x11UL, BinaryPrimitives.ReadUInt64LittleEndian(realm.ReadRealm(Page + 8, 8)));
        Assert.Equal(0x22UL, BinaryPrimitives.ReadUInt64LittleEndian(realm.ReadRealm(Page + 0x108, 8)));
    }
}
