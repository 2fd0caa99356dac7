using System.Text.Json;

namespace CcaSim.Cli.Commands;

/// <summary>
/// Reference values a verifier compares a realm token with, as <c>ccasim measure --json</c> writes them (format
/// <see cref="Format"/>, README "Verifying a token"). Read with <see cref="Utf8JsonReader"/>: no reflection, so
/// NativeAOT-safe, and every malformed input is one reason rather than an exception.
/// </summary>
internal sealed record ReferenceValues
{
    /// <summary>The value of the <c>format</c> member; a later, incompatible layout gets a new number.</summary>
    public const string Format = "ccasim-reference-values/1";

    /// <summary>The largest file read: the format is well under 1 KiB; a file past this is not one.</summary>
    public const int MaxBytes = 64 * 1024;

    /// <summary>The realm's measurement algorithm, as the token's claim 44236 names it (<c>sha-256</c> or <c>sha-512</c>).</summary>
    public required string HashAlgorithm { get; init; }

    public required byte[] InitialMeasurement { get; init; }

    /// <summary>Null when the file does not state it (not checked).</summary>
    public byte[]? PersonalizationValue { get; init; }

    /// <summary>Null when not stated; else REM1..REM4, each null when not checked.</summary>
    public IReadOnlyList<byte[]?>? ExtensibleMeasurements { get; init; }

    /// <summary>Expected platform claims; null when the file has no <c>platform</c> member.</summary>
    public PlatformReference? Platform { get; init; }

    /// <summary>Parses <paramref name="json"/>; null with the values, else the one-line reason.</summary>
    public static string? TryParse(ReadOnlySpan<byte> json, out ReferenceValues? values)
    {
        values = null;
        if (json.Trim(" \t\r\n"u8).IsEmpty)
        {
            // The reader calls this "no JSON tokens"; say it plainly.
            return "it is empty";
        }

        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 8, CommentHandling = JsonCommentHandling.Disallow });
        try
        {
            return Parse(ref reader, out values);
        }
        catch (JsonException e)
        {
            // The runtime's message ends in a 0-based " LineNumber: 0 | BytePositionInLine: 5."; editors count from 1.
            string message = Console.OutputFiles.OneLine(e.Message);
            int at = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
            return at < 0 || e.LineNumber is not { } line || e.BytePositionInLine is not { } column
                ? $"not valid JSON: {message}"
                : $"not valid JSON at line {line + 1}, byte {column + 1}: {message[..at]}";
        }
        catch (InvalidOperationException e)
        {
            // GetString on a string that is not valid UTF-8.
            return $"not valid JSON: {Console.OutputFiles.OneLine(e.Message)}";
        }
    }

    private static string? Parse(ref Utf8JsonReader reader, out ReferenceValues? values)
    {
        values = null;
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            return $"it is a JSON {Kind(reader.TokenType)}, not an object";
        }

        string? format = null;
        string? algorithm = null;
        string? rimHex = null;
        string? rpvHex = null;
        List<string?>? remHex = null;
        PlatformReference? platform = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            string name = reader.GetString()!;
            if (!seen.Add(name))
            {
                return $"member '{name}' appears twice";
            }

            Next(ref reader);
            string? problem = name switch
            {
                "format" => Text(ref reader, name, nullable: false, out format),
                "hash_algorithm" => Text(ref reader, name, nullable: false, out algorithm),
                "rim" => Text(ref reader, name, nullable: false, out rimHex),
                "personalization_value" => Text(ref reader, name, nullable: true, out rpvHex),
                "rems" => Rems(ref reader, out remHex),
                "platform" => PlatformReference.Parse(ref reader, out platform),
                _ => Skip(ref reader),
            };
            if (problem is not null)
            {
                return problem;
            }
        }

        if (reader.Read())
        {
            return "more data after the JSON object";
        }

        if (format is null)
        {
            return $"member 'format' is missing; it must be \"{Format}\"";
        }

        if (format != Format)
        {
            return $"format is \"{format}\"; this ccasim reads \"{Format}\"";
        }

        if (algorithm is null)
        {
            return "member 'hash_algorithm' is missing";
        }

        // RMM 1.0 realms measure with SHA-256 or SHA-512 only (RMI_REALM_CREATE, RmiHashAlgorithm).
        int size = algorithm switch
        {
            Attestation.ClaimValues.Sha256 => 32,
            Attestation.ClaimValues.Sha512 => 64,
            _ => 0,
        };
        if (size == 0)
        {
            return $"hash_algorithm is \"{algorithm}\"; it must be \"sha-256\" or \"sha-512\"";
        }

        if (rimHex is null)
        {
            return "member 'rim' is missing";
        }

        byte[]?[]? rems = null;
        byte[]? rpv = null;
        string? bad = HexValue(rimHex, "rim", [size], out byte[]? rim)
            ?? HexValue(rpvHex, "personalization_value", [64], out rpv);
        if (bad is null && remHex is not null)
        {
            rems = new byte[]?[remHex.Count];
            for (int i = 0; bad is null && i < remHex.Count; i++)
            {
                bad = HexValue(remHex[i], $"rems[{i}]", [size], out rems[i]);
            }
        }

        if (bad is not null)
        {
            return bad;
        }

        values = new ReferenceValues
        {
            HashAlgorithm = algorithm,
            InitialMeasurement = rim!,
            PersonalizationValue = rpv,
            ExtensibleMeasurements = rems,
            Platform = platform,
        };
        return null;
    }

    private static string? Rems(ref Utf8JsonReader reader, out List<string?>? rems)
    {
        rems = null;
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            return $"rems is a JSON {Kind(reader.TokenType)}; it must be an array of 4 hex strings (or nulls)";
        }

        rems = [];
        while (Next(ref reader) != JsonTokenType.EndArray)
        {
            string? problem = Text(ref reader, $"rems[{rems.Count}]", nullable: true, out string? value);
            if (problem is not null)
            {
                return problem;
            }

            rems.Add(value);
        }

        // A realm has exactly four REMs (RSI_MEASUREMENT_EXTEND index 1..4).
        return rems.Count == 4 ? null : $"rems has {rems.Count} entries; a realm has 4 (REM1..REM4)";
    }

    private static string? Skip(ref Utf8JsonReader reader)
    {
        // Members this version does not know are ignored, so a later `ccasim measure` may say more.
        reader.Skip();
        return null;
    }

    /// <summary>Reads the next token; the end of the input inside the object is a truncated file.</summary>
    internal static JsonTokenType Next(ref Utf8JsonReader reader) =>
        reader.Read() ? reader.TokenType : throw new JsonException("the file ends inside the JSON object (truncated?)");

    internal static string? Text(ref Utf8JsonReader reader, string name, bool nullable, out string? value)
    {
        value = null;
        if (nullable && reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        if (reader.TokenType != JsonTokenType.String)
        {
            return $"{name} is a JSON {Kind(reader.TokenType)}; it must be a string";
        }

        value = reader.GetString();
        return null;
    }

    /// <summary>Null when <paramref name="hex"/> is null or hex of one of <paramref name="lengths"/> bytes (any when null), else why not.</summary>
    internal static string? HexValue(string? hex, string name, int[]? lengths, out byte[]? bytes)
    {
        bytes = null;
        if (hex is null)
        {
            return null;
        }

        if (!VerifyCommand.IsHex(hex, out ReadOnlySpan<char> digits) || digits.Length % 2 != 0)
        {
            return $"{name} is not hex: \"{Shorten(hex)}\"";
        }

        if (lengths is not null && !lengths.Contains(digits.Length / 2))
        {
            return $"{name} is {digits.Length / 2} bytes; it must be {string.Join(" or ", lengths)} bytes";
        }

        bytes = Convert.FromHexString(digits);
        return null;
    }

    internal static string Kind(JsonTokenType type) => type switch
    {
        JsonTokenType.StartObject => "object",
        JsonTokenType.StartArray => "array",
        JsonTokenType.String => "string",
        JsonTokenType.Number => "number",
        JsonTokenType.True or JsonTokenType.False => "boolean",
        JsonTokenType.Null => "null",
        _ => type.ToString(),
    };

    /// <summary>A value quoted in a one-line error, cut so a huge or odd string cannot flood the terminal.</summary>
    private static string Shorten(string s)
    {
        string printable = new([.. s.Take(40).Select(c => char.IsControl(c) ? '?' : c)]);
        return s.Length > 40 ? printable + "…" : printable;
    }
}

