namespace CcaSim.Vmm;

/// <summary>
/// A VMM failure caused by its input (a missing or malformed image, options that do not fit together, a KVM ioctl
/// that refused the configuration). <see cref="Exception.Message"/> is one line, fit to show a user as it is.
/// </summary>
public sealed class VmmException : Exception
{
    public VmmException()
    {
    }

    public VmmException(string message)
        : base(message)
    {
    }

    public VmmException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
