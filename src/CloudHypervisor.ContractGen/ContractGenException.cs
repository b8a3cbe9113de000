namespace CloudHypervisor.ContractGen;

/// <summary>The document cannot be turned into code; the message says where and why.</summary>
public sealed class ContractGenException(string message) : Exception(message);