/// <summary>Expected platform claims of a reference-values file (all optional).</summary>
internal sealed record PlatformReference
{
    public string? Profile { get; init; }

    public byte[]? ImplementationId { get; init; }

    public byte[]? InstanceId { get; init; }

    public byte[]? Config { get; init; }

    public string? HashAlgorithm { get; init; }

    internal static string? Parse(ref Utf8JsonReader reader, out PlatformReference? platform)
    {
        platform = null;
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            return $"platform is a JSON {ReferenceValues.Kind(reader.TokenType)}; it must be an object";
        }

        string? profile = null, implementation = null, instance = null, config = null, algorithm = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (ReferenceValues.Next(ref reader) == JsonTokenType.PropertyName)
        {
            string name = reader.GetString()!;
            if (!seen.Add(name))
            {
                return $"member 'platform.{name}' appears twice";
            }

            ReferenceValues.Next(ref reader);
            string? problem = name switch
            {
                "profile" => ReferenceValues.Text(ref reader, "platform.profile", nullable: true, out profile),
                "implementation_id" => ReferenceValues.Text(ref reader, "platform.implementation_id", nullable: true, out implementation),
                "instance_id" => ReferenceValues.Text(ref reader, "platform.instance_id", nullable: true, out instance),
                "config" => ReferenceValues.Text(ref reader, "platform.config", nullable: true, out config),
                "hash_algorithm" => ReferenceValues.Text(ref reader, "platform.hash_algorithm", nullable: true, out algorithm),
                _ => SkipValue(ref reader),
            };
            if (problem is not null)
            {
                return problem;
            }
        }

        // Sizes per the CCA platform token (attestation.md): implementation ID 32 bytes, instance ID 33 (type byte +
        // hash), configuration any length.
        byte[]? instanceId = null, configBytes = null;
        string? bad = ReferenceValues.HexValue(implementation, "platform.implementation_id", [32], out byte[]? implementationId)
            ?? ReferenceValues.HexValue(instance, "platform.instance_id", [33], out instanceId)
            ?? ReferenceValues.HexValue(config, "platform.config", null, out configBytes);
        if (bad is not null)
        {
            return bad;
        }

        platform = new PlatformReference { Profile = profile, ImplementationId = implementationId, InstanceId = instanceId, Config = configBytes, HashAlgorithm = algorithm };
        return null;
    }

    private static string? SkipValue(ref Utf8JsonReader reader)
    {
        reader.Skip();
        return null;
    }
}
