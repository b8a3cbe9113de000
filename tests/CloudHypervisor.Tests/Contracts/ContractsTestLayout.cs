using System.Diagnostics;
using System.Text.Json;

namespace CloudHypervisor.Tests.Contracts;

/// <summary>Where the contract tests find the API documents, golden files and the generator.</summary>
internal static class ContractsTestLayout
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string OurDocument => Path.Combine(RepoRoot, "api", "cloud-hypervisor.yaml");

    /// <summary>Upstream's document, kept beside the repository (../shared/reference), not in it.</summary>
    public static string ReferenceDocument =>
        Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "reference", "cloud-hypervisor.yaml"));

    public static string TestData(string name) => Path.Combine(RepoRoot, "test_data", "api", name);

    /// <summary>
    /// Loads a YAML file as JSON through the generator's --to-json mode, so the tests read the
    /// documents with exactly the generator's YAML typing and need no YAML library of their own.
    /// </summary>
    public static JsonDocument LoadYaml(string path)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(GeneratorDll());
        start.ArgumentList.Add("--to-json");
        start.ArgumentList.Add(path);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"converting {path} to JSON failed: {stderr}");
        return JsonDocument.Parse(stdout.Result);
    }

    private static string GeneratorDll()
    {
        var binaries = Path.Combine(RepoRoot, "src", "CloudHypervisor.ContractGen", "bin");
        var newest = Directory.Exists(binaries)
            ? Directory.EnumerateFiles(binaries, "CloudHypervisor.ContractGen.dll", SearchOption.AllDirectories)
                .OrderByDescending(File.GetLastWriteTimeUtc)
                .FirstOrDefault()
            : null;
        return newest ?? throw new InvalidOperationException(
            $"CloudHypervisor.ContractGen.dll not found under {binaries}; it is built with src/CloudHypervisor.Contracts");
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "CloudHypervisor.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no folder above {AppContext.BaseDirectory} holds CloudHypervisor.sln");
    }
}

/// <summary>A fact that is skipped, with the reason shown, when upstream's API document is not beside the repository.</summary>
public sealed class ReferenceDocumentFactAttribute : FactAttribute
{
    public ReferenceDocumentFactAttribute()
    {
        if (!File.Exists(ContractsTestLayout.ReferenceDocument))
        {
            Skip = $"upstream's API document is absent ({ContractsTestLayout.ReferenceDocument}); " +
                "the structural comparison needs it beside the repository at ../shared/reference/";
        }
    }
}
