namespace CloudHypervisor.Vmm.Config.OptionParsing;

/// <summary>
/// Value converters with upstream's semantics. Scalar types are de-quoted before parsing
/// (Rust FromStr types); toggles and lists see the raw text.
/// </summary>
public static class ValueConverters
{
    // A guard against ranges like [0-4294967295] that would otherwise allocate without bound.
    private const int MaxListLength = 1 << 20;

    public static bool U64(string raw, out ulong value) => RustInteger.TryParseUnsigned(OptionSyntax.Dequote(raw), ulong.MaxValue, out value);

    public static bool U32(string raw, out uint value)
    {
        bool ok = RustInteger.TryParseUnsigned(OptionSyntax.Dequote(raw), uint.MaxValue, out ulong v);
        value = (uint)v;
        return ok;
    }

    public static bool U16(string raw, out ushort value)
    {
        bool ok = RustInteger.TryParseUnsigned(OptionSyntax.Dequote(raw), ushort.MaxValue, out ulong v);
        value = (ushort)v;
        return ok;
    }

    public static bool U8(string raw, out byte value)
    {
        bool ok = RustInteger.TryParseUnsigned(OptionSyntax.Dequote(raw), byte.MaxValue, out ulong v);
        value = (byte)v;
        return ok;
    }

    public static bool I32(string raw, out int value)
    {
        bool ok = RustInteger.TryParseSigned(OptionSyntax.Dequote(raw), int.MinValue, int.MaxValue, out long v);
        value = (int)v;
        return ok;
    }

    public static bool String(string raw, out string value)
    {
        value = OptionSyntax.Dequote(raw);
        return true;
    }

    /// <summary>on/true/off/false, case-insensitive, not de-quoted.</summary>
    public static bool Toggle(string raw, out bool value)
    {
        switch (raw.ToLowerInvariant())
        {
            case "":
            case "off":
            case "false":
                value = false;
                return true;
            case "on":
            case "true":
                value = true;
                return true;
            default:
                value = false;
                return false;
        }
    }

    /// <summary>A byte count with an optional K/M/G suffix (binary units); only the last suffix letter counts.</summary>
    public static bool ByteSize(string raw, out ulong value)
    {
        string s = OptionSyntax.Dequote(raw).Trim();
        int shift = s.Length == 0 ? 0 : s[^1] switch
        {
            'K' => 10,
            'M' => 20,
            'G' => 30,
            _ => 0,
        };
        bool ok = RustInteger.TryParseUnsigned(s.TrimEnd('K', 'M', 'G'), ulong.MaxValue, out ulong number);
        value = number << shift;
        return ok;
    }

    public static bool U64List(string raw, out List<ulong> value) => IntegerList(raw, ulong.MaxValue, out value);

    public static bool U32List(string raw, out List<uint> value) => Narrow(IntegerList(raw, uint.MaxValue, out var wide), wide, v => (uint)v, out value);

    public static bool U16List(string raw, out List<ushort> value) => Narrow(IntegerList(raw, ushort.MaxValue, out var wide), wide, v => (ushort)v, out value);

    public static bool U8List(string raw, out List<byte> value) => Narrow(IntegerList(raw, byte.MaxValue, out var wide), wide, v => (byte)v, out value);

    public static bool I32List(string raw, out List<int> value) => Narrow(IntegerList(raw, int.MaxValue, out var wide), wide, v => (int)v, out value);

    /// <summary>"[a,b,c-d]": brackets optional, inclusive ranges with start strictly below end.</summary>
    public static bool IntegerList(string raw, ulong max, out List<ulong> value)
    {
        value = [];
        string body = raw.Trim().Trim('[', ']');
        foreach (string range in body.Split(','))
        {
            string[] bounds = range.Split('-');
            if (bounds.Length > 2 || !RustInteger.TryParseUnsigned(bounds[0], ulong.MaxValue, out ulong start))
            {
                return false;
            }

            ulong end = start;
            if (bounds.Length == 2 && (!RustInteger.TryParseUnsigned(bounds[1], ulong.MaxValue, out end) || start >= end))
            {
                return false;
            }

            for (ulong item = start; ; item++)
            {
                if (item > max || value.Count >= MaxListLength)
                {
                    return false;
                }

                value.Add(item);
                if (item == end)
                {
                    break;
                }
            }
        }

        return true;
    }

    /// <summary>"[a,b]": brackets optional, items split quote/bracket-aware and kept verbatim.</summary>
    public static bool StringList(string raw, out List<string> value)
    {
        var items = OptionSyntax.SplitCommas(raw.Trim().Trim('[', ']'));
        value = items ?? [];
        return items is not null;
    }

    /// <summary>"[k@v,k@v]": enclosing brackets required; each item has exactly one unquoted '@' and a non-empty key.</summary>
    public static bool TupleList<TKey, TValue>(string raw, ValueConverter<TKey> key, ValueConverter<TValue> tupleValue, out List<KeyValuePair<TKey, TValue>> value)
    {
        value = [];
        string trimmed = raw.Trim();
        if (trimmed.Length < 2 || trimmed[0] != '[' || trimmed[^1] != ']')
        {
            return false;
        }

        var items = OptionSyntax.SplitCommas(trimmed[1..^1]);
        if (items is null)
        {
            return false;
        }

        foreach (string item in items)
        {
            string tuple = item.Trim();
            int at = -1;
            bool inQuotes = false;
            for (int i = 0; i < tuple.Length; i++)
            {
                if (tuple[i] == '"')
                {
                    inQuotes = !inQuotes;
                }
                else if (tuple[i] == '@' && !inQuotes)
                {
                    if (at >= 0 || i == 0)
                    {
                        return false;
                    }

                    at = i;
                }
            }

            if (at < 0 || !key(tuple[..at], out TKey k) || !tupleValue(tuple[(at + 1)..], out TValue v))
            {
                return false;
            }

            value.Add(new KeyValuePair<TKey, TValue>(k, v));
        }

        return true;
    }

    /// <summary>The plain u64 on the right of '@' (not de-quoted, not trimmed).</summary>
    public static bool TupleU64(string raw, out ulong value) => RustInteger.TryParseUnsigned(raw, ulong.MaxValue, out value);

    private static bool Narrow<T>(bool ok, List<ulong> wide, Func<ulong, T> narrow, out List<T> value)
    {
        value = new List<T>(wide.Count);
        foreach (ulong item in wide)
        {
            value.Add(narrow(item));
        }

        return ok;
    }
}
