using System.Globalization;
using CloudHypervisor.ContractGen.Model;

namespace CloudHypervisor.ContractGen.Emitting;

/// <summary>Maps model types to C# type names and YAML default values to C# initializers.</summary>
public sealed class CSharpTypes(ApiDocument document)
{
    public string Name(TypeRef type) => type switch
    {
        PrimitiveType primitive => PrimitiveName(primitive),
        SchemaRef reference => reference.Name,
        ArrayType array => $"List<{Name(array.Items)}>",
        MapType map => $"Dictionary<string, {Name(map.Values)}>",
        FreeObjectType => "JsonObject",
        _ => throw new ContractGenException($"unknown type {type}"),
    };

    public bool IsValueType(TypeRef type) => type switch
    {
        PrimitiveType primitive => primitive.Type != "string",
        SchemaRef reference => Schema(reference).Kind == SchemaKind.StringEnum,
        _ => false,
    };

    public Schema Schema(SchemaRef reference) =>
        document.FindSchema(reference.Name) ?? throw new ContractGenException($"unknown schema {reference.Name}");

    /// <summary>A C# expression for a YAML default of the given type.</summary>
    public string Initializer(TypeRef type, object? value, string where)
    {
        switch (type, value)
        {
            case (PrimitiveType { Type: "boolean" }, bool flag):
                return flag ? "true" : "false";
            case (PrimitiveType { Type: "integer" }, long number):
                return number.ToString(CultureInfo.InvariantCulture);
            case (PrimitiveType { Type: "number" }, long number):
                return number.ToString(CultureInfo.InvariantCulture) + ".0";
            case (PrimitiveType { Type: "string" }, string text):
                return Naming.StringLiteral(text);
            case (ArrayType array, List<object?> items):
                return "[" + string.Join(", ", items.Select(i => Initializer(array.Items, i, where))) + "]";
            case (SchemaRef reference, string text) when Schema(reference).Kind == SchemaKind.StringEnum:
                var schema = Schema(reference);
                return schema.EnumValues.Contains(text)
                    ? $"{schema.Name}.{Naming.Pascal(text)}"
                    : throw new ContractGenException($"{where}: default '{text}' is not a value of {schema.Name}");
            case (SchemaRef reference, Reading.YamlMap members) when Schema(reference).Kind == SchemaKind.Object:
                return ObjectInitializer(Schema(reference), members, where);
            default:
                throw new ContractGenException($"{where}: default '{value}' does not fit type {Name(type)}");
        }
    }

    private string ObjectInitializer(Schema schema, Reading.YamlMap members, string where)
    {
        var assignments = members.Select(member =>
        {
            var property = schema.Properties.FirstOrDefault(p => p.WireName == member.Key)
                ?? throw new ContractGenException($"{where}: {schema.Name} has no property '{member.Key}'");
            return $"{PropertyName(schema, property)} = {Initializer(property.Type, member.Value, $"{where}.{member.Key}")}";
        }).ToList();
        return assignments.Count == 0 ? "new()" : $"new() {{ {string.Join(", ", assignments)} }}";
    }

    /// <summary>The C# property name; a property may not share its class's name.</summary>
    public static string PropertyName(Schema owner, Property property)
    {
        var name = Naming.Pascal(property.WireName);
        return name == owner.Name ? name + "Value" : name;
    }

    private static string PrimitiveName(PrimitiveType primitive) => (primitive.Type, primitive.Format) switch
    {
        ("boolean", _) => "bool",
        ("string", _) => "string",
        ("number", "float") => "float",
        ("number", _) => "double",
        ("integer", "int8") => "sbyte",
        ("integer", "uint8") => "byte",
        ("integer", "int16") => "short",
        ("integer", "uint16") => "ushort",
        ("integer", "int32" or null) => "int",
        ("integer", "uint32") => "uint",
        ("integer", "int64") => "long",
        ("integer", "uint64" or "usize") => "ulong",
        _ => throw new ContractGenException($"unsupported {primitive.Type} format '{primitive.Format}'"),
    };
}
