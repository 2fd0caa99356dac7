using CcaSim.Platform.Monitor;
using CcaSim.Rmm.Granules;
using CcaSim.Rmm.Measurement;
using CcaSim.Rmm.Realms;
using CcaSim.Rmm.Recs;
using CcaSim.Rmm.Rmi;

namespace CcaSim.Rmm;

public sealed partial class RealmManagementMonitor
{
    /// <summary>Only Aff0[3:0], Aff1, Aff2 and Aff3 may be set in an RmiRecMpidr (§3.8).</summary>
    private const ulong MpidrValidMask = 0xFF_FF_FF_0F;

    /// <summary>
    /// RMI_REC_CREATE (§3.8), in TF-RMM's order where the spec leaves it open: params_* → INPUT; num_aux above
    /// the maximum (16) → INPUT; aux_align/aux_state for each of the num_aux granules (DELEGATED, no duplicate,
    /// not the REC) → INPUT; rec_* → INPUT; rd_* → INPUT; num_recs (the realm already has its maximum number of
    /// live RECs) → ERROR_REALM; realm_state → ERROR_REALM; mpidr_index → INPUT; num_aux ≠ REC_AUX_COUNT → INPUT.
    /// </summary>
    private ulong RmiRecCreate(in SmcRegisters a)
    {
        ulong rd = a[1];
        ulong recPa = a[2];
        ulong paramsPa = a[3];
        if (!IsNsGranule(paramsPa))
        {
            return ErrorInput;
        }

        ReadOnlySpan<byte> p = ReadNs(paramsPa);
        ulong numAux = U64(p, RecParamsLayout.NumAux);
        if (numAux > RecParamsLayout.MaxAux)
        {
            return ErrorInput;
        }

        // TF-RMM takes each aux granule (DELEGATED → REC_AUX) before it looks at the REC or the RD, so a bad aux
        // wins over every REC, RD and realm condition; an aux equal to the REC fails there too.
        ulong[] aux = new ulong[numAux];
        for (int i = 0; i < aux.Length; i++)
        {
            aux[i] = U64(p, RecParamsLayout.Aux + (8 * i));
            if (!IsDelegated(aux[i]) || aux[i] == recPa || Array.IndexOf(aux, aux[i], 0, i) >= 0)
            {
                return ErrorInput;
            }
        }

        if (!IsDelegated(recPa))
        {
            return ErrorInput;
        }

        Realm? realm = FindRealm(rd);
        if (realm is null)
        {
            return ErrorInput;
        }

        // num_recs counts the RECs that exist (TF-RMM: the RD reference count, which REC_DESTROY drops), not the
        // indices used so far; the spec leaves which count open.
        if (realm.LiveRecs >= Config.Features.MaxRecs || realm.State != RealmState.New)
        {
            return ErrorRealm();
        }

        ulong mpidr = U64(p, RecParamsLayout.Mpidr);
        if ((mpidr & ~MpidrValidMask) != 0 || MpidrToRecIndex(mpidr) != realm.RecCount)
        {
            return ErrorInput;
        }

        if (numAux != RecAuxCount)
        {
            return ErrorInput;
        }

        ulong flags = U64(p, RecParamsLayout.Flags);
        var rec = new Rec(realm, recPa, realm.RecCount, mpidr, aux)
        {
            Runnable = (flags & RecParamsLayout.FlagRunnable) != 0,
        };
        Span<ulong> gprs = stackalloc ulong[RecParamsLayout.NumGprs];
        for (int i = 0; i < gprs.Length; i++)
        {
            gprs[i] = U64(p, RecParamsLayout.Gprs + (8 * i));
        }

        RecContextReset.Apply(rec.Context, U64(p, RecParamsLayout.Pc), gprs, MpidrToMpidrEl1(mpidr), Config.Features.Gicv3NumLrs);

        // §8.3: only RUNNABLE RECs are measured, and creation order is part of the RIM.
        if (rec.Runnable)
        {
            Measurements.ExtendRec(realm.HashAlgorithm, realm.Measurements[0], flags, rec.Context.Pc, gprs);
        }

        foreach (ulong auxPa in aux)
        {
            _granules.Transition(auxPa, GranuleState.Delegated, GranuleState.RecAux, rec);
        }

        _granules.Transition(recPa, GranuleState.Delegated, GranuleState.Rec, rec);
        realm.RecCount++;
        realm.LiveRecs++;
        return Success;
    }

    /// <summary>REC index = Aff0[3:0] | Aff1 &lt;&lt; 4 | Aff2 &lt;&lt; 12 | Aff3 &lt;&lt; 20 (§3.8).</summary>
    internal static ulong MpidrToRecIndex(ulong mpidr) =>
        (mpidr & 0xF) | (((mpidr >> 8) & 0xFF) << 4) | (((mpidr >> 16) & 0xFF) << 12) | (((mpidr >> 24) & 0xFF) << 20);

    /// <summary>MPIDR_EL1 keeps Aff0..Aff2 in place, moves Aff3 to [39:32] and sets RES1 bit 31.</summary>
    internal static ulong MpidrToMpidrEl1(ulong mpidr) => (mpidr & 0xFF_FFFF) | (((mpidr >> 24) & 0xFF) << 32) | (1UL << 31);
}
