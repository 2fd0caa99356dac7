namespace CcaSim.Platform.Memory;

/// <summary>Physical address space of a granule, as recorded in the Granule Protection Table (Arm RME).</summary>
public enum Pas : byte
{
    NonSecure = 0,
    Secure = 1,
    Realm = 2,
    Root = 3,
}

/// <summary>The security state an access is made from; decides which PASes the granule protection check allows.</summary>
public enum AccessWorld : byte
{
    /// <summary>The normal world: the host kernel and its user space. May touch only Non-secure granules.</summary>
    NonSecure,

    /// <summary>The Realm world: the RMM. May touch Non-secure and Realm granules.</summary>
    Realm,
}
