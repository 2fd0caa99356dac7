namespace CcaSim.Cli.Commands;

/// <summary>The examples <c>--help</c> prints after the options of the user-side commands (issue 12, item 7).</summary>
internal static class HelpExamples
{
    public static readonly IReadOnlyDictionary<string, string> ByCommand = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["run"] = """
            Examples:
              ccasim run -k .build/guests/hello.bin --realm -c 2                 boot a payload as a 2-vCPU realm
              ccasim run -k .build/guests/hello.bin                              the same as a normal VM
              ccasim run -k hello.bin --realm --token-out hello.cbor -q          keep the attestation token it printed
              ccasim run -k mine.elf -i data.bin -p "key=value" -m 128 --realm   an ELF, an initrd, /chosen/bootargs, 128 MiB
              ccasim run -k hello.bin --realm --trace hello.json                 a trace for https://ui.perfetto.dev
              ccasim run -k mine.bin --realm --max-instructions 100000000       stop a runaway guest (exit 124)
              ccasim run -k hello.bin --realm --measurement-algo sha512 --realm-pv my-realm
            """,
        ["measure"] = """
            Examples:
              ccasim measure -k .build/guests/hello.bin --realm -c 2             the RIM and the expected claims
              ccasim measure -k hello.bin --realm -c 2 --json > hello.ref.json   reference values for `verify --rim`
            """,
        ["verify"] = """
            Examples:
              ccasim verify hello.cbor                                           signatures and binding, default platform key
              ccasim verify --rim hello.ref.json hello.cbor                      and the RIM, hash algorithm and RPV predicted by measure
              ccasim verify --json --rim e9a04449e905b22d389579c4db93dbb8e2c3b836b4979fd0919fcf8caacc0889 hello.cbor
            """,
        ["demo"] = """
            Examples:
              ccasim demo                                                        hello as a 2-vCPU realm: RIM predicted and booted, token verified
            """,
    };
}
