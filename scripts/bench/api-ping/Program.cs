using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace ApiPingBench;

/// <summary>
/// Round-trip latency of the REST API over its Unix socket, printed as one JSON object per line in
/// the style of upstream's performance-metrics:
///   api_ping_keepalive        GET /api/v1/vmm.ping, all samples on one kept-alive connection
///   api_ping_new_connection   connect, GET /api/v1/vmm.ping, read, close, per sample
///   api_vm_info_keepalive     GET /api/v1/vm.info on one connection (only when a VM exists)
/// Usage: ApiPingBench (--socket PATH | --self-host) [--samples N] [--warmup N] [--target-us P50]
/// Exit status 1 when the kept-alive ping p50 exceeds the target or the API misbehaves.
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        string? socketPath = null;
        var selfHost = false;
        var samples = 5000;
        var warmup = 500;
        var targetUs = 100.0;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--socket": socketPath = args[++i]; break;
                case "--self-host": selfHost = true; break;
                case "--samples": samples = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--warmup": warmup = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--target-us": targetUs = double.Parse(args[++i], CultureInfo.InvariantCulture); break;
                default:
                    Console.Error.WriteLine($"api-ping-bench: unknown argument {args[i]}");
                    return 2;
            }
        }

        if (socketPath is null == !selfHost)
        {
            Console.Error.WriteLine("api-ping-bench: give exactly one of --socket PATH or --self-host");
            return 2;
        }

        using var host = selfHost ? new SelfHostedServer() : null;
        socketPath ??= host!.SocketPath;
        var ping = RawHttpClient.Get("/api/v1/vmm.ping");
        var info = RawHttpClient.Get("/api/v1/vm.info");

        using (var probe = new RawHttpClient(socketPath))
        {
            var status = probe.RoundTrip(ping);
            if (status != 200)
            {
                Console.Error.WriteLine($"api-ping-bench: vmm.ping answered {status}, expected 200");
                return 1;
            }
        }

        var keepAlive = MeasureKeptAlive(socketPath, ping, samples, warmup);
        Print("api_ping_keepalive", keepAlive);
        Print("api_ping_new_connection", MeasureNewConnections(socketPath, ping, samples / 5, warmup / 5));

        int infoStatus;
        using (var probe = new RawHttpClient(socketPath))
        {
            infoStatus = probe.RoundTrip(info);
        }

        if (infoStatus == 200)
        {
            Print("api_vm_info_keepalive", MeasureKeptAlive(socketPath, info, samples, warmup));
        }
        else
        {
            Console.Error.WriteLine($"api-ping-bench: api_vm_info_keepalive skipped: vm.info answered {infoStatus} (no VM created)");
        }

        var p50 = Percentile(keepAlive, 50);
        if (p50 > targetUs)
        {
            Console.Error.WriteLine($"api-ping-bench: api_ping_keepalive p50 {p50:F1} us exceeds the {targetUs} us target");
            return 1;
        }

        return 0;
    }

    private static double[] MeasureKeptAlive(string socketPath, byte[] request, int samples, int warmup)
    {
        var times = new double[samples];
        using var client = new RawHttpClient(socketPath);
        for (var i = -warmup; i < samples; i++)
        {
            var start = Stopwatch.GetTimestamp();
            Expect(client.RoundTrip(request));
            if (i >= 0)
            {
                times[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            }
        }

        return times;
    }

    private static double[] MeasureNewConnections(string socketPath, byte[] request, int samples, int warmup)
    {
        var times = new double[samples];
        for (var i = -warmup; i < samples; i++)
        {
            var start = Stopwatch.GetTimestamp();
            using (var client = new RawHttpClient(socketPath))
            {
                Expect(client.RoundTrip(request));
            }

            if (i >= 0)
            {
                times[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            }
        }

        return times;
    }

    private static void Expect(int status)
    {
        if (status != 200)
        {
            throw new InvalidOperationException($"unexpected status {status}");
        }
    }

    private static void Print(string name, double[] times)
    {
        Array.Sort(times);
        var mean = times.Average();
        var variance = times.Sum(t => (t - mean) * (t - mean)) / times.Length;
        var json = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"{{\"name\":\"{name}\",\"mean\":{mean:F1},\"p50\":{Percentile(times, 50):F1},\"p99\":{Percentile(times, 99):F1},")
            .Append(CultureInfo.InvariantCulture, $"\"min\":{times[0]:F1},\"max\":{times[^1]:F1},\"std_dev\":{Math.Sqrt(variance):F1},\"samples\":{times.Length},\"unit\":\"us\"}}");
        Console.WriteLine(json.ToString());
    }

    /// <summary>Nearest-rank percentile of sorted samples (same rule as scripts/bench-cli.sh).</summary>
    private static double Percentile(double[] sorted, double p)
    {
        var copy = sorted;
        if (!IsSorted(copy))
        {
            copy = (double[])sorted.Clone();
            Array.Sort(copy);
        }

        return copy[Math.Min(copy.Length - 1, (int)Math.Round(p / 100.0 * (copy.Length - 1)))];
    }

    private static bool IsSorted(double[] values)
    {
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] < values[i - 1])
            {
                return false;
            }
        }

        return true;
    }
}
