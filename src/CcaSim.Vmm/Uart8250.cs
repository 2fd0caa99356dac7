using System.Text;

namespace CcaSim.Vmm;

/// <summary>
/// A minimal 16550A (kvmtool's 8250 model) at <see cref="VmmLayout.UartBase"/>: transmitted bytes go to a sink and
/// to a transcript; the transmitter is always empty (LSR THRE|TEMT) because output completes at once; no input is
/// modelled (LSR DR stays clear); IER, LCR (with DLAB and the divisor latch), MCR and SCR hold what the guest writes;
/// IIR reports the THR-empty interrupt as pending when the guest enabled it. The interrupt line is not driven.
/// </summary>
public sealed class Uart8250
{
    public const int Rbr = 0;
    public const int Thr = 0;
    public const int Ier = 1;
    public const int Iir = 2;
    public const int Fcr = 2;
    public const int Lcr = 3;
    public const int Mcr = 4;
    public const int Lsr = 5;
    public const int Msr = 6;
    public const int Scr = 7;

    public const byte LsrThre = 0x20;
    public const byte LsrTemt = 0x40;
    public const byte LcrDlab = 0x80;
    public const byte IerThri = 0x02;
    public const byte IirNoInterrupt = 0x01;
    public const byte IirThri = 0x02;
    public const byte IirFifosEnabled = 0xC0;
    public const byte MsrDcdDsrCts = 0xB0;

    private readonly Stream? _sink;
    private readonly StringBuilder _transcript = new();
    private readonly StringBuilder _line = new();
    private byte _ier;
    private byte _lcr;
    private byte _mcr;
    private byte _scr;
    private byte _fcr;
    private byte _dll;
    private byte _dlm;

    /// <summary>A UART whose output goes to <paramref name="sink"/> (null: only the transcript).</summary>
    public Uart8250(Stream? sink) => _sink = sink;

    /// <summary>Everything transmitted so far.</summary>
    public string Transcript => _transcript.ToString();

    /// <summary>The status of the last "EXIT: STATUS=n" line (kvm-unit-tests' convention), or null.</summary>
    public int? ReportedExitStatus { get; private set; }

    /// <summary>Raised for every complete line transmitted (without the newline).</summary>
    public event Action<string>? LineWritten;

    /// <summary>Whether <paramref name="address"/> falls in the UART's register window.</summary>
    public static bool Contains(ulong address) => address - VmmLayout.UartBase < VmmLayout.UartSize;

    /// <summary>A guest write of <paramref name="value"/> to register <paramref name="offset"/>.</summary>
    public void Write(int offset, byte value)
    {
        bool dlab = (_lcr & LcrDlab) != 0;
        switch (offset)
        {
            case Thr when dlab:
                _dll = value;
                break;
            case Thr:
                Transmit(value);
                break;
            case Ier when dlab:
                _dlm = value;
                break;
            case Ier:
                _ier = (byte)(value & 0x0F);
                break;
            case Fcr:
                _fcr = value;
                break;
            case Lcr:
                _lcr = value;
                break;
            case Mcr:
                _mcr = (byte)(value & 0x1F);
                break;
            case Scr:
                _scr = value;
                break;
            default:
                // LSR and MSR are read-only; writes are ignored as on the 16550.
                break;
        }
    }

    /// <summary>A guest read of register <paramref name="offset"/>.</summary>
    public byte Read(int offset)
    {
        bool dlab = (_lcr & LcrDlab) != 0;
        return offset switch
        {
            Rbr when dlab => _dll,
            Rbr => 0,
            Ier when dlab => _dlm,
            Ier => _ier,
            Iir => (byte)(((_ier & IerThri) != 0 ? IirThri : IirNoInterrupt) | ((_fcr & 1) != 0 ? IirFifosEnabled : 0)),
            Lcr => _lcr,
            Mcr => _mcr,
            Lsr => LsrThre | LsrTemt,
            Msr => MsrDcdDsrCts,
            Scr => _scr,
            _ => 0,
        };
    }

    private void Transmit(byte value)
    {
        _sink?.WriteByte(value);
        if (value == (byte)'\n')
        {
            _sink?.Flush();
        }

        char c = (char)value;
        _transcript.Append(c);
        if (c == '\n')
        {
            string line = _line.ToString().TrimEnd('\r');
            _line.Clear();
            if (line.StartsWith("EXIT: STATUS=", StringComparison.Ordinal) &&
                int.TryParse(line.AsSpan(13).Trim(), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int status))
            {
                ReportedExitStatus = status;
            }

            LineWritten?.Invoke(line);
        }
        else
        {
            _line.Append(c);
        }
    }
}
