using CloudHypervisor.Sys.Errors;

namespace CloudHypervisor.Vmm.Config;

/// <summary>"Error validating configuration", caused by a <see cref="InvalidConfigException"/>.</summary>
public sealed class ConfigValidationException : ChainedException
{
    public ConfigValidationException(InvalidConfigException cause)
        : base("Error validating configuration", cause)
    {
    }

    public InvalidConfigException Problem => (InvalidConfigException)InnerException!;
}

/// <summary>One violated configuration rule, worded like upstream's ValidationError.</summary>
public sealed class InvalidConfigException : ChainedException
{
    public InvalidConfigException(string message)
        : base(message)
    {
    }

    public InvalidConfigException(string message, Exception cause)
        : base(message, cause)
    {
    }
}
