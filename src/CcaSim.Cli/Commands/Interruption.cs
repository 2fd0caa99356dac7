using System.Runtime.InteropServices;

namespace CcaSim.Cli.Commands;

/// <summary>
/// SIGINT and SIGTERM (Ctrl-C, <c>timeout</c>) during a script read from a file: the run stops between two lines
/// and writes out what it has, instead of dying with its buffered results. Input from a pipe, FIFO or terminal
/// flushes every line and may block in a read, so there the signals keep their default action.
/// </summary>
internal sealed class Interruption : IDisposable
{
    private readonly CancellationTokenSource _source = new();
    private readonly PosixSignalRegistration[] _registrations;

    public Interruption(bool enabled)
    {
        _registrations = enabled
            ? [PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle), PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle)]
            : [];
    }

    public CancellationToken Token => _source.Token;

    /// <summary>The signal that stopped the run, or null.</summary>
    public PosixSignal? Signal { get; private set; }

    public void Dispose()
    {
        foreach (PosixSignalRegistration registration in _registrations)
        {
            registration.Dispose();
        }

        _source.Dispose();
    }

    private void Handle(PosixSignalContext context)
    {
        // Only the first signal waits for the line to end: a run blocked writing into a stalled pipe never reaches
        // the end of its line, so a second SIGINT or SIGTERM takes the default action and ends the process.
        if (Signal is not null)
        {
            return;
        }

        context.Cancel = true;
        Signal = context.Signal;
        _source.Cancel();
    }
}
