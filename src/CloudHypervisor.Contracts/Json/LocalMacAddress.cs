namespace CloudHypervisor.Contracts.Json;

/// <summary>
/// The MAC address a network device gets when its configuration names none: like upstream's
/// serde default, random bytes behind the locally administered, unicast first octet 0x2e,
/// written as lowercase colon-separated hex.
/// </summary>
public static class LocalMacAddress
{
    public static string Random()
    {
        Span<byte> bytes = stackalloc byte[6];
        System.Random.Shared.NextBytes(bytes);
        bytes[0] = 0x2e;
        return string.Create(17, bytes.ToArray(), static (text, octets) =>
        {
            const string Hex = "0123456789abcdef";
            for (var i = 0; i < octets.Length; i++)
            {
                text[i * 3] = Hex[octets[i] >> 4];
                text[(i * 3) + 1] = Hex[octets[i] & 0xf];
                if (i < octets.Length - 1)
                {
                    text[(i * 3) + 2] = ':';
                }
            }
        });
    }
}
