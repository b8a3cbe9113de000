using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using CloudHypervisor.IntegrationTests.Infrastructure;

namespace CloudHypervisor.IntegrationTests.Remote;

/// <summary>What a ch-remote run printed, byte for byte, and how it exited.</summary>
internal sealed record RemoteResult(int ExitCode, string Stdout, string Stderr)
{
    /// <summary>stderr with env_logger's timestamps replaced by "&lt;time&gt;".</summary>
    public string StderrWithoutTimes => Regex.Replace(Stderr, @"^\[\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z ", "[<time> ", RegexOptions.Multiline);

    public override string ToString() => $"exit code {ExitCode}\n--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}";
}

/// <summary>Runs the published static `ch-remote` binary with exact (not line-split) output capture.</summary>
internal static class RemoteBinary
{
    public static string Path
    {
        get
        {
            var path = System.IO.Path.Combine(RepoPaths.Binaries, "ch-remote");
            Assert.True(File.Exists(path), $"{path} is missing: run scripts/publish.sh");
            return path;
        }
    }

    public static async Task<RemoteResult> RunAsync(IEnumerable<string> arguments, byte[]? stdin = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(Path)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment.Remove("RUST_LOG");
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("ch-remote did not start");
        var stdout = ReadAllAsync(process.StandardOutput.BaseStream);
        var stderr = ReadAllAsync(process.StandardError.BaseStream);
        await process.StandardInput.BaseStream.WriteAsync(stdin ?? []);
        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"ch-remote {string.Join(' ', info.ArgumentList)} did not exit within 30 s");
        }

        return new RemoteResult(process.ExitCode, Encoding.UTF8.GetString(await stdout), Encoding.UTF8.GetString(await stderr));
    }

    private static async Task<byte[]> ReadAllAsync(Stream stream)
    {
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer);
        return buffer.ToArray();
    }
}
