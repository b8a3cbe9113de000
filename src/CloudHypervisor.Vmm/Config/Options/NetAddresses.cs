using System.Globalization;
using System.Net;
using System.Net.Sockets;
using CloudHypervisor.Vmm.Config.OptionParsing;

namespace CloudHypervisor.Vmm.Config.Options;

/// <summary>MAC and IP address text as upstream parses and prints it.</summary>
public static class NetAddresses
{
    /// <summary>"xx:xx:xx:xx:xx:xx" with six two-digit hex parts; printed lower-case.</summary>
    public static bool TryMac(string raw, out string value)
    {
        value = string.Empty;
        string[] parts = OptionSyntax.Dequote(raw).Split(':');
        if (parts.Length != 6)
        {
            return false;
        }

        var bytes = new byte[6];
        for (int i = 0; i < 6; i++)
        {
            if (parts[i].Length != 2 || !RustInteger.TryParseUnsignedRadix(parts[i], 16, byte.MaxValue, out ulong b))
            {
                return false;
            }

            bytes[i] = (byte)b;
        }

        value = Format(bytes);
        return true;
    }

    /// <summary>A random locally administered unicast address starting with 0x2e.</summary>
    /// <remarks>
    /// Not RandomNumberGenerator: it needs OpenSSL, which the static binary cannot load (it crashed).
    /// A MAC address needs no cryptographic randomness.
    /// </remarks>
    public static string RandomMac()
    {
        Span<byte> bytes = stackalloc byte[6];
        Random.Shared.NextBytes(bytes);
        bytes[0] = 0x2e;
        return Format(bytes);
    }

    /// <summary>Strict dotted-quad IPv4 (no leading zeros) or an IPv6 address without zone, printed canonically.</summary>
    public static bool TryIp(string raw, out string value)
    {
        string text = OptionSyntax.Dequote(raw);
        value = string.Empty;
        if (text.Contains(':', StringComparison.Ordinal))
        {
            if (text.Contains('%', StringComparison.Ordinal) || text.Contains('[', StringComparison.Ordinal)
                || !IPAddress.TryParse(text, out var v6) || v6.AddressFamily != AddressFamily.InterNetworkV6)
            {
                return false;
            }

            value = v6.ToString();
            return true;
        }

        string[] octets = text.Split('.');
        if (octets.Length != 4)
        {
            return false;
        }

        foreach (string octet in octets)
        {
            if (octet.Length is 0 or > 3 || (octet.Length > 1 && octet[0] == '0') || !byte.TryParse(octet, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                return false;
            }
        }

        value = text;
        return true;
    }

    private static string Format(ReadOnlySpan<byte> bytes) =>
        string.Create(CultureInfo.InvariantCulture, $"{bytes[0]:x2}:{bytes[1]:x2}:{bytes[2]:x2}:{bytes[3]:x2}:{bytes[4]:x2}:{bytes[5]:x2}");
}
