using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using CcaSim.Attestation;
using Spectre.Console;

namespace CcaSim.Cli.Commands;

/// <summary>The values <c>ccasim verify</c> was told to expect (options and/or a reference-values file).</summary>
internal sealed record VerifyExpectations
{
    public byte[]? Challenge { get; init; }

    public byte[]? InitialMeasurement { get; init; }

    public byte[]? PersonalizationValue { get; init; }

    public IReadOnlyList<byte[]?>? ExtensibleMeasurements { get; init; }

    /// <summary>The realm's measurement algorithm (claim 44236); only a reference-values file states it.</summary>
    public string? HashAlgorithm { get; init; }

    public PlatformReference? Platform { get; init; }

    public VerificationOptions ToOptions() => new()
    {
        Challenge = Challenge,
        InitialMeasurement = InitialMeasurement,
        PersonalizationValue = PersonalizationValue,
        ExtensibleMeasurements = ExtensibleMeasurements,
    };
}

/// <summary>A failed check: a <see cref="TokenCheck"/> name, or one of the expectations only the CLI checks.</summary>
internal sealed record VerifyFailure(string Check, string Message);

/// <summary>One claim of the token as the table and JSON show it, with the checks that failed on it.</summary>
internal sealed record ClaimRow(string Key, string Claim, string Value, string? Expected, IReadOnlyList<string> FailedChecks)
{
    public string Status => FailedChecks.Count > 0 ? "FAIL " + string.Join(", ", FailedChecks) : Expected is null ? "ok" : "match";
}

/// <summary>The outcome of <c>ccasim verify</c> and its three renderings: plain lines, a table, JSON.</summary>
internal sealed class VerifyReport
{
    /// <summary>Names of the expectation checks the CLI adds to <see cref="TokenCheck"/>'s (not in the verifier's API).</summary>
    public const string ExpectedHashAlgorithm = nameof(ExpectedHashAlgorithm);
    public const string ExpectedPlatformProfile = nameof(ExpectedPlatformProfile);
    public const string ExpectedPlatformImplementationId = nameof(ExpectedPlatformImplementationId);
    public const string ExpectedPlatformInstanceId = nameof(ExpectedPlatformInstanceId);
    public const string ExpectedPlatformConfig = nameof(ExpectedPlatformConfig);
    public const string ExpectedPlatformHashAlgorithm = nameof(ExpectedPlatformHashAlgorithm);

    private VerifyReport(VerificationResult result, int tokenBytes, List<VerifyFailure> failures, VerifyExpectations expected)
    {
        Result = result;
        TokenBytes = tokenBytes;
        Failures = failures;
        RealmRows = result.Realm is { } realm ? RealmClaimRows(realm, expected) : [];
        PlatformRows = result.Platform is { } platform ? PlatformClaimRows(platform, expected.Platform) : [];
    }

    public VerificationResult Result { get; }

    /// <summary>The bytes read, not the path's size: a symlink, /dev/stdin or a FIFO has no useful length.</summary>
    public int TokenBytes { get; }

    public IReadOnlyList<VerifyFailure> Failures { get; }

    public IReadOnlyList<ClaimRow> RealmRows { get; }

    public IReadOnlyList<ClaimRow> PlatformRows { get; }

    public bool IsValid => Failures.Count == 0;

    public static VerifyReport Create(VerificationResult result, int tokenBytes, VerifyExpectations expected)
    {
        var failures = result.Failures.Select(f => new VerifyFailure(f.Check.ToString(), f.Message)).ToList();
        if (result.Realm is { } realm && expected.HashAlgorithm is { } algorithm && realm.HashAlgorithm != algorithm)
        {
            failures.Add(new VerifyFailure(ExpectedHashAlgorithm, $"realm hash algorithm is {realm.HashAlgorithm}, expected {algorithm}"));
        }

        if (result.Platform is { } platform && expected.Platform is { } reference)
        {
            Text(reference.Profile, platform.Profile, ExpectedPlatformProfile, "platform profile", failures);
            Bytes(reference.ImplementationId, platform.ImplementationId, ExpectedPlatformImplementationId, "implementation id", failures);
            Bytes(reference.InstanceId, platform.InstanceId, ExpectedPlatformInstanceId, "instance id", failures);
            Bytes(reference.Config, platform.Config, ExpectedPlatformConfig, "platform config", failures);
            Text(reference.HashAlgorithm, platform.HashAlgorithm, ExpectedPlatformHashAlgorithm, "platform hash algorithm", failures);
        }

        return new VerifyReport(result, tokenBytes, failures, expected);

        static void Text(string? expected, string actual, string check, string name, List<VerifyFailure> failures)
        {
            if (expected is not null && expected != actual)
            {
                failures.Add(new VerifyFailure(check, $"{name} is {actual}, expected {expected}"));
            }
        }

        static void Bytes(byte[]? expected, byte[] actual, string check, string name, List<VerifyFailure> failures)
        {
            if (expected is not null && !expected.AsSpan().SequenceEqual(actual))
            {
                failures.Add(new VerifyFailure(check, $"{name} is {Hex(actual)}, expected {Hex(expected)}"));
            }
        }
    }

