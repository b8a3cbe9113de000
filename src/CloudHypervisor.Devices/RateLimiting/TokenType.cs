namespace CloudHypervisor.Devices.RateLimiting;

/// <summary>What a token stands for: a byte of data (the bandwidth bucket) or one request (the ops bucket).</summary>
public enum TokenType
{
    Bytes,
    Ops,
}
