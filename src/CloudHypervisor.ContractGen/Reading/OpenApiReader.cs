using CloudHypervisor.ContractGen.Model;

namespace CloudHypervisor.ContractGen.Reading;

/// <summary>
/// Reads the OpenAPI 3.0 document into the generator's model, applying the project's
/// <c>x-ch-*</c> vendor extensions that describe upstream's real wire behaviour.
/// </summary>
public static class OpenApiReader
{
    private static readonly string[] Methods = ["get", "put", "patch", "delete", "post"];

    public static ApiDocument Read(YamlMap root)
    {
        var schemas = root.Map("components")?.Map("schemas")
            ?? throw new ContractGenException("components/schemas is missing");
        var document = new ApiDocument(
            ReadOperations(root.Map("paths") ?? throw new ContractGenException("paths is missing")),
            schemas.Select(entry => ReadSchema(entry.Key, AsMap(entry.Value, entry.Key), schemas)).ToList());
        Validate(document);
        return document;
    }

    private static List<Operation> ReadOperations(YamlMap paths)
    {
        var operations = new List<Operation>();
        foreach (var (path, value) in paths)
        {
            var item = AsMap(value, path);
            foreach (var method in Methods)
            {
                if (item.Map(method) is not { } operation)
                {
                    continue;
                }

                var where = $"{method} {path}";
                var body = operation.Map("requestBody");
                operations.Add(new Operation(
                    path,
                    method.ToUpperInvariant(),
                    operation.String("operationId"),
                    body is null ? null : ReadContentType(body, where),
                    body?.Flag("required") ?? false,
                    ReadResponses(operation.Map("responses"), where)));
            }
        }

        return operations;
    }

    private static List<OperationResponse> ReadResponses(YamlMap? responses, string where)
    {
        if (responses is null)
        {
            throw new ContractGenException($"{where}: responses are missing");
        }

        return responses
            .Select(r => new OperationResponse(
                int.TryParse(r.Key, out var code) ? code : throw new ContractGenException($"{where}: bad status '{r.Key}'"),
                ReadContentType(AsMap(r.Value, where), where)))
            .ToList();
    }

    private static TypeRef? ReadContentType(YamlMap holder, string where) =>
        holder.Map("content")?.Map("application/json")?.Map("schema") is { } schema
            ? ReadType(schema, where)
            : null;

    private static Schema ReadSchema(string name, YamlMap node, YamlMap allSchemas)
    {
        var description = node.String("description");
        if (node.List("enum") is { } values)
        {
            return new Schema(name, SchemaKind.StringEnum, description, [], values.Select(v => v!.ToString()!).ToList(),
                node.String("default"), null, false);
        }

        if (node.Map("properties") is null && node["additionalProperties"] is YamlMap valueSchema)
        {
            return new Schema(name, SchemaKind.Map, description, [], [], null, ReadType(valueSchema, name), false);
        }

        var required = (node.List("required") ?? []).Select(r => r!.ToString()!).ToHashSet();
        var skipNone = node.Flag("x-ch-skip-serializing-none");
        var properties = new List<Property>();
        foreach (var (wireName, value) in node.Map("properties") ?? [])
        {
            properties.Add(ReadProperty(wireName, AsMap(value, $"{name}.{wireName}"), required.Contains(wireName), skipNone, name, allSchemas));
        }

        var unknownRequired = required.Except(properties.Select(p => p.WireName)).ToList();
        if (unknownRequired.Count > 0)
        {
            throw new ContractGenException($"{name}: required names unknown properties: {string.Join(", ", unknownRequired)}");
        }

        return new Schema(name, SchemaKind.Object, description, properties, [], null, null, node.Flag("x-ch-deny-unknown-fields"));
    }

