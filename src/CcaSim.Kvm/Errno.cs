namespace CcaSim.Kvm;

/// <summary>
/// Linux errno values (asm-generic/errno-base.h and errno.h, the numbering arm64 uses). The KVM model reports
/// every failure a real ioctl or file operation would report as one of these, never as an exception, so a VMM
/// written against the model sees exactly the -errno a kernel returns.
/// </summary>
public enum Errno
{
    /// <summary>Not an error: the value a successful <see cref="KvmResult"/> carries.</summary>
    None = 0,
    EPERM = 1,
    ENOENT = 2,
    EINTR = 4,
    EIO = 5,
    ENXIO = 6,
    E2BIG = 7,
    ENOEXEC = 8,
    EBADF = 9,
    EAGAIN = 11,
    ENOMEM = 12,
    EACCES = 13,
    EFAULT = 14,
    EBUSY = 16,
    EEXIST = 17,
    ENODEV = 19,
    EISDIR = 21,
    EINVAL = 22,
    ENFILE = 23,
    ENOTTY = 25,
    ETXTBSY = 26,
    EFBIG = 27,
    ENOSPC = 28,
    ESPIPE = 29,
    ERANGE = 34,
    ENOSYS = 38,
    EOPNOTSUPP = 95,
    EHWPOISON = 133,
}

/// <summary>
/// What a syscall returns: a non-negative value, or −errno. Kept in the kernel's own shape (one signed word)
/// so the ioctl layer can hand <see cref="ReturnValue"/> straight back to the caller.
/// </summary>
public readonly record struct KvmResult
{
    private KvmResult(long returnValue) => ReturnValue = returnValue;

    /// <summary>The raw syscall return: ≥ 0 on success, −errno on failure.</summary>
    public long ReturnValue { get; }

    public bool IsSuccess => ReturnValue >= 0;

    public Errno Error => IsSuccess ? Errno.None : (Errno)(-ReturnValue);

    public static KvmResult Success => default;

    public static KvmResult Ok(long value)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        return new KvmResult(value);
    }

    public static KvmResult Fail(Errno error)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero((int)error);
        return new KvmResult(-(long)error);
    }

    public static implicit operator KvmResult(Errno error) => error == Errno.None ? Success : Fail(error);

    public override string ToString() => IsSuccess ? ReturnValue.ToString(System.Globalization.CultureInfo.InvariantCulture) : $"-{Error}";
}

/// <summary>A success carrying a value (a new file, a stat buffer), or an errno.</summary>
public readonly record struct KvmResult<T>
{
    private readonly T? _value;

    private KvmResult(T? value, Errno error)
    {
        _value = value;
        Error = error;
    }

    public Errno Error { get; }

    public bool IsSuccess => Error == Errno.None;

    /// <summary>The value; reading it from a failed result is a programming error in the model, not caller input.</summary>
    public T Value => IsSuccess ? _value! : throw new InvalidOperationException($"result is -{Error}, not a value");

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1000", Justification = "Factory of the result type itself; C# cannot infer T for a non-generic helper from an errno.")]
    public static KvmResult<T> Ok(T value) => new(value, Errno.None);

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1000", Justification = "Factory of the result type itself.")]
    public static KvmResult<T> Fail(Errno error)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero((int)error);
        return new KvmResult<T>(default, error);
    }

    public static implicit operator KvmResult<T>(Errno error) => Fail(error);

    /// <summary>The errno-only view, for callers that pass the status on.</summary>
    public KvmResult ToResult() => IsSuccess ? KvmResult.Success : KvmResult.Fail(Error);

    public override string ToString() => IsSuccess ? $"Ok({_value})" : $"-{Error}";
}
