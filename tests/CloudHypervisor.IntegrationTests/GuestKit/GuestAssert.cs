using System.Globalization;
using CloudHypervisor.IntegrationTests.Infrastructure;

namespace CloudHypervisor.IntegrationTests.GuestKit;

/// <summary>Assertions on a guest kit run; failures show the whole run (command, serial, stderr).</summary>
internal static class GuestAssert
{
    /// <summary>QEMU exited by itself with status 0: the guest reached its ACPI shutdown.</summary>
    public static void ShutDownCleanly(QemuResult result)
    {
        Assert.False(result.TimedOut, $"QEMU was still running at the timeout\n{result}");
        Assert.True(result.ExitCode == 0, $"QEMU exit code {result.ExitCode}\n{result}");
        Assert.False(result.SerialLines.Any(l => l.StartsWith("shutdown failed", StringComparison.Ordinal)), result.ToString());
    }

    public static void HasLine(QemuResult result, string line) =>
        Assert.True(result.SerialLines.Contains(line), $"No serial line \"{line}\"\n{result}");

    public static void HasLineStartingWith(QemuResult result, string prefix) =>
        Assert.True(result.SerialLines.Any(l => l.StartsWith(prefix, StringComparison.Ordinal)),
            $"No serial line starting with \"{prefix}\"\n{result}");

    public static void NoException(QemuResult result) =>
        Assert.False(result.SerialLines.Any(l => l.StartsWith("exception:", StringComparison.Ordinal)), result.ToString());

    /// <summary>The last line with the guest's prefix is "&lt;guest&gt;: done".</summary>
    public static void EndsWithDone(QemuResult result, string guest) =>
        Assert.True(result.LinesStartingWith(guest + ": ").LastOrDefault() == guest + ": done",
            $"The last \"{guest}: \" line is not \"{guest}: done\"\n{result}");

    /// <summary>
    /// The hello guest's memory map: the RAM entries add up to its "ram bytes=" line, and
    /// that is within 16 MiB below the VM's memory size (firmware keeps a little).
    /// </summary>
    public static void MemoryMapMatches(QemuResult result, int memoryMib)
    {
        long sum = 0;
        foreach (var line in result.LinesStartingWith("hello: mem base="))
        {
            var fields = Fields(line["hello: mem ".Length..]);
            if (fields["type"] == "1")
                sum += long.Parse(fields["size"][2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        }
        var ramLine = result.ValueAfter("hello: ram ");
        Assert.True(ramLine is not null, $"No \"hello: ram\" line\n{result}");
        var ram = long.Parse(Fields(ramLine!)["bytes"], CultureInfo.InvariantCulture);
        Assert.True(sum == ram, $"RAM entries add up to {sum}, the guest says {ram}\n{result}");
        var mib = ram >> 20;
        Assert.True(mib <= memoryMib && mib >= memoryMib - 16, $"Guest sees {mib} MiB of RAM, the VM has {memoryMib} MiB\n{result}");
    }

    /// <summary>"a=1 b=2" as a dictionary.</summary>
    public static Dictionary<string, string> Fields(string text) =>
        text.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(f => f.Split('=', 2))
            .Where(kv => kv.Length == 2)
            .ToDictionary(kv => kv[0], kv => kv[1]);
}
