using CloudHypervisor.ContractGen.Model;

namespace CloudHypervisor.ContractGen.Emitting;

/// <summary>
/// Emits one sealed class per object schema. Required properties become <c>required</c>
/// members, optional ones with a default get an initializer, the rest are nullable.
/// </summary>
public sealed class ClassEmitter(CSharpTypes types)
{
    private const string FdConverter = "CloudHypervisor.Contracts.Json.FdPlaceholderConverter";
    private const string FdListConverter = "CloudHypervisor.Contracts.Json.FdPlaceholderListConverter";

    public void Emit(CodeWriter code, Schema schema)
    {
        code.Summary(schema.Description);
        if (schema.DenyUnknownFields)
        {
            code.Line("[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]");
        }

        if (schema.Kind == SchemaKind.Map)
        {
            using (code.Block($"public sealed partial class {schema.Name} : Dictionary<string, {types.Name(schema.MapValue!)}>"))
            {
                EmitMapDeepCopy(code, schema);
            }

            return;
        }

        using (code.Block($"public sealed partial class {schema.Name}"))
        {
            var first = true;
            foreach (var property in schema.Properties)
            {
                if (!first)
                {
                    code.Line();
                }

                first = false;
                if (property.AliasOf is not null)
                {
                    EmitAlias(code, schema, property);
                }
                else
                {
                    EmitProperty(code, schema, property);
                }
            }

            code.Line();
            EmitDeepCopy(code, schema);
        }
    }

    /// <summary>
    /// A copy that shares no list, map or object with the original, without a JSON round trip (the first
    /// serialization of a type builds its metadata, milliseconds on a VM's boot path). Every property is copied,
    /// file descriptors and the ones upstream's default build ignores included.
    /// </summary>
    private void EmitDeepCopy(CodeWriter code, Schema schema)
    {
        code.Line("/// <summary>A deep copy: no list, map or object is shared with this one.</summary>");
        code.Line($"public {schema.Name} DeepCopy() => new()");
        code.Line("{");
        foreach (var property in schema.Properties)
        {
            if (property.AliasOf is null)
            {
                var name = CSharpTypes.PropertyName(schema, property);
                code.Line($"    {name} = {CopyOf(property.Type, name, depth: 0)},");
            }
        }

        code.Line("};");
    }

    private void EmitMapDeepCopy(CodeWriter code, Schema schema)
    {
        code.Line("/// <summary>A deep copy: no list, map or object is shared with this one.</summary>");
        using (code.Block($"public {schema.Name} DeepCopy()"))
        {
            code.Line("var copy = new " + schema.Name + "();");
            using (code.Block("foreach (var (key, value) in this)"))
            {
                code.Line($"copy[key] = {CopyOf(schema.MapValue!, "value", depth: 0)};");
            }

            code.Line("return copy;");
        }
    }

    /// <summary>An expression copying <paramref name="value"/> (null stays null); nested lambdas get their own names.</summary>
    private string CopyOf(TypeRef type, string value, int depth)
    {
        var item = $"item{depth}";
        return type switch
        {
            _ when types.IsValueType(type) => value,
            PrimitiveType => value,
            SchemaRef => $"{value}?.DeepCopy()!",
            ArrayType { Items: var items } when types.IsValueType(items) || items is PrimitiveType =>
                $"{value} is null ? null! : new {types.Name(type)}({value})",
            ArrayType { Items: var items } => $"{value}?.ConvertAll(static {item} => {CopyOf(items, item, depth + 1)})!",
            MapType { Values: var values } =>
                $"{value} is null ? null! : CloudHypervisor.Contracts.Json.DeepCopies.Map({value}, static {item} => {CopyOf(values, item, depth + 1)})",
            FreeObjectType => $"(JsonObject?){value}?.DeepClone()!",
            _ => throw new ContractGenException($"no copy for type {type}"),
        };
    }

    private void EmitProperty(CodeWriter code, Schema schema, Property property)
    {
        var where = $"{schema.Name}.{property.WireName}";
        var typeName = types.Name(property.Type);
        var hasDefault = property.HasDefault;
        var nullable = !property.Required && !hasDefault;

        code.Summary(property.Description);
        code.Line($"[JsonPropertyName({Naming.StringLiteral(property.WireName)})]");
        if (property.CargoFeature is not null)
        {
            // Upstream's default build lacks the field: an input value is an ignored unknown field.
            code.Line($"// Only in upstream builds with the \"{property.CargoFeature}\" cargo feature.");
            code.Line("[JsonIgnore]");
        }

        switch (property.CargoFeature is null ? property.Omit : OmitRule.Never)
        {
            case OmitRule.WhenNull when !nullable:
                throw new ContractGenException($"{where}: omitted when null, but it can never be null");
            case OmitRule.WhenNull:
                code.Line("[JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]");
                break;
            case OmitRule.WhenFalse when typeName != "bool" || nullable:
                throw new ContractGenException($"{where}: omitted when false, but it is not a bool with a default");
            case OmitRule.WhenFalse:
                code.Line("[JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]");
                break;
        }

        if (property.IsFileDescriptor)
        {
            code.Line(typeName switch
            {
                "int" when nullable => $"[JsonConverter(typeof({FdConverter}))]",
                "List<int>" when nullable => $"[JsonConverter(typeof({FdListConverter}))]",
                _ => throw new ContractGenException($"{where}: x-ch-fd needs an optional int or list of int"),
            });
        }

        var name = CSharpTypes.PropertyName(schema, property);
        if (property.Required)
        {
            code.Line($"public required {typeName} {name} {{ get; set; }}");
        }
        else if (property.DefaultFactory is { } factory)
        {
            code.Line($"public {typeName} {name} {{ get; set; }} = global::{factory}();");
        }
        else if (hasDefault)
        {
            code.Line($"public {typeName} {name} {{ get; set; }} = {types.Initializer(property.Type, property.Default, where)};");
        }
        else
        {
            code.Line($"public {typeName}? {name} {{ get; set; }}");
        }
    }

    /// <summary>An input-only alternative spelling (serde alias): read into its target, never written.</summary>
    private void EmitAlias(CodeWriter code, Schema schema, Property property)
    {
        var target = schema.Properties.FirstOrDefault(p => p.WireName == property.AliasOf)
            ?? throw new ContractGenException($"{schema.Name}.{property.WireName}: alias of unknown property '{property.AliasOf}'");
        var typeName = types.Name(property.Type);
        if (types.Name(target.Type) != typeName || types.IsValueType(property.Type))
        {
            throw new ContractGenException($"{schema.Name}.{property.WireName}: an alias must have the reference type of its target");
        }

        code.Line($"/// <summary>Accepted on input as another spelling of <c>{target.WireName}</c>; never written.</summary>");
        code.Line($"[JsonPropertyName({Naming.StringLiteral(property.WireName)})]");
        code.Line("[JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]");
        code.Line("[EditorBrowsable(EditorBrowsableState.Never)]");
        using (code.Block($"public {typeName}? {CSharpTypes.PropertyName(schema, property)}"))
        {
            code.Line("get => null;");
            code.Line($"set => {CSharpTypes.PropertyName(schema, target)} = value ?? {CSharpTypes.PropertyName(schema, target)};");
        }
    }
}
