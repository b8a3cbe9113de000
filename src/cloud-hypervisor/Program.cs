using CloudHypervisor.Launcher.CommandLine;
using CloudHypervisor.Sys.Interop;

namespace CloudHypervisor.Launcher;

internal static class Program
{
    private static int Main(string[] args)
    {
        // Every file and socket the VMM creates is owner-only, as upstream.
        Libc.Umask(Convert.ToUInt32("077", 8));
        Thread.CurrentThread.Name = "main";
        try
        {
            return CliRunner.Run(args);
        }
        finally
        {
            SeccompStartup.JoinBackgroundSetUp();
        }
    }
}
