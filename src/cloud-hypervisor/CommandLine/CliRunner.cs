using CloudHypervisor.Sys.Errors;
using CloudHypervisor.Sys.Interop;
using CloudHypervisor.Vmm.Config.CommandLine;
using CloudHypervisor.Sys.Logging;
using CloudHypervisor.Vmm.Logging;

namespace CloudHypervisor.Launcher.CommandLine;

/// <summary>
/// The process front end: argv → clap-style exits, --version, logger set-up, LaunchOptions,
/// then the launcher; every error leaves through upstream's error block and exit code 1.
/// </summary>
internal static class CliRunner
{
    public const string Version = "v54.0.0";

    public static int Run(string[] argv)
    {
        ParsedArguments args;
        try
        {
            args = ArgvParser.Parse(argv);
        }
        catch (CommandLineExit exit)
        {
            (exit.ToStdout ? Console.Out : Console.Error).Write(exit.Text);
            return exit.ExitCode;
        }

        if (args.Flag("version"))
        {
            Console.Out.Write($"cloud-hypervisor {Version}\nMigration Protocol Versions: 0\n");
            if (args.Verbosity > 0)
            {
                Console.Out.Write("Enabled features: [\"io_uring\", \"kvm\"]\n");
            }

            return 0;
        }

        try
        {
            InstallLogger(args);
            var options = LaunchOptionsBuilder.Build(args);
            return VmmLauncher.Run(options);
        }
        catch (ChainedException error)
        {
            Log.Error($"Fatal error: {ErrorReport.OneLine(error)}");
            Console.Error.Write(ErrorReport.Render(error));
            return 1;
        }
    }

    private static void InstallLogger(ParsedArguments args)
    {
        LogFormat format;
        try
        {
            format = LogFormat.Parse(args.One("log-format") ?? LogFormat.Default);
        }
        catch (LogFormatException e)
        {
            throw new CliException("Error parsing logger format", e);
        }

        int fd = 2;
        if (args.One("log-file") is { } path)
        {
            fd = Libc.Open(path, Libc.OWrOnly | Libc.OCreat | Libc.OTrunc | Libc.OCloExec, Convert.ToInt32("666", 8));
            if (fd < 0)
            {
                throw new CliException("Error creating log file", OsException.Last());
            }
        }

        Logger.Install(new Logger(LogLevels.FromVerbosity(args.Verbosity), format, fd));
    }
}
