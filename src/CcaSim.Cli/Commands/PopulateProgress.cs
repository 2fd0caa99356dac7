using CcaSim.Vmm;
using Spectre.Console;

namespace CcaSim.Cli.Commands;

/// <summary>
/// <c>ccasim run</c>'s progress display while a large realm is loaded and populated (issue 12, item 7): a Spectre
/// progress bar on standard error, fed by the VMM's <see cref="VmmEventKind.Populated"/> steps. Small images
/// populate in a blink and get none; neither does output that is not a terminal, nor <c>--quiet</c>.
/// </summary>
internal static class PopulateProgress
{
    /// <summary>Below this many bytes of images, populating takes well under half a second: no display.</summary>
    public const long Threshold = 32L << 20;

    /// <summary>Whether a run shows the display.</summary>
    public static bool ShouldShow(bool quiet, bool errorIsTerminal, VmOptions vm, long imageBytes) =>
        !quiet && errorIsTerminal && vm.Realm && imageBytes >= Threshold;

    /// <summary>The bytes the VMM will populate, near enough for a progress bar: the kernel and the initrd.</summary>
    public static long ImageBytes(VmOptions vm) => Length(vm.KernelBytes, vm.Kernel) + Length(vm.InitrdBytes, vm.Initrd);

    /// <summary>
    /// Runs <paramref name="create"/> under a progress bar on <paramref name="console"/>; <paramref name="create"/>
    /// gets the event handler to add to the machine's events. The bar is cleared when done.
    /// </summary>
    public static T Show<T>(IAnsiConsole console, long total, Func<Action<VmmEvent>, T> create)
    {
        T result = default!;
        console.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                ProgressTask task = context.AddTask("populating realm memory", maxValue: Math.Max(1, total));
                result = create(e =>
                {
                    if (e.Kind == VmmEventKind.Populated)
                    {
                        task.Increment(e.Size);
                    }
                });
                task.Value = task.MaxValue;
            });
        return result;
    }

    /// <summary>A console on standard error, for the display.</summary>
    public static IAnsiConsole StandardError() =>
        AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(System.Console.Error) });

    private static long Length(byte[]? bytes, string? path)
    {
        if (bytes is not null)
        {
            return bytes.LongLength;
        }

        try
        {
            return path is null ? 0 : new FileInfo(path).Length;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return 0; // the loader reports an unreadable image; the estimate just leaves it out
        }
    }
}
