using CcaSim.Cli.Commands;

namespace CcaSim.Cli.Tests.Console;

public sealed class StrictExitTests
{
    [Theory]
    [InlineData("smc RMI_GRANULE_DELEGATE g1\nsmc RMI_GRANULE_DELEGATE g1\n", false, 0)]
    [InlineData("smc RMI_GRANULE_DELEGATE g1\nsmc RMI_GRANULE_DELEGATE g1\n", true, 1)]
    [InlineData("smc RMI_GRANULE_DELEGATE g1\nsmc RMI_GRANULE_DELEGATE g1 => ERROR_INPUT\n", true, 0)]
    [InlineData("smc RMI_GRANULE_DELEGATE g1 => ERROR_INPUT\n", true, 1)]
    [InlineData("nonsense\n", true, 1)]
    [InlineData("nonsense => E unknown\n", true, 0)]
    public void Strict_ExitsOne_OnlyWhenSomeResultWasNotExpected(string script, bool strict, int exitCode)
    {
        string file = Path.Combine(Path.GetTempPath(), $"ccasim-strict-{Guid.NewGuid():n}.rmm");
        File.WriteAllText(file, script);
        try
        {
            string[] args = strict ? ["rmm", "--pool-size", "64M", "--strict", file] : ["rmm", "--pool-size", "64M", file];
            var root = new System.CommandLine.RootCommand { RmmCommand.Create() };

            Assert.Equal(exitCode, root.Parse(args).Invoke());
        }
        finally
        {
            File.Delete(file);
        }
    }
}
