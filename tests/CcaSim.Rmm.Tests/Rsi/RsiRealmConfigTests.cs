using System.Buffers.Binary;
using CcaSim.Rmm.Rmi;
using CcaSim.Rmm.Rsi;
using CcaSim.Rmm.Tests.Infrastructure;

namespace CcaSim.Rmm.Tests.Rsi;

/// <summary>
/// RSI_REALM_CONFIG (addr) (rmm-1.0.md §6, §4.6): ACS addr_align, addr_bound → ERROR_INPUT; a RIPAS EMPTY page →
/// ERROR_INPUT; an unmapped page → SYNC exit emulating a stage-2 data abort (§5.6), the call running again on the
/// next entry. On success RsiRealmConfig is written: ipa_width (8 bytes), hash_algo (1 byte), rpv at 0x200.
/// </summary>
public sealed class RsiRealmConfigTests
{
    /// <summary>One row per failure condition, in ACS order, that returns to the realm with ERROR_INPUT.</summary>
    public static TheoryData<string, ulong> Failures => new()
    {
        { "addr_align_8", RealmSide.Ram + 8 },
        { "addr_align_2048", RealmSide.Ram + 0x800 },
        { "addr_bound_unprotected", RealmSide.Unprotected },
        { "addr_bound_unprotected_mapped_alias", RealmSide.Unprotected + RealmSide.Ram },
        { "addr_bound_outside_ipa_space", RealmSide.IpaEnd },
        { "addr_bound_max", ulong.MaxValue & ~0xFFFUL },
        { "ripas_empty_unassigned", RealmSide.EmptyPage },
        { "ripas_empty_level2", 0x40_0000 },
        { "addr_align_and_ripas_empty", RealmSide.EmptyPage + 0x10 },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void RealmConfig_WhenConditionFails_ReturnsErrorInputWithoutExit(string condition, ulong addr)
    {
        var realm = new RealmSide();

        ulong[] x = realm.CallInside(RsiFunctionId.RsiRealmConfig, RealmSide.Args(addr));

        Assert.True((ulong)RsiStatus.ErrorInput == x[0], condition);
    }

    [Fact]
    public void RealmConfig_WhenPageEmptyButAssigned_ReturnsErrorInput()
    {
        var realm = new RealmSide();
        realm.Map(RealmSide.EmptyPage);
        Assert.Equal(RmiRttEntryState.Assigned, realm.Entry(RealmSide.EmptyPage).State);

        ulong[] x = realm.CallInside(RsiFunctionId.RsiRealmConfig, RealmSide.EmptyPage);

        Assert.Equal((ulong)RsiStatus.ErrorInput, x[0]);
    }

    /// <summary>Unmapped pages: the walk level (3 for a page, 2 for a block entry) goes into the fault status code.</summary>
    public static TheoryData<string, ulong, int> Unmapped => new()
    {
        { "unassigned_ram_level3", RealmSide.UnmappedRam, 3 },
        { "unassigned_ram_level2_block", RealmSide.BlockRam + 0x5000, 2 },
        { "destroyed_after_data_destroy", RealmSide.Ram + 0x2000, 3 },
    };

    [Theory]
    [MemberData(nameof(Unmapped))]
    public void RealmConfig_WhenPageUnmapped_ExitsWithStage2FaultAndRunsAgainOnceMapped(string condition, ulong addr, int level)
    {
        var realm = new RealmSide();
        if (condition.StartsWith("destroyed", StringComparison.Ordinal))
        {
            realm.Unmap(addr);
        }

        realm.Call(RsiFunctionId.RsiRealmConfig, RealmSide.Args(addr));
        RecExitView exit = realm.EnterOk();

        RealmSide.AssertStage2Fault(exit, addr, level);
        Assert.Empty(realm.Completed);

        // Entering again without mapping: the call runs again and faults again.
        RealmSide.AssertStage2Fault(realm.EnterOk(), addr, level);
        Assert.Empty(realm.Completed);

        if (condition.StartsWith("destroyed", StringComparison.Ordinal))
        {
            return;
        }

        realm.Host.CreateRtts(realm.Realm, addr, 3);
        realm.Map(addr);
        Assert.Equal(RecExitReason.Fiq, realm.EnterOk().Reason);
        CompletedCall done = Assert.Single(realm.Completed);
        Assert.Equal(RsiStatus.Success, done.Status);
        Assert.Equal(48UL, BinaryPrimitives.ReadUInt64LittleEndian(realm.ReadRealm(addr, 8)));
    }

    [Theory]
    [InlineData(0, 48)]
    [InlineData(1, 48)]
    [InlineData(0, 40)]
    public void RealmConfig_OnAMappedPage_WritesWidthHashAndRpvAndNothingElse(byte hashAlgo, byte s2sz)
    {
        var realm = new RealmSide(new RealmParams { HashAlgo = hashAlgo, S2sz = s2sz });
        ulong addr = RealmSide.Ram + 0x3000;
        byte[] junk = [.. Enumerable.Range(0, 0x1000).Select(i => (byte)(0x5A ^ i))];
        realm.WriteRealm(addr, junk);

        ulong[] x = realm.CallInside(RsiFunctionId.RsiRealmConfig, RealmSide.Args(addr));

        Assert.Equal((ulong)RsiStatus.Success, x[0]);
        byte[] page = realm.ReadRealm(addr, 0x1000);
        Assert.Equal((ulong)s2sz, BinaryPrimitives.ReadUInt64LittleEndian(page));
        Assert.Equal(hashAlgo, page[8]);
        Assert.Equal(realm.Realm.Params.Rpv, page[0x200..0x240]);
        Assert.Equal(junk[9..0x200], page[9..0x200]);
        Assert.Equal(junk[0x240..], page[0x240..]);
    }
}
