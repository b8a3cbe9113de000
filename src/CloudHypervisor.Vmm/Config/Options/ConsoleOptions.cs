using CloudHypervisor.Contracts;
using CloudHypervisor.Vmm.Config.OptionParsing;

namespace CloudHypervisor.Vmm.Config.Options;

/// <summary>--console, --serial and --debug-console. Upstream reports all their parse errors as "--console".</summary>
public static class ConsoleOptions
{
    private const string ErrorOption = "console";
    private static readonly string[] Modes = ["off", "pty", "tty", "null"];

    public static ConsoleConfig ParseConsole(string input)
    {
        var p = OptionReader.Parse(ErrorOption, input, OptionReader.With(["file", "socket"], OptionReader.PciKeys), Modes);
        var (mode, file, socket) = Mode(p, allowSocket: true);
        var pci = OptionReader.Guard(ErrorOption, () => PciCommon.Read(p));
        return new ConsoleConfig { Mode = mode, File = file, Socket = socket, Iommu = pci.Iommu, Id = pci.Id, PciSegment = pci.PciSegment, PciDeviceId = pci.PciDeviceId };
    }

    public static SerialConfig ParseSerial(string input)
    {
        var p = OptionReader.Parse(ErrorOption, input, ["file", "socket"], Modes);
        var (mode, file, socket) = Mode(p, allowSocket: true);
        return new SerialConfig { Mode = mode, File = file, Socket = socket };
    }

    public static DebugConsoleConfig ParseDebugConsole(string input)
    {
        var p = OptionReader.Parse(ErrorOption, input, ["file", "iobase"], Modes);
        var (mode, file, _) = Mode(p, allowSocket: false);
        ushort? iobase = null;
        if (p.Get("iobase") is { } text)
        {
            if (!text.StartsWith("0x", StringComparison.Ordinal) || !RustInteger.TryParseUnsignedRadix(text.AsSpan(2), 16, ushort.MaxValue, out ulong port))
            {
                throw new ConfigValidationException(ValidationErrors.InvalidIoPortHex(text));
            }

            iobase = (ushort)port;
        }

        return new DebugConsoleConfig { Mode = mode, File = file, Iobase = iobase };
    }

    /// <summary>Mode precedence: off, pty, tty, null, file, socket.</summary>
    private static (ConsoleMode Mode, string? File, string? Socket) Mode(OptionParser p, bool allowSocket)
    {
        if (p.IsSet("off"))
        {
            return (ConsoleMode.Off, null, null);
        }

        if (p.IsSet("pty"))
        {
            return (ConsoleMode.Pty, null, null);
        }

        if (p.IsSet("tty"))
        {
            return (ConsoleMode.Tty, null, null);
        }

        if (p.IsSet("null"))
        {
            return (ConsoleMode.Null, null, null);
        }

        if (p.IsSet("file"))
        {
            string file = p.Get("file") ?? throw new ConfigValidationException(ValidationErrors.ConsoleFileMissing());
            return (ConsoleMode.File, file, null);
        }

        if (allowSocket && p.IsSet("socket"))
        {
            string socket = p.Get("socket") ?? throw new ConfigValidationException(ValidationErrors.ConsoleSocketPathMissing());
            return (ConsoleMode.Socket, null, socket);
        }

        throw ConfigParseException.Plain("Error parsing --console: invalid console mode given");
    }
}
