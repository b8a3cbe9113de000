using CloudHypervisor.Sys.Errors;

namespace CloudHypervisor.Vmm.Control;

/// <summary>How the VMM thread ended: the process exit code and, for a failure, the error to report.</summary>
public sealed record VmmExit(int ExitCode, ChainedException? Error);
