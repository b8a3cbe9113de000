namespace CloudHypervisor.IntegrationTests.Infrastructure;

/// <summary>Boots images under qemu-system-x86_64 with KVM, serial output to a log file.</summary>
public static class QemuRunner
{
    public static IReadOnlyList<string> BuildArguments(QemuOptions options, string serialLogPath)
    {
        var machine = options.Machine switch
        {
            QemuMachine.Microvm => "microvm,accel=kvm",
            QemuMachine.Q35 => "q35,accel=kvm",
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Machine, null),
        };
        if (options.MachineProperties is not null)
            machine += "," + options.MachineProperties;
        var args = new List<string>
        {
            "-M", machine,
            "-cpu", "host,-arch-capabilities",
            "-m", options.MemoryMib.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-smp", options.Cpus.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-nodefaults", "-no-user-config", "-nographic",
            "-serial", "file:" + serialLogPath,
            "-monitor", options.MonitorOnStdio ? "stdio" : "none",
            "-kernel", options.Kernel,
        };
        if (options.CommandLine is not null)
            args.AddRange(["-append", options.CommandLine]);
        if (options.Initrd is not null)
            args.AddRange(["-initrd", options.Initrd]);
        if (options.NoReboot)
            args.Add("-no-reboot");
        args.AddRange(options.ExtraArguments);
        return args;
    }

    /// <summary>Starts QEMU; the caller waits for serial lines, talks to the monitor, disposes.</summary>
    public static QemuInstance Start(QemuOptions options)
    {
        TestEnvironment.EnsureQemu();
        var directory = Directory.CreateTempSubdirectory("ch-qemu-");
        var serialLog = Path.Combine(directory.FullName, "serial.log");
        File.WriteAllText(serialLog, "");
        var process = RunningProcess.Start(TestEnvironment.QemuPath!, BuildArguments(options, serialLog));
        if (!options.MonitorOnStdio)
            process.CloseStandardInput();
        return new QemuInstance(process, directory.FullName, serialLog);
    }

    /// <summary>Boots and waits for QEMU to exit (guest shutdown), killing it after the timeout.</summary>
    public static async Task<QemuResult> RunAsync(QemuOptions options, TimeSpan timeout)
    {
        await using var qemu = Start(options);
        return await qemu.WaitForExitAsync(timeout);
    }
}
