using CloudHypervisor.Sys.Errors;

namespace CloudHypervisor.Sys.Seccomp;

public sealed class SeccompException(string message, Exception? inner = null) : ChainedException(message, inner);
