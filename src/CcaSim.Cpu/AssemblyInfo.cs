// The AArch64 CPU engine behind the realm-execution seam (CcaSim.Platform.Execution): a Unicorn binding and the
// machinery Unicorn lacks (exception delivery, the GICv3 CPU interface, timers on virtual time).
[assembly: System.Runtime.CompilerServices.DisableRuntimeMarshalling]
