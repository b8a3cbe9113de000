namespace CloudHypervisor.Remote;

internal static class Program
{
    private static int Main(string[] args)
    {
        Console.Error.WriteLine("ch-remote: no subcommands implemented yet");
        return 1;
    }
}
