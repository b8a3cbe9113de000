using CloudHypervisor.Sys.Errors;

namespace CloudHypervisor.Api.Client;

/// <summary>A connected byte stream to the API server; failures throw <see cref="OsException"/>.</summary>
public interface IApiConnection : IDisposable
{
    /// <summary>One sendmsg of <paramref name="data"/> with every descriptor attached as a single SCM_RIGHTS message.</summary>
    void SendWithFds(ReadOnlySpan<byte> data, ReadOnlySpan<int> fds);

    /// <summary>Writes all of <paramref name="data"/>.</summary>
    void Write(ReadOnlySpan<byte> data);

    /// <summary>Reads at most <c>buffer.Length</c> bytes; 0 at end of stream.</summary>
    int Read(Span<byte> buffer);
}
