namespace CcaSim.Platform.Monitor;

/// <summary>A service behind the monitor's SMC conduit (the RMM for the RMI range).</summary>
public interface ISmcHandler
{
    /// <summary>Handles one SMC: x0 holds the function id on entry and the status on return.</summary>
    void HandleSmc(ref SmcRegisters registers);
}
