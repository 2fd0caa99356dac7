using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using CcaSim.Rmm;
using CcaSim.Vmm;
using CcaSim.Vmm.Measurement;

namespace CcaSim.Cli.Commands;

/// <summary>
/// <c>ccasim measure</c>: the RIM of a realm (and the realm claims its token should carry) computed offline from the
/// options of <c>ccasim run</c>, without creating one (issue 12 item 3). <c>--json</c> writes the reference values
/// <c>ccasim verify --rim FILE</c> reads (<see cref="ReferenceValues.Format"/>).
/// </summary>
internal static class MeasureCommand
{
    private const string Who = "ccasim measure";

    public static Command Create()
    {
        // The VM options as `ccasim run` defines them (lkvm run's names, kvm-realm-abi.md §3.1); --realm is implied.
        var vm = new VmCommandOptions(forMeasure: true);
        var feat0 = new Option<string>("--feature-register0") { Description = "The RMM's RMI feature register 0 (its realm limits: IPA width, breakpoints, PMU, SVE).", DefaultValueFactory = _ => $"0x{FeatureRegister0.ReferenceHostBuildValue:x}" };
        var json = new Option<bool>("--json") { Description = $"Print the reference values as JSON (format \"{ReferenceValues.Format}\"), for `ccasim verify TOKEN --rim FILE`." };
        var command = new Command("measure", "Compute a realm's RIM offline, without booting it, and the realm claims its attestation token should carry.");
        vm.AddTo(command);
        command.Options.Add(feat0);
        command.Options.Add(json);
        command.SetAction(parse =>
        {
            if (vm.Resolve(parse, out string? problem) is not VmOptions options)
            {
                return Usage(problem!);
            }

            string featText = parse.GetValue(feat0)!;
            string? featProblem = Cli.Console.ScriptValues.TryParseNumber(featText, out ulong featValue)
                ? FeatureRegister0.Unpack(featValue).Validate(featValue)
                : "it is not a number";
            if (featProblem is not null)
            {
                return Usage($"--feature-register0 '{featText}': {featProblem}");
            }

            RealmMeasurement measurement;
            try
            {
                measurement = RimCalculator.Compute(options, FeatureRegister0.Unpack(featValue));
            }
            catch (VmmException e)
            {
                return Usage(Cli.Console.OutputFiles.OneLine(e.Message));
            }

            try
            {
                System.Console.Out.Write(parse.GetValue(json) ? Json(measurement) : Text(measurement));
                System.Console.Out.Flush();
                return ExitCodes.Ok;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return Program.OutputFailed(Who, e);
            }
        });
        return command;
    }

    /// <summary>The reference values as `ccasim verify --rim FILE` reads them; REMs are not predicted (the guest extends them).</summary>
    internal static string Json(RealmMeasurement m)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteString("format", ReferenceValues.Format);
            writer.WriteString("hash_algorithm", m.Claims.HashAlgorithm);
            writer.WriteString("rim", Convert.ToHexStringLower(m.Rim));
            writer.WriteString("personalization_value", Convert.ToHexStringLower(m.Claims.PersonalizationValue));
            writer.WriteStartArray("rems");
            for (int i = 0; i < 4; i++)
            {
                writer.WriteNullValue();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    internal static string Text(RealmMeasurement m)
    {
        MeasuredRealmParams p = m.Params;
        var s = new StringBuilder();
        IFormatProvider c = CultureInfo.InvariantCulture;
        s.Append(c, $"RIM: {Convert.ToHexStringLower(m.Rim)}\n");
        s.Append(c, $"realm parameters: s2sz {p.S2sz}, flags 0x{p.Flags:x}, sve_vl {p.SveVl}, num_bps {p.NumBps}, num_wps {p.NumWps}, pmu_num_ctrs {p.PmuNumCtrs}, hash_algo {m.Claims.HashAlgorithm}\n");
        s.Append(c, $"measured: {m.DataGranules} DATA granules, {m.RecDescriptors} runnable REC, {m.RipasDescriptors} RTT_INIT_RIPAS entries\n");
        s.Append("expected realm claims:\n");
        s.Append(c, $"  profile (265):                     {m.Claims.Profile}\n");
        s.Append("  challenge (10):                    chosen by the guest (not predicted)\n");
        s.Append(c, $"  personalization value (44235):     {Convert.ToHexStringLower(m.Claims.PersonalizationValue)}\n");
        s.Append(c, $"  RIM (44238):                       {Convert.ToHexStringLower(m.Rim)}\n");
        s.Append("  REMs (44239):                      all zero unless the guest extends them\n");
        s.Append(c, $"  hash algorithm (44236):            {m.Claims.HashAlgorithm}\n");
        s.Append(c, $"  public key hash algorithm (44240): {m.Claims.PublicKeyHashAlgorithm}\n");
        return s.ToString();
    }

    private static int Usage(string problem)
    {
        Program.ReportError($"{Who}: {problem}");
        return ExitCodes.Usage;
    }
}
