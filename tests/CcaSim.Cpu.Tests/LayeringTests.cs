namespace CcaSim.Cpu.Tests;

public class LayeringTests
{
    [Fact]
    public void CpuAssembly_ReferencesNoLayerButThePlatform()
    {
        string[] references = typeof(CcaSim.Cpu.EngineInfo).Assembly.GetReferencedAssemblies()
            .Select(a => a.Name!).Where(n => n.StartsWith("CcaSim.", StringComparison.Ordinal)).ToArray();
        Assert.All(references, name => Assert.Equal("CcaSim.Platform", name));
    }
}
