using System.Runtime.InteropServices;
using CloudHypervisor.Sys;
using CloudHypervisor.Sys.Errors;
using CloudHypervisor.Sys.Interop;

namespace CloudHypervisor.Api.Client.Remote;

/// <summary>The real process: file descriptors 0, 1 and 2, the file system, Unix sockets, the environment and clock.</summary>
public sealed class ProcessRemoteHost : IRemoteHost
{
    public DateTime UtcNow => DateTime.UtcNow;

    public bool StandardErrorIsTerminal => Libc.IsATty(2) == 1;

    public void WriteStandardOutput(ReadOnlySpan<byte> data) => Libc.WriteAll(1, data);

    public void WriteStandardError(ReadOnlySpan<byte> data) => Libc.WriteAll(2, data);

    public byte[] ReadStandardInput() => ReadAll(0);

    public byte[] ReadFile(string path)
    {
        using var file = SafeFd.Open(path, Libc.ORdOnly);
        return ReadAll(file.Fd);
    }

    public IApiConnection Connect(string socketPath) => UnixApiConnection.Connect(socketPath);

    public string? GetEnvironmentVariable(string name) => Environment.GetEnvironmentVariable(name);

    private static unsafe byte[] ReadAll(int fd)
    {
        var data = new List<byte>();
        var chunk = new byte[8192];
        fixed (byte* buffer = chunk)
        {
            while (true)
            {
                var count = Libc.Read(fd, buffer, (nuint)chunk.Length);
                if (count == 0)
                {
                    return [.. data];
                }

                if (count < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno != Libc.EIntr)
                    {
                        throw new OsException(errno);
                    }

                    continue;
                }

                data.AddRange(chunk.AsSpan(0, (int)count));
            }
        }
    }
}
