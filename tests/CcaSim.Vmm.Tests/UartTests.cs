using System.Text;

namespace CcaSim.Vmm.Tests;

public class UartTests
{
    [Fact]
    public void ThrWrites_GoToTheSinkAndTheTranscript()
    {
        using var sink = new MemoryStream();
        var uart = new Uart8250(sink);

        foreach (byte b in "hi\n"u8)
        {
            uart.Write(Uart8250.Thr, b);
        }

        Assert.Equal("hi\n", uart.Transcript);
        Assert.Equal("hi\n", Encoding.ASCII.GetString(sink.ToArray()));
    }

    [Fact]
    public void Lsr_SaysTheTransmitterIsEmptyAndNoDataIsReady() =>
        Assert.Equal(Uart8250.LsrThre | Uart8250.LsrTemt, new Uart8250(null).Read(Uart8250.Lsr));

    [Fact]
    public void Dlab_RedirectsRegisters0And1ToTheDivisorLatch()
    {
        var uart = new Uart8250(null);
        uart.Write(Uart8250.Lcr, Uart8250.LcrDlab | 0x03);
        uart.Write(Uart8250.Thr, 0x0C);
        uart.Write(Uart8250.Ier, 0x01);

        Assert.Equal(0x0C, uart.Read(Uart8250.Rbr));
        Assert.Equal(0x01, uart.Read(Uart8250.Ier));
        Assert.Equal(string.Empty, uart.Transcript);
        uart.Write(Uart8250.Lcr, 0x03);
        Assert.Equal(0, uart.Read(Uart8250.Ier));
    }

    [Fact]
    public void Iir_ReportsThrEmptyOnlyWhenEnabled()
    {
        var uart = new Uart8250(null);
        Assert.Equal(Uart8250.IirNoInterrupt, uart.Read(Uart8250.Iir));

        uart.Write(Uart8250.Ier, Uart8250.IerThri);

        Assert.Equal(Uart8250.IirThri, uart.Read(Uart8250.Iir));
    }

    [Theory]
    [InlineData("EXIT: STATUS=0\n", 0)]
    [InlineData("x\nEXIT: STATUS=3\n", 3)]
    [InlineData("EXIT: STATUS=3", null)]
    [InlineData("EXIT: STATUS=abc\n", null)]
    public void ExitLine_SetsTheReportedStatus(string output, int? expected)
    {
        var uart = new Uart8250(null);
        foreach (char c in output)
        {
            uart.Write(Uart8250.Thr, (byte)c);
        }

        Assert.Equal(expected, uart.ReportedExitStatus);
    }

    [Theory]
    [InlineData(0x0100_0000UL, true)]
    [InlineData(0x0100_0007UL, true)]
    [InlineData(0x0100_0008UL, false)]
    [InlineData(0x00FF_FFFFUL, false)]
    public void Contains_CoversTheEightRegisters(ulong address, bool expected) => Assert.Equal(expected, Uart8250.Contains(address));
}

public class ExitCodeTests
{
    [Theory]
    [InlineData(VmOutcome.PoweredOff, null, 0)]
    [InlineData(VmOutcome.PoweredOff, 3, 3)]
    [InlineData(VmOutcome.Reset, 5, 5)]
    [InlineData(VmOutcome.Crashed, 0, 1)]
    [InlineData(VmOutcome.InstructionLimit, null, 1)]
    [InlineData(VmOutcome.Timeout, 0, 1)]
    [InlineData(VmOutcome.Failed, null, 1)]
    public void ExitCode_IsThePayloadsStatusWhenItPoweredOff_Else1(VmOutcome outcome, int? reported, int expected) =>
        Assert.Equal(expected, VmRunResult.CodeFor(outcome, reported));
}