    /// <summary>The line format (for pipes, files and scripts; the README and tests rely on it byte for byte).</summary>
    public string Plain()
    {
        var o = new StringBuilder();
        foreach (string warning in Result.Warnings)
        {
            o.Append("warning: ").Append(warning).Append('\n');
        }

        foreach (VerifyFailure failure in Failures)
        {
            o.Append($"FAIL {failure.Check}: {failure.Message}\n");
        }

        if (IsValid)
        {
            RealmClaims realm = Result.Realm!;
            o.Append($"OK {Result.Form} token, {TokenBytes} bytes\n");
            o.Append($"  realm challenge {Hex(realm.Challenge)}\n");
            o.Append($"  RIM ({realm.HashAlgorithm}) {Hex(realm.InitialMeasurement)}\n");
            for (int i = 0; i < realm.ExtensibleMeasurements.Count; i++)
            {
                o.Append($"  REM{i + 1} {Hex(realm.ExtensibleMeasurements[i])}\n");
            }

            o.Append($"  platform {Result.Platform!.Profile}, instance {Hex(Result.Platform.InstanceId)}\n");
        }

        return o.ToString();
    }

    /// <summary>The claims as two tables (realm, platform) with each expected value's check, then the verdict.</summary>
    public void Table(IAnsiConsole console)
    {
        foreach (string warning in Result.Warnings)
        {
            console.Write(new Text($"warning: {warning}\n", new Style(Color.Yellow)));
        }

        WriteTable(console, "Realm claims", RealmRows);
        WriteTable(console, "Platform claims", PlatformRows);
        foreach (VerifyFailure failure in Failures)
        {
            console.Write(new Text($"FAIL {failure.Check}: {failure.Message}\n", new Style(Color.Red)));
        }

        console.Write(IsValid
            ? new Text($"OK {Result.Form} token, {TokenBytes} bytes (long values abbreviated; --json for all)\n", new Style(Color.Green))
            : new Text($"FAILED: {Failures.Count} check(s) failed\n", new Style(Color.Red, decoration: Decoration.Bold)));
    }

    private static void WriteTable(IAnsiConsole console, string title, IReadOnlyList<ClaimRow> rows)
    {
        if (rows.Count == 0)
        {
            console.Write(new Text($"{title}: none (the token's claims could not be read)\n"));
            return;
        }

        // The Expected column only when something was expected; a match shows "(same)" so the eye finds mismatches.
        bool expectations = rows.Any(r => r.Expected is not null);
        var table = new Table { Title = new TableTitle(title), Border = TableBorder.Rounded };
        table.AddColumn("Claim");
        table.AddColumn("Value");
        if (expectations)
        {
            table.AddColumn("Expected");
        }

        table.AddColumn("Check");
        foreach (ClaimRow row in rows)
        {
            // Text, not markup: claim values come from the token and may hold '[' or ']'.
            var cells = new List<Spectre.Console.Rendering.IRenderable> { new Text(row.Claim), new Text(Abbreviate(row.Value)) };
            if (expectations)
            {
                cells.Add(new Text(row.Expected is null ? "-" : row.FailedChecks.Count == 0 && row.Expected == row.Value ? "(same)" : Abbreviate(row.Expected)));
            }

            cells.Add(new Text(row.Status, new Style(row.FailedChecks.Count > 0 ? Color.Red : Color.Green)));
            table.AddRow(cells);
        }

        console.Write(table);
    }

