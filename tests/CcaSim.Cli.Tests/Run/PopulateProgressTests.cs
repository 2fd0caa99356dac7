using CcaSim.Cli.Commands;
using CcaSim.Vmm;
using Spectre.Console;

namespace CcaSim.Cli.Tests.Run;

/// <summary>Issue 12 item 7: the progress display while a large realm is populated, and when it stays away.</summary>
public sealed class PopulateProgressTests
{
    private static readonly VmOptions Realm = new() { Kernel = "k", Realm = true };

    [Theory]
    [InlineData(false, true, true, PopulateProgress.Threshold, true)]
    [InlineData(true, true, true, PopulateProgress.Threshold, false)]
    [InlineData(false, false, true, PopulateProgress.Threshold, false)]
    [InlineData(false, true, false, PopulateProgress.Threshold, false)]
    [InlineData(false, true, true, PopulateProgress.Threshold - 1, false)]
    public void ShouldShow_OnlyForALargeRealmOnATerminalWithoutQuiet(bool quiet, bool terminal, bool realm, long bytes, bool expected)
    {
        Assert.Equal(expected, PopulateProgress.ShouldShow(quiet, terminal, Realm with { Realm = realm }, bytes));
    }

    [Fact]
    public void ImageBytes_AddsTheKernelAndTheInitrd()
    {
        Assert.Equal(7, PopulateProgress.ImageBytes(Realm with { KernelBytes = new byte[4], InitrdBytes = new byte[3] }));
    }

    [Fact]
    public void ImageBytes_OfAMissingFile_LeavesItOut()
    {
        Assert.Equal(0, PopulateProgress.ImageBytes(Realm with { Kernel = "/nonexistent/kernel" }));
    }

    [Fact]
    public void Show_FeedsPopulatedStepsToTheBarAndReturnsWhatTheMachineBuilderReturned()
    {
        var text = new StringWriter();
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(text), Interactive = InteractionSupport.Yes, Ansi = AnsiSupport.Yes });
        int steps = 0;

        string result = PopulateProgress.Show(console, 4 << 20, handler =>
        {
            handler(new VmmEvent(VmmEventKind.Populate, 0, 0, 0x8008_0000, 4 << 20, Detail: "kernel"));
            handler(new VmmEvent(VmmEventKind.Populated, 0, 0, 0x8008_0000, 2 << 20, Detail: "kernel"));
            handler(new VmmEvent(VmmEventKind.Populated, 0, 0, 0x8028_0000, 2 << 20, Detail: "kernel"));
            steps = 2;
            return "machine";
        });

        Assert.Equal("machine", result);
        Assert.Equal(2, steps);
        Assert.Contains("populating realm memory", text.ToString(), StringComparison.Ordinal);
    }
}
