using System.Runtime.InteropServices;
using CloudHypervisor.Sys.Errors;
using CloudHypervisor.Vmm.Config;
using CloudHypervisor.Vmm.Config.OptionParsing;

namespace CloudHypervisor.Api.Client.Remote;

/// <summary>
/// Renders an error chain the way Rust's derived Debug prints upstream's error enums, for the
/// "Fatal error: {error:?}" log record, e.g. HttpApiClient(ServerResponse(NotFound, Some("[...]"))).
/// </summary>
public static class RustDebugFormat
{
    public static string Of(Exception? error) => error switch
    {
        null => "None",
        RemoteCommandException e => $"{e.Variant}({Of(e.InnerException)})",
        MigrationParseException e => $"{e.Variant}({Of(e.InnerException)})",
        ApiServerException e => $"ServerResponse({e.Status}, {(e.Body is null ? "None" : $"Some({RustDebug.Quote(e.Body)})")})",
        ApiClientException e => e.Kind switch
        {
            ApiClientErrorKind.MissingProtocol => "MissingProtocol",
            ApiClientErrorKind.SocketSendFds => $"SocketSendFds(Error({(e.InnerException as OsException)?.Errno}))",
            _ => $"{e.Kind}({Of(e.InnerException)})",
        },
        OsException e => $"Os {{ code: {e.Errno}, kind: {ErrnoKind(e.Errno)}, message: {RustDebug.Quote(Marshal.GetPInvokeErrorMessage(e.Errno))} }}",
        IoMessageException e => $"Error {{ kind: {e.Kind}, message: {RustDebug.Quote(e.Message)} }}",
        IntegerParseException e => $"ParseIntError {{ kind: {e.Kind} }}",
        ByteSizeParseException e => $"InvalidValue({RustDebug.Quote(e.Value)})",
        OptionParserException e => OptionParserError(e.Message),
        ChainedException e when e.InnerException is not null => $"{ConfigVariant(e.Message)}({Of(e.InnerException)})",
        _ => ConfigVariant(error.Message),
    };

    /// <summary>option_parser's OptionParserError variants, recovered from their Display text.</summary>
    private static string OptionParserError(string message)
    {
        if (Strip(message, "Unknown option: ") is { } key)
        {
            return $"UnknownOption({RustDebug.Quote(key)})";
        }

        if (Strip(message, "Invalid syntax: ") is { } syntax)
        {
            return $"InvalidSyntax({RustDebug.Quote(syntax)})";
        }

        if (Strip(message, "Invalid value: ") is { } value)
        {
            return $"InvalidValue({RustDebug.Quote(value)})";
        }

        if (Strip(message, "Unable to convert ") is { } conversion && conversion.LastIndexOf(" for ", StringComparison.Ordinal) is var at and >= 0)
        {
            return $"Conversion({RustDebug.Quote(conversion[(at + 5)..])}, {RustDebug.Quote(conversion[..at])})";
        }

        return RustDebug.Quote(message);
    }

    /// <summary>vmm::config::Error variant names by their Display text.</summary>
    private static string ConfigVariant(string message) => message switch
    {
        "Error parsing --disk" => "ParseDisk",
        "Error parsing --net" => "ParseNetwork",
        "Error parsing --fs" => "ParseFileSystem",
        "Error parsing --pmem" => "ParsePersistentMemory",
        "Error parsing --device" => "ParseDevice",
        "Error parsing --user-device" => "ParseUserDevice",
        "Error parsing --vdpa" => "ParseVdpa",
        "Error parsing --vsock" => "ParseVsock",
        "Error parsing --restore" => "ParseRestore",
        "Error parsing --generic-vhost-user" => "ParseGenericVhostUser",
        "Error parsing --fs: tag missing" => "ParseFsTagMissing",
        "Error parsing --fs: socket missing" => "ParseFsSockMissing",
        "Error parsing --pmem: file missing" => "ParsePmemFileMissing",
        "Error parsing --vsock: socket missing" => "ParseVsockSockMissing",
        "Error parsing --vsock: cid missing" => "ParseVsockCidMissing",
        "Error parsing --restore: source_url missing" => "ParseRestoreSourceUrlMissing",
        "Error parsing --user-device: socket missing" => "ParseUserDeviceSocketMissing",
        "Error parsing --vdpa: path missing" => "ParseVdpaPathMissing",
        "Error parsing --device: path missing" => "ParseDevicePathMissing",
        _ when message.StartsWith("Error parsing --fs: max tag length", StringComparison.Ordinal) => "ParseFsTagTooLong",
        _ => RustDebug.Quote(message),
    };

    private static string? Strip(string text, string prefix) =>
        text.StartsWith(prefix, StringComparison.Ordinal) ? text[prefix.Length..] : null;

    /// <summary>std::io::ErrorKind for an errno, as Rust's decode_error_kind maps it on Linux.</summary>
    public static string ErrnoKind(int errno) => errno switch
    {
        1 or 13 => "PermissionDenied",
        2 => "NotFound",
        4 => "Interrupted",
        7 => "ArgumentListTooLong",
        11 => "WouldBlock",
        12 => "OutOfMemory",
        16 => "ResourceBusy",
        17 => "AlreadyExists",
        18 => "CrossesDevices",
        20 => "NotADirectory",
        21 => "IsADirectory",
        22 => "InvalidInput",
        26 => "ExecutableFileBusy",
        27 => "FileTooLarge",
        28 => "StorageFull",
        29 => "NotSeekable",
        30 => "ReadOnlyFilesystem",
        31 => "TooManyLinks",
        32 => "BrokenPipe",
        35 => "Deadlock",
        36 => "InvalidFilename",
        38 => "Unsupported",
        39 => "DirectoryNotEmpty",
        40 => "FilesystemLoop",
        98 => "AddrInUse",
        99 => "AddrNotAvailable",
        100 => "NetworkDown",
        101 => "NetworkUnreachable",
        103 => "ConnectionAborted",
        104 => "ConnectionReset",
        107 => "NotConnected",
        110 => "TimedOut",
        111 => "ConnectionRefused",
        113 => "HostUnreachable",
        115 => "InProgress",
        116 => "StaleNetworkFileHandle",
        122 => "QuotaExceeded",
        _ => "Uncategorized",
    };
}
