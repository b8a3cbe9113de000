using CloudHypervisor.Sys;
using CloudHypervisor.Sys.Interop;

namespace CloudHypervisor.Devices.Legacy;

/// <summary>Where a console device's output goes.</summary>
public interface IByteSink
{
    void Write(ReadOnlySpan<byte> data);
}

public sealed class NullSink : IByteSink
{
    public static readonly NullSink Instance = new();

    public void Write(ReadOnlySpan<byte> data)
    {
    }
}

/// <summary>Unbuffered writes to a file descriptor (stdout, a file, a pty).</summary>
public sealed class FdSink : IByteSink, IDisposable
{
    private readonly SafeFd fd;

    public FdSink(SafeFd fd)
    {
        this.fd = fd;
    }

    public void Write(ReadOnlySpan<byte> data) => Libc.WriteAll(fd.Fd, data);

    public void Dispose() => fd.Dispose();
}
