namespace CloudHypervisor.ContractGen.Model;

/// <summary>The shape of a value: a primitive, a named schema, an array, a map or free JSON.</summary>
public abstract record TypeRef;

/// <summary>A JSON primitive. <see cref="Format"/> is the effective format (x-ch-format wins over format).</summary>
public sealed record PrimitiveType(string Type, string? Format) : TypeRef;

public sealed record SchemaRef(string Name) : TypeRef;

public sealed record ArrayType(TypeRef Items) : TypeRef;

public sealed record MapType(TypeRef Values) : TypeRef;

/// <summary>An object whose shape the document does not describe.</summary>
public sealed record FreeObjectType : TypeRef;
