using CloudHypervisor.ContractGen;
using CloudHypervisor.ContractGen.Emitting;
using CloudHypervisor.ContractGen.Reading;

// Usage:
//   CloudHypervisor.ContractGen <openapi.yaml> <output-directory>   write the generated C# files
//   CloudHypervisor.ContractGen --to-json <file.yaml>                print the YAML as JSON
// A generated file whose content is unchanged is not rewritten.
try
{
    switch (args)
    {
        case ["--to-json", var yaml]:
        {
            using var reader = File.OpenText(yaml);
            using var stdout = Console.OpenStandardOutput();
            YamlJsonWriter.Write(YamlTree.Load(reader), stdout);
            return 0;
        }

        case [var input, var outputDirectory] when !input.StartsWith('-'):
        {
            using var reader = File.OpenText(input);
            var document = OpenApiReader.Read(YamlTree.Load(reader));
            Directory.CreateDirectory(outputDirectory);
            foreach (var (fileName, content) in ContractEmitter.Emit(document, Path.GetFileName(input)))
            {
                var path = Path.Combine(outputDirectory, fileName);
                if (!File.Exists(path) || File.ReadAllText(path) != content)
                {
                    File.WriteAllText(path, content);
                }
            }

            return 0;
        }

        default:
            Console.Error.WriteLine("usage: CloudHypervisor.ContractGen <openapi.yaml> <output-directory>");
            Console.Error.WriteLine("       CloudHypervisor.ContractGen --to-json <file.yaml>");
            return 2;
    }
}
catch (Exception e) when (e is ContractGenException or YamlDotNet.Core.YamlException or IOException)
{
    // MSBuild's canonical error format, so the build reports it against the YAML file.
    Console.Error.WriteLine($"{args.LastOrDefault(a => a.EndsWith(".yaml", StringComparison.Ordinal)) ?? "input"}: error CHGEN001: {e.Message}");
    return 1;
}
