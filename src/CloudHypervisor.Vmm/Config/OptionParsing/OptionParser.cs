namespace CloudHypervisor.Vmm.Config.OptionParsing;

/// <summary>
/// Parses one "key=value,key=value" option string against a fixed set of known keys.
/// Duplicate keys are allowed (the last one wins); "key=" counts as set but yields no value.
/// </summary>
public sealed class OptionParser
{
    private readonly string[] _keys;
    private readonly bool[] _requiresValue;
    private readonly string?[] _values;

    public OptionParser(params string[] keys)
        : this(keys, [])
    {
    }

    public OptionParser(string[] keys, string[] valuelessKeys)
    {
        _keys = [.. keys, .. valuelessKeys];
        _requiresValue = new bool[_keys.Length];
        _values = new string?[_keys.Length];
        for (int i = 0; i < keys.Length; i++)
        {
            _requiresValue[i] = true;
        }
    }

    /// <summary>Strict parse: an unknown key is an error.</summary>
    public OptionParser Parse(string input) => ParseCore(input, ignoreUnknown: false);

    /// <summary>Lenient parse: unknown keys are skipped.</summary>
    public OptionParser ParseSubset(string input) => ParseCore(input, ignoreUnknown: true);

    private OptionParser ParseCore(string input, bool ignoreUnknown)
    {
        if (string.IsNullOrWhiteSpace(input))
        {
            return this;
        }

        var items = OptionSyntax.SplitCommas(input) ?? throw OptionParserException.InvalidSyntax(input);
        foreach (string item in items)
        {
            int equals = item.IndexOf('=');
            string key = equals < 0 ? item : item[..equals];
            int index = IndexOf(key);
            if (index < 0)
            {
                if (ignoreUnknown)
                {
                    continue;
                }

                throw OptionParserException.UnknownOption(key);
            }

            if (!_requiresValue[index])
            {
                _values[index] = string.Empty;
            }
            else if (equals < 0)
            {
                throw OptionParserException.InvalidSyntax(item);
            }
            else
            {
                _values[index] = item[(equals + 1)..].Trim();
            }
        }

        return this;
    }

    /// <summary>True when the key appeared in the input, even as "key=" or as a valueless word.</summary>
    public bool IsSet(string key) => _values[IndexOfKnown(key)] is not null;

    /// <summary>The raw (still quoted) value, or null when absent or empty.</summary>
    public string? Raw(string key)
    {
        string? value = _values[IndexOfKnown(key)];
        return string.IsNullOrEmpty(value) ? null : value;
    }

    /// <summary>The de-quoted value, or null when absent or empty.</summary>
    public string? Get(string key)
    {
        string? raw = Raw(key);
        return raw is null ? null : OptionSyntax.Dequote(raw);
    }

    /// <summary>Converts the raw value, reporting "Unable to convert &lt;raw&gt; for &lt;key&gt;" on failure.</summary>
    public bool TryConvert<T>(string key, ValueConverter<T> converter, out T value)
    {
        string? raw = Raw(key);
        if (raw is null)
        {
            value = default!;
            return false;
        }

        if (!converter(raw, out value))
        {
            throw OptionParserException.Conversion(key, raw);
        }

        return true;
    }

    public T? Convert<T>(string key, ValueConverter<T> converter)
        where T : struct => TryConvert(key, converter, out T value) ? value : null;

    public T? ConvertRef<T>(string key, ValueConverter<T> converter)
        where T : class => TryConvert(key, converter, out T value) ? value : null;

    public bool Toggle(string key, bool defaultValue) => Convert<bool>(key, ValueConverters.Toggle) ?? defaultValue;

    public ulong? ByteSize(string key) => Convert<ulong>(key, ValueConverters.ByteSize);

    public ulong? U64(string key) => Convert<ulong>(key, ValueConverters.U64);

    public uint? U32(string key) => Convert<uint>(key, ValueConverters.U32);

    public ushort? U16(string key) => Convert<ushort>(key, ValueConverters.U16);

    public byte? U8(string key) => Convert<byte>(key, ValueConverters.U8);

    public int? I32(string key) => Convert<int>(key, ValueConverters.I32);

    private int IndexOf(string key)
    {
        for (int i = 0; i < _keys.Length; i++)
        {
            if (string.Equals(_keys[i], key, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    private int IndexOfKnown(string key)
    {
        int index = IndexOf(key);
        return index >= 0 ? index : throw new ArgumentException($"option key '{key}' was not registered", nameof(key));
    }
}

/// <summary>Converts a raw option value; returns false when the text is not acceptable.</summary>
public delegate bool ValueConverter<T>(string raw, out T value);