    private static Property ReadProperty(string wireName, YamlMap node, bool required, bool skipNone, string schemaName, YamlMap allSchemas)
    {
        var where = $"{schemaName}.{wireName}";
        var type = ReadType(node, where);

        // A property's own default wins; a reference to an enum schema inherits that schema's default.
        var defaultSource = node.ContainsKey("x-ch-default") ? node
            : node.ContainsKey("default") ? node
            : type is SchemaRef reference && allSchemas.Map(reference.Name) is { } target && target.List("enum") is not null ? target
            : null;
        var defaultValue = defaultSource is null ? null
            : defaultSource.ContainsKey("x-ch-default") ? defaultSource["x-ch-default"] : defaultSource["default"];
        var hasDefault = defaultSource is not null && (defaultSource.ContainsKey("x-ch-default") || defaultSource.ContainsKey("default"));
        if (hasDefault && defaultValue is null)
        {
            throw new ContractGenException($"{where}: a null default is the same as no default; remove it");
        }
        var factory = node.String("x-ch-default-factory");
        if (factory is not null && hasDefault)
        {
            throw new ContractGenException($"{where}: x-ch-default-factory and a default value exclude each other");
        }

        var cargoFeature = node.String("x-ch-cargo-feature");
        if (cargoFeature is not null && (required || node.ContainsKey("x-ch-skip-serializing-if")))
        {
            throw new ContractGenException($"{where}: a field of a cargo feature can be neither required nor conditionally written");
        }

        var nullable = !required && !hasDefault && factory is null;
        var omit = node.String("x-ch-skip-serializing-if") switch
        {
            null => skipNone && nullable ? OmitRule.WhenNull : OmitRule.Never,
            "none" => OmitRule.WhenNull,
            "false" => OmitRule.WhenFalse,
            "never" => OmitRule.Never,
            var other => throw new ContractGenException($"{where}: unknown x-ch-skip-serializing-if '{other}'"),
        };

        return new Property(wireName, type, required, defaultValue, node.String("description"), omit,
            node.String("x-ch-alias-of"), node.Flag("x-ch-fd"), factory, cargoFeature);
    }

    private static TypeRef ReadType(YamlMap node, string where)
    {
        if (node.String("$ref") is { } reference)
        {
            const string prefix = "#/components/schemas/";
            return reference.StartsWith(prefix, StringComparison.Ordinal)
                ? new SchemaRef(reference[prefix.Length..])
                : throw new ContractGenException($"{where}: unsupported $ref '{reference}'");
        }

        var type = node.String("type") ?? throw new ContractGenException($"{where}: no type and no $ref");
        return type switch
        {
            "array" => new ArrayType(ReadType(node.Map("items") ?? throw new ContractGenException($"{where}: array without items"), where)),
            "object" when node["additionalProperties"] is YamlMap values => new MapType(ReadType(values, where)),
            "object" when node.Map("properties") is null => new FreeObjectType(),
            "object" => throw new ContractGenException($"{where}: inline object schemas are not supported; name it under components/schemas"),
            "string" or "integer" or "number" or "boolean" => new PrimitiveType(type, node.String("x-ch-format") ?? node.String("format")),
            _ => throw new ContractGenException($"{where}: unsupported type '{type}'"),
        };
    }

    private static void Validate(ApiDocument document)
    {
        var names = document.Schemas.Select(s => s.Name).ToHashSet();
        foreach (var reference in AllTypeRefs(document).OfType<SchemaRef>())
        {
            if (!names.Contains(reference.Name))
            {
                throw new ContractGenException($"$ref to unknown schema '{reference.Name}'");
            }
        }
    }

    private static IEnumerable<TypeRef> AllTypeRefs(ApiDocument document)
    {
        static IEnumerable<TypeRef> Expand(TypeRef? type)
        {
            for (var current = type; current is not null;)
            {
                yield return current;
                current = current switch
                {
                    ArrayType array => array.Items,
                    MapType map => map.Values,
                    _ => null,
                };
            }
        }

        var roots = document.Schemas.SelectMany(s => s.Properties.Select(p => p.Type).Append(s.MapValue))
            .Concat(document.Operations.SelectMany(o => o.Responses.Select(r => r.Body).Append(o.RequestBody)));
        return roots.SelectMany(Expand);
    }

    private static YamlMap AsMap(object? value, string where) =>
        value as YamlMap ?? throw new ContractGenException($"{where}: expected a mapping");
}
