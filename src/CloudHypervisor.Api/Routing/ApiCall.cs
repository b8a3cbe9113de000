using System.Text.Json.Serialization.Metadata;
using CloudHypervisor.Contracts.Json;
using CloudHypervisor.Sys;

namespace CloudHypervisor.Api.Routing;

/// <summary>The parts of a request an endpoint reads: its JSON body and the descriptors that came with it.</summary>
internal readonly record struct ApiCall(ReadOnlyMemory<byte> Body, IReadOnlyList<SafeFd> Fds)
{
    /// <exception cref="ContractJsonException">The body does not match the contract.</exception>
    public T Read<T>(JsonTypeInfo<T> type) => ContractJson.Deserialize(Body.Span, type);

    /// <exception cref="FdCountException">A different number of descriptors arrived than the body announces.</exception>
    public void RequireFdCount(int expected)
    {
        if (Fds.Count != expected)
        {
            throw new FdCountException();
        }
    }
}

/// <summary>The request carried the wrong number of SCM_RIGHTS descriptors; upstream answers 400 Bad Request.</summary>
internal sealed class FdCountException : Exception;
