using CcaSim.Cpu.Unicorn;

namespace CcaSim.Cpu.Tests.Unicorn;

public class UnicornLibraryTests
{
    [Fact]
    public void Load_FindsALibraryAndReportsItsVersion()
    {
        UnicornLibrary.Load();
        Console.WriteLine($"Unicorn {UnicornLibrary.Version} from {UnicornLibrary.Path}");
        Assert.StartsWith("2.", UnicornLibrary.Version, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, 199)]
    [InlineData(28, 227)]
    [InlineData(29, 1)]
    [InlineData(30, 2)]
    [InlineData(31, 7)]
    public void XRegId_FollowsArm64HeaderIds(int register, int id)
    {
        // G3: X29/X30 are not in the X0.. run.
        Assert.Equal(id, Uc.XRegId(register));
        Assert.Equal(register, Uc.XIndex(id));
    }

    [Fact]
    public void SyndromeCalibration_FindsTheSyndromeInTheContextBlob()
    {
        // G12: the offset moves between builds (3040 in 2.0.1, 3064 in 2.1.4); it must be found, not assumed.
        int offset = CcaSim.Cpu.Engine.SyndromeCalibration.Offset;
        Console.WriteLine($"syndrome offset {offset}");
        Assert.True(offset > 0);
    }
}
