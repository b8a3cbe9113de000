namespace CloudHypervisor.Tests.Contracts;

/// <summary>
/// api/cloud-hypervisor.yaml must describe the same surface as upstream's document: same paths,
/// methods, status codes, schemas, properties, types, formats, enums, defaults, required lists
/// and $refs — except for the deliberate differences listed, with reasons, in
/// test_data/api/reference-differences.txt.
/// </summary>
public sealed class ApiDocumentStructureTests
{
    private const string AllowListName = "reference-differences.txt";

    [ReferenceDocumentFact]
    public void Our_document_matches_upstream_except_for_listed_differences()
    {
        var (onlyOurs, onlyReference) = Compare();
        var allowed = ReferenceDifference.Load(ContractsTestLayout.TestData(AllowListName));

        var unexplained = onlyOurs.Where(f => !allowed.Any(a => a.Side == '+' && a.Fact == f)).Select(f => "+ " + f)
            .Concat(onlyReference.Where(f => !allowed.Any(a => a.Side == '-' && a.Fact == f)).Select(f => "- " + f))
            .ToList();

        Assert.True(unexplained.Count == 0,
            $"{unexplained.Count} difference(s) from upstream's document are not in test_data/api/{AllowListName} " +
            "(+ only in ours, - only in upstream's):\n" + string.Join("\n", unexplained));
    }

    [ReferenceDocumentFact]
    public void Every_listed_difference_still_exists()
    {
        var (onlyOurs, onlyReference) = Compare();
        var stale = ReferenceDifference.Load(ContractsTestLayout.TestData(AllowListName))
            .Where(a => !(a.Side == '+' ? onlyOurs : onlyReference).Contains(a.Fact))
            .Select(a => $"line {a.Line}: {a.Side} {a.Fact}")
            .ToList();

        Assert.True(stale.Count == 0,
            $"test_data/api/{AllowListName} lists differences that no longer exist; remove them:\n" + string.Join("\n", stale));
    }

    [ReferenceDocumentFact]
    public void Comparison_sees_paths_methods_statuses_and_schema_details()
    {
        // Guards the fact extraction itself: these must be facts of upstream's document.
        using var reference = ContractsTestLayout.LoadYaml(ContractsTestLayout.ReferenceDocument);
        var facts = OpenApiFacts.Of(reference.RootElement);

        Assert.Contains("paths./vm.create.put.requestBody.content.application/json.schema.$ref = #/components/schemas/VmConfig", facts);
        Assert.Contains("paths./vm.add-disk.put.responses.409 = {}", facts);
        Assert.Contains("components.schemas.DiskConfig.properties.num_queues.default = 1", facts);
        Assert.Contains("components.schemas.ConsoleMode.enum[] = Pty", facts);
        Assert.Contains("components.schemas.CpusConfig.required[] = boot_vcpus", facts);
        Assert.Contains("components.schemas.PlatformConfig.properties.iommu_address_width_bits.format = uint8", facts);
        Assert.DoesNotContain(facts, f => f.Contains(".description", StringComparison.Ordinal) || f.Contains(".summary", StringComparison.Ordinal));
    }

    private static (SortedSet<string> OnlyOurs, SortedSet<string> OnlyReference) Compare()
    {
        using var ours = ContractsTestLayout.LoadYaml(ContractsTestLayout.OurDocument);
        using var reference = ContractsTestLayout.LoadYaml(ContractsTestLayout.ReferenceDocument);
        var ourFacts = OpenApiFacts.Of(ours.RootElement);
        var referenceFacts = OpenApiFacts.Of(reference.RootElement);

        var onlyOurs = new SortedSet<string>(ourFacts.Except(referenceFacts), StringComparer.Ordinal);
        var onlyReference = new SortedSet<string>(referenceFacts.Except(ourFacts), StringComparer.Ordinal);
        return (onlyOurs, onlyReference);
    }
}
