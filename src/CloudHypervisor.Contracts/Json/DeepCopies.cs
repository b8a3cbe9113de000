namespace CloudHypervisor.Contracts.Json;

/// <summary>Helpers for the generated <c>DeepCopy</c> methods.</summary>
public static class DeepCopies
{
    public static Dictionary<string, T> Map<T>(Dictionary<string, T> source, Func<T, T> copy)
    {
        var result = new Dictionary<string, T>(source.Count, source.Comparer);
        foreach (var (key, value) in source)
        {
            result[key] = copy(value);
        }

        return result;
    }
}