    /// <summary>
    /// A long value cut to its ends in the table, so rows stay one or two lines on a terminal; the full values are in
    /// the line format (when piped) and in --json. Only single words (hex, URIs) are cut: a composite value such as a
    /// software component wraps whole.
    /// </summary>
    internal static string Abbreviate(string value) => value.Length <= 64 || value.Contains(' ', StringComparison.Ordinal) ? value : $"{value[..32]}…{value[^16..]}";

    /// <summary>The machine-readable result (README "Verifying a token" lists the fields).</summary>
    public byte[] Json()
    {
        var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteBoolean("valid", IsValid);
            w.WriteString("form", Result.Form.ToString());
            w.WriteNumber("token_bytes", TokenBytes);
            w.WriteStartArray("failures");
            foreach (VerifyFailure failure in Failures)
            {
                w.WriteStartObject();
                w.WriteString("check", failure.Check);
                w.WriteString("message", failure.Message);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("warnings");
            foreach (string warning in Result.Warnings)
            {
                w.WriteStringValue(warning);
            }

            w.WriteEndArray();
            WriteRealm(w);
            WritePlatform(w);
            w.WriteStartArray("checks");
            foreach (ClaimRow row in RealmRows.Select(r => r with { Key = "realm." + r.Key }).Concat(PlatformRows.Select(r => r with { Key = "platform." + r.Key })))
            {
                if (row.Expected is null)
                {
                    continue;
                }

                w.WriteStartObject();
                w.WriteString("claim", row.Key);
                w.WriteString("expected", row.Expected);
                w.WriteBoolean("ok", row.FailedChecks.Count == 0);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    private void WriteRealm(Utf8JsonWriter w)
    {
        if (Result.Realm is not { } realm)
        {
            w.WriteNull("realm");
            return;
        }

        w.WriteStartObject("realm");
        w.WriteString("profile", realm.Profile);
        w.WriteString("challenge", Hex(realm.Challenge));
        w.WriteString("personalization_value", Hex(realm.PersonalizationValue));
        w.WriteString("hash_algorithm", realm.HashAlgorithm);
        w.WriteString("rim", Hex(realm.InitialMeasurement));
        w.WriteStartArray("rems");
        foreach (byte[] rem in realm.ExtensibleMeasurements)
        {
            w.WriteStringValue(Hex(rem));
        }

        w.WriteEndArray();
        w.WriteString("public_key", Hex(realm.PublicKey));
        w.WriteString("public_key_hash_algorithm", realm.PublicKeyHashAlgorithm);
        w.WriteEndObject();
    }

    private void WritePlatform(Utf8JsonWriter w)
    {
        if (Result.Platform is not { } platform)
        {
            w.WriteNull("platform");
            return;
        }

        w.WriteStartObject("platform");
        w.WriteString("profile", platform.Profile);
        w.WriteString("challenge", Hex(platform.Challenge));
        w.WriteString("implementation_id", Hex(platform.ImplementationId));
        w.WriteString("instance_id", Hex(platform.InstanceId));
        w.WriteString("config", Hex(platform.Config));
        w.WriteNumber("lifecycle", platform.Lifecycle);
        w.WriteString("hash_algorithm", platform.HashAlgorithm);
        w.WriteString("verification_service", platform.VerificationService);
        w.WriteStartArray("software_components");
        foreach (SoftwareComponent c in platform.SoftwareComponents)
        {
            w.WriteStartObject();
            w.WriteString("type", c.Type);
            w.WriteString("measurement", Hex(c.Measurement));
            w.WriteString("version", c.Version);
            w.WriteString("signer_id", Hex(c.SignerId));
            w.WriteString("hash_algorithm", c.HashAlgorithm);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private List<ClaimRow> RealmClaimRows(RealmClaims realm, VerifyExpectations expected)
    {
        var rows = new List<ClaimRow>
        {
            Row("challenge", "challenge", Hex(realm.Challenge), HexOrNull(expected.Challenge), nameof(TokenCheck.RealmChallenge), nameof(TokenCheck.ExpectedChallenge)),
            Row("personalization_value", "personalization value", Hex(realm.PersonalizationValue), HexOrNull(expected.PersonalizationValue), nameof(TokenCheck.RealmPersonalizationValue), nameof(TokenCheck.ExpectedPersonalizationValue)),
            Row("rim", "RIM", Hex(realm.InitialMeasurement), HexOrNull(expected.InitialMeasurement), nameof(TokenCheck.RealmInitialMeasurement), nameof(TokenCheck.ExpectedInitialMeasurement)),
        };
        for (int i = 0; i < realm.ExtensibleMeasurements.Count; i++)
        {
            byte[]? rem = expected.ExtensibleMeasurements is { } rems && i < rems.Count ? rems[i] : null;

            // ExpectedExtensibleMeasurement failures name their REM ("REM2 is …"): a row takes only its own.
            string prefix = $"REM{i + 1} ";
            var failed = Failures
                .Where(f => f.Check == nameof(TokenCheck.RealmExtensibleMeasurements)
                    || (f.Check == nameof(TokenCheck.ExpectedExtensibleMeasurement) && f.Message.StartsWith(prefix, StringComparison.Ordinal)))
                .Select(f => f.Check).Distinct().ToList();
            rows.Add(new ClaimRow($"rem{i + 1}", $"REM{i + 1}", Hex(realm.ExtensibleMeasurements[i]), HexOrNull(rem), failed));
        }

        rows.Add(Row("hash_algorithm", "hash algorithm", realm.HashAlgorithm, expected.HashAlgorithm, nameof(TokenCheck.RealmHashAlgorithm), ExpectedHashAlgorithm));
        rows.Add(Row("public_key", "public key (RAK)", Hex(realm.PublicKey), null, nameof(TokenCheck.RealmPublicKey), nameof(TokenCheck.RealmSignature)));
        rows.Add(Row("public_key_hash_algorithm", "public key hash algorithm", realm.PublicKeyHashAlgorithm, null, nameof(TokenCheck.RealmPublicKeyHashAlgorithm), nameof(TokenCheck.Binding)));
        rows.Add(Row("profile", "profile", realm.Profile ?? "(none: a pre-rel0 token)", null, nameof(TokenCheck.RealmProfile)));
        return rows;
    }

    private List<ClaimRow> PlatformClaimRows(PlatformClaims platform, PlatformReference? expected)
    {
        var rows = new List<ClaimRow>
        {
            Row("profile", "profile", platform.Profile, expected?.Profile, nameof(TokenCheck.PlatformProfile), ExpectedPlatformProfile),
            Row("challenge", "challenge (RAK hash)", Hex(platform.Challenge), null, nameof(TokenCheck.PlatformChallenge), nameof(TokenCheck.Binding)),
            Row("implementation_id", "implementation id", Hex(platform.ImplementationId), HexOrNull(expected?.ImplementationId), nameof(TokenCheck.PlatformImplementationId), ExpectedPlatformImplementationId),
            Row("instance_id", "instance id", Hex(platform.InstanceId), HexOrNull(expected?.InstanceId), nameof(TokenCheck.PlatformInstanceId), ExpectedPlatformInstanceId),
            Row("lifecycle", "lifecycle", $"0x{platform.Lifecycle:x4}", null, nameof(TokenCheck.PlatformLifecycle)),
            Row("config", "config", Hex(platform.Config), HexOrNull(expected?.Config), nameof(TokenCheck.PlatformConfig), ExpectedPlatformConfig),
            Row("hash_algorithm", "hash algorithm", platform.HashAlgorithm, expected?.HashAlgorithm, nameof(TokenCheck.PlatformHashAlgorithm), ExpectedPlatformHashAlgorithm),
        };
        if (platform.VerificationService is { } service)
        {
            rows.Add(Row("verification_service", "verification service", service, null, nameof(TokenCheck.PlatformVerificationService)));
        }

        for (int i = 0; i < platform.SoftwareComponents.Count; i++)
        {
            SoftwareComponent c = platform.SoftwareComponents[i];
            string value = $"{c.Type ?? "-"} {c.Version ?? "-"} measurement {Hex(c.Measurement)}";
            rows.Add(Row($"software_components[{i}]", $"software component {i}", value, null, nameof(TokenCheck.PlatformSoftwareComponents)));
        }

        return rows;
    }

    private ClaimRow Row(string key, string claim, string value, string? expected, params string[] checks) =>
        new(key, claim, value, expected, [.. Failures.Select(f => f.Check).Where(checks.Contains).Distinct()]);

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);

    private static string? HexOrNull(byte[]? bytes) => bytes is null ? null : Convert.ToHexStringLower(bytes);
}
